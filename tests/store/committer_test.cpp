#include "store/committer.hpp"

#include "store/database.hpp"
#include "store/requests.hpp"
#include "support/policy.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <latch>
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
}
