#pragma once
// Loading routing rules from TOML (the format is documented atop rules/routing.toml).
//
// Loading is strict: an unknown key, field, operator (or one that does not apply to its
// field), value, tier or team, a value of the wrong type, an empty condition group, a
// duplicate rule name or a missing [fallback] is a config::error positioned at the offending
// node ("file:line:col: what was found; what was expected"). Nothing unknown is ever accepted
// and left to silently not match.
//
// The Engineering guard: the policy says "Any other request for help from engineering should
// go through SE (for troubleshooting) or product (for feature requests) and not to engineering
// directly." Routing is where a CE's request enters, so a rule or fallback whose owner or
// watchers include `engineering` is refused at load time, quoting that sentence.

#include "config/toml.hpp"
#include "rules/rule_set.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::rules {

// Values that come from configuration rather than from the code.
struct vocabulary {
  std::vector<std::string> tiers;  // known contract tiers ([customers] tiers in the config)
  // The configured use-case tags ([use_cases.<tag>]); nullopt when none are configured, and
  // use_case is then a free tag.
  std::optional<std::vector<std::string>> use_cases = std::nullopt;
};

// Reads, parses and validates the rules file at `path`; positions in errors name `path` as
// given. Throws config::error for unreadable files, TOML syntax errors and invalid rules.
rule_set load_rules(const std::string& path, const vocabulary& known);

// Validates an already parsed document; `file` names it in error positions.
// Throws config::error.
rule_set load_rules(const toml::table& root, std::string_view file, const vocabulary& known);

}  // namespace switchboard::rules
