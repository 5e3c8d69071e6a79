#pragma once
// Open SLA clocks against the config a server (or `rules check --db`) starts with: clocks whose
// calendar or policy is gone, and re-timing every open clock to the config as it is now.
//
// Thread-safety: as the connection passed in.

#include "store/session.hpp"
#include "config/error.hpp"
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
std::vector<sla::missing_name> missing_clock_names(read_session session, const engine::policy& policy);

// Throws config::error positioned at [calendars] or [sla] when missing_clock_names finds any.
void check_open_clocks(read_session session, const engine::policy& policy);

// How many of each a start-up re-timed: `sla.retimed`, `escalation.retimed` and
// `request.concern_deadline_retimed` events.
struct retimed {
  std::size_t clocks = 0;
  std::size_t escalations = 0;
  std::size_t concern_deadlines = 0;
  std::size_t lifecycle_deadlines = 0;  // Product's review deadlines and closings moved or cancelled

  std::size_t total() const { return clocks + escalations + concern_deadlines + lifecycle_deadlines; }
  bool operator==(const retimed&) const = default;
};

// Records `sla.retimed`, `escalation.retimed` and `request.concern_deadline_retimed`
// (engine::retime) for every open clock, climbing escalation and concern deadline the config
// now times differently, with the late sla.warning, sla.breached and escalation.triggered of
// thresholds lowered below the time a clock had used (at their past instants), saves the requests
// and queues their outbound webhooks. Call inside a write transaction, after check_open_clocks.
// Returns how many of each were re-timed (the late firings are not counted). Reads the
// requests a page at a time, so memory does not grow with the number of open clocks.
retimed retime_open_clocks(unit_of_work work, const engine::policy& policy, model::instant now);

// What open clocks are planned on, as a SHA-256 hex digest: the bytes of the config file
// `config_path` (its [calendars] and [sla] among them) and of the zone files `policy`'s calendars
// use. Throws std::runtime_error when the config file cannot be read.
std::string planning_fingerprint(const std::string& config_path, const engine::policy& policy);

// At start-up: check_open_clocks, then retime_open_clocks in one transaction that also records
// `fingerprint` — skipped when the clocks were last checked and re-timed against the same
// fingerprint, since every clock open now was then planned on this very config (a restart with
// a million open clocks reads none of them). Returns how many of each were re-timed, nullopt
// when skipped. Throws as check_open_clocks.
std::optional<retimed> align_open_clocks(unit_of_work work, const engine::policy& policy, model::instant now,
                                         std::string_view fingerprint);

// An escalation ladder that open (unacknowledged) escalations in `db` were triggered on but
// that `policy` no longer has, with how many: they stay open and climb no further (see
// engine::retime), and the roles they notified may acknowledge or resolve them.
struct removed_ladder {
  std::string ladder;
  std::size_t open_escalations = 0;
};

// The removed ladders open escalations still use, in name order: one indexed query (open
// escalations by state), whatever the number of requests. Not an error: start-up and
// `rules check --db` report each with removed_ladder_warning and go on.
std::vector<removed_ladder> removed_ladders(read_session session, const engine::policy& policy);

// "FILE:LINE:COL: ladder \"sla_breach\" is used by 2 open escalations but is not in the config:
// ..." positioned at [escalation] (`escalation_at`; the file alone when the config has none).
std::string removed_ladder_warning(const removed_ladder& removed, const config::position& escalation_at);

}  // namespace switchboard::store
