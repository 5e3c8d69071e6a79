#pragma once
// Telling the storage's failures from the caller's and from bugs, wherever a store function's
// error reaches the edge (http/server.cpp). Apart from store/port.hpp so that a change here
// rebuilds only the files that ask.
//
// Thread-safety: a pure function.

#include "store/port.hpp"

#include <exception>

namespace switchboard::store {

// Whether `e`, thrown by a store function, is the storage's failure rather than the caller's or
// a bug: storage_unavailable, storage_outcome_unknown, a PostgreSQL session lost or a transaction
// rolled back as a deadlock or serialization failure (pq::error's connection_lost and retryable:
// a read transaction that lost its session part-way, which reopen_lost_sessions cannot resend),
// or SQLite busy, locked or failing I/O (SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR). The server
// answers these 503 storage_unavailable, as a write the database could not take, never 500.
bool is_storage_failure(const std::exception& e);

}  // namespace switchboard::store
