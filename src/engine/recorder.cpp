// The engine's working copy of one request, and what falls due on it.
#include "engine/recorder.hpp"

#include "sla/clock.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace switchboard::engine {
namespace {

// The people who hold any of `roles`, by id (the directory's order): whom a level reaches.
std::vector<std::string> holders_of(const model::people_directory& people, const std::vector<model::role>& roles) {
  std::vector<std::string> out;
  for (const auto& entry : people.by_id) {
    // Not a structured binding: clang 14 (the sanitizer build) cannot capture one.
    const auto& person = entry.second;
    if (std::any_of(roles.begin(), roles.end(), [&person](model::role r) { return person.holds(r); }))
      out.push_back(entry.first);
  }
  return out;
}

}  // namespace

recorder::recorder(const engine::policy& policy, model::request state) : policy_(policy), state_(std::move(state)) {}

void recorder::record(model::instant at, std::string actor, model::event_data data) {
  event e{state_.id, at, std::move(actor), std::move(data)};
  apply(state_, e);
  events_.push_back(std::move(e));
}

void recorder::record_clock(model::clock_change kind, const model::sla_clock& clock, model::instant at) {
  record(at, "system", model::clock_changed{kind, clock, std::nullopt});
}

model::sla_clock* recorder::find_clock(model::sla_metric metric) {
  auto it = std::find_if(state_.clocks.begin(), state_.clocks.end(),
                         [metric](const model::sla_clock& c) { return c.metric == metric; });
  return it == state_.clocks.end() ? nullptr : &*it;
}

model::escalation* recorder::find_escalation(std::string_view id) {
  auto it = std::find_if(state_.escalations.begin(), state_.escalations.end(),
                         [id](const model::escalation& e) { return e.id == id; });
  return it == state_.escalations.end() ? nullptr : &*it;
}

void recorder::start_clocks(model::instant now) {
  const auto* applied = policy_.sla.match(state_.input);
  if (applied == nullptr) return;
  for (const auto& target : applied->metrics) {
    if (target.metric == model::sla_metric::next_response) continue;  // starts on a customer reply
    record_clock(model::clock_change::started, sla::start(*applied, target, policy_.sla.calendar(applied->calendar), now),
                 now);
  }
}

void recorder::open_escalation(const escalation::ladder& ladder, std::string reason, model::instant at,
                               std::vector<model::request_id> related, std::optional<model::team> team) {
  auto opened = escalation::open(ladder, policy_.sla.calendar(ladder.calendar),
                                 fmt::format("{}-{}", state_.id, state_.escalations.size() + 1), std::move(reason), at);
  opened.related = std::move(related);
  opened.team = team;
  // An open request with a climbing ladder is escalated; one waiting on the customer stays so.
  const bool working = state_.status == model::request_status::new_ || state_.status == model::request_status::open;
  record(at, "system",
         model::escalation_triggered{std::move(opened), working ? model::request_status::escalated : state_.status});
  // The request is escalated now: clocks whose policy pauses on `escalated` stop here, as they
  // would after an action that escalated it (a breach's own clock too: breached clocks honour
  // pause_on).
  follow_status(at);
}

void recorder::climb(const model::escalation& current) {
  const auto& ladder = policy_.ladders.at(current.ladder);
  auto next = current;
  const auto at = *current.next_at;
  const auto sent = escalation::climb(next, ladder, policy_.sla.calendar(ladder.calendar), state_.engineering_engaged);
  // Only what changed: the notification and the plan after it, never the earlier notifications
  // (a repeating ladder would otherwise write ever longer events). id, ladder and reason say which
  // escalation it is to the webhooks and Slack messages made from the event.
  model::escalation_step change{next.id, next.ladder, next.reason, next.next_level, next.next_at};
  if (sent) {
    record(at, "system", model::escalation_notified{std::move(change), sent->level, sent->roles, sent->why,
                                                    holders_of(policy_.people, sent->roles)});
  } else {
    // Every level due then was skipped for its condition: nobody is told, and no notification
    // is recorded; the log keeps only that the ladder moved on (webhooks take it only when a
    // subscription asks for escalation.skipped or escalation.*).
    record(at, "system", model::escalation_skipped{std::move(change)});
  }
}

void recorder::record_firings(const std::vector<sla::firing>& fired) {
  for (const auto& firing : fired) {
    // Each event carries the clock as it was after that firing and, beside it, the business time
    // used at its instant: the same place whether the clock is at that instant (fire_due, a
    // checkpoint) or at a restart after it (fire_reached), so a reader need not tell them apart.
    const bool breach = firing.kind == sla::firing_kind::breach;
    model::clock_changed changed{breach ? model::clock_change::breached : model::clock_change::warning, firing.clock,
                                 firing.used};
    record(firing.at, "system", std::move(changed));
    if (!breach) continue;
    if (auto ladder = policy_.ladders.find(escalation::sla_breach); ladder != policy_.ladders.end())
      open_escalation(ladder->second,
                      fmt::format("{} breached (SLA policy {})", model::to_string(firing.clock.metric),
                                  firing.clock.policy),
                      firing.at);
  }
}

void recorder::fire_due(model::instant now) {
  enum class kind { clock, escalation, concern };
  for (;;) {
    struct candidate {
      model::instant at;
      kind what;
      std::size_t index;
    };
    std::optional<candidate> earliest;
    auto consider = [&](std::optional<model::instant> at, kind what, std::size_t index) {
      if (at && *at <= now && (!earliest || *at < earliest->at)) earliest = candidate{*at, what, index};
    };
    for (std::size_t i = 0; i < state_.clocks.size(); ++i) consider(sla::next_firing(state_.clocks[i]), kind::clock, i);
    for (std::size_t i = 0; i < state_.escalations.size(); ++i)
      if (state_.escalations[i].state == model::escalation_state::open)
        consider(state_.escalations[i].next_at, kind::escalation, i);
    consider(state_.concern_escalates_at, kind::concern, 0);
    if (!earliest) return;

    switch (earliest->what) {
      case kind::clock: {
        auto clock = state_.clocks[earliest->index];
        // Fire only what falls due at this instant: later firings wait their turn.
        record_firings(sla::fire_due(clock, earliest->at));
        break;
      }
      case kind::escalation:
        climb(state_.escalations[earliest->index]);
        break;
      case kind::concern: {
        const auto ladder = policy_.ladders.find(escalation::concern);
        if (ladder == policy_.ladders.end()) {
          record(earliest->at, "system", model::concern_deadline_passed{state_.status});
        } else {
          open_escalation(ladder->second,
                          fmt::format("concern unresolved after {} of business time",
                                      sla::format_duration(ladder->second.trigger_after.value_or(std::chrono::seconds{0}))),
                          earliest->at);
        }
        break;
      }
    }
  }
}

void recorder::follow_status(model::instant now) {
  // Pauses and resumes follow the status each clock's policy pauses on.
  for (auto clock : state_.clocks) {
    if (clock.completed) continue;  // nothing to pause; its calendar may be gone
    const auto& calendar = policy_.sla.calendar(clock.calendar);
    const bool pauses = std::find(clock.pause_on.begin(), clock.pause_on.end(), state_.status) != clock.pause_on.end();
    // Never before the clock's checkpoint: a breach a restart places in the past escalates the
    // request then, but a clock that has run since (a later stretch) cannot be stopped earlier
    // than its last checkpoint without moving `since` backwards; it stops there.
    const auto at = std::max(now, clock.since);
    if (pauses ? sla::pause(clock, calendar, at) : sla::resume(clock, calendar, at))
      record_clock(clock.state == model::clock_state::paused ? model::clock_change::paused : model::clock_change::resumed,
                   clock, at);
  }
}

void recorder::update_clocks(action_kind kind, model::instant now) {
  const auto status = state_.status;
  auto pauses_now = [&](const model::sla_clock& clock) {
    return std::find(clock.pause_on.begin(), clock.pause_on.end(), status) != clock.pause_on.end();
  };
  auto complete_metric = [&](model::sla_metric metric) {
    if (auto* clock = find_clock(metric); clock && !clock->completed) {
      auto copy = *clock;
      sla::complete(copy, policy_.sla.calendar(copy.calendar), now);
      record_clock(model::clock_change::met, copy, now);
    }
  };

  switch (kind) {
    case action_kind::respond:
    case action_kind::pend:
      complete_metric(model::sla_metric::first_response);
      complete_metric(model::sla_metric::next_response);
      break;
    case action_kind::resolve:
    case action_kind::accept:
    case action_kind::decline:
    case action_kind::agree:
      complete_metric(model::sla_metric::first_response);
      complete_metric(model::sla_metric::next_response);
      complete_metric(model::sla_metric::resolution);
      break;
    case action_kind::reopen:
    case action_kind::customer_reply:
      if (auto* resolution = find_clock(model::sla_metric::resolution); resolution && resolution->completed) {
        // A reopen starts on the policy (and calendar) that applies to the request now, as a
        // filing would choose it, not on the stored names: a resolved request's policy may have
        // been renamed without `replaces` (no open clock used it), and a clock reopened on a name
        // the config no longer has would stop the next start. When none applies now (or it has
        // no resolution target) the request reopens without one, as a filing to which no policy
        // applies has none: refusing would turn a customer's reply to a resolved request away
        // (the e-mail path then files it as a new, unlinked request).
        const auto* applied = policy_.sla.match(state_.input);
        const auto* target = applied == nullptr ? nullptr : applied->target_of(model::sla_metric::resolution);
        if (target != nullptr) {
          auto copy = *resolution;
          sla::reopen(copy, *applied, *target, policy_.sla.calendar(applied->calendar), now);
          record_clock(model::clock_change::reopened, copy, now);
        }
      }
      break;
    default:
      break;
  }

  follow_status(now);

  // The customer is waiting again: next_response starts once an agent has answered before.
  if (kind == action_kind::customer_reply || kind == action_kind::reopen) {
    const auto* first = find_clock(model::sla_metric::first_response);
    const auto* next = find_clock(model::sla_metric::next_response);
    const bool agent_answered = first == nullptr || first->completed;
    const bool already_waiting = next != nullptr && !next->completed;
    const auto* applied = policy_.sla.match(state_.input);
    if (agent_answered && !already_waiting && applied != nullptr) {
      for (const auto& target : applied->metrics) {
        if (target.metric != model::sla_metric::next_response) continue;
        const auto& calendar = policy_.sla.calendar(applied->calendar);
        auto clock = sla::start(*applied, target, calendar, now);
        if (pauses_now(clock)) sla::pause(clock, calendar, now);
        record_clock(model::clock_change::started, clock, now);
      }
    }
  }
}

}  // namespace switchboard::engine
