#include "store/statements.hpp"

#include "store/committer.hpp"
#include "store/database.hpp"
#include "store/requests.hpp"
#include "support/policy.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

using namespace switchboard;

namespace {

SQLite::Database scratch() {
  SQLite::Database db(":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db.exec("CREATE TABLE t (a INTEGER, b TEXT)");
  return db;
}

void insert(SQLite::Database& db, int a) {
  store::statement query(db, "INSERT INTO t (a, b) VALUES (?, ?)");
  query->bind(1, a);
  if (a == 1) query->bind(2, "one");  // later uses bind only a: b must come back NULL
  query->exec();
}

}  // namespace

TEST_SUITE("store::statements") {
  TEST_CASE("a cached statement is prepared once, and comes back reset and unbound") {
    auto db = scratch();
    store::statement_cache cache(db);
    const store::cache_scope scope(cache);
    for (int a = 1; a <= 3; ++a) insert(db, a);
    CHECK(cache.prepares() == 1);
    CHECK(cache.size() == 1);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM t WHERE b IS NULL").getInt() == 2);
    CHECK(db.execAndGet("SELECT b FROM t WHERE a = 1").getString() == "one");
  }

  TEST_CASE("without a current cache each use prepares its own statement") {
    auto db = scratch();
    store::statement_cache cache(db);
    {
      const store::cache_scope scope(cache);
      store::statement first(db, "SELECT 1");
      CHECK(first.cached());
    }
    store::statement later(db, "SELECT 1");
    CHECK_FALSE(later.cached());
    CHECK(cache.prepares() == 1);
  }

  TEST_CASE("a statement in use further up the stack is not handed out twice") {
    auto db = scratch();
    for (int a = 1; a <= 3; ++a) insert(db, a);
    store::statement_cache cache(db);
    const store::cache_scope scope(cache);
    store::statement outer(db, "SELECT a FROM t ORDER BY a");
    REQUIRE(outer->executeStep());
    CHECK(outer->getColumn(0).getInt() == 1);
    {
      store::statement inner(db, "SELECT a FROM t ORDER BY a");
      CHECK_FALSE(inner.cached());
      REQUIRE(inner->executeStep());
      CHECK(inner->getColumn(0).getInt() == 1);
    }
    // The outer one kept its place.
    REQUIRE(outer->executeStep());
    CHECK(outer->getColumn(0).getInt() == 2);
  }

  TEST_CASE("a cache belongs to its own connection") {
    auto db = scratch();
    auto other = scratch();
    store::statement_cache cache(db);
    const store::cache_scope scope(cache);
    store::statement query(other, "SELECT 1");
    CHECK_FALSE(query.cached());
    CHECK(cache.size() == 0);
  }

  TEST_CASE("a statement whose step failed goes back usable") {
    auto db = scratch();
    db.exec("CREATE TABLE u (k INTEGER PRIMARY KEY)");
    store::statement_cache cache(db);
    const store::cache_scope scope(cache);
    auto add = [&](int k) {
      store::statement query(db, "INSERT INTO u (k) VALUES (?)");
      query->bind(1, k);
      query->exec();
    };
    add(1);
    CHECK_THROWS_AS(add(1), SQLite::Exception);
    add(2);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM u").getInt() == 2);
    CHECK(cache.prepares() == 1);
  }

  TEST_CASE("filings through the committer prepare nothing once its connection is warm") {
    store::committer writer(store::open_database(":memory:"));
    // Statements alive on the connection: a cached one stays prepared between jobs.
    auto live_statements = [&] {
      int count = 0;
      writer.run([&](SQLite::Database& db) {
        for (auto* s = sqlite3_next_stmt(db.getHandle(), nullptr); s != nullptr; s = sqlite3_next_stmt(db.getHandle(), s))
          ++count;
      });
      return count;
    };
    auto file = [&] {
      writer.run([](SQLite::Database& db) {
        store::record_new_request(
            db, testing::shipped_policy(),
            {testing::make_input(model::request_kind::troubleshooting), model::actor{"dana", model::role::ce}},
            model::instant{std::chrono::seconds{1795000000}});
      });
    };
    file();
    file();
    const auto warm = live_statements();
    CHECK(warm > 5);
    for (int i = 0; i < 10; ++i) file();
    CHECK(live_statements() == warm);
  }
}
