#pragma once
// Loading the whole policy the engine runs on from the files the settings name: the routing
// rules, the business calendars and the SLA policies.

#include "config/settings.hpp"
#include "engine/engine.hpp"

namespace switchboard::policy {

// Throws config::error with file:line:col for anything that does not load.
engine::policy load(const config::settings& settings);

}  // namespace switchboard::policy
