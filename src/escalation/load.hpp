#pragma once
// Loading escalation ladders from the config file (toml++). Kept apart from escalation/ladder.hpp
// so that the domain headers do not pull in toml++.

#include "config/toml.hpp"
#include "escalation/ladder.hpp"
#include "sla/policy.hpp"

#include <string_view>

namespace switchboard::escalation {

// Loads [[escalation.ladder]] tables:
//
//   [[escalation.ladder]]
//   name = "sla_breach"             # sla_breach, concern, capacity or product_review
//   calendar = "support"
//   repeat_every = "4h"             # optional
//   trigger_after = "8h"            # concern only
//   thresholds = { se = 25 }        # capacity only
//   review_after_days = 3           # product_review only: whole business days, 1-365 (default 3)
//   levels = [ { after = "0s", notify = ["head_of_cs"], when = "engineering_engaged" } ]
//
// Unknown keys, ladders, calendars, roles, conditions, bad durations, levels out of order and
// keys that do not belong to the ladder are config::error at file:line:col.
ladder_map load_ladders(const toml::table& escalation, std::string_view file, const sla::calendar_map& calendars);

}  // namespace switchboard::escalation
