// Files to the engine's policy.
#include "policy/load.hpp"

#include "calendar/loader.hpp"
#include "config/toml.hpp"
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

}  // namespace

engine::policy load(const config::settings& settings) {
  const auto root = config::parse_file(settings.file);
  sla::policy_set sla;
  if (const auto* calendars = section(root, "calendars", settings.file))
    sla.calendars = calendar::load_calendars(*calendars, settings.file);
  if (const auto* policies = section(root, "sla", settings.file))
    sla.policies = sla::load_policies(*policies, settings.file, sla.calendars, settings.tiers);
  return engine::policy{rules::load_rules(settings.rules_path, rules::vocabulary{settings.tiers}), std::move(sla)};
}

}  // namespace switchboard::policy
