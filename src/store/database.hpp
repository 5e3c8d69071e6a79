#pragma once
// Opening the SQLite database: pragmas and numbered schema migrations.
//
// Thread-safety: one connection, one owner. Open a connection per thread that needs one.

#include <SQLiteCpp/Database.h>

#include <string>

namespace switchboard::store {

enum class access { read_write, read_only };

// Opens (creating if needed) the database at `path` (":memory:" for tests) in WAL mode with
// full synchronous commits, and applies pending migrations when opened read_write.
// Throws SQLite::Exception or std::runtime_error on failure, including (read_write) a file
// SQLite could only open read-only and a schema newer than latest_schema_version().
SQLite::Database open_database(const std::string& path, access mode = access::read_write);

// The highest migration applied to `db`.
int schema_version(SQLite::Database& db);

// The highest migration this build knows.
int latest_schema_version();

// A small real write (the heartbeat row), for health checks: run it in a write transaction;
// it throws when the database cannot take writes (locked, read-only, disk full).
void touch_heartbeat(SQLite::Database& db);

}  // namespace switchboard::store
