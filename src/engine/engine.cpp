// Filing requests, things falling due, and folding events into request state.
#include "engine/engine.hpp"

#include "engine/recorder.hpp"
#include "codec/json.hpp"
#include "rules/evaluator.hpp"
#include "sla/clock.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace switchboard::engine {
namespace json = boost::json;
namespace {

constexpr std::array<std::string_view, 8> clock_event_types{
    "sla.started", "sla.paused", "sla.resumed", "sla.met", "sla.warning", "sla.breached", "sla.reopened", "sla.retimed"};
constexpr std::array<std::string_view, 7> escalation_event_types{
    "escalation.triggered", "escalation.notified", "escalation.skipped", "escalation.acknowledged",
    "escalation.resolved", "escalation.brought_in", "escalation.retimed"};

template <typename List>
bool listed(const List& list, std::string_view type) {
  return std::find(list.begin(), list.end(), type) != list.end();
}

template <typename T, typename Match>
void replace_or_add(std::vector<T>& items, T item, Match matches) {
  auto existing = std::find_if(items.begin(), items.end(), matches);
  if (existing == items.end())
    items.push_back(std::move(item));
  else
    *existing = std::move(item);
}

void fold_whole_escalation(model::request& state, const json::object& whole) {
  auto escalation = codec::escalation_from_json(whole);
  const auto id = escalation.id;
  replace_or_add<model::escalation>(state.escalations, std::move(escalation),
                                    [&id](const model::escalation& x) { return x.id == id; });
}

// A climb: the notification it made (none when every level due was skipped) and the plan after it.
void fold_climb(model::request& state, const event& e, const json::object& change) {
  const auto* id = change.if_contains("id");
  auto found = id && id->is_string() ? std::find_if(state.escalations.begin(), state.escalations.end(),
                                                    [&](const model::escalation& x) { return x.id == std::string_view(id->as_string()); })
                                     : state.escalations.end();
  if (found == state.escalations.end()) throw std::invalid_argument("event " + e.type + " names no escalation of its request");
  if (e.type == "escalation.notified") {
    model::notification n;
    n.level = e.data.at("level").to_number<int>();
    n.at = e.at;
    n.why = std::string(e.data.at("why").as_string());
    for (const auto& r : e.data.at("notified").as_array()) {
      const auto role = r.is_string() ? model::parse_role(r.as_string()) : std::nullopt;
      if (!role) throw std::invalid_argument("event " + e.type + " names a bad role");
      n.roles.push_back(*role);
    }
    found->notifications.push_back(std::move(n));
  }
  if (e.type != "escalation.retimed") found->climbed_at = e.at;  // a re-plan is not a climb
  found->next_level = change.at("next_level").to_number<std::size_t>();
  const auto& next = change.at("next_at");
  found->next_at = next.is_null() ? std::nullopt : model::parse_instant(next.as_string());
  if (!next.is_null() && !found->next_at) throw std::invalid_argument("event " + e.type + " has a bad next_at");
}

}  // namespace

std::string actor_label(const model::actor& actor) {
  return fmt::format("{}:{}", model::to_string(actor.role), actor.person);
}

std::optional<refusal> may_file(const model::actor& actor, const model::request_input& input) {
  using model::role;
  static constexpr std::array filers{role::ae, role::ce, role::se, role::integration, role::admin};
  if (std::find(filers.begin(), filers.end(), actor.role) == filers.end())
    return refusal{"forbidden",
                   fmt::format("a {} may not file requests: CEs, AEs, SE and integrations file them",
                               model::to_string(actor.role)),
                   {}};
  if (input.kind == model::request_kind::concern)
    return refusal{"forbidden",
                   "a concern is raised on the request it is about: POST /v1/requests/{id}/events with type "
                   "raise_concern",
                   {}};
  return std::nullopt;
}

std::vector<event> decide(const policy& policy, const file_request& command, model::request_id id,
                          model::instant now) {
  model::request fresh;
  fresh.id = id;
  recorder r(policy, std::move(fresh));
  r.record("request.created", now, actor_label(command.actor), codec::to_json(command.input));
  auto decision = rules::evaluate(policy.routing, command.input);
  // The e-mail intake's own guard (an unauthenticated sender filed unattributed) is part of why.
  if (command.input.email && !command.input.email->note.empty()) decision.notes.push_back(command.input.email->note);
  r.record("request.routed", now, "system", codec::to_json(decision));
  r.start_clocks(now);
  return r.take();
}

std::vector<event> due(const policy& policy, const model::request& current, model::instant now) {
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

std::vector<event> open_capacity_escalation(const policy& policy, const model::request& current, const team_load& load,
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

std::vector<event> retime(const policy& policy, const model::request& current, model::instant now) {
  recorder r(policy, current);
  for (const auto& clock : current.clocks) {
    auto after = clock;
    if (!sla::retime(after, policy.sla)) continue;
    json::object before{{"calendar", clock.calendar},
                        {"policy", clock.policy},
                        {"target_seconds", clock.target.count()},
                        {"warning_at_seconds", clock.warning_at.count()}};
    if (clock.state == model::clock_state::running) {
      before["deadline"] = model::format_instant(clock.deadline);
      if (!clock.warned) before["warning_deadline"] = model::format_instant(clock.warning_deadline);
    }
    r.record("sla.retimed", now, "system",
             json::object{{"clock", codec::to_json(after)},
                          {"before", std::move(before)},
                          {"reason", "the calendars or SLA policies in the config changed since the clock was planned"}});
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
      r.record("escalation.retimed", now, "system",
               json::object{{"escalation", json::object{{"id", escalation.id},
                                                        {"ladder", escalation.ladder},
                                                        {"reason", escalation.reason},
                                                        {"next_level", escalation.next_level},
                                                        {"next_at", nullptr}}},
                            {"before", json::object{{"next_at", model::format_instant(*escalation.next_at)}}},
                            {"why", fmt::format("the ladder \"{}\" is no longer in the config: the escalation "
                                                "climbs no further",
                                                escalation.ladder)}});
      continue;
    }
    if (!policy.sla.calendar_name(ladder->second.calendar)) continue;
    const auto planned = escalation::plan(escalation, ladder->second, policy.sla.calendar(ladder->second.calendar));
    if (planned == escalation.next_at) continue;
    r.record("escalation.retimed", now, "system",
             json::object{{"escalation", json::object{{"id", escalation.id},
                                                      {"ladder", escalation.ladder},
                                                      {"reason", escalation.reason},
                                                      {"next_level", escalation.next_level},
                                                      {"next_at", planned ? json::value(model::format_instant(*planned))
                                                                          : json::value(nullptr)}}},
                          {"before", json::object{{"next_at", escalation.next_at
                                                                  ? json::value(model::format_instant(*escalation.next_at))
                                                                  : json::value(nullptr)}}},
                          {"why", "the calendars or ladders in the config changed since the escalation was planned"}});
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
        r.record("request.concern_deadline_retimed", now, "system",
                 json::object{{"status", model::to_string(current.status)},
                              {"concern_escalates_at", model::format_instant(planned)},
                              {"before", json::object{{"concern_escalates_at",
                                                       model::format_instant(*current.concern_escalates_at)}}},
                              {"why", "the calendars or the concern ladder in the config changed since the deadline was set"}});
    }
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
  return earliest;
}

void apply(model::request& state, const event& e) {
  state.id = e.request;
  state.updated_at = std::max(state.updated_at, e.at);
  const auto& data = e.data;
  if (e.type == "request.created") {
    // A linked request (interrupt, concern) names its parent beside the input.
    auto input = data;
    if (const auto* parent = data.if_contains("parent"); parent && !parent->is_null())
      state.parent = parent->to_number<model::request_id>();
    input.erase("parent");
    state.input = codec::request_input_from_json(input);
    state.created_at = e.at;
    state.status = model::request_status::new_;
  } else if (e.type == "request.routed") {
    state.routing = codec::routing_decision_from_json(data);
    state.owner = state.routing.owner;
    state.input.priority = state.routing.priority;
    state.status = model::request_status::open;
  } else if (listed(clock_event_types, e.type)) {
    auto clock = codec::sla_clock_from_json(data.at("clock"));
    const auto metric = clock.metric;
    replace_or_add<model::sla_clock>(
        state.clocks, std::move(clock), [metric](const model::sla_clock& c) { return c.metric == metric; });
  } else if (listed(escalation_event_types, e.type)) {
    const auto& summary = data.at("escalation").as_object();
    if (e.type == "escalation.notified" || e.type == "escalation.skipped" || e.type == "escalation.retimed") {
      if (summary.contains("notifications"))
        fold_whole_escalation(state, summary);  // written before notified events carried only the change
      else
        fold_climb(state, e, summary);
    } else {
      fold_whole_escalation(state, summary);
    }
    if (e.type == "escalation.triggered" && state.concern_escalates_at) state.concern_escalates_at.reset();
    if (const auto* status = data.if_contains("status")) {
      const auto parsed = status->is_string() ? model::parse_request_status(status->as_string()) : std::nullopt;
      if (!parsed) throw std::invalid_argument("event " + e.type + " has a bad status");
      state.status = *parsed;
    }
  } else if (is_action_event(e.type)) {
    const auto* status = data.if_contains("status");
    const auto parsed = status && status->is_string() ? model::parse_request_status(status->as_string()) : std::nullopt;
    if (!parsed) throw std::invalid_argument("event " + e.type + " has no valid status");
    state.status = *parsed;
    if (const auto* owner = data.if_contains("owner")) {
      const auto team = owner->is_string() ? model::parse_team(owner->as_string()) : std::nullopt;
      if (!team) throw std::invalid_argument("event " + e.type + " has a bad owner");
      state.owner = *team;
    }
    if (const auto* assignee = data.if_contains("assignee")) state.assignee = std::string(assignee->as_string());
    if (const auto* handoff = data.if_contains("context")) state.handoff = codec::handoff_context_from_json(*handoff);
    if (const auto* child = data.if_contains("child")) state.children.push_back(child->to_number<model::request_id>());
    if (e.type == "request.engineering_engaged") state.engineering_engaged = true;
    if (const auto* at = data.if_contains("concern_escalates_at")) {
      state.concern_escalates_at = at->is_null() ? std::nullopt : model::parse_instant(at->as_string());
      // A deadline set (at raising or reopening) counts from its event; a re-timed one keeps
      // what it counted from. Counting from creation (raising) is left implicit, so documents
      // stored before concern_counted_from existed still equal their events' fold.
      if (state.concern_escalates_at && e.type != "request.concern_deadline_retimed") {
        if (e.at == state.created_at)
          state.concern_counted_from.reset();
        else
          state.concern_counted_from = e.at;
      }
    }
  } else {
    throw std::invalid_argument("unknown event type " + e.type);
  }
}

}  // namespace switchboard::engine
