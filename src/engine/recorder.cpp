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

bool active(model::request_status status) {
  return status == model::request_status::new_ || status == model::request_status::open ||
         status == model::request_status::pending_customer || status == model::request_status::escalated;
}

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
  if (quiet_before_ && at < *quiet_before_) return;
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
                                                    people_reached(current.ladder, sent->roles)});
  } else {
    // Every level due then was skipped for its condition: nobody is told, and no notification
    // is recorded; the log keeps only that the ladder moved on (webhooks take it only when a
    // subscription asks for escalation.skipped or escalation.*).
    record(at, "system", model::escalation_skipped{std::move(change)});
  }
}

std::vector<std::string> recorder::people_reached(std::string_view ladder, const std::vector<model::role>& roles) const {
  auto people = holders_of(policy_.people, roles);
  if (ladder != escalation::product_review ||
      std::find(roles.begin(), roles.end(), model::role::product) == roles.end())
    return people;
  const auto use_case = policy_.use_cases.by_tag.find(state_.input.use_case);
  if (use_case == policy_.use_cases.by_tag.end() || policy_.people.find(use_case->second.dri) == nullptr) return people;
  // Product's share of the review is the DRI's: the other product people hold the role but not
  // this decision. A DRI who also holds another role notified here stays once.
  std::vector<model::role> others;
  for (auto r : roles)
    if (r != model::role::product) others.push_back(r);
  people = holders_of(policy_.people, others);
  if (std::find(people.begin(), people.end(), use_case->second.dri) == people.end()) people.push_back(use_case->second.dri);
  std::sort(people.begin(), people.end());
  return people;
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
  enum class kind { clock, escalation, concern, review, close };
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
    consider(state_.review_due_at, kind::review, 0);
    consider(state_.closes_at, kind::close, 0);
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
        if (ladder == policy_.ladders.end() || (quiet_before_ && earliest->at < *quiet_before_)) {
          record(earliest->at, "system", model::concern_deadline_passed{state_.status});
        } else {
          open_escalation(ladder->second,
                          fmt::format("concern unresolved after {} of business time",
                                      sla::format_duration(ladder->second.trigger_after.value_or(std::chrono::seconds{0}))),
                          earliest->at);
        }
        break;
      }
      case kind::review: {
        record(earliest->at, "system", model::review_overdue{earliest->at});
        if (const auto ladder = policy_.ladders.find(escalation::product_review); ladder != policy_.ladders.end())
          open_escalation(ladder->second,
                          fmt::format("Product has not decided on this {} within {} full business days of receiving it",
                                      model::to_string(state_.input.kind), ladder->second.review_after_days),
                          earliest->at);
        break;
      }
      case kind::close: {
        record(earliest->at, "system", model::request_closed{model::request_status::closed});
        // The end of its life ends its escalations too: a closed request pages nobody.
        const auto escalations = state_.escalations;
        for (auto e : escalations) {
          if (e.state == model::escalation_state::resolved) continue;
          e.state = model::escalation_state::resolved;
          e.next_at.reset();
          e.closed_by = "system";
          record(earliest->at, "system",
                 model::escalation_closed{true, std::move(e), "the request closed", model::request_status::closed});
        }
        break;
      }
    }
  }
}

void recorder::follow_lifecycle(model::instant now, bool review_may_start) {
  if (state_.owner == model::team::product && active(state_.status)) {
    // The DRI owns the use case's decisions, so a request reaching Product unassigned is theirs;
    // one already assigned (taken, assigned by a lead) keeps its holder.
    if (state_.assignee.empty() && !state_.input.use_case.empty()) {
      const auto use_case = policy_.use_cases.by_tag.find(state_.input.use_case);
      if (use_case != policy_.use_cases.by_tag.end() && policy_.people.find(use_case->second.dri) != nullptr)
        record(now, "system",
               model::request_assigned{{state_.status, ""},
                                       use_case->second.dri,
                                       "",
                                       "dri",
                                       fmt::format("the DRI of use case {} ({})", use_case->first, use_case->second.name)});
    }
    if (review_may_start && !state_.review_due_at && !state_.review_overdue) {
      const auto ladder = policy_.ladders.find(escalation::product_review);
      if (ladder != policy_.ladders.end() && policy_.sla.calendar_name(ladder->second.calendar))
        record(now, "system",
               model::review_due_set{policy_.sla.calendar(ladder->second.calendar)
                                         .close_of_business_days(now, ladder->second.review_after_days)});
    }
  }
  const auto& workflow = policy_.workflow;
  if (state_.status == model::request_status::resolved && !state_.closes_at && workflow.close_after_days > 0 &&
      policy_.sla.calendar_name(workflow.close_calendar))
    record(now, "system",
           model::close_due_set{
               policy_.sla.calendar(workflow.close_calendar).close_of_business_days(now, workflow.close_after_days)});
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
  if (status == model::request_status::closed) return;
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
