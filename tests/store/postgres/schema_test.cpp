#include "store/postgres/schema.hpp"

#include "store/database.hpp"
#include "store/postgres/test_database.hpp"

#include <SQLiteCpp/Statement.h>
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace switchboard;

namespace {

// A coarse view of a schema, the same for both databases: what the repositories rely on.
struct catalog {
  // table -> one line per column: "name type-class null|not-null [pk<position>]", sorted.
  std::map<std::string, std::set<std::string>> tables;
  // "table.index" (or "table.unique(columns)" for a UNIQUE column constraint, whose index name
  // each database makes up) -> "columns unique|plain partial|full".
  std::map<std::string, std::string> indexes;
};

std::string type_class(std::string type) {
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type.find("int") != std::string::npos) return "integer";
  if (type == "text") return "text";
  return type;
}

std::string column_line(const std::string& name, const std::string& type, bool not_null, int pk_position) {
  std::string line = name + " " + type_class(type) + (not_null ? " not-null" : " null");
  if (pk_position > 0) line += " pk" + std::to_string(pk_position);
  return line;
}

std::string index_line(const std::string& columns, bool unique, bool partial) {
  return columns + (unique ? " unique" : " plain") + (partial ? " partial" : " full");
}

catalog sqlite_catalog(SQLite::Database& db) {
  catalog out;
  std::vector<std::string> tables;
  SQLite::Statement list(db, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  while (list.executeStep()) tables.push_back(list.getColumn(0).getString());
  for (const auto& table : tables) {
    auto& columns = out.tables[table];
    SQLite::Statement info(db, "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?)");
    info.bind(1, table);
    while (info.executeStep()) {
      const int pk = info.getColumn(3).getInt();
      // A primary key column cannot be NULL in PostgreSQL; SQLite's table_info says notnull=0
      // for one not declared NOT NULL.
      columns.insert(column_line(info.getColumn(0).getString(), info.getColumn(1).getString(),
                                 info.getColumn(2).getInt() != 0 || pk > 0, pk));
    }
    SQLite::Statement indexes(db, "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?)");
    indexes.bind(1, table);
    while (indexes.executeStep()) {
      const std::string name = indexes.getColumn(0).getString();
      const std::string origin = indexes.getColumn(2).getString();
      if (origin == "pk") continue;  // compared as the columns' pk positions
      std::string columns_of;
      SQLite::Statement cols(db, "SELECT name FROM pragma_index_info(?) ORDER BY seqno");
      cols.bind(1, name);
      while (cols.executeStep()) columns_of += (columns_of.empty() ? "" : ",") + cols.getColumn(0).getString();
      const std::string key = table + "." + (origin == "u" ? "unique(" + columns_of + ")" : name);
      out.indexes[key] = index_line(columns_of, indexes.getColumn(1).getInt() != 0, indexes.getColumn(3).getInt() != 0);
    }
  }
  return out;
}

catalog postgres_catalog(store::pq::connection& db) {
  catalog out;
  auto tables = db.exec(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE "
      "TABLE'");
  for (int r = 0; r < tables.rows(); ++r) out.tables[std::string(tables.text(r, 0))];
  auto pk = db.exec(
      "SELECT kcu.table_name, kcu.column_name, kcu.ordinal_position FROM information_schema.table_constraints tc "
      "JOIN information_schema.key_column_usage kcu ON kcu.constraint_schema = tc.constraint_schema "
      " AND kcu.constraint_name = tc.constraint_name AND kcu.table_name = tc.table_name "
      "WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema()");
  std::map<std::string, int> pk_position;
  for (int r = 0; r < pk.rows(); ++r)
    pk_position[std::string(pk.text(r, 0)) + "." + std::string(pk.text(r, 1))] = static_cast<int>(pk.integer(r, 2));
  auto columns = db.exec(
      "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
      "WHERE table_schema = current_schema()");
  for (int r = 0; r < columns.rows(); ++r) {
    const std::string table(columns.text(r, 0)), column(columns.text(r, 1));
    const auto position = pk_position.find(table + "." + column);
    out.tables[table].insert(column_line(column, std::string(columns.text(r, 2)), columns.text(r, 3) == "NO",
                                         position == pk_position.end() ? 0 : position->second));
  }
  auto indexes = db.exec(
      "SELECT t.relname, i.relname, ix.indisunique, ix.indpred IS NOT NULL,"
      "  EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid AND c.contype = 'u'),"
      "  (SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, n)"
      "     JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum) "
      "FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid "
      "WHERE t.relnamespace = current_schema()::regnamespace AND NOT ix.indisprimary");
  for (int r = 0; r < indexes.rows(); ++r) {
    const std::string table(indexes.text(r, 0)), columns_of(indexes.text(r, 5));
    const bool constraint = indexes.text(r, 4) == "t";
    const std::string key = table + "." + (constraint ? "unique(" + columns_of + ")" : std::string(indexes.text(r, 1)));
    out.indexes[key] = index_line(columns_of, indexes.text(r, 2) == "t", indexes.text(r, 3) == "t");
  }
  return out;
}

std::string join(const std::set<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

std::set<std::string> keys(const auto& map) {
  std::set<std::string> out;
  for (const auto& [key, value] : map) out.insert(key);
  return out;
}

// The same clock writes, in SQL both databases read alike.
const std::vector<std::string> clock_writes = {
    "INSERT INTO requests (id, kind, customer_id, status, owner, created_at, updated_at, document) "
    "VALUES (1, 'how_to', 'acme', 'open', 'se', 0, 0, '{}'), (2, 'how_to', 'acme', 'open', 'se', 0, 0, '{}')",
    "INSERT INTO clocks (request_id, metric, state, open, owner) VALUES (1, 'first_response', 'running', 1, 'se')",
    "INSERT INTO clocks (request_id, metric, state, open, owner) VALUES (1, 'resolution', 'running', 1, 'se')",
    "INSERT INTO clocks (request_id, metric, state, open, owner) VALUES (2, 'first_response', 'running', 1, NULL)",
    "INSERT INTO clocks (request_id, metric, state, open, owner) VALUES (2, 'resolution', 'running', 0, 'se')",
    "UPDATE clocks SET warned = 1 WHERE request_id = 1 AND metric = 'first_response'",
    "UPDATE clocks SET state = 'paused', paused = 1 WHERE request_id = 1 AND metric = 'resolution'",
    "UPDATE clocks SET state = 'breached' WHERE request_id = 2 AND metric = 'first_response'",
    "UPDATE clocks SET state = 'paused', breached = 1 WHERE request_id = 2 AND metric = 'first_response'",
    "UPDATE clocks SET owner = 'product' WHERE request_id = 1 AND metric = 'first_response'",
    "UPDATE clocks SET open = 0 WHERE request_id = 1 AND metric = 'resolution'",
    "UPDATE clocks SET open = 1, state = 'running' WHERE request_id = 2 AND metric = 'resolution'",
    "DELETE FROM clocks WHERE request_id = 1 AND metric = 'first_response'",
    "INSERT INTO clocks (request_id, metric, state, open, owner, warned) VALUES (1, 'first_response', 'running', 1, "
    "'se', 1)",
};
const std::string counts_query = "SELECT owner, state, clocks FROM open_clock_counts ORDER BY owner, state";

}  // namespace

TEST_SUITE("store::postgres::schema") {
  TEST_CASE("every SQLite migration has a PostgreSQL twin") {
    // A new SQLite migration in src/store/database.cpp needs the same step, by the same number,
    // in src/store/postgres/schema.cpp (`later`).
    CHECK(store::postgres::latest_schema_version() == store::latest_schema_version());
    CHECK(store::postgres::baseline_version() <= store::postgres::latest_schema_version());
  }

  TEST_CASE("migrate makes the tables, columns and indexes the SQLite migrations make") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    store::postgres::migrate(schema.db());
    auto sqlite = store::open_database(":memory:");
    auto lite = sqlite_catalog(sqlite);
    auto pg = postgres_catalog(schema.db());

    // Columns PostgreSQL needs and SQLite has implicitly (rowid order).
    const std::string seq = "seq integer not-null";
    REQUIRE(pg.tables["email_messages"].contains(seq));
    pg.tables["email_messages"].erase(seq);
    // Search is kept apart on purpose (migration 21): SQLite's FTS5 table with its shadow
    // tables, PostgreSQL's requests.search tsvector with a GIN index.
    std::erase_if(lite.tables, [](const auto& t) { return t.first.starts_with("request_search"); });
    std::erase_if(lite.indexes, [](const auto& i) { return i.first.starts_with("request_search"); });
    REQUIRE(std::erase_if(pg.tables["requests"], [](const std::string& c) { return c.starts_with("search "); }) == 1);
    REQUIRE(pg.indexes.erase("requests.requests_search") == 1);

    CHECK(keys(lite.tables) == keys(pg.tables));
    for (const auto& entry : lite.tables) {
      const std::string table = entry.first;
      INFO("table ", table);
      CHECK(join(entry.second) == join(pg.tables[table]));
    }
    CHECK(keys(lite.indexes) == keys(pg.indexes));
    for (const auto& entry : lite.indexes) {
      const std::string index = entry.first;
      INFO("index ", index);
      CHECK(entry.second == pg.indexes[index]);
    }
    // Not comparing nothing with nothing.
    CHECK(lite.tables.size() >= 17);
    CHECK(lite.indexes.size() >= 19);
  }

  TEST_CASE("migrate records the baseline as versions 1 to N once, with instances migrating at the same time") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    CHECK(store::postgres::schema_version(schema.db()) == 0);
    auto a = schema.connect();
    auto b = schema.connect();
    std::string failure_a, failure_b;
    std::thread first([&] {
      try {
        store::postgres::migrate(a);
      } catch (const std::exception& e) {
        failure_a = e.what();
      }
    });
    std::thread second([&] {
      try {
        store::postgres::migrate(b);
      } catch (const std::exception& e) {
        failure_b = e.what();
      }
    });
    first.join();
    second.join();
    CHECK(failure_a == "");
    CHECK(failure_b == "");
    store::postgres::migrate(schema.db());  // and once more, later: nothing to do
    const int latest = store::postgres::latest_schema_version();
    CHECK(store::postgres::schema_version(schema.db()) == latest);
    // Each version once; not necessarily every number up to the latest (15 and 16 were written on
    // separate branches, and a build may have either).
    auto versions =
        schema.db().exec("SELECT count(*), count(DISTINCT version), min(version), max(version) FROM schema_migrations");
    CHECK(versions.integer(0, 0) == versions.integer(0, 1));
    CHECK(versions.integer(0, 0) >= store::postgres::baseline_version());
    CHECK(versions.integer(0, 2) == 1);
    CHECK(versions.integer(0, 3) == latest);
  }

  TEST_CASE("a schema newer than this build is refused") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    store::postgres::migrate(schema.db());
    const int newer = store::postgres::latest_schema_version() + 1;
    schema.db().exec("INSERT INTO schema_migrations (version) VALUES ($1::int)", {newer});
    CHECK_THROWS_WITH_AS(store::postgres::migrate(schema.db()), doctest::Contains("newer than this build"),
                         std::runtime_error);
    CHECK(store::postgres::schema_version(schema.db()) == newer);
  }

  TEST_CASE("events are append-only: UPDATE, DELETE and TRUNCATE are refused") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    auto& db = schema.db();
    store::postgres::migrate(db);
    auto seq = db.exec("INSERT INTO events (request_id, type, at, actor, data) VALUES (1, 'request.filed', 10, 'dana', "
                       "'{}') RETURNING seq");
    REQUIRE(seq.rows() == 1);
    const auto first = seq.integer(0, 0);
    // The owner gave up these rights (the test cluster's user is a superuser, which bypasses
    // them, so the trigger below is what refuses here).
    auto rights = db.exec(
        "SELECT string_agg(privilege_type, ',' ORDER BY privilege_type) FROM information_schema.role_table_grants "
        "WHERE table_schema = current_schema() AND table_name = 'events'");
    const std::string granted(rights.text(0, 0));
    CHECK(granted.find("INSERT") != std::string::npos);
    CHECK(granted.find("SELECT") != std::string::npos);
    CHECK(granted.find("UPDATE") == std::string::npos);
    CHECK(granted.find("DELETE") == std::string::npos);
    CHECK(granted.find("TRUNCATE") == std::string::npos);
    for (const char* change : {"UPDATE events SET type = 'x'", "DELETE FROM events", "TRUNCATE events"}) {
      INFO(change);
      CHECK_THROWS_WITH_AS(db.exec(change), doctest::Contains("events are append-only"), store::pq::error);
    }
    auto rows = db.exec("SELECT seq, type FROM events");
    REQUIRE(rows.rows() == 1);
    CHECK(rows.integer(0, 0) == first);
    CHECK(rows.text(0, 1) == "request.filed");
    // Appends still work, and seq grows.
    CHECK(db.exec("INSERT INTO events (request_id, type, at, actor, data) VALUES (1, 'x', 11, 'dana', '{}') RETURNING "
                  "seq")
              .integer(0, 0) > first);
  }

  TEST_CASE("open_clock_counts follow clock writes as SQLite's triggers count them") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    auto& db = schema.db();
    store::postgres::migrate(db);
    auto sqlite = store::open_database(":memory:");
    for (const auto& sql : clock_writes) {
      INFO(sql);
      sqlite.exec(sql);
      db.exec(sql);
    }
    std::set<std::string> lite, pg, pg_nonzero;
    SQLite::Statement read(sqlite, counts_query);
    while (read.executeStep())
      lite.insert(read.getColumn(0).getString() + "/" + read.getColumn(1).getString() + "=" +
                  std::to_string(read.getColumn(2).getInt64()));
    auto rows = db.exec(counts_query);
    for (int r = 0; r < rows.rows(); ++r) {
      const auto line = std::string(rows.text(r, 0)) + "/" + std::string(rows.text(r, 1)) + "=" +
                        std::to_string(rows.integer(r, 2));
      pg.insert(line);
      if (rows.integer(r, 2) != 0) pg_nonzero.insert(line);
    }
    CHECK(join(pg) == join(lite));
    // What the clocks left open are: one warned, one running, one paused after its breach.
    CHECK(join(pg_nonzero) == join({"/breached_paused=1", "se/running=1", "se/warning=1"}));
  }
}
