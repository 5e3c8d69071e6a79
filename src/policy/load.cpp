// Files to the engine's policy.
#include "policy/load.hpp"

#include "calendar/loader.hpp"
#include "config/assignment.hpp"
#include "config/toml.hpp"
#include "config/use_cases.hpp"
#include "escalation/load.hpp"
#include "notify/config.hpp"
#include "rules/loader.hpp"
#include "sla/load.hpp"

#include <fmt/format.h>

namespace switchboard::policy {
namespace {

const toml::table* section(const toml::table& root, std::string_view key, const std::string& file) {
  const auto* node = root.get(key);
  if (node == nullptr) return nullptr;
  const auto* table = node->as_table();
  if (table == nullptr) config::fail_at(*node, file, fmt::format("[{}] must be a table", key));
  return table;
}

engine::workflow_settings load_workflow(const toml::table& table, const std::string& file) {
  engine::workflow_settings workflow;
  config::reject_unknown_keys(table, file,
                              {"loaded_terms", "suggested_wording", "first_contact_template", "close_after_days",
                               "close_calendar"},
                              "[workflow]");
  for (const auto& [key, node] : table) {
    if (key.str() == "loaded_terms") {
      const auto* array = node.as_array();
      if (array == nullptr || array->empty()) config::fail_at(node, file, "loaded_terms must be a non-empty array of strings");
      workflow.loaded_terms.clear();
      for (const auto& term : *array) {
        const auto* text = term.as_string();
        if (text == nullptr || text->get().empty()) config::fail_at(term, file, "a loaded term is a non-empty string");
        workflow.loaded_terms.push_back(text->get());
      }
    } else if (key.str() == "suggested_wording" || key.str() == "first_contact_template") {
      const auto* text = node.as_string();
      if (text == nullptr || text->get().empty()) config::fail_at(node, file, fmt::format("{} must be a non-empty string", key.str()));
      (key.str() == "suggested_wording" ? workflow.suggested_wording : workflow.first_contact_template) = text->get();
    } else if (key.str() == "close_after_days") {
      const auto* count = node.as_integer();
      if (count == nullptr || count->get() < 0 || count->get() > 365)
        config::fail_at(node, file, "close_after_days is a whole number of business days from 0 (never close) to 365");
      workflow.close_after_days = static_cast<int>(count->get());
    } else if (key.str() == "close_calendar") {
      const auto* text = node.as_string();
      if (text == nullptr || text->get().empty()) config::fail_at(node, file, "close_calendar must be a calendar's name");
      workflow.close_calendar = text->get();
    }
  }
  return workflow;
}

// Where a section begins. A table opened only through its children ([calendars.support]) has
// no header of its own: its first child's position stands for it.
config::position position_of(const toml::node& node, const std::string& file) {
  auto begin = node.source().begin;
  if (begin.line == 0) {
    if (const auto* table = node.as_table(); table != nullptr && !table->empty()) {
      for (const auto& [key, child] : *table) {
        begin = child.source().begin;
        break;
      }
    } else if (const auto* array = node.as_array(); array != nullptr && !array->empty())
      begin = array->get(0)->source().begin;
  }
  return config::position{file, static_cast<int>(begin.line), static_cast<int>(begin.column)};
}

}  // namespace

engine::policy load(const config::settings& settings) {
  const auto root = config::parse_file(settings.file);
  sla::policy_set sla;
  sla.calendars_at = sla.policies_at = config::position{settings.file, 0, 0};
  if (const auto* calendars = section(root, "calendars", settings.file)) {
    sla.calendars = calendar::load_calendars(*calendars, settings.file);
    sla.calendar_renames = sla::load_calendar_renames(*calendars, settings.file, sla.calendars);
    sla.calendars_at = position_of(*calendars, settings.file);
  }
  if (const auto* policies = section(root, "sla", settings.file)) {
    sla.policies = sla::load_policies(*policies, settings.file, sla.calendars, settings.tiers);
    sla.policy_renames = sla::policy_renames(sla.policies);
    sla.policies_at = position_of(policies->contains("policy") ? *policies->get("policy") : *policies, settings.file);
  }
  escalation::ladder_map ladders;
  config::position ladders_at{settings.file, 0, 0};
  if (const auto* escalations = section(root, "escalation", settings.file)) {
    ladders = escalation::load_ladders(*escalations, settings.file, sla.calendars);
    ladders_at = position_of(escalations->contains("ladder") ? *escalations->get("ladder") : *escalations, settings.file);
  }
  engine::workflow_settings workflow;
  const auto* workflow_table = section(root, "workflow", settings.file);
  if (workflow_table != nullptr) workflow = load_workflow(*workflow_table, settings.file);
  if (!sla.calendars.contains(workflow.close_calendar)) {
    // A calendar named on purpose must exist; the default ("support") is only used when it does,
    // so a config without one closes nothing rather than failing to load.
    if (const auto* named = workflow_table ? workflow_table->get("close_calendar") : nullptr) {
      std::vector<std::string> known;
      for (const auto& entry : sla.calendars) known.push_back(entry.first);
      config::fail_at(*named, settings.file, fmt::format("unknown calendar; expected one of {}", fmt::join(known, ", ")));
    }
    workflow.close_after_days = 0;
  }
  std::vector<engine::outbound_route> outbound;
  if (const auto* table = section(root, "notify", settings.file))
    outbound = notify::routes(notify::load_settings(*table, settings.file));
  rules::vocabulary known{settings.tiers};
  auto use_cases = config::load_use_cases(root, settings.file);
  if (use_cases.configured) known.use_cases = use_cases.tags();
  return engine::policy{rules::load_rules(settings.rules_path, known),
                        std::move(sla),
                        std::move(ladders),
                        std::move(workflow),
                        std::move(outbound),
                        std::move(ladders_at),
                        {},
                        config::load_assignment(root, settings.file),
                        std::move(use_cases)};
}

}  // namespace switchboard::policy
