#pragma once
// Moving a deployment from SQLite to PostgreSQL (issue 12: an organisation that outgrows one
// machine keeps its history): `switchboard-cli store copy --from FILE`, into the database
// SWITCHBOARD_DATABASE_URL names.
//
// Every table is copied row by row, column by column, values as stored (the two schemas are the
// same tables and columns: store/postgres/schema.hpp), in ONE PostgreSQL transaction, so the
// target holds all of it or none. What the target keeps of its own: schema_migrations (it was
// migrated by this build), timer_leases and instances (a PostgreSQL deployment's leases),
// heartbeat; open_clock_counts is rebuilt by the target's trigger as the clocks are inserted, and
// is then compared with the source's. Identities (events.seq, outbox.id, email_messages.seq) keep
// their values and continue after the highest, and requests_id_seq continues after the highest
// request id. Before committing, every copied table's row count is compared with the source's.
//
// Thread-safety: one call at a time per connection; the source is held with store::exclusive_use
// for the copy, so a server cannot write it meanwhile.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace switchboard::store {

struct copied_table {
  std::string name;
  std::int64_t rows = 0;
};

struct copy_report {
  std::string from;  // the file
  std::string to;    // the PostgreSQL location without its password
  std::vector<copied_table> tables;
  int schema_version = 0;
};

// Copies the SQLite database at `from` into the PostgreSQL database `to_url` (libpq URL or
// conninfo; its search_path's first schema), migrating the target first.
// Throws std::runtime_error, naming the cause, and changes nothing in the target when: `from`
// does not exist or a server is using it; its schema is not this build's latest (start this
// release's server on it once: it migrates at start); the target already holds requests or
// events; a table or column of the source is missing in the target; a count differs after the
// copy. Database errors (SQLite::Exception, pq::error) pass through; the transaction is then
// rolled back. `progress` is called after each table (may be empty).
copy_report copy_sqlite_to_postgres(const std::string& from, const std::string& to_url,
                                    const std::function<void(const copied_table&)>& progress = {});

}  // namespace switchboard::store
