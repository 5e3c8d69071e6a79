#pragma once
// Opening the SQLite database: pragmas and numbered schema migrations.
//
// Thread-safety: one connection, one owner. Open a connection per thread that needs one.

#include "store/session.hpp"
#include <SQLiteCpp/Database.h>

#include <string>

namespace switchboard::store {

enum class access { read_write, read_only };

// Opens (creating if needed) the database at `path` (":memory:" for tests) in WAL mode with
// full synchronous commits, and applies pending migrations when opened read_write.
// Throws SQLite::Exception or std::runtime_error on failure, including (read_write) a file
// SQLite could only open read-only and a schema newer than latest_schema_version().
SQLite::Database open_database(const std::string& path, access mode = access::read_write);

// Exclusive use of a database file by one server process: two servers on one SQLite file would
// each run their own scheduler and write catch-up firings into the other's requests. Holds an
// flock(2) on the database file itself (created 0600 if missing), separate from SQLite's own
// POSIX locks; the kernel drops it when the process ends, however it ends (SIGKILL included),
// so a restart never finds a stale lock. ":memory:" needs none.
// Throws std::runtime_error naming the file when another process holds it (a file that cannot be
// opened for writing is left to open_database to refuse). Not copyable; release by destruction.
class exclusive_use {
 public:
  explicit exclusive_use(const std::string& database_path);
  ~exclusive_use();
  exclusive_use(const exclusive_use&) = delete;
  exclusive_use& operator=(const exclusive_use&) = delete;

 private:
  int fd_ = -1;
};

// The highest migration applied to `db`.
int schema_version(SQLite::Database& db);

// The highest migration this build knows.
int latest_schema_version();

// A small real write (the heartbeat row), for health checks: run it in a write transaction;
// it throws when the database cannot take writes (locked, read-only, disk full).
void touch_heartbeat(unit_of_work work);

}  // namespace switchboard::store
