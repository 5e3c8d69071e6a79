// A customer's stored document and the PUT /v1/customers/{id} body (codec/customer_json.hpp).
#include "codec/customer_json.hpp"

#include "codec/json.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace switchboard::codec {
namespace json = boost::json;

namespace {

json::value optional_text(const std::string& text) { return text.empty() ? json::value(nullptr) : json::value(text); }

std::string text_at(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return {};
  return std::string(value->as_string());
}

// The account team's keys, each with the member it names.
constexpr std::string_view team_keys[] = {"ae", "ce", "ta"};

std::string& member(model::account_team& team, std::string_view key) {
  return key == "ae" ? team.ae : key == "ce" ? team.ce : team.ta;
}
const std::string& member(const model::account_team& team, std::string_view key) {
  return key == "ae" ? team.ae : key == "ce" ? team.ce : team.ta;
}

// A string field: absent or null is nullopt; anything else but a string of 1..max bytes is an error.
std::optional<std::string> optional_string(const json::object& object, std::string_view key, std::string_view path,
                                           std::size_t max_bytes, std::vector<model::field_error>& errors) {
  const auto* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (!value->is_string()) {
    errors.push_back({std::string(path), "must be a string"});
    return std::nullopt;
  }
  std::string text(value->as_string());
  if (text.empty()) errors.push_back({std::string(path), "must not be empty (send null for none)"});
  if (text.size() > max_bytes) errors.push_back({std::string(path), fmt::format("must be at most {} bytes", max_bytes)});
  return text;
}

}  // namespace

json::object customer_document(const model::customer& value) {
  json::object team;
  for (auto key : team_keys) team[key] = optional_text(member(value.account_team, key));
  return {{"id", value.id},
          {"name", value.name},
          {"stage", model::to_string(value.stage)},
          {"tier", optional_text(value.tier)},
          {"account_team", std::move(team)}};
}

model::customer customer_from_document(const json::value& json) {
  try {
    const auto& object = json.as_object();
    model::customer out;
    out.id = text_at(object, "id");
    if (out.id.empty()) throw std::invalid_argument("stored customer has no id");
    out.name = text_at(object, "name");
    const auto stage = model::parse_customer_stage(text_at(object, "stage"));
    if (!stage) throw std::invalid_argument(fmt::format("stored customer {} has an unknown stage", out.id));
    out.stage = *stage;
    out.tier = text_at(object, "tier");
    if (const auto* team = object.if_contains("account_team"); team != nullptr && !team->is_null())
      for (auto key : team_keys) member(out.account_team, key) = text_at(team->as_object(), key);
    return out;
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("stored customer is malformed: {}", e.what()));
  }
}

std::variant<customer_update, std::vector<model::field_error>> parse_customer_update(
    const json::value& json, const std::vector<std::string>& known_tiers) {
  if (!json.is_object())
    return std::vector<model::field_error>{{"", "the customer must be a JSON object with stage, and name, tier, "
                                                "account_team when wanted"}};
  const auto& object = json.as_object();
  std::vector<model::field_error> errors;
  for (const auto& [key, value] : object)
    if (key != "name" && key != "stage" && key != "tier" && key != "account_team")
      errors.push_back({std::string(key), "unknown field; expected name, stage, tier or account_team"});

  customer_update out;
  out.name = optional_string(object, "name", "name", input_limits::name_bytes, errors);
  bool stage_read = false;
  const auto* stage = object.if_contains("stage");
  if (stage == nullptr || stage->is_null()) {
    errors.push_back({"stage", fmt::format("is required; expected one of {}", model::customer_stage_names())});
  } else if (!stage->is_string()) {
    errors.push_back({"stage", fmt::format("must be a string, one of {}", model::customer_stage_names())});
  } else if (const auto parsed = model::parse_customer_stage(stage->as_string())) {
    out.stage = *parsed;
    stage_read = true;
  } else {
    errors.push_back({"stage", fmt::format("unknown value \"{}\"; expected one of {}", std::string_view(stage->as_string()),
                                           model::customer_stage_names())});
  }
  const auto before_tier = errors.size();
  out.tier = optional_string(object, "tier", "tier", input_limits::tag_bytes, errors).value_or("");
  if (!out.tier.empty() && std::find(known_tiers.begin(), known_tiers.end(), out.tier) == known_tiers.end())
    errors.push_back({"tier", fmt::format("unknown tier \"{}\"; expected one of {}", out.tier, fmt::join(known_tiers, ", "))});
  if (stage_read && errors.size() == before_tier && out.stage == model::customer_stage::production && out.tier.empty())
    errors.push_back({"tier", known_tiers.empty()
                                  ? std::string("is required for a production customer, and no contract tiers are "
                                                "configured ([customers] tiers)")
                                  : fmt::format("is required for a production customer; expected one of {}",
                                                fmt::join(known_tiers, ", "))});

  if (const auto* team = object.if_contains("account_team"); team != nullptr && !team->is_null()) {
    if (!team->is_object()) {
      errors.push_back({"account_team", "must be an object like {\"ae\": \"ann\", \"ce\": \"dana\", \"ta\": \"tom\"}"});
    } else {
      model::account_team members;
      for (const auto& [key, value] : team->as_object()) {
        const std::string_view name = key;
        if (std::find(std::begin(team_keys), std::end(team_keys), name) == std::end(team_keys)) {
          errors.push_back({fmt::format("account_team.{}", name), "unknown field; expected ae, ce or ta"});
          continue;
        }
        if (auto person = optional_string(team->as_object(), name, fmt::format("account_team.{}", name),
                                          input_limits::tag_bytes, errors))
          member(members, name) = std::move(*person);
      }
      out.account_team = std::move(members);
    }
  }
  if (!errors.empty()) return errors;
  return out;
}

}  // namespace switchboard::codec
