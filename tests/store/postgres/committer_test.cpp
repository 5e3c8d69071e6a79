// The committer on PostgreSQL (issue 12 plan §3.4, C4): a lost session is reopened, a batch that
// was not committed fails with storage_unavailable (never success), a batch the database rolled
// back runs again; sessions are killed with pg_terminate_backend as a failover or an
// administrator would.
#include "store/committer.hpp"

#include "store/port.hpp"
#include "store/postgres/schema.hpp"
#include "store/postgres/test_database.hpp"
#include "store/postgres/transaction_driver.hpp"
#include "store/requests.hpp"
#include "support/eventually.hpp"
#include "support/policy.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace switchboard;
using namespace std::chrono_literals;

namespace {

const model::instant filed_at{std::chrono::seconds{1795000000}};

model::request_id file(store::unit_of_work& work) {
  return store::record_new_request(work, testing::shipped_policy(),
                                   {testing::make_input(model::request_kind::troubleshooting), {"dana", model::role::ce}},
                                   filed_at)
      .request.id;
}

std::int64_t requests(store::pq::connection& db) { return db.exec("SELECT COUNT(*) FROM requests").integer(0, 0); }

void terminate(store::pq::connection& admin, int pid) {
  REQUIRE(pid != 0);
  REQUIRE(admin.exec("SELECT pg_terminate_backend($1::int, 10000)", {pid}).text(0, 0) == "t");
}

// A committer over its own session in the test's schema (re-entered on every new session).
struct pg_committer {
  explicit pg_committer(testing::postgres::test_schema& schema)
      : connection(schema.connect()),
        writer(std::make_unique<store::postgres::transaction_driver>(
            connection, [&schema](store::pq::connection& db) { schema.enter(db); }, 2000ms)) {}
  store::pq::connection connection;
  store::committer writer;
};

// What a job's completion got: nothing, or the kind of error.
enum class answer { ok, unavailable, other };

answer run(store::committer& writer, const store::committer::job& job) {
  try {
    writer.run(job);
    return answer::ok;
  } catch (const store::storage_unavailable&) {
    return answer::unavailable;
  } catch (const store::storage_outcome_unknown&) {
    return answer::unavailable;
  } catch (...) {
    return answer::other;
  }
}

}  // namespace

TEST_SUITE("store::postgres::committer") {
  TEST_CASE("a session killed between batches is reopened and the next batch commits as if nothing happened") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    store::postgres::migrate(schema.db());
    pg_committer c(schema);
    CHECK(run(c.writer, [](store::unit_of_work& work) { file(work); }) == answer::ok);
    const int first = c.connection.backend_pid();
    terminate(schema.db(), first);
    // libpq learns of the loss only when it sends BEGIN: the driver reconnects and begins again.
    CHECK(run(c.writer, [](store::unit_of_work& work) { file(work); }) == answer::ok);
    CHECK(c.connection.backend_pid() != first);
    CHECK(requests(schema.db()) == 2);
  }

  TEST_CASE("a session killed inside a batch fails all its jobs with storage_unavailable, stores none of them, and the next batch commits") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    store::postgres::migrate(schema.db());
    pg_committer c(schema);
    auto admin = schema.connect();
    // Two jobs in one batch: the first files, the second kills its own session (as a failover
    // would) and then writes. Neither may be reported stored, and neither is.
    std::promise<void> held;
    std::promise<void> release;
    auto release_future = release.get_future();
    c.writer.submit([&](store::unit_of_work&) {
      held.set_value();
      release_future.wait();
    }, [](std::exception_ptr) {});
    held.get_future().wait();
    std::vector<std::future<answer>> answers;
    std::vector<std::shared_ptr<std::promise<answer>>> promises;
    for (int i = 0; i < 2; ++i) {
      promises.push_back(std::make_shared<std::promise<answer>>());
      answers.push_back(promises.back()->get_future());
    }
    const auto completion = [](std::shared_ptr<std::promise<answer>> p) {
      return [p](std::exception_ptr error) {
        if (!error) return p->set_value(answer::ok);
        try {
          std::rethrow_exception(error);
        } catch (const store::storage_unavailable&) {
          p->set_value(answer::unavailable);
        } catch (...) {
          p->set_value(answer::other);
        }
      };
    };
    c.writer.submit([](store::unit_of_work& work) { file(work); }, completion(promises[0]));
    c.writer.submit([&](store::unit_of_work& work) {
      terminate(admin, c.connection.backend_pid());
      file(work);
    }, completion(promises[1]));
    release.set_value();
    CHECK(answers[0].get() == answer::unavailable);
    CHECK(answers[1].get() == answer::unavailable);
    CHECK(requests(schema.db()) == 0);
    CHECK(run(c.writer, [](store::unit_of_work& work) { file(work); }) == answer::ok);
    CHECK(requests(schema.db()) == 1);
  }

  TEST_CASE("a batch the database rolled back runs again, and one rolled back every time fails with storage_unavailable") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    store::postgres::migrate(schema.db());
    pg_committer c(schema);
    int runs = 0;
    // A serialization failure on the first run only: the second run commits, once.
    CHECK(run(c.writer, [&runs](store::unit_of_work& work) {
      file(work);
      if (runs++ == 0) work.postgres()->exec("DO $$BEGIN RAISE SQLSTATE '40001'; END$$");
    }) == answer::ok);
    CHECK(runs == 2);
    CHECK(requests(schema.db()) == 1);

    runs = 0;
    CHECK(run(c.writer, [&runs](store::unit_of_work& work) {
      ++runs;
      file(work);
      work.postgres()->exec("DO $$BEGIN RAISE SQLSTATE '40P01'; END$$");
    }) == answer::unavailable);
    CHECK(runs == store::committer::max_retries + 1);
    CHECK(requests(schema.db()) == 1);

    // A job's own error stays its own: not retried, not 503.
    runs = 0;
    CHECK(run(c.writer, [&runs](store::unit_of_work& work) {
      ++runs;
      work.postgres()->exec("SELECT no_such_column FROM requests");
    }) == answer::other);
    CHECK(runs == 1);
  }

  TEST_CASE("a batch rolled back as a deadlock on every run commits its jobs one transaction each") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    store::postgres::migrate(schema.db());
    pg_committer c(schema);
    // The writer is held by a first job while three more queue, so that they make one batch.
    std::promise<void> release;
    auto released = release.get_future().share();
    std::promise<void> holding;
    std::atomic<int> done{0};
    std::vector<answer> answers(3, answer::other);
    c.writer.submit([&holding, released](store::unit_of_work&) {
      holding.set_value();
      released.wait();
    }, [](std::exception_ptr) {});
    holding.get_future().wait();
    // Each job deadlocks whenever another job shares its transaction, as batches of several
    // instances did under load (idempotency_keys against team_load): jobs alone commit.
    std::mutex seen_mutex;
    std::map<std::string, int> jobs_in_transaction;
    for (int i = 0; i < 3; ++i)
      c.writer.submit(
          [&](store::unit_of_work& work) {
            file(work);
            const auto xid = std::string(work.postgres()->exec("SELECT txid_current()::text").text(0, 0));
            int before = 0;
            {
              std::lock_guard lock(seen_mutex);
              before = jobs_in_transaction[xid]++;
            }
            if (before > 0) work.postgres()->exec("DO $$BEGIN RAISE SQLSTATE '40P01'; END$$");
          },
          [&answers, &done, i](std::exception_ptr error) {
            answers[static_cast<std::size_t>(i)] = error ? answer::unavailable : answer::ok;
            ++done;
          });
    release.set_value();
    REQUIRE(testing::eventually([&done] { return done == 3; }));
    for (const auto a : answers) CHECK(a == answer::ok);
    CHECK(requests(schema.db()) == 3);
  }

  TEST_CASE("filings while the writer's session is killed again and again: every answer is stored or 503, never a lost success") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    store::postgres::migrate(schema.db());
    pg_committer c(schema);
    auto admin = schema.connect();
    constexpr int filings = 300;
    std::mutex mutex;
    std::vector<model::request_id> stored;  // ids the committer reported committed
    std::atomic<int> answered{0};
    std::atomic<int> unavailable{0};
    std::atomic<int> other{0};
    std::atomic<int> writer_pid{c.connection.backend_pid()};  // the writer's session, as its jobs saw it
    for (int i = 0; i < filings; ++i) {
      auto id = std::make_shared<model::request_id>(0);
      c.writer.submit([id, &writer_pid](store::unit_of_work& work) {
                        writer_pid = work.postgres()->backend_pid();
                        *id = file(work);
                      },
                      [&, id](std::exception_ptr error) {
                        if (!error) {
                          std::lock_guard lock(mutex);
                          stored.push_back(*id);
                        } else {
                          try {
                            std::rethrow_exception(error);
                          } catch (const store::storage_unavailable&) {
                            ++unavailable;
                          } catch (const store::storage_outcome_unknown&) {
                            ++unavailable;
                          } catch (...) {
                            ++other;
                          }
                        }
                        ++answered;
                      });
      // Kill the writer's session three times while the filings stream in.
      if (i == 50 || i == 150 || i == 250) {
        const int pid = writer_pid.load();
        if (pid != 0) admin.exec("SELECT pg_terminate_backend($1::int, 10000)", {pid});
      }
    }
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (answered < filings && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    REQUIRE(answered == filings);
    CHECK(other == 0);
    MESSAGE(stored.size() << " stored, " << unavailable.load() << " answered storage_unavailable");
    // Every success is there, and nothing else is.
    CHECK(requests(schema.db()) == static_cast<std::int64_t>(stored.size()));
    for (const auto id : stored)
      CHECK(schema.db().exec("SELECT COUNT(*) FROM requests WHERE id = $1", {id}).integer(0, 0) == 1);
    // And the writer is serving again.
    CHECK(run(c.writer, [](store::unit_of_work& work) { file(work); }) == answer::ok);
  }
}

TEST_SUITE("store::postgres::committer") {
  TEST_CASE("a multi-host URL whose first host is down, with target_session_attrs=read-write, commits on the live one") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    // postgresql://user:password@host:port/db as tools/pg writes it: put a dead host first.
    const auto at = url.find('@');
    const auto slash = at == std::string::npos ? std::string::npos : url.find('/', at);
    if (!url.starts_with("postgresql://") || slash == std::string::npos) {
      MESSAGE("multi-host case skipped: SWITCHBOARD_TEST_DATABASE_URL is not a postgresql:// URL with one host");
      return;
    }
    const auto path = url.substr(slash);
    const auto multi = url.substr(0, at + 1) + "127.0.0.1:1," + url.substr(at + 1, slash - at - 1) + path +
                       (path.find('?') == std::string::npos ? "?" : "&") + "target_session_attrs=read-write";
    testing::postgres::test_schema schema(url);
    store::postgres::migrate(schema.db());
    store::pq::connection writer(multi);
    schema.enter(writer);
    store::committer committer(std::make_unique<store::postgres::transaction_driver>(
        writer, [&schema](store::pq::connection& db) { schema.enter(db); }, 2000ms));
    CHECK(run(committer, [](store::unit_of_work& work) { file(work); }) == answer::ok);
    terminate(schema.db(), writer.backend_pid());
    // The reconnect walks the hosts again, past the dead one.
    CHECK(run(committer, [](store::unit_of_work& work) { file(work); }) == answer::ok);
    CHECK(requests(schema.db()) == 2);
  }
}

TEST_SUITE("store::postgres::committer") {
  TEST_CASE("a write waiting for another session's lock past lock_timeout fails alone with storage_unavailable") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    store::postgres::migrate(schema.db());
    // The server sets committer::lock_timeout (5 s) on its writer's sessions; 100 ms here.
    auto writer = schema.connect();
    writer.exec("SET lock_timeout = 100");
    store::committer committer(std::make_unique<store::postgres::transaction_driver>(writer));
    auto holder = schema.connect();
    {
      store::pq::transaction hold(holder);
      holder.exec("LOCK TABLE requests IN ACCESS EXCLUSIVE MODE");
      CHECK(run(committer, [](store::unit_of_work& work) { file(work); }) == answer::unavailable);
      hold.rollback();
    }
    CHECK(requests(schema.db()) == 0);
    CHECK(run(committer, [](store::unit_of_work& work) { file(work); }) == answer::ok);
    CHECK(requests(schema.db()) == 1);
  }
}
