#pragma once
// An action's JSON body as the API receives it ({"type": ..., fields}), decoded into the engine's
// typed command. The one place an action's fields are checked for shape: names, JSON types and
// size limits, as the action table gives them (engine/actions.hpp: field_spec); the engine then
// checks only the domain's rules (required fields, statuses, roles).

#include "engine/engine.hpp"
#include "model/request.hpp"

#include <boost/json/value.hpp>

#include <variant>
#include <vector>

namespace switchboard::codec {

struct parsed_action {
  engine::action_kind kind = engine::action_kind::respond;
  engine::action_input input;
};

// Decodes `body`. Errors, in the order found: a body that is not an object, or a missing or
// unknown "type" (then the other fields are not read), else every field the type does not take,
// every field of the wrong JSON type (text fields are strings, "roles" an array of role names)
// and every text over its field_spec::max_bytes.
std::variant<parsed_action, std::vector<model::field_error>> parse_action(const boost::json::value& body);

}  // namespace switchboard::codec
