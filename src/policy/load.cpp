// Files to the engine's policy.
#include "policy/load.hpp"

#include "rules/loader.hpp"

namespace switchboard::policy {

engine::policy load(const config::settings& settings) {
  return engine::policy{rules::load_rules(settings.rules_path, rules::vocabulary{settings.tiers})};
}

}  // namespace switchboard::policy
