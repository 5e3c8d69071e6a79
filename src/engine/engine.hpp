#pragma once
// The deterministic core: a command and the current time in, events out.
//
// The engine does no I/O and reads no clock. Everything it knows about a request can be
// rebuilt by folding that request's events with `apply`, in order.

#include "model/request.hpp"
#include "rules/rule_set.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace switchboard::engine {

struct event {
  model::request_id request = 0;
  std::string type;  // "request.created", "request.routed", ...
  model::instant at{};
  std::string actor;  // who caused it: a person, "system" or an integration
  boost::json::object data;
};

// What the engine needs to decide: the loaded policy. Immutable once built.
struct policy {
  rules::rule_set routing;
};

// A person files a new request, to be known by `id` (allocated by the store).
struct file_request {
  model::request_input input;
  std::string actor;
};

// Events for a new request: request.created, then request.routed with the decision and trace.
std::vector<event> decide(const policy& policy, const file_request& command, model::request_id id,
                          model::instant now);

// Folds one event into the read model of its request.
void apply(model::request& state, const event& e);

}  // namespace switchboard::engine
