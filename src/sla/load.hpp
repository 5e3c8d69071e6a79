#pragma once
// Loading SLA policies and calendar renames from the config file (toml++). Kept apart from
// sla/policy.hpp so that the domain headers do not pull in toml++.

#include "config/toml.hpp"
#include "sla/policy.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace switchboard::sla {

// Loads the [sla] table of a config file:
//
//   [[sla.policy]]
//   name = "pre-sales"
//   stages = ["prospect", "trial"]           # optional
//   tiers = []                               # optional; from [customers] tiers
//   kinds = ["troubleshooting"]              # optional
//   calendar = "support"
//   metrics = [
//     { metric = "first_response", target = "1h" },
//     { metric = "resolution", target = "40h", warning = 0.8, pause_on = ["pending_customer"] },
//   ]
//
//   replaces = ["old-name"]                  # optional: names this policy had before
//
// The warning fraction is read to the millionth (0.7 exactly); more than six decimals (0.7000001)
// are refused rather than rounded.
// Unknown keys, calendars, tiers, stages, kinds, metrics, statuses, bad durations, a warning
// ratio outside (0, 1), a duplicate metric or policy name, a replaced name that is still a
// policy's name or is replaced twice are config::error at file:line:col.
std::vector<policy> load_policies(const toml::table& sla, std::string_view file, const calendar_map& calendars,
                                  const std::vector<std::string>& tiers);

// Reads `replaces = ["old", ...]` from each [calendars.NAME] table (the calendar loader accepts
// and ignores the key): old name -> NAME. A replaced name that is still a calendar, or is
// replaced twice, or a value that is not an array of non-empty strings is config::error at
// file:line:col.
rename_map load_calendar_renames(const toml::table& calendars, std::string_view file, const calendar_map& loaded);

}  // namespace switchboard::sla
