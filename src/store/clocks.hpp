#pragma once
// Open SLA clocks against the config a server (or `rules check --db`) starts with: clocks whose
// calendar or policy is gone, and re-timing every open clock to the config as it is now.
//
// Thread-safety: as the connection passed in.

#include "engine/engine.hpp"
#include "sla/policy.hpp"

#include <SQLiteCpp/Database.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::store {

// The calendars and policies open clocks in `db` use that `policy` neither has nor maps
// through `replaces`, with how many open clocks use each. Reads every request with an open
// clock (the same set the scheduler plans), not the whole history, a page at a time.
std::vector<sla::missing_name> missing_clock_names(SQLite::Database& db, const engine::policy& policy);

// Throws config::error positioned at [calendars] or [sla] when missing_clock_names finds any.
void check_open_clocks(SQLite::Database& db, const engine::policy& policy);

// Records `sla.retimed`, `escalation.retimed` and `request.concern_deadline_retimed`
// (engine::retime) for every open clock, climbing escalation and concern deadline the config
// now times differently, saves the requests and queues their outbound webhooks. Call inside a
// write transaction, after check_open_clocks. Returns how many were re-timed. Reads the requests a page
// at a time, so memory does not grow with the number of open clocks.
std::size_t retime_open_clocks(SQLite::Database& db, const engine::policy& policy, model::instant now);

// What open clocks are planned on, as a SHA-256 hex digest: the bytes of the config file
// `config_path` (its [calendars] and [sla] among them) and of the zone files `policy`'s calendars
// use. Throws std::runtime_error when the config file cannot be read.
std::string planning_fingerprint(const std::string& config_path, const engine::policy& policy);

// At start-up: check_open_clocks, then retime_open_clocks in one transaction that also records
// `fingerprint` — skipped when the clocks were last checked and re-timed against the same
// fingerprint, since every clock open now was then planned on this very config (a restart with
// a million open clocks reads none of them). Returns how many clocks were re-timed, nullopt when
// skipped. Throws as check_open_clocks.
std::optional<std::size_t> align_open_clocks(SQLite::Database& db, const engine::policy& policy, model::instant now,
                                             std::string_view fingerprint);

}  // namespace switchboard::store
