#pragma once
// One definition per action: its name, the event it records, who may do it, the fields its body
// carries, its checks on the request and what it records. The role matrix (roles_allowed),
// parse_action_kind, action_kind_names and the API's parser (codec::parse_action) all read this
// table; adding an action is one row here and its check and act in actions.cpp.

#include "engine/engine.hpp"

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace switchboard::engine {

// The JSON type of an action field: a string, an array of role names, or true/false.
enum class field_type { text, roles, flag };

struct field_spec {
  std::string_view name;
  field_type type = field_type::text;
  std::size_t max_bytes = max_message_bytes;  // for text, in bytes of UTF-8
  // The engine refuses the action when the field is empty (invalid_fields, or missing_context
  // for a handoff's context); a field not required may be left out.
  bool required = false;
};

// One action being decided: the policy, the request, the command and the events so far
// (defined in actions.cpp).
class action_context;

struct action_definition {
  action_kind kind = action_kind::respond;
  std::string_view name;        // as the API and the CLI spell it
  std::string_view event_type;  // the event it records on the request (model::type_name)
  std::vector<model::role> roles;  // who may do it, before any check on the request
  std::vector<field_spec> fields;  // what its body may carry besides "type", in this order
  // Refusals that depend on the request (status, kind, owner, required fields); nullopt to go on.
  std::optional<refusal> (*check)(const action_context&) = nullptr;
  // Records the action's events (after what fell due by now); the clocks follow from `kind`.
  void (*act)(action_context&) = nullptr;
  // The input that recorded `e`, an event of type event_type by a person, for command_of: what
  // the event keeps of it (what it does not keep cannot change what is recorded). nullopt when
  // `e` is another row's (take and assign both record request.assigned).
  std::optional<action_input> (*from_event)(const model::event& e) = nullptr;
};

// Every action, in the order action_kind_names lists them. Immutable; safe to share.
const std::vector<action_definition>& action_table();
const action_definition& definition_of(action_kind kind);

}  // namespace switchboard::engine
