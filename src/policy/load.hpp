#pragma once
// Loading the whole policy the engine runs on from the files the settings name.

#include "config/settings.hpp"
#include "engine/engine.hpp"

namespace switchboard::policy {

// Reads the routing rules (and, as they arrive, calendars and SLA policies). Throws
// config::error with file:line:col for anything that does not load.
engine::policy load(const config::settings& settings);

}  // namespace switchboard::policy
