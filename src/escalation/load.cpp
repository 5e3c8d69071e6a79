// Loading escalation ladders from the [escalation] section of the config file (every error at
// file:line:col).
#include "escalation/load.hpp"

#include <fmt/format.h>

#include <string>
#include <vector>

namespace switchboard::escalation {
namespace {

const toml::node& required_key(const toml::table& table, std::string_view key, std::string_view file,
                               std::string_view what) {
  const auto* node = table.get(key);
  if (node == nullptr) config::fail_at(table, file, fmt::format("a ladder needs {} ({})", key, what));
  return *node;
}

std::chrono::seconds duration_at(const toml::node& node, std::string_view file) {
  const auto* text = node.as_string();
  const auto parsed = text ? sla::parse_duration(text->get()) : std::nullopt;
  if (!parsed) config::fail_at(node, file, "expected a business duration like 0s, 2h or 1h30m");
  return *parsed;
}

std::vector<model::role> roles_at(const toml::node& node, std::string_view file) {
  const auto* array = node.as_array();
  if (array == nullptr || array->empty()) config::fail_at(node, file, "notify must be a non-empty array of roles");
  std::vector<model::role> roles;
  for (const auto& item : *array) {
    const auto* text = item.as_string();
    const auto role = text ? model::parse_role(text->get()) : std::nullopt;
    if (!role) config::fail_at(item, file, fmt::format("unknown role; expected one of {}", model::role_names()));
    roles.push_back(*role);
  }
  return roles;
}

level level_at(const toml::node& node, std::string_view file) {
  const auto* table = node.as_table();
  if (table == nullptr) config::fail_at(node, file, "a level is a table: { after = \"2h\", notify = [\"...\"] }");
  config::reject_unknown_keys(*table, file, {"after", "notify", "when"}, "an escalation level");
  level result;
  result.after = duration_at(required_key(*table, "after", file, "business time from the trigger"), file);
  result.notify = roles_at(required_key(*table, "notify", file, "roles to notify"), file);
  if (const auto* when = table->get("when")) {
    const auto* text = when->as_string();
    const std::string value = text ? text->get() : "";
    if (value == "engineering_engaged")
      result.when = condition::engineering_engaged;
    else if (value == "engineering_not_engaged")
      result.when = condition::engineering_not_engaged;
    else
      config::fail_at(*when, file, "expected engineering_engaged or engineering_not_engaged");
  }
  return result;
}

}  // namespace

ladder_map load_ladders(const toml::table& escalation, std::string_view file, const sla::calendar_map& calendars) {
  config::reject_unknown_keys(escalation, file, {"ladder"}, "[escalation]");
  ladder_map ladders;
  const auto* list = escalation.get("ladder");
  if (list == nullptr) return ladders;
  const auto* array = list->as_array();
  if (array == nullptr) config::fail_at(*list, file, "ladder must be an array of tables: [[escalation.ladder]]");
  for (const auto& item : *array) {
    const auto* table = item.as_table();
    if (table == nullptr) config::fail_at(item, file, "a ladder is a table");
    config::reject_unknown_keys(*table, file, {"name", "calendar", "repeat_every", "trigger_after", "thresholds", "review_after_days",
                                                   "levels"},
                                "[[escalation.ladder]]");
    ladder result;
    const auto& name_node = required_key(*table, "name", file, "sla_breach, concern, capacity or product_review");
    result.name = name_node.value_or(std::string());
    if (result.name != sla_breach && result.name != concern && result.name != capacity && result.name != product_review)
      config::fail_at(name_node, file, "unknown ladder; expected sla_breach, concern, capacity or product_review");
    if (ladders.contains(result.name)) config::fail_at(name_node, file, fmt::format("ladder {} is defined twice", result.name));
    const auto& calendar_node = required_key(*table, "calendar", file, "a calendar from [calendars]");
    result.calendar = calendar_node.value_or(std::string());
    if (!calendars.contains(result.calendar)) {
      std::vector<std::string> known;
      for (const auto& [name, unused] : calendars) known.push_back(name);
      config::fail_at(calendar_node, file, fmt::format("unknown calendar; expected one of {}", fmt::join(known, ", ")));
    }
    if (const auto* repeat = table->get("repeat_every")) result.repeat_every = duration_at(*repeat, file);
    if (const auto* after = table->get("trigger_after")) {
      if (result.name != concern) config::fail_at(*after, file, "trigger_after belongs to the concern ladder only");
      result.trigger_after = duration_at(*after, file);
    }
    if (const auto* thresholds = table->get("thresholds")) {
      if (result.name != capacity) config::fail_at(*thresholds, file, "thresholds belong to the capacity ladder only");
      const auto* map = thresholds->as_table();
      if (map == nullptr) config::fail_at(*thresholds, file, "thresholds is a table: { se = 25 }");
      for (const auto& [team_name, value] : *map) {
        const auto team = model::parse_team(team_name.str());
        if (!team)
          config::fail_at(value, file, fmt::format("unknown team \"{}\"; expected one of {}", team_name.str(), model::team_names()));
        const auto* count = value.as_integer();
        if (count == nullptr || count->get() <= 0) config::fail_at(value, file, "a threshold is a positive number of open requests");
        result.thresholds[*team] = static_cast<int>(count->get());
      }
    }
    if (const auto* days = table->get("review_after_days")) {
      if (result.name != product_review)
        config::fail_at(*days, file, "review_after_days belongs to the product_review ladder only");
      const auto* count = days->as_integer();
      if (count == nullptr || count->get() < 1 || count->get() > 365)
        config::fail_at(*days, file, "review_after_days is a whole number of business days from 1 to 365");
      result.review_after_days = static_cast<int>(count->get());
    }
    const auto& levels_node = required_key(*table, "levels", file, "at least one level");
    const auto* levels = levels_node.as_array();
    if (levels == nullptr || levels->empty()) config::fail_at(levels_node, file, "levels must be a non-empty array");
    for (const auto& level_node : *levels) {
      auto parsed = level_at(level_node, file);
      // Those who may decide in Product's stead (engine/actions.cpp, accept and decline): a level
      // naming anyone else would notify people who could not act on it.
      if (result.name == product_review)
        for (auto r : parsed.notify)
          if (r != model::role::product && r != model::role::head_of_cs && r != model::role::vp_technical_success &&
              r != model::role::vp_sales && r != model::role::head_of_engineering)
            config::fail_at(level_node, file,
                            fmt::format("the product_review ladder may notify product, head_of_cs, vp_technical_success, "
                                        "vp_sales or head_of_engineering, not {}",
                                        model::to_string(r)));
      if (!result.levels.empty() && parsed.after < result.levels.back().after)
        config::fail_at(level_node, file, "levels must be in order of their after time");
      result.levels.push_back(std::move(parsed));
    }
    ladders.emplace(result.name, std::move(result));
  }
  return ladders;
}

}  // namespace switchboard::escalation
