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
  config::reject_unknown_keys(table, file, {"loaded_terms", "suggested_wording", "first_contact_template"}, "[workflow]");
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
  if (const auto* table = section(root, "workflow", settings.file)) workflow = load_workflow(*table, settings.file);
  std::vector<engine::outbound_route> outbound;
  if (const auto* table = section(root, "notify", settings.file))
    outbound = notify::routes(notify::load_settings(*table, settings.file));
  rules::vocabulary known{settings.tiers};
  if (const auto use_cases = config::load_use_cases(root, settings.file); use_cases.configured)
    known.use_cases = use_cases.tags();
  return engine::policy{rules::load_rules(settings.rules_path, known), std::move(sla),
                        std::move(ladders), std::move(workflow), std::move(outbound), std::move(ladders_at),
                        {}, config::load_assignment(root, settings.file)};
}

}  // namespace switchboard::policy
