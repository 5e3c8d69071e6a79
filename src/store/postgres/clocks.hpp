#pragma once
// Open clocks against the config a server starts with, on PostgreSQL: the twins of
// store/clocks.hpp's functions that read or write the database, which dispatch here on a
// PostgreSQL session. The decisions are the engine's and sla's, as on SQLite.
//
// Thread-safety: as the connection passed in.

#include "store/clocks.hpp"
#include "store/postgres/pq.hpp"

namespace switchboard::store::postgres {

std::vector<sla::missing_name> missing_clock_names(pq::connection& db, const engine::policy& policy);
void check_open_clocks(pq::connection& db, const engine::policy& policy);
retimed retime_open_clocks(pq::connection& db, const engine::policy& policy, model::instant now);
std::optional<retimed> align_open_clocks(pq::connection& db, const engine::policy& policy, model::instant now,
                                         std::string_view fingerprint);
std::vector<removed_ladder> removed_ladders(pq::connection& db, const engine::policy& policy);

}  // namespace switchboard::store::postgres
