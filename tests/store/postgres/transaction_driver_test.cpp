#include "store/postgres/transaction_driver.hpp"

#include "store/port.hpp"
#include "store/postgres/schema.hpp"
#include "store/postgres/test_database.hpp"
#include "store/requests.hpp"
#include "support/policy.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace switchboard;
using failure = store::transaction_driver::failure;

namespace {

const model::instant filed_at{std::chrono::seconds{1795000000}};

void file(store::unit_of_work work) {
  store::record_new_request(work, testing::shipped_policy(),
                            {testing::make_input(model::request_kind::troubleshooting), {"dana", model::role::ce}}, filed_at);
}

std::int64_t requests(store::pq::connection& db) { return db.exec("SELECT COUNT(*) FROM requests").integer(0, 0); }

}  // namespace

TEST_SUITE("store::postgres::transaction_driver") {
  TEST_CASE("a batch commits its jobs, and a job rolled back to its savepoint leaves the others") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    store::postgres::migrate(schema.db());
    auto writer = schema.connect();
    store::postgres::transaction_driver driver(writer);
    driver.begin();
    CHECK_FALSE(driver.xid().empty());
    driver.savepoint();
    file(driver.work());
    driver.release();
    driver.savepoint();
    file(driver.work());
    driver.rollback_to();
    driver.savepoint();
    file(driver.work());
    driver.release();
    // Nothing is visible to another session before COMMIT.
    CHECK(requests(schema.db()) == 0);
    driver.commit();
    CHECK(requests(schema.db()) == 2);
    CHECK(schema.db().exec("SELECT COUNT(*) FROM events WHERE type = 'request.created'").integer(0, 0) == 2);

    driver.begin();
    file(driver.work());
    driver.rollback();
    CHECK(requests(schema.db()) == 2);
  }

  TEST_CASE("a session lost before its COMMIT answers is storage_unavailable, and the next batch opens a new one") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    store::postgres::migrate(schema.db());
    auto writer = schema.connect();
    store::postgres::transaction_driver driver(writer, [&](store::pq::connection& db) { schema.enter(db); });
    driver.begin();
    file(driver.work());
    // The backend is gone (a failover, an administrator): COMMIT fails, and the server, asked
    // about the transaction on a new session, says it aborted.
    REQUIRE(schema.db().exec("SELECT pg_terminate_backend($1::int, 10000)", {writer.backend_pid()}).text(0, 0) == "t");
    CHECK_THROWS_AS(driver.commit(), store::storage_unavailable);
    CHECK(requests(schema.db()) == 0);
    // The committer then starts the next batch on a session of its own, in the same schema.
    driver.begin();
    file(driver.work());
    driver.commit();
    CHECK(requests(schema.db()) == 1);

    // A statement failing on a lost session (before COMMIT) is the storage's failure too.
    driver.begin();
    REQUIRE(schema.db().exec("SELECT pg_terminate_backend($1::int, 10000)", {writer.backend_pid()}).text(0, 0) == "t");
    std::exception_ptr lost;
    try {
      file(driver.work());
    } catch (...) {
      lost = std::current_exception();
    }
    REQUIRE(lost);
    CHECK(driver.classify(lost) == failure::unavailable);
    CHECK_THROWS_AS(driver.commit(), store::storage_unavailable);
    driver.rollback();
    CHECK(requests(schema.db()) == 1);
  }

  TEST_CASE("failures are classified: a deadlock is retried, a constraint is the job's own") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    store::postgres::transaction_driver driver(schema.db());
    const auto as_ptr = [](auto error) { return std::make_exception_ptr(error); };
    using store::pq::error;
    using store::pq::error_class;
    CHECK(driver.classify(as_ptr(error(error_class::retryable, "40P01", "deadlock detected"))) == failure::retry);
    CHECK(driver.classify(as_ptr(error(error_class::retryable, "40001", "could not serialize"))) == failure::retry);
    CHECK(driver.classify(as_ptr(error(error_class::connection_lost, "08006", "lost"))) == failure::unavailable);
    CHECK(driver.classify(as_ptr(store::storage_outcome_unknown("unknown"))) == failure::unavailable);
    CHECK(driver.classify(as_ptr(std::invalid_argument("bad input"))) == failure::job);
    // A real one: a duplicate key inside a job.
    schema.db().exec("CREATE TABLE t (id INT PRIMARY KEY)");
    driver.begin();
    driver.savepoint();
    std::exception_ptr duplicate;
    try {
      schema.db().exec("INSERT INTO t VALUES (1), (1)");
    } catch (...) {
      duplicate = std::current_exception();
    }
    REQUIRE(duplicate);
    CHECK(driver.classify(duplicate) == failure::job);
    driver.rollback_to();
    schema.db().exec("INSERT INTO t VALUES (2)");
    driver.commit();
    CHECK(schema.db().exec("SELECT COUNT(*) FROM t").integer(0, 0) == 1);
  }
}
