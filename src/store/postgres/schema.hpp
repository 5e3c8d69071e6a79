#pragma once
// The PostgreSQL schema: the same tables, columns and indexes as the SQLite schema
// (src/store/database.cpp), in PostgreSQL's dialect.
//
// No PostgreSQL database predates this adapter, so SQLite's migrations 1..baseline_version()
// are one baseline script, recorded as those versions in schema_migrations; each later SQLite
// migration needs its PostgreSQL twin here with the same number (a test fails until it has one).
//
// Thread-safety: functions take a connection owned by the caller.

#include "store/postgres/pq.hpp"

namespace switchboard::store::postgres {

// Brings the schema in the connection's current schema (the first on its search_path) up to
// latest_schema_version(), all pending steps in one transaction. Instances starting together
// migrate once: the transaction holds an advisory lock (pg_advisory_xact_lock) keyed on the
// schema's name, and reads the version only once it holds it.
// Throws pq::error on a database failure, std::runtime_error for a schema newer than this build.
void migrate(pq::connection& db);

// The highest version recorded in schema_migrations, 0 when the table is missing.
int schema_version(pq::connection& db);

// The highest version this build knows, which equals SQLite's latest.
int latest_schema_version();

// The last SQLite migration the baseline script stands for.
int baseline_version();

}  // namespace switchboard::store::postgres
