#pragma once
// The counts /metrics shows, and the health check's heartbeat write, on PostgreSQL: the twins of
// store::read_counts (store/metrics.hpp) and store::touch_heartbeat (store/database.hpp), which
// dispatch here on a PostgreSQL session.
//
// Thread-safety: as the connection passed in.

#include "store/metrics.hpp"
#include "store/postgres/pq.hpp"

namespace switchboard::store::postgres {

// The four counts from one snapshot (a REPEATABLE READ, READ ONLY transaction of its own).
counts read_counts(pq::connection& db);
// Upserts heartbeat row 1 with the server's clock (extract(epoch FROM now())).
void touch_heartbeat(pq::connection& db);

}  // namespace switchboard::store::postgres
