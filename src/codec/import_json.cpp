// An import line, from JSON: the ticket's fields (as a filing's), its external id, its
// instants and its history (as actions).
#include "codec/import_json.hpp"

#include "codec/action_json.hpp"
#include "codec/json.hpp"
#include "model/instant.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <utility>

namespace switchboard::codec {
namespace json = boost::json;

namespace {

std::optional<model::instant> read_instant(const json::object& object, std::string_view key, const std::string& path,
                                           std::vector<model::field_error>& errors) {
  const auto* value = object.if_contains(key);
  if (value == nullptr) {
    errors.push_back({path, "is required: an RFC 3339 instant, e.g. 2026-03-02T17:04:00Z"});
    return std::nullopt;
  }
  if (!value->is_string()) {
    errors.push_back({path, "must be a string: an RFC 3339 instant, e.g. 2026-03-02T17:04:00Z"});
    return std::nullopt;
  }
  auto parsed = model::parse_instant(value->get_string());
  if (!parsed) errors.push_back({path, fmt::format("\"{}\" is not an RFC 3339 instant with an offset", std::string_view(value->get_string()))});
  return parsed;
}

std::optional<model::actor> read_actor(const json::value& value, const std::string& path,
                                       std::vector<model::field_error>& errors) {
  const auto* object = value.if_object();
  const auto* person = object ? object->if_contains("person") : nullptr;
  const auto* role = object ? object->if_contains("role") : nullptr;
  if (object == nullptr || object->size() != 2 || person == nullptr || role == nullptr || !person->is_string() ||
      !role->is_string() || person->get_string().empty() || person->get_string().size() > 200) {
    errors.push_back({path, "must be {\"person\": <id of 1-200 bytes>, \"role\": <role>}"});
    return std::nullopt;
  }
  const auto parsed = model::parse_role(role->get_string());
  if (!parsed) {
    errors.push_back({path + ".role", fmt::format("unknown role \"{}\"; expected one of {}",
                                                  std::string_view(role->get_string()), model::role_names())});
    return std::nullopt;
  }
  return model::actor{std::string(person->get_string()), *parsed};
}

}  // namespace

std::variant<parsed_import, std::vector<model::field_error>> parse_import_line(
    const json::value& line, const std::vector<std::string>& known_tiers, const model::customer_directory& directory) {
  std::vector<model::field_error> errors;
  const auto* object = line.if_object();
  if (object == nullptr) return std::vector<model::field_error>{{"line", "must be a JSON object"}};
  parsed_import out;

  // The ticket as a filing: every field but the import's own.
  json::value filing(*object);
  for (const auto* key : {"external_id", "created_at", "requester", "owner", "history"}) filing.as_object().erase(key);
  auto input = parse_request_input(filing, known_tiers, directory);
  if (auto* bad = std::get_if<std::vector<model::field_error>>(&input))
    for (auto& e : *bad) errors.push_back(std::move(e));
  else
    out.command.input = std::get<model::request_input>(std::move(input));

  if (const auto* id = object->if_contains("external_id"); id == nullptr || !id->is_string() ||
                                                             id->get_string().empty() ||
                                                             id->get_string().size() > max_external_id_bytes)
    errors.push_back({"external_id", "is required: the ticket's id in the system it comes from, 1-200 bytes"});
  else
    out.external_id = std::string(id->get_string());

  if (const auto created = read_instant(*object, "created_at", "created_at", errors)) out.command.created_at = *created;

  if (const auto* requester = object->if_contains("requester")) {
    if (!requester->is_string() || requester->get_string().size() > 200)
      errors.push_back({"requester", "must be a string of at most 200 bytes: who asked"});
    else
      out.command.input.requester = std::string(requester->get_string());
  }

  if (const auto* owner = object->if_contains("owner"); owner != nullptr && !owner->is_null()) {
    const auto team = owner->is_string() ? model::parse_team(owner->get_string()) : std::nullopt;
    if (!team)
      errors.push_back({"owner", fmt::format("must be one of {} (or left out: the rules decide)", model::team_names())});
    else
      out.command.owner = *team;
  }

  if (const auto* history = object->if_contains("history"); history != nullptr && !history->is_null()) {
    const auto* entries = history->if_array();
    if (entries == nullptr) {
      errors.push_back({"history", "must be an array of actions, oldest first"});
    } else if (entries->size() > max_import_history) {
      errors.push_back({"history", fmt::format("has {} entries; at most {}", entries->size(), max_import_history)});
    } else {
      for (std::size_t i = 0; i < entries->size(); ++i) {
        const auto path = fmt::format("history[{}]", i);
        const auto* entry = (*entries)[i].if_object();
        if (entry == nullptr) {
          errors.push_back({path, "must be an object: {\"at\", \"type\", ...}"});
          continue;
        }
        engine::import_entry parsed;
        if (const auto at = read_instant(*entry, "at", path + ".at", errors)) parsed.at = *at;
        if (const auto* actor = entry->if_contains("actor")) parsed.actor = read_actor(*actor, path + ".actor", errors);
        json::value action(*entry);
        action.as_object().erase("at");
        action.as_object().erase("actor");
        auto decoded = parse_action(action);
        if (auto* bad = std::get_if<std::vector<model::field_error>>(&decoded)) {
          for (auto& e : *bad) errors.push_back({fmt::format("{}.{}", path, e.field), std::move(e.message)});
          continue;
        }
        auto& typed = std::get<parsed_action>(decoded);
        parsed.kind = typed.kind;
        parsed.input = std::move(typed.input);
        out.command.history.push_back(std::move(parsed));
      }
    }
  }
  if (!errors.empty()) return errors;
  return out;
}

}  // namespace switchboard::codec
