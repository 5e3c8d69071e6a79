#pragma once
// A policy the tests own, built in code: engine tests run on it instead of the shipped config,
// so a change to config/ or rules/ cannot change what they check.
//
// - Rules: how_to, feature_request and concern go to CE; troubleshooting and anything else to SE.
// - Calendar "24x7": open every hour of every day, UTC (business time is wall time).
// - SLA policy "test" for every request: first_response 1h, next_response 2h, resolution 8h,
//   each warning at 75% and paused while pending_customer.
// - Ladders on "24x7": sla_breach (at once head_of_cs; 1h after, vp_technical_success),
//   concern (unresolved 4h escalates; at once vp_technical_success, 1h after head_of_cs),
//   capacity (se over 2 open requests; at once head_of_cs).

#include "engine/engine.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::testing {

const engine::policy& test_policy();

// Targets of the test policy's SLA (see above).
inline constexpr std::chrono::seconds test_first_response{3600};
inline constexpr std::chrono::seconds test_concern_after{4 * 3600};

// A person for a test's people directory: named by its id, in `team` (none for roles without
// one), leading `leads`, working on `calendar`.
model::person person_of(std::string id, std::vector<model::role> roles, std::optional<model::team> team,
                        std::vector<model::team> leads = {}, std::string calendar = "24x7");

// Adds calendar "night" to `policy`: open 20:00-24:00 UTC every day, so closed at 10:00 UTC.
void add_night_calendar(engine::policy& policy);

}  // namespace switchboard::testing
