// Actions as the API receives them: JSON in, engine::action_input out, every bad field named.
#include "codec/action_json.hpp"

#include "engine/actions.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <string_view>

namespace switchboard::codec {
namespace json = boost::json;
namespace {

// Where a true/false field's value goes in the typed input.
void set_flag(engine::action_input& input, std::string_view key, bool value) {
  if (key == "public") input.is_public = value;
  else if (key == "confirm_unverified") input.confirm_unverified = value;
}

// Where a text field's value goes in the typed input.
std::string* text_target(engine::action_input& input, std::string_view key) {
  if (key == "message") return &input.message;
  if (key == "reason") return &input.reason;
  if (key == "escalation") return &input.escalation;
  if (key == "assignee") return &input.assignee;
  if (!input.handoff) input.handoff.emplace();
  if (key == "customer_impact") return &input.handoff->customer_impact;
  if (key == "environment") return &input.handoff->environment;
  if (key == "steps_tried") return &input.handoff->steps_tried;
  if (key == "customer_told") return &input.handoff->customer_told;
  return nullptr;
}

}  // namespace

std::variant<parsed_action, std::vector<model::field_error>> parse_action(const json::value& body) {
  if (!body.is_object()) return std::vector<model::field_error>{{"", "the event must be a JSON object with a type and that type's fields"}};
  const auto& fields = body.get_object();
  const auto* type = fields.if_contains("type");
  const auto kind = type && type->is_string() ? engine::parse_action_kind(type->get_string()) : std::nullopt;
  if (!kind)
    return std::vector<model::field_error>{
        {"type", type ? fmt::format("unknown event type {}; expected one of {}", json::serialize(*type),
                                    engine::action_kind_names())
                      : fmt::format("is required; expected one of {}", engine::action_kind_names())}};

  parsed_action out{*kind, {}};
  const auto& allowed = engine::definition_of(*kind).fields;
  std::vector<model::field_error> errors;
  for (const auto& [key, value] : fields) {
    if (key == "type") continue;
    const auto spec = std::find_if(allowed.begin(), allowed.end(),
                                   [name = std::string_view(key)](const engine::field_spec& f) { return f.name == name; });
    if (spec == allowed.end()) {
      std::vector<std::string_view> names;
      for (const auto& f : allowed) names.push_back(f.name);
      errors.push_back({std::string(key), fmt::format("unknown field for {}; expected {}", engine::to_string(*kind),
                                                      fmt::join(names, ", "))});
    } else if (spec->type == engine::field_type::roles) {
      if (!value.is_array()) {
        errors.push_back({std::string(key), "must be an array of roles"});
        continue;
      }
      for (const auto& r : value.get_array()) {
        const auto role = r.is_string() ? model::parse_role(r.get_string()) : std::nullopt;
        if (role) out.input.roles.push_back(*role);
        else errors.push_back({std::string(key), fmt::format("unknown role {}; expected one of {}", json::serialize(r),
                                                             model::role_names())});
      }
    } else if (spec->type == engine::field_type::flag) {
      if (!value.is_bool()) errors.push_back({std::string(key), "must be true or false"});
      else set_flag(out.input, key, value.get_bool());
    } else if (!value.is_string()) {
      errors.push_back({std::string(key), "must be a string"});
    } else if (value.get_string().size() > spec->max_bytes) {
      errors.push_back({std::string(key), fmt::format("must be at most {} bytes", spec->max_bytes)});
    } else if (auto* target = text_target(out.input, key)) {
      *target = std::string(value.get_string());
    }
  }
  if (!errors.empty()) return errors;
  return out;
}

}  // namespace switchboard::codec
