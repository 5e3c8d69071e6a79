#pragma once
// Use cases from the config: one table per tag, each with a DRI from Product.
//
//   [use_cases.search]
//   name = "Code search"                    # (required)
//   description = "Finding code across repositories"   # (optional)
//   dri = "pat"                             # a [[people]] id holding the role product (required)
//
// With [use_cases] present, a request's use_case must be one of the tags (or empty): the API
// refuses others (422) and the rules loader refuses rules that name others. Without it, use_case
// stays a free tag.

#include "config/error.hpp"
#include "config/toml.hpp"
#include "model/person.hpp"
#include "model/use_case.hpp"

#include <string>

namespace switchboard::config {

// Reads [use_cases] from the config file's parsed top level `root` (read from `file`). Throws
// config::error at file:line:col on a section or entry that is not a table, a tag outside
// [a-z0-9._-]+ (at most 100 bytes), unknown keys, or a missing, empty or mistyped name or dri.
// The DRIs are not looked up here: people load after the policy (check_use_case_dris).
model::use_case_directory load_use_cases(const toml::table& root, const std::string& file);

// load_use_cases on the config file at `config_file`.
model::use_case_directory load_use_cases_of(const std::string& config_file);

// Refuses, with a config::error at the `dri` of [use_cases.<tag>] in `config_file`, a DRI that is
// not in `people` (an empty directory included: a DRI must be a person) or does not hold the role
// product there.
void check_use_case_dris(const std::string& config_file, const model::people_directory& people);

}  // namespace switchboard::config
