#pragma once
// Automatic assignment per team from the config:
//
//   [assignment.se]
//   strategy = "least_loaded"   # or "round_robin" (required)
//   skills = true               # prefer people whose skills hold the request's use case (default false)
//
// A team without a table is not assigned automatically: its requests wait for take or assign.

#include "config/toml.hpp"
#include "model/assignment.hpp"

#include <string>

namespace switchboard::config {

// Reads [assignment] from the config file's parsed top level `root` (read from `file`). Throws
// config::error at file:line:col, saying what was expected, for a section or entry that is not a
// table, a key that is not a team, unknown keys, a missing or unknown strategy, or a skills that
// is not a boolean. Empty when there is no [assignment].
model::assignment_map load_assignment(const toml::table& root, const std::string& file);

}  // namespace switchboard::config
