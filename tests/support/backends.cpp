// One subcase per store adapter: SQLite in memory, PostgreSQL in a schema of the test cluster.
#include "support/backends.hpp"

#include "store/database.hpp"
#if SWITCHBOARD_POSTGRES
#include "store/postgres/pq.hpp"
#include "store/postgres/schema.hpp"
#include "store/postgres/test_database.hpp"
#endif

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <doctest/doctest.h>

#include <stdexcept>

namespace switchboard::testing {

namespace {
[[noreturn]] void no_row(const std::string& sql) { throw std::runtime_error("no row from: " + sql); }
}  // namespace

void backend::exec(const std::string& sql) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = postgres()) {
    pg->exec(sql);
    return;
  }
#endif
  connection().exec(sql);
}

std::int64_t backend::integer(const std::string& sql) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = postgres()) {
    const auto rows = pg->exec(sql);
    if (rows.rows() == 0) no_row(sql);
    return rows.integer(0, 0);
  }
#endif
  SQLite::Statement query(connection(), sql);
  if (!query.executeStep()) no_row(sql);
  return query.getColumn(0).getInt64();
}

std::string backend::text(const std::string& sql) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = postgres()) {
    const auto rows = pg->exec(sql);
    if (rows.rows() == 0) no_row(sql);
    return std::string(rows.text(0, 0));
  }
#endif
  SQLite::Statement query(connection(), sql);
  if (!query.executeStep()) no_row(sql);
  return query.getColumn(0).getString();
}

std::vector<std::vector<std::string>> backend::rows(const std::string& sql) {
  std::vector<std::vector<std::string>> out;
#if SWITCHBOARD_POSTGRES
  if (auto* pg = postgres()) {
    const auto result = pg->exec(sql);
    for (int i = 0; i < result.rows(); ++i) {
      auto& row = out.emplace_back();
      for (int j = 0; j < result.columns(); ++j) row.emplace_back(result.text(i, j));
    }
    return out;
  }
#endif
  SQLite::Statement query(connection(), sql);
  while (query.executeStep()) {
    auto& row = out.emplace_back();
    for (int j = 0; j < query.getColumnCount(); ++j) row.push_back(query.getColumn(j).getString());
  }
  return out;
}

void for_each_backend(const std::function<void(backend&)>& fn) {
  SUBCASE("sqlite") {
    auto db = store::open_database(":memory:");
    backend sqlite(db);
    fn(sqlite);
  }
  SUBCASE("postgres") {
#if SWITCHBOARD_POSTGRES
    const auto url = postgres::test_url();
    if (!url) {
      MESSAGE("postgres skipped: SWITCHBOARD_TEST_DATABASE_URL is not set");
      return;
    }
    postgres::test_schema schema(*url);
    store::postgres::migrate(schema.db());
    backend pg(schema.db());
    fn(pg);
#else
    MESSAGE("postgres skipped: built without SWITCHBOARD_POSTGRES");
#endif
  }
}

}  // namespace switchboard::testing
