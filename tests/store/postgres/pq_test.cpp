#include "store/postgres/pq.hpp"

#include "store/postgres/test_database.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace switchboard;
using store::pq::error_class;

namespace {

// Runs `work` and returns the pq::error it throws; fails the test when it throws none.
template <typename F>
store::pq::error error_of(F&& work) {
  try {
    work();
  } catch (const store::pq::error& e) {
    return e;
  }
  FAIL("no pq::error was thrown");
  return store::pq::error(error_class::other, "", "");
}

}  // namespace

TEST_SUITE("store::postgres::pq") {
  TEST_CASE("SQLSTATE classes: connection lost, retryable, other") {
    for (const char* lost : {"08000", "08003", "08006", "57P01", "57P02", "57P03", "25006"}) {
      INFO(lost);
      CHECK(store::pq::classify(lost) == error_class::connection_lost);
    }
    CHECK(store::pq::classify("40001") == error_class::retryable);
    CHECK(store::pq::classify("40P01") == error_class::retryable);
    for (const char* other : {"23505", "42P01", "25P02", "P0001", "57014", "", "08"}) {
      INFO(other);
      CHECK(store::pq::classify(other) == error_class::other);
    }
  }

  TEST_CASE("describe drops the password and keeps hosts, ports and options") {
    CHECK(store::pq::describe("postgresql://sb:s3cret@db1:5432,db2:5433/switchboard?target_session_attrs=read-write"
                              "&connect_timeout=3") ==
          "postgresql://sb@db1:5432,db2:5433/switchboard?connect_timeout=3&target_session_attrs=read-write");
    CHECK(store::pq::describe("host=127.0.0.1 port=5999 user=sb password=s3cret dbname=x") ==
          "postgresql://sb@127.0.0.1:5999/x");
    const auto bad = error_of([] { store::pq::describe("postgresql://sb:s3cret@db1/x?no_such_option=1"); });
    CHECK(std::string(bad.what()).find("s3cret") == std::string::npos);
  }

  TEST_CASE("a server that cannot be reached is connection-lost, and the message has no password") {
    const auto failure =
        error_of([] { store::pq::connection db("postgresql://sb:s3cret@127.0.0.1:1/x?connect_timeout=5"); });
    CHECK(failure.kind() == error_class::connection_lost);
    CHECK(std::string(failure.what()).find("s3cret") == std::string::npos);
    CHECK(std::string(failure.what()).find("127.0.0.1") != std::string::npos);
  }

  TEST_CASE("exec with text parameters and NULL, results by column name") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    auto& db = schema.db();
    db.exec("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, at BIGINT NOT NULL)");
    auto inserted = db.exec("INSERT INTO t (id, name, at) VALUES ($1, $2, $3), ($4, $5, $6)",
                            {1, "ünïcode 'quoted' $1", std::int64_t{1795000000123}, 2, std::nullopt, -7});
    CHECK(inserted.affected_rows() == 2);
    auto rows = db.exec("SELECT id, name, at FROM t WHERE id >= $1::bigint ORDER BY id", {1});
    REQUIRE(rows.rows() == 2);
    REQUIRE(rows.columns() == 3);
    CHECK(rows.integer(0, rows.column("id")) == 1);
    CHECK(rows.text(0, rows.column("name")) == "ünïcode 'quoted' $1");
    CHECK(rows.integer(0, rows.column("at")) == 1795000000123);
    CHECK(rows.is_null(1, rows.column("name")));
    CHECK_FALSE(rows.optional_text(1, 1).has_value());
    CHECK(rows.optional_integer(1, 2) == -7);
    CHECK_THROWS_AS(rows.column("missing"), std::out_of_range);
    CHECK_THROWS_AS(rows.integer(1, 1), std::runtime_error);
    // The schema is the case's own: the table is not in the cluster's default schema.
    CHECK(db.exec("SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 't'", {schema.name()})
              .integer(0, 0) == 1);
  }

  TEST_CASE("the prepared-statement cache prepares a statement once per session") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    auto& db = schema.db();
    const std::string sql = "SELECT $1::bigint * 2";
    CHECK(db.prepared(sql, {21}).integer(0, 0) == 42);
    CHECK(db.prepared(sql, {50}).integer(0, 0) == 100);
    CHECK(db.prepared("SELECT $1::text || 'x'", {"a"}).text(0, 0) == "ax");
    CHECK(db.prepared_count() == 2);
    CHECK(db.exec("SELECT count(*) FROM pg_prepared_statements").integer(0, 0) == 2);
  }

  TEST_CASE("a transaction commits, an abandoned one rolls back, and commit after a failed statement throws") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    auto& db = schema.db();
    db.exec("CREATE TABLE t (id BIGINT PRIMARY KEY)");
    {
      store::pq::transaction tx(db);
      db.exec("INSERT INTO t VALUES (1)");
      tx.commit();
    }
    {
      store::pq::transaction tx(db);
      db.exec("INSERT INTO t VALUES (2)");
    }
    {
      store::pq::transaction tx(db);
      db.exec("INSERT INTO t VALUES (3)");
      tx.rollback();
    }
    {
      store::pq::transaction tx(db);
      db.exec("INSERT INTO t VALUES (4)");
      const auto duplicate = error_of([&] { db.exec("INSERT INTO t VALUES (1)"); });
      CHECK(duplicate.sqlstate() == "23505");
      CHECK(duplicate.kind() == error_class::other);
      const auto commit = error_of([&] { tx.commit(); });
      CHECK(commit.sqlstate() == "25P02");
    }
    auto rows = db.exec("SELECT id FROM t ORDER BY id");
    REQUIRE(rows.rows() == 1);
    CHECK(rows.integer(0, 0) == 1);
    // The session is usable after all that (no transaction left open).
    CHECK(db.exec("SELECT 1").integer(0, 0) == 1);
  }

  TEST_CASE("a serialization failure is retryable") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    auto& first = schema.db();
    auto second = schema.connect();
    first.exec("CREATE TABLE t (id BIGINT PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO t VALUES (1, 0)");
    first.exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
    CHECK(first.exec("SELECT n FROM t WHERE id = 1").integer(0, 0) == 0);
    second.exec("UPDATE t SET n = n + 1 WHERE id = 1");
    const auto conflict = error_of([&] { first.exec("UPDATE t SET n = n + 1 WHERE id = 1"); });
    CHECK(conflict.sqlstate() == "40001");
    CHECK(conflict.kind() == error_class::retryable);
    first.exec("ROLLBACK");
    CHECK_FALSE(first.broken());
  }

  TEST_CASE("a killed backend is classified connection-lost") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    auto victim = schema.connect();
    const int pid = victim.backend_pid();
    REQUIRE(pid > 0);
    CHECK(victim.prepared("SELECT $1::bigint", {1}).integer(0, 0) == 1);
    // The second argument makes pg_terminate_backend wait (up to 10 s) until the backend is gone.
    REQUIRE(schema.db().exec("SELECT pg_terminate_backend($1::int, 10000)", {pid}).text(0, 0) == "t");
    const auto lost = error_of([&] { victim.exec("SELECT 1"); });
    CHECK(lost.kind() == error_class::connection_lost);
    CHECK(victim.broken());
    CHECK(victim.backend_pid() == 0);
    // Every further statement fails the same way until reconnect().
    CHECK(error_of([&] { victim.prepared("SELECT $1::bigint", {2}); }).kind() == error_class::connection_lost);
  }

  TEST_CASE("after a killed backend, reconnect opens a new session and prepares statements again") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    auto victim = schema.connect();
    victim.exec("CREATE TABLE t (id BIGINT PRIMARY KEY)");
    const std::string insert = "INSERT INTO t VALUES ($1)";
    victim.prepared(insert, {1});
    const int pid = victim.backend_pid();
    REQUIRE(schema.db().exec("SELECT pg_terminate_backend($1::int, 10000)", {pid}).text(0, 0) == "t");
    CHECK(error_of([&] { victim.prepared(insert, {2}); }).kind() == error_class::connection_lost);

    victim.reconnect();
    CHECK_FALSE(victim.broken());
    CHECK(victim.backend_pid() != pid);
    schema.enter(victim);  // a new session: search_path is back to the default
    CHECK(victim.prepared_count() == 0);
    victim.prepared(insert, {3});
    CHECK(victim.prepared_count() == 1);
    auto rows = victim.exec("SELECT id FROM t ORDER BY id");
    REQUIRE(rows.rows() == 2);
    CHECK(rows.integer(0, 0) == 1);
    CHECK(rows.integer(1, 0) == 3);
  }

  TEST_CASE("describe of a live connection names user, host, port and database, not the password") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    store::pq::connection db(url);
    const auto where = db.describe();
    const auto options = store::pq::describe(url);
    CHECK(where.starts_with("postgresql://"));
    // The connection's own view (PQconninfo) and the parsed URL name the same server; the URL
    // may add options after '?'.
    CHECK(options.starts_with(where));
    // tools/pg's URLs carry a password (postgresql://user:password@host...).
    const auto scheme = std::string("postgresql://").size();
    const auto at = url.find('@');
    const auto colon = url.find(':', scheme);
    if (at != std::string::npos && colon < at) {
      const auto password = url.substr(colon + 1, at - colon - 1);
      CHECK(where.find(password) == std::string::npos);
      CHECK(options.find(password) == std::string::npos);
    }
  }
}
