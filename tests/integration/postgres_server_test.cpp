// The real server on PostgreSQL (issue 12 plan §3.4, C5's first case): `[storage] backend =
// "postgres"` with SWITCHBOARD_DATABASE_URL, filing, acting, listing and an SLA clock firing
// through it, its sessions killed mid-run, and the refusal to start without the URL. The
// PostgreSQL cases need SWITCHBOARD_TEST_DATABASE_URL (tools/dev test and tools/pg run set it)
// and say "postgres skipped" without it.
#include "codec/json.hpp"
#include "http/client.hpp"
#include "store/postgres/test_database.hpp"
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <array>
#include <atomic>
#include <thread>
#include <vector>

using namespace switchboard;
using namespace std::chrono_literals;
namespace json = boost::json;
using model::role;

namespace {

std::string request_body(std::string_view title) {
  return fmt::format(R"({{"kind":"troubleshooting","customer":{{"id":"acme","name":"Acme","stage":"trial"}},"title":"{}"}})",
                     title);
}

std::int64_t file(http::client& client, std::string_view title) {
  const auto res = client.post_json("/v1/requests", request_body(title));
  REQUIRE(res.status == 201);
  return testing::json_of(res).at("id").as_int64();
}

template <typename Condition>
bool eventually(Condition condition) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::vector<std::string> event_types(http::client& client, std::int64_t id) {
  std::vector<std::string> out;
  const auto page = testing::json_of(client.get(fmt::format("/v1/requests/{}/events", id)));
  for (const auto& e : page.at("events").as_array()) out.emplace_back(e.at("type").as_string());
  return out;
}

bool has(const std::vector<std::string>& types, std::string_view type) {
  return std::find(types.begin(), types.end(), type) != types.end();
}

// fast_config's SLA (first response in 4 s, a warning at 2 s) on PostgreSQL.
std::string postgres_config(const testing::temp_dir& dir) {
  const auto path = testing::fast_config(dir);
  std::ofstream(path, std::ios::app) << "\n[storage]\nbackend = \"postgres\"\nreaders = 2\n";
  return path;
}

// A read's answer as the API promises it: 200, or 503 storage_unavailable JSON with Retry-After.
bool answered_or_unavailable(const http::client_response& res) {
  if (res.status == 200) return true;
  if (res.status != 503 || res.header("Retry-After") != "1") return false;
  const auto body = json::parse(res.body);
  return body.at("error").at("code").as_string() == "storage_unavailable";
}

}  // namespace

TEST_SUITE("integration::postgres") {
  TEST_CASE("the server runs on PostgreSQL: files, acts, lists, fires an SLA clock, and rides out killed sessions") {
    SWITCHBOARD_POSTGRES_SERVERS_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    testing::temp_dir dir;
    const auto application = "sb_" + schema.name();
    ::setenv("SWITCHBOARD_DATABASE_URL", testing::postgres::url_in_schema(url, schema.name(), application).c_str(), 1);
    const auto config = postgres_config(dir);
    // The config's SQLite file (the default, beside the config) must never be made.
    const auto unused = std::filesystem::path(config).parent_path() / "../var/switchboard.db";
    testing::server_process server(testing::server_args{config, "", {}});
    ::unsetenv("SWITCHBOARD_DATABASE_URL");
    // The start-up line (written just after the port) names the database.
    CHECK(eventually([&] { return server.stderr_text().find("PostgreSQL postgresql://") != std::string::npos; }));
    // The password never reaches the log.
    const auto at = url.find('@');
    const auto colon = url.rfind(':', at);
    if (at != std::string::npos && colon != std::string::npos && colon > url.find("://") + 3)
      CHECK(server.stderr_text().find(url.substr(colon, at - colon)) == std::string::npos);

    auto ce = server.client(role::ce);
    auto se = server.client(role::se);
    auto viewer = server.client(role::viewer);
    CHECK(viewer.get("/healthz").status == 200);
    const auto answered = file(ce, "Builds fail");
    const auto left = file(ce, "Search is down");
    CHECK(answered != left);
    // An action on the first stops its first-response clock; the second's runs on.
    const auto respond = se.post_json(fmt::format("/v1/requests/{}/events", answered),
                                      json::serialize(json::object{{"type", "respond"}, {"message", "Looking now"}}));
    CHECK(respond.status == 200);

    const auto listed = testing::all_requests(viewer);
    REQUIRE(listed.size() == 2);
    CHECK(listed[0].at("id").as_int64() == left);
    CHECK(listed[1].at("id").as_int64() == answered);

    // The scheduler fires on PostgreSQL: the warning at 2 s and the breach at 4 s are recorded.
    CHECK(eventually([&] { return has(event_types(viewer, left), "sla.breached"); }));
    CHECK(has(event_types(viewer, left), "sla.warning"));
    CHECK_FALSE(has(event_types(viewer, answered), "sla.breached"));

    // It is all in PostgreSQL, and no SQLite file was made.
    CHECK(schema.db().exec("SELECT COUNT(*) FROM requests").integer(0, 0) == 2);
    CHECK(schema.db().exec("SELECT COUNT(*) FROM events WHERE type = 'sla.breached'").integer(0, 0) == 1);
    CHECK_FALSE(std::filesystem::exists(unused));

    // Every session the server holds is killed (a failover, an administrator): the next filing,
    // read and health check open new ones.
    const auto killed = schema.db()
                            .exec("SELECT COUNT(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity"
                                  " WHERE application_name = $1",
                                  {application})
                            .integer(0, 0);
    CHECK(killed >= 2);
    const auto after = file(ce, "Filed after the failover");
    CHECK(testing::json_of(viewer.get(fmt::format("/v1/requests/{}", after))).at("id").as_int64() == after);
    CHECK(testing::all_requests(viewer).size() == 3);
    CHECK(viewer.get("/healthz").status == 200);
    CHECK(server.terminate() == 0);
  }

  TEST_CASE("on PostgreSQL, healthz is 503 while the heartbeat cannot be written and 200 once it can") {
    SWITCHBOARD_POSTGRES_SERVERS_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    testing::temp_dir dir;
    ::setenv("SWITCHBOARD_DATABASE_URL", testing::postgres::url_in_schema(url, schema.name(), "sb_" + schema.name()).c_str(), 1);
    testing::server_process server(testing::server_args{postgres_config(dir), "", {}});
    ::unsetenv("SWITCHBOARD_DATABASE_URL");
    auto ce = server.client(role::ce);
    http::client probe(server.url());
    CHECK(probe.get("/healthz").status == 200);
    {
      // Another session locks the heartbeat (as a long migration or a stuck transaction would):
      // the server's heartbeat write waits for it until the writer's lock_timeout (5 s, as
      // SQLite's busy wait), fails, and /healthz says so. The writer's wait is not visible to
      // the health check before that on PostgreSQL (SQLite's busy handler shows it at 2 s).
      auto holder = schema.connect();
      store::pq::transaction hold(holder);
      holder.exec("LOCK TABLE heartbeat IN ACCESS EXCLUSIVE MODE");
      CHECK(eventually([&] { return probe.get("/healthz").status == 503; }));
      hold.rollback();
    }
    CHECK(eventually([&] { return probe.get("/healthz").status == 200; }));
    file(ce, "Filed once the lock is gone");
    CHECK(schema.db().exec("SELECT COUNT(*) FROM requests").integer(0, 0) == 1);
  }

  TEST_CASE("backend postgres without SWITCHBOARD_DATABASE_URL is refused at start, naming the variable") {
    testing::temp_dir dir;
    ::unsetenv("SWITCHBOARD_DATABASE_URL");
    const auto started = testing::run_program({SWITCHBOARD_SERVER_PATH, "--config", postgres_config(dir)});
    CHECK(started.exit_code == 1);
    CHECK(started.err.find("SWITCHBOARD_DATABASE_URL") != std::string::npos);
  }

  TEST_CASE("backend postgres with --db is refused at start, naming --db and SWITCHBOARD_DATABASE_URL") {
    testing::temp_dir dir;
    const auto file = dir.file("meant-for-sqlite.db");
    ::setenv("SWITCHBOARD_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none", 1);
    const auto started = testing::run_program({SWITCHBOARD_SERVER_PATH, "--config", postgres_config(dir), "--db", file,
                                               "--listen", "127.0.0.1:0"});
    ::unsetenv("SWITCHBOARD_DATABASE_URL");
    CHECK(started.exit_code == 1);
    INFO(started.err);
    CHECK(started.err.find("--db") != std::string::npos);
    CHECK(started.err.find("SWITCHBOARD_DATABASE_URL") != std::string::npos);
    CHECK(started.err.find("backend = \"postgres\"") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(file));
  }

  TEST_CASE("on PostgreSQL, a read whose session is killed inside its read transaction answers 503, never 500") {
    SWITCHBOARD_POSTGRES_SERVERS_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    testing::temp_dir dir;
    const auto application = "sb_" + schema.name();
    ::setenv("SWITCHBOARD_DATABASE_URL", testing::postgres::url_in_schema(url, schema.name(), application).c_str(), 1);
    testing::server_process server(testing::server_args{postgres_config(dir), "", {}});
    ::unsetenv("SWITCHBOARD_DATABASE_URL");
    auto viewer = server.client(role::viewer);
    REQUIRE(viewer.get("/metrics").status == 200);

    // /metrics reads four counts in one REPEATABLE READ transaction; with the outbox's counter
    // rows (migration 24) locked by another session, the last of them waits inside that
    // transaction, where the session is killed.
    {
      auto holder = schema.connect();
      store::pq::transaction hold(holder);
      holder.exec("LOCK TABLE outbox_state_counts IN ACCESS EXCLUSIVE MODE");
      http::client_response waited;
      std::thread reader([&] {
        auto own = server.client(role::viewer);
        waited = own.get("/metrics");
      });
      std::int64_t killed = 0;
      const bool found = eventually([&] {
        killed = schema.db()
                     .exec("SELECT COUNT(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity"
                           " WHERE application_name = $1 AND wait_event_type = 'Lock'",
                           {application})
                     .integer(0, 0);
        return killed > 0;
      });
      hold.rollback();
      reader.join();
      REQUIRE(found);
      CHECK(killed == 1);
      CHECK(waited.status == 503);
      CHECK(waited.header("Retry-After") == "1");
      CHECK(testing::json_of(waited).at("error").at("code").as_string() == "storage_unavailable");
    }
    // The pool's session is reopened at its next read.
    CHECK(viewer.get("/metrics").status == 200);

    // Reads of every kind while the server's sessions are killed again and again: each answer
    // is 200 or 503 JSON.
    std::atomic<bool> reading{true};
    std::atomic<int> kills{0};
    std::thread killer([&] {
      auto db = schema.connect();
      while (reading) {
        kills += static_cast<int>(db.exec("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                          " WHERE application_name = $1",
                                          {application})
                                      .integer(0, 0));
      }
    });
    // The reads start once the killer is at work (its connection can take longer than 450 reads).
    const bool killing = eventually([&] { return kills.load() > 0; });
    std::vector<std::vector<http::client_response>> answers(3);
    std::vector<std::thread> readers;
    for (std::size_t r = 0; r < answers.size(); ++r)
      readers.emplace_back([&, r] {
        auto own = server.client(role::viewer);
        static constexpr std::array<const char*, 3> targets{"/metrics", "/v1/requests", "/v1/sla/timers"};
        for (std::size_t i = 0; i < 150; ++i) answers[r].push_back(own.get(targets[(i + r) % targets.size()]));
      });
    for (auto& t : readers) t.join();
    reading = false;
    killer.join();
    CHECK(killing);
    int unavailable = 0;
    for (const auto& some : answers)
      for (const auto& res : some) {
        INFO(res.status, " ", res.body);
        CHECK(answered_or_unavailable(res));
        if (res.status == 503) ++unavailable;
      }
    MESSAGE(kills.load(), " sessions killed, ", unavailable, " of 450 reads answered 503");
    CHECK(viewer.get("/metrics").status == 200);
    CHECK(server.stderr_text().find("error handling") == std::string::npos);
  }
  TEST_CASE("rules check --db reads a PostgreSQL database: a calendar its open clocks use is refused, read only") {
    SWITCHBOARD_POSTGRES_SERVERS_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    testing::temp_dir dir;
    const auto in_schema = testing::postgres::url_in_schema(url, schema.name(), "sb_" + schema.name());
    ::setenv("SWITCHBOARD_DATABASE_URL", in_schema.c_str(), 1);
    const auto config = postgres_config(dir);
    {
      testing::server_process server(testing::server_args{config, "", {}});
      auto ce = server.client(role::ce);
      file(ce, "An open clock on the always calendar");
      REQUIRE(server.terminate() == 0);
    }
    ::unsetenv("SWITCHBOARD_DATABASE_URL");
    const auto events_before = schema.db().exec("SELECT COUNT(*) FROM events").integer(0, 0);

    // The same config accepts it.
    const auto same = testing::run_program({SWITCHBOARD_CLI_PATH, "--config", config, "rules", "check", "--db", in_schema});
    CHECK_MESSAGE(same.exit_code == 0, same.err);
    CHECK(same.out.find("ok: ") == 0);

    // The calendar renamed away: its open clock would lose it, as on SQLite (integration::sla).
    std::ifstream in(config);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (auto at = text.find("always"); at != std::string::npos; at = text.find("always", at)) text.replace(at, 6, "office");
    const auto renamed = dir.file("renamed.toml");
    std::ofstream(renamed) << text;
    const auto refused = testing::run_program({SWITCHBOARD_CLI_PATH, "--config", renamed, "rules", "check", "--db", in_schema});
    CHECK(refused.exit_code == 1);
    CHECK_MESSAGE(refused.err.find("calendar \"always\" is used by 2 open SLA clocks but is not configured") != std::string::npos,
                  refused.err);
    // The password never reaches the output.
    const auto at = url.find('@');
    const auto colon = url.rfind(':', at);
    if (at != std::string::npos && colon != std::string::npos && colon > url.find("://") + 3)
      CHECK(refused.err.find(url.substr(colon, at - colon)) == std::string::npos);

    // Nothing was written; an empty schema is named as such.
    CHECK(schema.db().exec("SELECT COUNT(*) FROM events").integer(0, 0) == events_before);
    testing::postgres::test_schema empty(url);
    const auto missing = testing::run_program(
        {SWITCHBOARD_CLI_PATH, "--config", config, "rules", "check", "--db",
         testing::postgres::url_in_schema(url, empty.name(), "sb_" + empty.name())});
    CHECK(missing.exit_code == 1);
    CHECK_MESSAGE(missing.err.find("no Switchboard schema") != std::string::npos, missing.err);
  }
}
