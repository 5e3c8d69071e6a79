#pragma once
// The deterministic core: a command and the current time in, events out.
//
// The engine does no I/O and reads no clock. Everything it knows about a request can be
// rebuilt by folding that request's events with `apply`, in order: events carry their
// results (the routing decision, each clock's state after the change), so replaying history
// needs neither the rules nor the calendars as they are today.

#include "model/request.hpp"
#include "rules/rule_set.hpp"
#include "sla/policy.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <variant>
#include <vector>

namespace switchboard::engine {

struct event {
  model::request_id request = 0;
  std::string type;  // "request.created", "request.routed", "sla.breached", ...
  model::instant at{};
  std::string actor;  // who caused it: a person, "system" or an integration
  boost::json::object data;
};

// What the engine decides with: the loaded policy. Immutable once built.
struct policy {
  rules::rule_set routing;
  sla::policy_set sla;
};

// A person files a new request, to be known by `id` (allocated by the store).
struct file_request {
  model::request_input input;
  std::string actor;
};

// What people do to a request after it is filed.
enum class action_kind {
  respond,         // an agent answers the customer
  pend,            // an agent answers and waits on the customer: status pending_customer
  customer_reply,  // the customer writes: resumes paused clocks, starts next_response
  resolve,         // the request is solved
  reopen,          // a resolved request needs work again
};
std::string_view to_string(action_kind kind);
std::optional<action_kind> parse_action_kind(std::string_view text);
std::string_view action_kind_names();

struct act_on_request {
  action_kind kind = action_kind::respond;
  std::string message;
  std::string actor;
};

// Why a command was refused; nothing is recorded.
struct refusal {
  std::string code;  // "invalid_transition"
  std::string message;
};

// Events for a new request: request.created, request.routed with the decision and trace, then
// sla.started for each clock its SLA policy starts.
std::vector<event> decide(const policy& policy, const file_request& command, model::request_id id,
                          model::instant now);

// Events for an action on `current`: first the warnings and breaches already due by `now`
// (at their own instants), then the action and its effect on status and clocks.
std::variant<std::vector<event>, refusal> decide(const policy& policy, const model::request& current,
                                                 const act_on_request& command, model::instant now);

// The warnings and breaches of `current` due by `now`, each at its true instant.
std::vector<event> due(const model::request& current, model::instant now);

// The next instant at which `due` would record something for `current`, if any.
std::optional<model::instant> next_due(const model::request& current);

// Folds one event into the read model of its request.
void apply(model::request& state, const event& e);

}  // namespace switchboard::engine
