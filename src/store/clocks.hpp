#pragma once
// Open SLA clocks against the config a server (or `rules check --db`) starts with: clocks whose
// calendar or policy is gone, and re-timing every open clock to the config as it is now.
//
// Thread-safety: as the connection passed in.

#include "engine/engine.hpp"
#include "sla/policy.hpp"

#include <SQLiteCpp/Database.h>

#include <cstddef>
#include <vector>

namespace switchboard::store {

// The calendars and policies open clocks in `db` use that `policy` neither has nor maps
// through `replaces`, with how many open clocks use each. Reads every request with an open
// clock (the same set the scheduler plans), not the whole history.
std::vector<sla::missing_name> missing_clock_names(SQLite::Database& db, const engine::policy& policy);

// Throws config::error positioned at [calendars] or [sla] when missing_clock_names finds any.
void check_open_clocks(SQLite::Database& db, const engine::policy& policy);

// Records `sla.retimed`, `escalation.retimed` and `request.concern_deadline_retimed`
// (engine::retime) for every open clock, climbing escalation and concern deadline the config
// now times differently, saves the requests and queues their outbound webhooks. Call inside a
// write transaction, after check_open_clocks. Returns how many were re-timed.
std::size_t retime_open_clocks(SQLite::Database& db, const engine::policy& policy, model::instant now);

}  // namespace switchboard::store
