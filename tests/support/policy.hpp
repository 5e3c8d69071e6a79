#pragma once
// The shipped policy (rules/routing.toml with the shipped tiers), loaded once for tests.

#include "engine/engine.hpp"

namespace switchboard::testing {

const engine::policy& shipped_policy();

// A request as a CE would file it.
model::request_input make_input(model::request_kind kind, std::string customer_id = "acme",
                                model::customer_stage stage = model::customer_stage::trial);

}  // namespace switchboard::testing
