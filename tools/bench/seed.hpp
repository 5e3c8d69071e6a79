#pragma once
// Seeding a database with many requests quickly, for the store benchmarks (filing_cost,
// restart). Not part of the server.

#include "engine/engine.hpp"

#include <cstdint>
#include <string>

namespace switchboard::bench {

// A request as the benchmarks file it: troubleshooting (SE, SLA clocks) or a how-to question,
// from one of 50 trial customers, with a body of a few hundred bytes.
model::request_input sample_request(std::int64_t i);

// The engine instant of the i-th seeded or filed request: one minute apart from a fixed start.
model::instant filing_instant(std::int64_t i);

// Creates (replacing) the database at `path` holding `count` requests in the state the store's
// own save path leaves them: the first few are filed through store::record_new_request (half of
// them then breach through store::record_due, so escalations exist), and the rest are copies of
// those rows (requests, events, clocks, escalations) under new ids, written in one transaction
// with the journal off. team_load is recounted at the end. Outbox rows are not copied (the
// shipped config has no subscriptions). Returns the seconds it took.
double seed_database(const std::string& path, const engine::policy& policy, std::int64_t count);

// The files SQLite keeps beside `path`.
void remove_database(const std::string& path);

}  // namespace switchboard::bench
