// The real server while its PostgreSQL server crashes and comes back (issue 12 plan §3.4, C4):
// a cluster of the test's own (tools/pg start; the shared test cluster serves other tests) is
// stopped at once (`pg_ctl stop -m immediate`, tools/pg crash) while filings run, and started
// again on the same port (tools/pg restart). Needs SWITCHBOARD_TEST_DATABASE_URL, as a sign that
// PostgreSQL is installed, and says "postgres skipped" without it.
#include "codec/json.hpp"
#include "http/client.hpp"
#include "store/postgres/pq.hpp"
#include "store/postgres/test_database.hpp"
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace switchboard;
using namespace std::chrono_literals;
namespace json = boost::json;
using model::role;

namespace {

template <typename Condition>
bool eventually(Condition condition, std::chrono::seconds within = 60s) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// A throwaway cluster of this test's own, deleted at the end however the test ends.
class own_cluster {
 public:
  own_cluster() {
    static std::atomic<int> serial{0};
    const char* tmp = std::getenv("TMPDIR");
    // Not inside a temp_dir: the cluster's owner (`postgres` when the tests run as root) must
    // reach it.
    dir_ = fmt::format("{}/switchboard-pg-restart-{}-{}", tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", ::getpid(),
                       serial++);
    url_ = trimmed(pg({"start", dir_}));
  }
  ~own_cluster() { testing::run_program({testing::source_path("tools/pg"), "stop", dir_}); }
  own_cluster(const own_cluster&) = delete;
  own_cluster& operator=(const own_cluster&) = delete;

  const std::string& url() const { return url_; }
  void crash() const { pg({"crash", dir_}); }
  void restart() const { pg({"restart", dir_}); }

 private:
  std::string pg(std::vector<std::string> args) const {
    // tools/pg's clusters commit without waiting for the write-ahead log (synchronous_commit
    // off), which a crash may lose: this one commits as PostgreSQL does by default, so that a
    // 201 is durable.
    args.insert(args.begin(), {"/usr/bin/env", "PG_OPTIONS=-c synchronous_commit=on", testing::source_path("tools/pg")});
    const auto ran = testing::run_program(args);
    if (ran.exit_code != 0) throw std::runtime_error("tools/pg " + args[3] + " failed: " + ran.err);
    return ran.out;
  }

  std::string dir_;
  std::string url_;
};

struct filing {
  std::string title;
  unsigned status = 0;  // 0: the client gave up (no answer)
  std::int64_t id = 0;  // when 201
  std::string code;     // the error code when not 201
};

}  // namespace

TEST_SUITE("integration::postgres") {
  TEST_CASE("on PostgreSQL, a database crash and restart under filings: every 201 stored once, the rest 503, serving resumes") {
    SWITCHBOARD_POSTGRES_SERVERS_OR_SKIP(test_url);
    (void)test_url;
    own_cluster cluster;
    testing::temp_dir dir;
    const auto config = testing::fast_config(dir);
    std::ofstream(config, std::ios::app) << "\n[storage]\nbackend = \"postgres\"\nreaders = 2\nconnect_wait_ms = 500\n";
    ::setenv("SWITCHBOARD_DATABASE_URL", cluster.url().c_str(), 1);
    testing::server_process server(testing::server_args{config, "", {}});
    ::unsetenv("SWITCHBOARD_DATABASE_URL");

    // Three clients file one request after another until told to stop; each answer is kept.
    std::mutex mutex;
    std::vector<filing> filed;
    std::atomic<bool> filing_on{true};
    std::atomic<int> created{0}, unavailable{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 3; ++c)
      clients.emplace_back([&, c] {
        auto ce = server.client(role::ce);
        for (int i = 0; filing_on; ++i) {
          filing one{fmt::format("crash test {}-{}", c, i), 0, 0, {}};
          try {
            const auto res = ce.post_json(
                "/v1/requests",
                fmt::format(R"({{"kind":"troubleshooting","customer":{{"id":"acme","name":"Acme","stage":"trial"}},"title":"{}"}})",
                            one.title));
            one.status = res.status;
            const auto body = json::parse(res.body);
            if (res.status == 201)
              one.id = body.at("id").as_int64();
            else
              one.code = std::string(body.at("error").at("code").as_string());
          } catch (const std::exception& e) {
            one.code = e.what();
          }
          if (one.status == 201) ++created;
          if (one.status == 503) ++unavailable;
          const std::lock_guard lock(mutex);
          filed.push_back(std::move(one));
        }
      });

    REQUIRE(eventually([&] { return created >= 30; }));
    cluster.crash();
    // Filings fail while the database is down (after connect_wait_ms each)...
    const bool refused = eventually([&] { return unavailable >= 3; });
    // ...and health says so while clients keep filing (break12: a writer taking batch after
    // batch only to have each refused was judged at work, and /healthz answered 200 3-7 s into
    // an outage). Probes for 4 s, one after another.
    std::map<unsigned, int> health;
    {
      http::client probe(server.url());
      const auto until = std::chrono::steady_clock::now() + 4s;
      while (std::chrono::steady_clock::now() < until) ++health[probe.get("/healthz").status];
    }
    cluster.restart();
    // ...and succeed again once it is back, with no restart of the server.
    const int before = created;
    const bool resumed = eventually([&] { return created >= before + 30; });
    filing_on = false;
    for (auto& t : clients) t.join();
    CHECK(refused);
    CHECK(resumed);
    CHECK(health[200] == 0);
    CHECK(health[503] > 0);

    store::pq::connection db(cluster.url());
    std::map<std::string, std::int64_t> stored;  // title -> id
    std::map<std::string, int> copies;
    const auto rows = db.exec("SELECT id, document FROM requests");
    for (int i = 0; i < rows.rows(); ++i) {
      const auto title = std::string(json::parse(rows.text(i, 1)).at("title").as_string());
      stored[title] = rows.integer(i, 0);
      ++copies[title];
    }
    int ok = 0, refused_count = 0;
    for (const auto& one : filed) {
      INFO(one.title, ": ", one.status, " ", one.code);
      CHECK((one.status == 201 || one.status == 503));
      // Nothing is stored twice, whatever its answer.
      CHECK(copies[one.title] <= 1);
      if (one.status == 201) {
        ++ok;
        REQUIRE(stored.count(one.title) == 1);
        CHECK(stored[one.title] == one.id);
      } else if (one.status == 503) {
        ++refused_count;
        CHECK(one.code == "storage_unavailable");
      }
    }
    MESSAGE(ok, " filings answered 201, ", refused_count, " answered 503");

    // Reads, writes and the health check work on the restarted database.
    auto viewer = server.client(role::viewer);
    CHECK(eventually([&] { return viewer.get("/healthz").status == 200; }));
    CHECK(viewer.get("/metrics").status == 200);
    CHECK(testing::all_requests(viewer).size() == static_cast<std::size_t>(rows.rows()));
    CHECK(server.terminate() == 0);
  }
}
