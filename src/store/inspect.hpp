#pragma once
// A database opened to be read by a tool, not served: `switchboard-cli rules check --db` (and
// later the backtest readers) on either adapter. `where` is a SQLite file or a PostgreSQL
// connection string (libpq URL `postgresql://…` or `postgres://…`, or key=value conninfo with
// `host=`/`dbname=`/`service=`; PostgreSQL manual §34.1.1): the same string the server takes
// from SWITCHBOARD_DATABASE_URL, so `--db "$SWITCHBOARD_DATABASE_URL"` reads the running
// deployment's database. Nothing is migrated and nothing is written: SQLite opens the file
// read-only (SQLITE_OPEN_READONLY); PostgreSQL runs the session with
// default_transaction_read_only, so a write would be refused by the server itself.
//
// Thread-safety: one thread at a time, like the connection it holds.

#include "store/session.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace switchboard::store {

// Whether `where` names a PostgreSQL database rather than a file.
bool is_postgres_location(std::string_view where);

class inspected_database {
 public:
  // Opens `where`. Throws std::runtime_error for a file that does not exist, a PostgreSQL
  // location in a build without PostgreSQL, or a schema this build does not know (missing, or
  // newer than it: "run the server of that version"); SQLite's or libpq's errors otherwise
  // (libpq's never hold the password).
  explicit inspected_database(const std::string& where);
  ~inspected_database();
  inspected_database(const inspected_database&) = delete;
  inspected_database& operator=(const inspected_database&) = delete;

  read_session session();

  // The file, or the PostgreSQL location without its password, for messages.
  const std::string& description() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace switchboard::store
