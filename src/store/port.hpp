#pragma once
// The store port's failures that are the storage's, not the command's (issue 12 §2): a command
// that was not committed is answered 503 with Retry-After (http/server.cpp), never 2xx and never
// 500, and the client may retry it (with its Idempotency-Key, safely).
//
// Thread-safety: plain exception types.

#include <stdexcept>
#include <string>

namespace switchboard::store {

// Nothing was committed: the database is locked past the wait (SQLITE_BUSY), full
// (SQLITE_FULL), read-only (SQLITE_READONLY), failing I/O (SQLITE_IOERR), or (PostgreSQL) the
// connection was lost before COMMIT was sent. The command may be sent again.
struct storage_unavailable : std::runtime_error {
  explicit storage_unavailable(const std::string& what) : std::runtime_error(what) {}
};

// COMMIT was sent and its answer lost, and whether it took effect cannot be known (PostgreSQL
// after a failover; never SQLite). Never answered 2xx: a retry with the same Idempotency-Key
// gets the stored answer if it did commit.
struct storage_outcome_unknown : std::runtime_error {
  explicit storage_outcome_unknown(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace switchboard::store
