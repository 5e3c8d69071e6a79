// Commands to events, and events folded into request state.
#include "engine/engine.hpp"

#include "model/json.hpp"
#include "rules/evaluator.hpp"
#include "sla/clock.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace switchboard::engine {
namespace json = boost::json;
namespace {

constexpr std::array<std::pair<action_kind, std::string_view>, 5> action_names{{
    {action_kind::respond, "respond"},
    {action_kind::pend, "pend"},
    {action_kind::customer_reply, "customer_reply"},
    {action_kind::resolve, "resolve"},
    {action_kind::reopen, "reopen"},
}};

constexpr std::array<std::string_view, 7> clock_event_types{
    "sla.started", "sla.paused", "sla.resumed", "sla.met", "sla.warning", "sla.breached", "sla.reopened"};

// The event type recording each action.
std::string action_event_type(action_kind kind) {
  switch (kind) {
    case action_kind::respond: return "request.responded";
    case action_kind::pend: return "request.pended";
    case action_kind::customer_reply: return "request.customer_replied";
    case action_kind::resolve: return "request.resolved";
    case action_kind::reopen: return "request.reopened";
  }
  return "request.unknown";
}

// Statuses an action leads to; nullopt when the action is not allowed from `from`.
std::optional<model::request_status> next_status(action_kind kind, model::request_status from) {
  using model::request_status;
  const bool active = from == request_status::new_ || from == request_status::open ||
                      from == request_status::pending_customer || from == request_status::escalated;
  switch (kind) {
    case action_kind::respond:
      if (!active) return std::nullopt;
      return from == request_status::escalated ? from : request_status::open;
    case action_kind::pend:
      if (!active || from == request_status::pending_customer) return std::nullopt;
      return request_status::pending_customer;
    case action_kind::customer_reply:
      if (from == request_status::closed) return std::nullopt;
      return from == request_status::escalated ? from : request_status::open;
    case action_kind::resolve:
      if (!active) return std::nullopt;
      return request_status::resolved;
    case action_kind::reopen:
      if (from != request_status::resolved) return std::nullopt;
      return request_status::open;
  }
  return std::nullopt;
}

// Builds the events of one request as the engine decides them, applying each to a working copy
// so later steps see the effect of earlier ones.
class recorder {
 public:
  recorder(model::request state) : state_(std::move(state)) {}

  void record(std::string type, model::instant at, std::string actor, json::object data) {
    event e{state_.id, std::move(type), at, std::move(actor), std::move(data)};
    apply(state_, e);
    events_.push_back(std::move(e));
  }

  void record_clock(std::string_view type, const model::sla_clock& clock, model::instant at) {
    record(std::string(type), at, "system", json::object{{"clock", model::to_json(clock)}});
  }

  model::sla_clock* find_clock(model::sla_metric metric) {
    auto it = std::find_if(state_.clocks.begin(), state_.clocks.end(),
                           [metric](const model::sla_clock& c) { return c.metric == metric; });
    return it == state_.clocks.end() ? nullptr : &*it;
  }

  // Records the warnings and breaches due by `now`, each at its true instant, oldest first.
  void fire_due(model::instant now) {
    struct pending_firing {
      model::instant at;
      model::sla_metric metric;
      sla::firing_kind kind;
    };
    std::vector<pending_firing> firings;
    for (auto clock : state_.clocks)
      for (const auto& f : sla::fire_due(clock, now)) firings.push_back({f.at, clock.metric, f.kind});
    std::stable_sort(firings.begin(), firings.end(),
                     [](const pending_firing& a, const pending_firing& b) { return a.at < b.at; });
    for (const auto& f : firings) {
      auto clock = *find_clock(f.metric);
      if (f.kind == sla::firing_kind::warning) {
        clock.warned = true;
        record_clock("sla.warning", clock, f.at);
      } else {
        clock.warned = true;
        clock.state = model::clock_state::breached;
        record_clock("sla.breached", clock, f.at);
      }
    }
  }

  const model::request& state() const { return state_; }
  std::vector<event> take() { return std::move(events_); }

 private:
  model::request state_;
  std::vector<event> events_;
};

// The clock-changing part of an action: which clocks complete, pause, resume, reopen or start.
void update_clocks(recorder& r, const policy& policy, action_kind kind, model::instant now) {
  const auto& status = r.state().status;
  auto pauses_now = [&](const model::sla_clock& clock) {
    return std::find(clock.pause_on.begin(), clock.pause_on.end(), status) != clock.pause_on.end();
  };
  auto complete_metric = [&](model::sla_metric metric) {
    if (auto* clock = r.find_clock(metric); clock && !clock->completed) {
      auto copy = *clock;
      sla::complete(copy, policy.sla.calendar(copy.calendar), now);
      r.record_clock("sla.met", copy, now);
    }
  };

  switch (kind) {
    case action_kind::respond:
    case action_kind::pend:
      complete_metric(model::sla_metric::first_response);
      complete_metric(model::sla_metric::next_response);
      break;
    case action_kind::resolve:
      complete_metric(model::sla_metric::first_response);
      complete_metric(model::sla_metric::next_response);
      complete_metric(model::sla_metric::resolution);
      break;
    case action_kind::reopen:
    case action_kind::customer_reply:
      if (auto* resolution = r.find_clock(model::sla_metric::resolution); resolution && resolution->completed) {
        auto copy = *resolution;
        sla::reopen(copy, policy.sla.calendar(copy.calendar), now);
        r.record_clock("sla.reopened", copy, now);
      }
      break;
  }

  // Pauses and resumes follow the status each clock's policy pauses on.
  for (auto clock : r.state().clocks) {
    const auto& calendar = policy.sla.calendar(clock.calendar);
    if (pauses_now(clock) ? sla::pause(clock, calendar, now) : sla::resume(clock, calendar, now))
      r.record_clock(clock.state == model::clock_state::paused ? "sla.paused" : "sla.resumed", clock, now);
  }

  // The customer is waiting again: next_response starts once an agent has answered before.
  if (kind == action_kind::customer_reply || kind == action_kind::reopen) {
    const auto* first = r.find_clock(model::sla_metric::first_response);
    const auto* next = r.find_clock(model::sla_metric::next_response);
    const bool agent_answered = first == nullptr || first->completed;
    const bool already_waiting = next != nullptr && !next->completed;
    if (agent_answered && !already_waiting) {
      if (const auto* applied = policy.sla.match(r.state().input)) {
        for (const auto& target : applied->metrics) {
          if (target.metric != model::sla_metric::next_response) continue;
          const auto& calendar = policy.sla.calendar(applied->calendar);
          auto clock = sla::start(*applied, target, calendar, now);
          if (pauses_now(clock)) sla::pause(clock, calendar, now);
          r.record_clock("sla.started", clock, now);
        }
      }
    }
  }
}

}  // namespace

std::string_view to_string(action_kind kind) {
  for (const auto& [candidate, name] : action_names)
    if (candidate == kind) return name;
  return "?";
}

std::optional<action_kind> parse_action_kind(std::string_view text) {
  for (const auto& [candidate, name] : action_names)
    if (name == text) return candidate;
  return std::nullopt;
}

std::string_view action_kind_names() { return "respond, pend, customer_reply, resolve, reopen"; }

std::vector<event> decide(const policy& policy, const file_request& command, model::request_id id,
                          model::instant now) {
  model::request fresh;
  fresh.id = id;
  recorder r(std::move(fresh));
  r.record("request.created", now, command.actor, model::to_json(command.input));
  r.record("request.routed", now, "system", model::to_json(rules::evaluate(policy.routing, command.input)));
  if (const auto* applied = policy.sla.match(command.input)) {
    for (const auto& target : applied->metrics) {
      if (target.metric == model::sla_metric::next_response) continue;  // starts on a customer reply
      r.record_clock("sla.started", sla::start(*applied, target, policy.sla.calendar(applied->calendar), now), now);
    }
  }
  return r.take();
}

std::variant<std::vector<event>, refusal> decide(const policy& policy, const model::request& current,
                                                 const act_on_request& command, model::instant now) {
  const auto status = next_status(command.kind, current.status);
  if (!status)
    return refusal{"invalid_transition", fmt::format("cannot {} a request that is {}", to_string(command.kind),
                                                     model::to_string(current.status))};
  recorder r(current);
  r.fire_due(now);
  r.record(action_event_type(command.kind), now, command.actor,
           json::object{{"message", command.message}, {"status", model::to_string(*status)}});
  update_clocks(r, policy, command.kind, now);
  return r.take();
}

std::vector<event> due(const model::request& current, model::instant now) {
  recorder r(current);
  r.fire_due(now);
  return r.take();
}

std::optional<model::instant> next_due(const model::request& current) {
  std::optional<model::instant> earliest;
  for (const auto& clock : current.clocks)
    if (auto at = sla::next_firing(clock); at && (!earliest || *at < *earliest)) earliest = at;
  return earliest;
}

void apply(model::request& state, const event& e) {
  state.id = e.request;
  state.updated_at = std::max(state.updated_at, e.at);
  if (e.type == "request.created") {
    state.input = model::request_input_from_json(e.data);
    state.created_at = e.at;
    state.status = model::request_status::new_;
  } else if (e.type == "request.routed") {
    state.routing = model::routing_decision_from_json(e.data);
    state.owner = state.routing.owner;
    state.input.priority = state.routing.priority;
    state.status = model::request_status::open;
  } else if (std::find(clock_event_types.begin(), clock_event_types.end(), e.type) != clock_event_types.end()) {
    auto clock = model::sla_clock_from_json(e.data.at("clock"));
    auto existing = std::find_if(state.clocks.begin(), state.clocks.end(),
                                 [&](const model::sla_clock& c) { return c.metric == clock.metric; });
    if (existing == state.clocks.end())
      state.clocks.push_back(std::move(clock));
    else
      *existing = std::move(clock);
  } else if (std::any_of(action_names.begin(), action_names.end(),
                         [&](const auto& action) { return action_event_type(action.first) == e.type; })) {
    const auto* status = e.data.if_contains("status");
    const auto parsed = status && status->is_string() ? model::parse_request_status(status->as_string()) : std::nullopt;
    if (!parsed) throw std::invalid_argument("event " + e.type + " has no valid status");
    state.status = *parsed;
  } else {
    throw std::invalid_argument("unknown event type " + e.type);
  }
}

}  // namespace switchboard::engine
