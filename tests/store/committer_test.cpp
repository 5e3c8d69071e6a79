#include "store/committer.hpp"

#include "observe/metrics.hpp"
#include "store/database.hpp"
#include "store/port.hpp"
#include "store/requests.hpp"
#include "support/policy.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <array>
#include <atomic>
#include <future>
#include <latch>
#include <memory>
#include <stdexcept>
#include <thread>

using namespace switchboard;

TEST_SUITE("store::committer") {
  TEST_CASE("concurrent submissions are committed together, fewer transactions than jobs") {
    testing::temp_dir dir;
    const auto path = dir.file("group.db");
    constexpr int threads = 8;
    constexpr int per_thread = 50;
    store::committer::statistics stats;
    {
      store::committer writer(store::open_database(path));
      std::latch start(threads);
      std::vector<std::thread> submitters;
      for (int t = 0; t < threads; ++t) {
        submitters.emplace_back([&] {
          start.arrive_and_wait();
          for (int i = 0; i < per_thread; ++i) {
            writer.run([](SQLite::Database& db) {
              store::record_new_request(db, testing::shipped_policy(),
                                        {testing::make_input(model::request_kind::how_to), model::actor{"dana", model::role::ce}},
                                        model::instant{std::chrono::seconds{1795000000}});
            });
          }
        });
      }
      for (auto& s : submitters) s.join();
      stats = writer.stats();
    }
    CHECK(stats.jobs == threads * per_thread);
    CHECK(stats.batches < stats.jobs);
    auto db = store::open_database(path);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM requests").getInt() == threads * per_thread);
    CHECK(db.execAndGet("SELECT COUNT(DISTINCT id) FROM requests").getInt() == threads * per_thread);
  }

  TEST_CASE("a failing job is rolled back alone and reports its error") {
    testing::temp_dir dir;
    const auto path = dir.file("partial.db");
    std::atomic<int> succeeded{0};
    std::atomic<int> failed{0};
    {
      store::committer writer(store::open_database(path));
      auto count = [&](std::exception_ptr error) { (error ? failed : succeeded)++; };
      writer.submit([](SQLite::Database& db) { db.exec("INSERT INTO schema_migrations (version) VALUES (100)"); },
                    count);
      writer.submit(
          [](SQLite::Database& db) {
            db.exec("INSERT INTO schema_migrations (version) VALUES (101)");
            throw std::runtime_error("bad input");
          },
          count);
      writer.submit([](SQLite::Database& db) { db.exec("INSERT INTO schema_migrations (version) VALUES (102)"); },
                    count);
    }
    CHECK(succeeded == 2);
    CHECK(failed == 1);
    // Read-only: the rows above look like migrations from a newer build, which read_write refuses.
    auto db = store::open_database(path, store::access::read_only);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM schema_migrations WHERE version >= 100").getInt() == 2);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM schema_migrations WHERE version = 101").getInt() == 0);
  }

  TEST_CASE("run rethrows the job's error") {
    store::committer writer(store::open_database(":memory:"));
    CHECK_THROWS_WITH(writer.run([](SQLite::Database&) { throw std::runtime_error("refused"); }), "refused");
  }

  TEST_CASE("a batch run again commits once and each job reports the run that committed") {
    testing::temp_dir dir;
    const auto path = dir.file("rerun.db");
    std::atomic<int> hook_calls{0};
    std::array<int, 3> runs{};
    std::array<model::request_id, 3> ids{};
    {
      store::committer writer(store::open_database(path));
      // Every batch is rolled back once and run again, as a retryable failure would have it.
      writer.set_commit_hook_for_testing([&](int runs_before) {
        ++hook_calls;
        return runs_before == 0 ? store::committer::before_commit::rerun : store::committer::before_commit::commit;
      });
      // The first job holds the writer until the three filings are queued, so they share a batch.
      std::promise<void> queued;
      std::shared_future<void> all_queued = queued.get_future().share();
      std::atomic<bool> holding{false};
      writer.submit(
          [all_queued, &holding](SQLite::Database&) {
            holding = true;
            holding.notify_one();
            all_queued.wait();
          },
          [](std::exception_ptr) {});
      holding.wait(false);
      std::vector<std::future<void>> done;
      for (std::size_t i = 0; i < ids.size(); ++i) {
        auto finished = std::make_shared<std::promise<void>>();
        done.push_back(finished->get_future());
        writer.submit(
            [&, i](SQLite::Database& db) {
              ++runs[i];
              const auto created = store::record_new_request(
                  db, testing::shipped_policy(),
                  {testing::make_input(model::request_kind::how_to), model::actor{"dana", model::role::ce}},
                  model::instant{std::chrono::seconds{1795000000}});
              ids[i] = created.request.id;  // assigned, never appended: the committed run's id
            },
            [finished](std::exception_ptr error) {
              if (error) finished->set_exception(error);
              else finished->set_value();
            });
      }
      queued.set_value();
      for (auto& f : done) f.get();
    }
    CHECK(hook_calls == 4);  // two batches, each run twice
    for (const auto r : runs) CHECK(r == 2);
    auto db = store::open_database(path);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM requests").getInt() == 3);
    for (const auto id : ids) {
      CAPTURE(id);
      CHECK(db.execAndGet(fmt::format("SELECT COUNT(*) FROM requests WHERE id = {}", id)).getInt() == 1);
    }
    CHECK(ids[0] != ids[1]);
    CHECK(ids[1] != ids[2]);
    // One filing's events each, not two.
    CHECK(db.execAndGet("SELECT COUNT(*) FROM events WHERE type = 'request.created'").getInt() == 3);
  }

  TEST_CASE("a full database reaches the caller as storage_unavailable, a constraint stays the job's own error") {
    testing::temp_dir dir;
    auto connection = store::open_database(dir.file("full.db"));
    // The file may not grow past the pages it has: a megabyte needs hundreds more (SQLITE_FULL).
    connection.exec(fmt::format("PRAGMA max_page_count = {}", connection.execAndGet("PRAGMA page_count").getInt()));
    store::committer writer(std::move(connection));
    CHECK_FALSE(writer.last_storage_failure().has_value());
    CHECK_THROWS_AS(writer.run([](SQLite::Database& db) { db.exec("CREATE TABLE filler AS SELECT randomblob(1000000) AS x"); }),
                    store::storage_unavailable);
    // A small write still fits on the "disk" that refused the large one: health checks must
    // learn of the refusal from the committer, not from a heartbeat.
    writer.run([](SQLite::Database& db) { db.exec("INSERT INTO schema_migrations (version) VALUES (100)"); });
    const auto refused = writer.last_storage_failure();
    REQUIRE(refused.has_value());
    CHECK(refused->what.find("full") != std::string::npos);
    CHECK(refused->ago < std::chrono::minutes{1});
    CHECK_THROWS_AS(writer.run([](SQLite::Database& db) { db.exec("INSERT INTO schema_migrations (version) VALUES (100)"); }),
                    SQLite::Exception);
    // A job's own error (a constraint) is not the storage's.
    CHECK(writer.last_storage_failure()->what == refused->what);
  }

  TEST_CASE("a failed commit fails every job of the batch and writes nothing") {
    testing::temp_dir dir;
    const auto path = dir.file("unavailable.db");
    {
      store::committer writer(store::open_database(path));
      writer.set_commit_hook_for_testing([](int) -> store::committer::before_commit {
        throw store::storage_unavailable("the test's fault");
      });
      CHECK_THROWS_AS(writer.run([](SQLite::Database& db) { store::touch_heartbeat(db); }), store::storage_unavailable);
    }
    auto db = store::open_database(path);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM heartbeat").getInt() == 0);
  }

  TEST_CASE("each committed transaction's number of jobs is observed, a failed commit's is not") {
    observe::registry metrics;
    auto& sizes = metrics.histogram("batch", "Jobs per batch.", {}, {1, 2, 4});
    {
      store::committer writer(store::open_database(":memory:"));
      writer.observe_batch_sizes(&sizes);
      // The first job, once running alone, holds the writer until three more are queued: those
      // commit together.
      std::promise<void> running, queued;
      auto held = queued.get_future().share();
      writer.submit([&running, held](SQLite::Database&) { running.set_value(); held.wait(); }, [](std::exception_ptr) {});
      running.get_future().wait();
      std::array<std::promise<void>, 3> done;
      for (auto& d : done)
        writer.submit([](SQLite::Database& db) { store::touch_heartbeat(db); },
                      [&d](std::exception_ptr) { d.set_value(); });
      queued.set_value();
      for (auto& d : done) d.get_future().wait();
      CHECK(sizes.count({}) == 2);
      CHECK(metrics.expose().find("batch_bucket{le=\"1\"} 1\nbatch_bucket{le=\"2\"} 1\nbatch_bucket{le=\"4\"} 2\n") !=
            std::string::npos);
    }
    store::committer failing(store::open_database(":memory:"));
    failing.observe_batch_sizes(&sizes);
    failing.set_commit_hook_for_testing([](int) -> store::committer::before_commit {
      throw store::storage_unavailable("the test's fault");
    });
    CHECK_THROWS_AS(failing.run([](SQLite::Database& db) { store::touch_heartbeat(db); }), store::storage_unavailable);
    CHECK(sizes.count({}) == 2);
  }
}
