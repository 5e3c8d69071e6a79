#pragma once
// The shipped policy (rules/routing.toml with the shipped tiers), loaded once for tests.

#include "engine/engine.hpp"

#include <chrono>

namespace switchboard::testing {

const engine::policy& shipped_policy();

// The shipped policy with a people directory (pat and pia in Product, vic VP Technical Success,
// all on "support") and two use cases: "search" (Code search, DRI pat) and "billing" (DRI pia).
const engine::policy& shipped_with_use_cases();

// `base` whose "support" calendar (02:00-18:00 Pacific, Monday to Friday, with Thanksgiving and
// the day after off, as shipped) also has `holiday` off: a config changed before a restart.
engine::policy with_support_holiday(engine::policy base, std::chrono::year_month_day holiday);

// A request as a CE would file it.
model::request_input make_input(model::request_kind kind, std::string customer_id = "acme",
                                model::customer_stage stage = model::customer_stage::trial);

}  // namespace switchboard::testing
