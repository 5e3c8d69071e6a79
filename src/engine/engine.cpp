// Filing requests, things falling due, and folding events into request state.
#include "engine/engine.hpp"
#include "engine/article.hpp"

#include "engine/capacity.hpp"
#include "engine/commands.hpp"
#include "engine/recorder.hpp"
#include "rules/evaluator.hpp"
#include "sla/clock.hpp"
#include "util/overloaded.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace switchboard::engine {
namespace {

using util::overloaded;

template <typename T, typename Match>
void replace_or_add(std::vector<T>& items, T item, Match matches) {
  auto existing = std::find_if(items.begin(), items.end(), matches);
  if (existing == items.end())
    items.push_back(std::move(item));
  else
    *existing = std::move(item);
}

void fold_whole_escalation(model::request& state, model::escalation escalation) {
  const auto id = escalation.id;
  replace_or_add<model::escalation>(state.escalations, std::move(escalation),
                                    [&id](const model::escalation& x) { return x.id == id; });
}

void fold_clock(model::request& state, const model::sla_clock& clock) {
  const auto metric = clock.metric;
  replace_or_add<model::sla_clock>(state.clocks, clock, [metric](const model::sla_clock& c) { return c.metric == metric; });
}

// A climb or re-plan: the escalation it names moves to the plan after it; a climb (retimed false)
// also records when it climbed.
model::escalation& fold_step(model::request& state, const event& e, const model::escalation_step& step, bool climbed) {
  auto found = std::find_if(state.escalations.begin(), state.escalations.end(),
                            [&](const model::escalation& x) { return x.id == step.id; });
  if (found == state.escalations.end())
    throw std::invalid_argument(fmt::format("event {} names no escalation of its request", model::type_name(e)));
  if (climbed) found->climbed_at = e.at;  // a re-plan is not a climb
  found->next_level = step.next_level;
  found->next_at = step.next_at;
  return *found;
}

// A concern deadline set (at raising or reopening) counts from its event; a re-timed one keeps
// what it counted from. Counting from creation (raising) is left implicit, so documents stored
// before concern_counted_from existed still equal their events' fold.
void set_concern_deadline(model::request& state, const event& e, std::optional<model::instant> at, bool retimed) {
  state.concern_escalates_at = at;
  if (state.concern_escalates_at && !retimed) {
    if (e.at == state.created_at)
      state.concern_counted_from.reset();
    else
      state.concern_counted_from = e.at;
  }
}

// escalation.retimed for `escalation`, now next at `next_at`. Built member by member: GCC 12 at
// -O3 warns (maybe-uninitialized, a false positive) on the same struct braced inside the call.
model::escalation_retimed replanned(const model::escalation& escalation, std::optional<model::instant> next_at,
                                    std::string why) {
  model::escalation_retimed out;
  out.step.id = escalation.id;
  out.step.ladder = escalation.ladder;
  out.step.reason = escalation.reason;
  out.step.next_level = escalation.next_level;
  out.step.next_at = next_at;
  out.before_next_at = escalation.next_at;
  out.why = std::move(why);
  return out;
}

}  // namespace

std::string actor_label(const model::actor& actor) {
  return fmt::format("{}:{}", model::to_string(actor.role), actor.person);
}

std::optional<model::actor> parse_actor_label(std::string_view label) {
  const auto colon = label.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto role = model::parse_role(label.substr(0, colon));
  if (!role) return std::nullopt;
  return model::actor{std::string(label.substr(colon + 1)), *role};
}

std::optional<refusal> may_file(const model::actor& actor, const model::request_input& input) {
  using model::role;
  static constexpr std::array filers{role::ae, role::ce, role::se, role::integration, role::admin};
  if (std::find(filers.begin(), filers.end(), actor.role) == filers.end())
    return refusal{"forbidden",
                   fmt::format("{} may not file requests: CEs, AEs, SE and integrations file them",
                               with_article(actor.role)),
                   {}};
  if (input.kind == model::request_kind::concern)
    return refusal{"forbidden",
                   "a concern is raised on the request it is about: POST /v1/requests/{id}/events with type "
                   "raise_concern",
                   {}};
  return std::nullopt;
}

outcome decide(const policy& policy, const file_request& command, model::request_id id, model::instant now) {
  model::request fresh;
  fresh.id = id;
  recorder r(policy, std::move(fresh));
  r.record(now, actor_label(command.actor), model::request_created{command.input, std::nullopt});
  const auto reloaded = policy.routing_in_force ? policy.routing_in_force->current() : nullptr;
  auto decision = rules::evaluate(reloaded ? *reloaded : policy.routing, command.input);
  // The e-mail intake's own guard (an unauthenticated sender filed unattributed) is part of why.
  if (command.input.email && !command.input.email->note.empty()) decision.notes.push_back(command.input.email->note);
  r.record(now, "system", model::request_routed{std::move(decision)});
  r.start_clocks(now);
  r.follow_lifecycle(now);
  return r.take();
}

outcome due(const policy& policy, const model::request& current, model::instant now) {
  recorder r(policy, current);
  r.fire_due(now);
  return r.take();
}

bool counts_toward_load(model::request_status status, std::string_view customer_id) {
  const bool open = status == model::request_status::new_ || status == model::request_status::open ||
                    status == model::request_status::pending_customer || status == model::request_status::escalated;
  return open && customer_id != unattributed_customer;
}

bool capacity_crossed(const policy& policy, const team_load& load) {
  const auto ladder = policy.ladders.find(escalation::capacity);
  if (ladder == policy.ladders.end()) return false;
  const auto threshold = ladder->second.thresholds.find(load.team);
  if (threshold == ladder->second.thresholds.end()) return false;
  return load.open_before <= threshold->second && load.open_after > threshold->second && !load.escalation_unresolved;
}

outcome open_capacity_escalation(const policy& policy, const model::request& current, const team_load& load,
                                 std::vector<model::request_id> open_by_breach, model::instant now) {
  const auto& ladder = policy.ladders.at(std::string(escalation::capacity));
  recorder r(policy, current);
  r.open_escalation(ladder,
                    fmt::format("{} has {} open requests, over its threshold of {}: Head of CS sets the order of work",
                                model::to_string(load.team), load.open_after, ladder.thresholds.at(load.team)),
                    now, std::move(open_by_breach), load.team);
  r.fire_due(now);
  return r.take();
}

std::vector<capacity_escalation> after_recording(const policy& policy, const std::vector<recorded>& changes,
                                                 load_view& loads) {
  std::vector<capacity_escalation> out;
  for (const auto team : {model::team::ce, model::team::se, model::team::product, model::team::engineering,
                          model::team::engineering_discussion}) {
    team_load load{team, loads.open_before(team), loads.open_after(team), false};
    if (load.open_after <= load.open_before) continue;
    // Whether one is unresolved is a query of the store: asked only when the counts cross (not
    // on every filing; each question is a round trip on PostgreSQL).
    if (!capacity_crossed(policy, load)) continue;
    load.escalation_unresolved = loads.capacity_unresolved(team);
    if (!capacity_crossed(policy, load)) continue;
    // The request this recording left open with the team: the one that took it over.
    const auto over = std::find_if(changes.begin(), changes.end(), [team](const recorded& c) {
      return c.request.owner == team && counts_toward_load(c.request.status, c.request.input.customer.id) &&
             !c.events.empty();
    });
    if (over == changes.end()) continue;
    out.push_back({static_cast<std::size_t>(over - changes.begin()),
                   open_capacity_escalation(policy, over->request, load, loads.breach_order(team),
                                            over->events.back().at)});
  }
  return out;
}

outcome retime(const policy& policy, const model::request& current, model::instant now) {
  recorder r(policy, current);
  for (const auto& clock : current.clocks) {
    auto after = clock;
    if (!sla::retime(after, policy.sla)) continue;
    model::clock_before before{clock.calendar, clock.policy, clock.target, clock.warning_at, std::nullopt, std::nullopt};
    if (clock.state == model::clock_state::running) {
      before.deadline = clock.deadline;
      if (!clock.warned) before.warning_deadline = clock.warning_deadline;
    }
    // Copied, not moved: fire_reached goes on from the re-timed clock.
    r.record(now, "system",
             model::clock_retimed{after, std::move(before),
                                  "the calendars or SLA policies in the config changed since the clock was planned"});
    // A threshold lowered below the time already used was reached in the past: recorded now, at
    // that instant (as the scheduler records a late firing), paused clocks included.
    r.record_firings(sla::fire_reached(after, policy.sla.calendar(after.calendar)));
  }
  // Open escalations follow the calendar as it is now too: the next level counted again from the
  // trigger, a repeat from the last climb. One whose ladder is gone from the config climbs no
  // further (it stays open for people to acknowledge or resolve): its next step is dropped, or
  // the scheduler would find it due forever with no ladder to climb. One with no next step is
  // planned too when its ladder is there: a ladder put back (or given a repeat) climbs again.
  for (const auto& escalation : current.escalations) {
    if (escalation.state != model::escalation_state::open) continue;
    const auto ladder = policy.ladders.find(escalation.ladder);
    if (ladder == policy.ladders.end()) {
      if (!escalation.next_at) continue;
      r.record(now, "system",
               replanned(escalation, std::nullopt,
                         fmt::format("the ladder \"{}\" is no longer in the config: the escalation climbs no further",
                                     escalation.ladder)));
      continue;
    }
    if (!policy.sla.calendar_name(ladder->second.calendar)) continue;
    const auto planned = escalation::plan(escalation, ladder->second, policy.sla.calendar(ladder->second.calendar));
    if (planned == escalation.next_at) continue;
    r.record(now, "system",
             replanned(escalation, planned, "the calendars or ladders in the config changed since the escalation was planned"));
  }
  // A concern not yet escalated escalates trigger_after of business time after it was raised
  // (its request's creation) or last reopened, on the calendar as it is now. A ladder, trigger
  // or calendar that is gone keeps the deadline.
  if (current.concern_escalates_at) {
    const auto ladder = policy.ladders.find(escalation::concern);
    if (ladder != policy.ladders.end() && ladder->second.trigger_after &&
        policy.sla.calendar_name(ladder->second.calendar)) {
      const auto planned = policy.sla.calendar(ladder->second.calendar)
                               .add(current.concern_counted_from.value_or(current.created_at), *ladder->second.trigger_after);
      if (planned != *current.concern_escalates_at)
        r.record(now, "system",
                 model::concern_deadline_retimed{
                     current.status, planned, *current.concern_escalates_at,
                     "the calendars or the concern ladder in the config changed since the deadline was set"});
    }
  }
  // Product's review deadline and a resolved request's closing follow it too, counted again
  // from when they were set. A product_review ladder or calendar that is gone keeps the review
  // deadline, as a concern's; a closing whose close_after_days is now 0, or whose calendar is
  // gone, is cancelled (the config now closes nothing).
  if (current.review_due_at && current.review_counted_from) {
    const auto ladder = policy.ladders.find(escalation::product_review);
    if (ladder != policy.ladders.end() && policy.sla.calendar_name(ladder->second.calendar)) {
      const auto planned = policy.sla.calendar(ladder->second.calendar)
                               .close_of_business_days(*current.review_counted_from, ladder->second.review_after_days);
      if (planned != *current.review_due_at)
        r.record(now, "system",
                 model::review_due_retimed{
                     planned, *current.review_due_at,
                     "the calendars or the product_review ladder in the config changed since the deadline was set"});
    }
  }
  if (current.closes_at && current.close_counted_from) {
    const auto& workflow = policy.workflow;
    std::optional<model::instant> planned;
    if (workflow.close_after_days > 0 && policy.sla.calendar_name(workflow.close_calendar))
      planned = policy.sla.calendar(workflow.close_calendar)
                    .close_of_business_days(*current.close_counted_from, workflow.close_after_days);
    if (planned != current.closes_at)
      r.record(now, "system",
               model::close_due_retimed{planned, *current.closes_at,
                                        planned ? "the calendars or [workflow] close_after_days in the config changed "
                                                  "since the closing was set"
                                                : "[workflow] close_after_days is 0 now, or its calendar is gone: the "
                                                  "request no longer closes by itself"});
  }
  return r.take();
}

std::optional<model::instant> next_due(const model::request& current) {
  std::optional<model::instant> earliest;
  auto consider = [&](std::optional<model::instant> at) {
    if (at && (!earliest || *at < *earliest)) earliest = at;
  };
  for (const auto& clock : current.clocks) consider(sla::next_firing(clock));
  for (const auto& e : current.escalations)
    if (e.state == model::escalation_state::open) consider(e.next_at);
  consider(current.concern_escalates_at);
  consider(current.review_due_at);
  consider(current.closes_at);
  return earliest;
}

namespace {

// The customer's reply `message_id` is what the next answer replies to; References keeps the
// thread's first id and the latest ones, at most model::max_email_references.
void continue_thread(model::email_thread& thread, const std::string& message_id) {
  thread.last_message_id = message_id;
  auto& ids = thread.references;
  if (std::find(ids.begin(), ids.end(), message_id) != ids.end()) return;
  ids.push_back(message_id);
  if (ids.size() > model::max_email_references) ids.erase(ids.begin() + 1);
}

}  // namespace

outcome record_delivery(const policy& policy, const model::request& current, model::reply_settled settled,
                        model::instant now) {
  recorder r(policy, current);
  const auto& replies = current.replies;
  if (std::any_of(replies.begin(), replies.end(), [&](const model::reply& x) { return x.number == settled.reply; }))
    r.record(now, "system", std::move(settled));
  return r.take();
}

std::optional<model::customer_channel> answer_channel(const model::request& current) {
  if (current.channel || current.parent) return current.channel;
  if (auto email = current.input.email; email && email->reply_to.empty() && !email->from.empty()) {
    email->reply_to = email->from;
    auto input = current.input;
    input.email = std::move(email);
    return model::channel_of(input);
  }
  return std::nullopt;
}

void apply(model::request& state, const event& e) {
  state.id = e.request;
  state.updated_at = std::max(state.updated_at, e.at);
  auto act = [&](const model::action_common& common) { state.status = common.status; };
  std::visit(
      overloaded{
          [&](const model::request_created& x) {
            state.parent = x.parent;
            state.follows = x.follows;
            state.input = x.input;
            // A linked request (interrupt, concern) is internal work: the customer is answered on
            // the request it came from.
            state.channel = x.parent ? std::nullopt : model::channel_of(x.input);
            state.created_at = e.at;
            state.status = model::request_status::new_;
          },
          [&](const model::request_routed& x) {
            state.routing = x.decision;
            state.owner = state.routing.owner;
            state.input.priority = state.routing.priority;
            state.status = model::request_status::open;
          },
          [&](const model::clock_changed& x) { fold_clock(state, x.clock); },
          [&](const model::clock_retimed& x) { fold_clock(state, x.clock); },
          [&](const model::escalation_triggered& x) {
            fold_whole_escalation(state, x.whole);
            state.concern_escalates_at.reset();
            state.status = x.status;
          },
          [&](const model::escalation_notified& x) {
            auto& escalation = fold_step(state, e, x.step, true);
            escalation.notifications.push_back({x.level, x.notified, e.at, x.why});
          },
          [&](const model::escalation_skipped& x) { fold_step(state, e, x.step, true); },
          [&](const model::escalation_retimed& x) { fold_step(state, e, x.step, false); },
          [&](const model::escalation_brought_in& x) {
            fold_whole_escalation(state, x.whole);
            state.status = x.status;
          },
          [&](const model::escalation_closed& x) {
            fold_whole_escalation(state, x.whole);
            state.status = x.status;
          },
          [&](const model::escalation_snapshot& x) { fold_whole_escalation(state, x.whole); },
          [&](const model::request_answered& x) {
            act(x.common);
            if (!x.is_public.value_or(false) || !x.delivery) return;
            model::reply r;
            r.number = static_cast<int>(state.replies.size()) + 1;
            r.via = std::holds_alternative<model::slack_thread>(x.delivery->to) ? "slack" : "email";
            r.text = x.common.message;
            r.at = e.at;
            r.seen = x.delivery->seen;
            // Already in the thread: the customer saw it when it was written.
            if (r.seen) {
              r.state = model::reply_state::delivered;
              r.settled_at = e.at;
            }
            state.replies.push_back(std::move(r));
          },
          [&](const model::request_returned& x) {
            act(x.common);
            if (!x.reference.empty() && !state.channel) state.channel = answer_channel(state);
            if (auto* thread = state.channel ? std::get_if<model::email_thread>(&*state.channel) : nullptr;
                thread && !x.reference.empty())
              continue_thread(*thread, x.reference);
            if (x.concern_escalates_at) set_concern_deadline(state, e, x.concern_escalates_at, false);
          },
          [&](const model::request_resolved& x) {
            act(x.common);
            if (x.clears_concern_deadline) set_concern_deadline(state, e, std::nullopt, false);
          },
          [&](const model::request_started& x) {
            act(x.common);
            state.assignee = x.assignee;
          },
          [&](const model::request_assigned& x) {
            act(x.common);
            state.assignee = x.assignee;
          },
          [&](const model::request_handed_off& x) {
            act(x.common);
            state.owner = x.owner;
            state.assignee = x.assignee;
            state.handoff = x.context;
          },
          [&](const model::request_routed_to_product& x) {
            act(x.common);
            state.owner = x.owner;
            state.assignee = x.assignee;
          },
          [&](const model::request_decided& x) { act(x.common); },
          [&](const model::request_asked_engineering_channel& x) {
            act(x.common);
            state.owner = x.owner;
          },
          [&](const model::request_linked& x) {
            act(x.common);
            state.children.push_back(x.child);
            if (!x.concern) state.engineering_engaged = true;
          },
          [&](const model::request_concern_moved& x) { act(x.common); },
          [&](const model::concern_deadline_set& x) {
            state.status = x.status;
            set_concern_deadline(state, e, x.at, false);
          },
          [&](const model::concern_deadline_retimed& x) {
            state.status = x.status;
            set_concern_deadline(state, e, x.at, true);
          },
          [&](const model::concern_deadline_passed& x) {
            state.status = x.status;
            set_concern_deadline(state, e, std::nullopt, false);
          },
          [&](const model::reply_settled& x) {
            const auto found = std::find_if(state.replies.begin(), state.replies.end(),
                                            [&](const model::reply& r) { return r.number == x.reply; });
            if (found == state.replies.end()) return;
            // A failed reply redelivered by hand can still be delivered later: the last word wins.
            found->state = x.delivered ? model::reply_state::delivered : model::reply_state::failed;
            found->settled_at = e.at;
            found->external_id = x.external_id;
            found->reason = x.reason;
            found->attempts = x.attempts;
          },
          [&](const model::review_due_set& x) {
            state.review_due_at = x.at;
            state.review_counted_from = e.at;
          },
          [&](const model::review_due_retimed& x) { state.review_due_at = x.at; },
          [&](const model::review_overdue&) {
            state.review_due_at.reset();
            state.review_overdue = true;
          },
          [&](const model::close_due_set& x) {
            state.closes_at = x.at;
            state.close_counted_from = e.at;
          },
          [&](const model::close_due_retimed& x) { state.closes_at = x.at; },
          [&](const model::request_left_unassigned&) {},
          [&](const model::request_closed& x) { state.status = x.status; },
          [&](const model::request_followed_up& x) {
            act(x.common);
            state.followed_up_by = x.follow_up;
          },
      },
      e.data);
  // A decided or finished request awaits no review; only a resolved one awaits closing (a
  // customer's reply, a reopening, the closing itself end that wait).
  if (state.status == model::request_status::resolved || state.status == model::request_status::closed) {
    state.review_due_at.reset();
    state.review_overdue = false;
  }
  if (state.status != model::request_status::resolved) state.closes_at.reset();
  if (!state.review_due_at) state.review_counted_from.reset();
  if (!state.closes_at) state.close_counted_from.reset();
}

}  // namespace switchboard::engine
