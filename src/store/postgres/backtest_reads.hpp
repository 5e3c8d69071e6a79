#pragma once
// A backtest's window read on PostgreSQL: the SQL behind store/backtest_reads.hpp's questions
// (history_rows), which read_history asks on a PostgreSQL session. Same contract and order as
// SQLite's; read-only statements, so a hot standby serves them.
//
// Thread-safety: as the connection passed in (one connection, one owner).

#include "store/backtest_reads.hpp"
#include "store/postgres/pq.hpp"

namespace switchboard::store::postgres {

// Refers to `db`, which must outlive the result.
history_rows history_rows_of(pq::connection& db);

}  // namespace switchboard::store::postgres
