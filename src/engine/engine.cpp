// Commands to events, and events folded into request state.
#include "engine/engine.hpp"

#include "model/json.hpp"
#include "rules/evaluator.hpp"

#include <boost/json.hpp>

#include <stdexcept>

namespace switchboard::engine {

std::vector<event> decide(const policy& policy, const file_request& command, model::request_id id,
                          model::instant now) {
  auto decision = rules::evaluate(policy.routing, command.input);
  std::vector<event> events;
  events.push_back({id, "request.created", now, command.actor, model::to_json(command.input)});
  events.push_back({id, "request.routed", now, "system", model::to_json(decision)});
  return events;
}

void apply(model::request& state, const event& e) {
  state.id = e.request;
  state.updated_at = e.at;
  if (e.type == "request.created") {
    state.input = model::request_input_from_json(e.data);
    state.created_at = e.at;
    state.status = model::request_status::new_;
  } else if (e.type == "request.routed") {
    state.routing = model::routing_decision_from_json(e.data);
    state.owner = state.routing.owner;
    state.input.priority = state.routing.priority;
    state.status = model::request_status::open;
  } else {
    throw std::invalid_argument("unknown event type " + e.type);
  }
}

}  // namespace switchboard::engine
