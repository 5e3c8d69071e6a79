// Opening a database for a tool to read (store/inspect.hpp).
#include "store/inspect.hpp"

#include "store/database.hpp"
#if SWITCHBOARD_POSTGRES
#include "store/postgres/pq.hpp"
#include "store/postgres/schema.hpp"
#endif

#include <SQLiteCpp/Database.h>
#include <fmt/format.h>

#include <filesystem>
#include <optional>
#include <stdexcept>

namespace switchboard::store {

bool is_postgres_location(std::string_view where) {
  if (where.starts_with("postgresql://") || where.starts_with("postgres://")) return true;
  // key=value conninfo: a file name with '=' and one of libpq's keywords is far-fetched, and
  // the server reads the same strings from SWITCHBOARD_DATABASE_URL.
  for (std::string_view key : {"host=", "hostaddr=", "dbname=", "service=", "user="})
    if (where.starts_with(key) || where.find(fmt::format(" {}", key)) != std::string_view::npos) return true;
  return false;
}

struct inspected_database::impl {
  std::string description;
  std::optional<SQLite::Database> sqlite;
#if SWITCHBOARD_POSTGRES
  std::optional<pq::connection> postgres;
#endif
};

inspected_database::inspected_database(const std::string& where) : impl_(std::make_unique<impl>()) {
  if (is_postgres_location(where)) {
#if SWITCHBOARD_POSTGRES
    impl_->description = pq::describe(where);
    auto& db = impl_->postgres.emplace(where);
    db.exec("SET default_transaction_read_only = on");
    const int version = postgres::schema_version(db);
    if (version == 0)
      throw std::runtime_error(fmt::format("{}: no Switchboard schema on the search path (schema_migrations is missing)",
                                           impl_->description));
    if (version > postgres::latest_schema_version())
      throw std::runtime_error(fmt::format("{}: schema version {} is newer than this build's {}; use the switchboard-cli "
                                           "of the server that wrote it",
                                           impl_->description, version, postgres::latest_schema_version()));
    return;
#else
    throw std::runtime_error("this build has no PostgreSQL support (configured with SWITCHBOARD_POSTGRES=OFF)");
#endif
  }
  impl_->description = where;
  if (!std::filesystem::exists(where)) throw std::runtime_error(fmt::format("{}: no such database", where));
  impl_->sqlite.emplace(open_database(where, access::read_only));
}

inspected_database::~inspected_database() = default;

read_session inspected_database::session() {
#if SWITCHBOARD_POSTGRES
  if (impl_->postgres) return read_session(*impl_->postgres);
#endif
  return read_session(*impl_->sqlite);
}

const std::string& inspected_database::description() const { return impl_->description; }

}  // namespace switchboard::store
