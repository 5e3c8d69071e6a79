// Files to the engine's policy.
#include "policy/load.hpp"

#include "calendar/loader.hpp"
#include "config/toml.hpp"
#include "escalation/ladder.hpp"
#include "notify/config.hpp"
#include "rules/loader.hpp"

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

}  // namespace

engine::policy load(const config::settings& settings) {
  const auto root = config::parse_file(settings.file);
  sla::policy_set sla;
  if (const auto* calendars = section(root, "calendars", settings.file))
    sla.calendars = calendar::load_calendars(*calendars, settings.file);
  if (const auto* policies = section(root, "sla", settings.file))
    sla.policies = sla::load_policies(*policies, settings.file, sla.calendars, settings.tiers);
  escalation::ladder_map ladders;
  if (const auto* escalations = section(root, "escalation", settings.file))
    ladders = escalation::load_ladders(*escalations, settings.file, sla.calendars);
  engine::workflow_settings workflow;
  if (const auto* table = section(root, "workflow", settings.file)) workflow = load_workflow(*table, settings.file);
  std::vector<engine::outbound_route> outbound;
  if (const auto* table = section(root, "notify", settings.file))
    outbound = notify::routes(notify::load_settings(*table, settings.file));
  return engine::policy{rules::load_rules(settings.rules_path, rules::vocabulary{settings.tiers}), std::move(sla),
                        std::move(ladders), std::move(workflow), std::move(outbound)};
}

}  // namespace switchboard::policy
