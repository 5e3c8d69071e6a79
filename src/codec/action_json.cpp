// Actions as the API receives them: JSON in, engine::action_input out, every bad field named.
#include "codec/action_json.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <string_view>

namespace switchboard::codec {
namespace json = boost::json;
namespace {

using engine::action_kind;

// The fields each action takes besides "type".
std::vector<std::string_view> fields_of(action_kind kind) {
  switch (kind) {
    case action_kind::handoff: return {"message", "customer_impact", "environment", "steps_tried", "customer_told"};
    case action_kind::decline: return {"message", "reason"};
    case action_kind::bring_in: return {"message", "escalation", "roles"};
    case action_kind::acknowledge_escalation:
    case action_kind::resolve_escalation: return {"message", "escalation"};
    default: return {"message"};
  }
}

// Where a text field's value goes, and its limit in bytes.
std::string* text_target(engine::action_input& input, std::string_view key, std::size_t& limit) {
  limit = engine::max_message_bytes;
  if (key == "message") return &input.message;
  if (key == "reason") return &input.reason;
  if (key == "escalation") return &input.escalation;
  limit = engine::max_handoff_field_bytes;
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
  const auto allowed = fields_of(*kind);
  std::vector<model::field_error> errors;
  for (const auto& [key, value] : fields) {
    if (key == "type") continue;
    if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
      errors.push_back({std::string(key), fmt::format("unknown field for {}; expected {}", engine::to_string(*kind),
                                                      fmt::join(allowed, ", "))});
    } else if (key == "roles") {
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
    } else if (!value.is_string()) {
      errors.push_back({std::string(key), "must be a string"});
    } else {
      std::size_t limit = 0;
      auto* target = text_target(out.input, key, limit);
      if (value.get_string().size() > limit)
        errors.push_back({std::string(key), fmt::format("must be at most {} bytes", limit)});
      else if (target != nullptr)
        *target = std::string(value.get_string());
    }
  }
  if (!errors.empty()) return errors;
  return out;
}

}  // namespace switchboard::codec
