// Two real servers on one PostgreSQL schema (issue 12 D1, D3): they share one simulated clock
// (--clock-origin) and split the timer shards; the one holding a request's timers is SIGKILLed
// before its SLA warning falls due, and the survivor records every warning, breach and
// escalation level of it exactly once, at its true instant.
#include "codec/json.hpp"
#include "http/client.hpp"
#include "model/instant.hpp"
#include "store/postgres/test_database.hpp"
#include "store/timer_leases.hpp"
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/eventually.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

using namespace switchboard;
using namespace std::chrono_literals;
using model::role;

TEST_SUITE("integration::postgres_instances") {
  TEST_CASE("two instances split the timers, and the survivor of a SIGKILL fires the dead one's exactly once") {
    SWITCHBOARD_POSTGRES_SERVERS_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    testing::temp_dir dir;
    // fast_config: first response in 4 s (warning at 2 s) on a 24x7 calendar, then a ladder at
    // 0, 2 and 4 s after the breach. Leases of 1 s, renewed every 100 ms.
    const auto config = testing::fast_config(dir);
    std::ofstream(config, std::ios::app) << "\n[storage]\nbackend = \"postgres\"\nreaders = 2\nlease_seconds = 1\n";
    // One simulated timeline for both (at speed 1): it reads `start` at wall time `origin`.
    const auto origin = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    const std::vector<std::string> clock = {"--clock-start", model::format_instant(origin), "--clock-origin",
                                            std::to_string(origin.time_since_epoch().count())};
    ::setenv("SWITCHBOARD_DATABASE_URL", testing::postgres::url_in_schema(url, schema.name(), "sb_a_" + schema.name()).c_str(), 1);
    auto first = std::make_unique<testing::server_process>(testing::server_args{config, "", clock});
    ::setenv("SWITCHBOARD_DATABASE_URL", testing::postgres::url_in_schema(url, schema.name(), "sb_b_" + schema.name()).c_str(), 1);
    testing::server_process second(testing::server_args{config, "", clock});
    ::unsetenv("SWITCHBOARD_DATABASE_URL");
    auto& db = schema.db();

    // Both live: 32 shards each, every shard held once.
    REQUIRE(testing::eventually([&] {
      return db.exec("SELECT COUNT(DISTINCT holder) = 2 AND COUNT(*) FILTER (WHERE holder IS NULL) = 0"
                     " AND MAX(n) = 32 FROM (SELECT holder, COUNT(*) OVER (PARTITION BY holder) AS n FROM timer_leases) l")
                 .text(0, 0) == "t";
    }));
    const auto first_pid = std::to_string(first->pid());
    std::set<int> first_shards;
    const auto held = db.exec(fmt::format("SELECT shard FROM timer_leases WHERE holder LIKE '%:{}:%'", first_pid));
    for (int i = 0; i < held.rows(); ++i) first_shards.insert(static_cast<int>(held.integer(i, 0)));
    REQUIRE(first_shards.size() == 32);
    CHECK(first->stderr_text().find("instance ") != std::string::npos);

    // A request whose timers the first holds, filed through it; then SIGKILL, before its warning.
    auto ce = first->client(role::ce);
    std::int64_t id = 0;
    for (int attempt = 0; attempt < 64 && id == 0; ++attempt) {
      const auto res = ce.post_json(
          "/v1/requests",
          R"({"kind":"troubleshooting","customer":{"id":"acme","name":"Acme","stage":"trial"},"title":"Builds fail"})");
      REQUIRE(res.status == 201);
      const auto filed = testing::json_of(res).at("id").as_int64();
      if (first_shards.contains(store::shard_of(filed))) id = filed;
    }
    REQUIRE(id != 0);
    first->kill();
    first.reset();
    const auto filed_at = db.exec(fmt::format("SELECT created_at FROM requests WHERE id = {}", id)).integer(0, 0);
    // Whether the first died before the warning (2 s after filing): then the survivor fired all.
    const bool killed_before_warning =
        db.exec(fmt::format("SELECT COUNT(*) FROM events WHERE request_id = {} AND firing_key IS NOT NULL", id))
            .integer(0, 0) == 0;

    // The survivor takes the shards over and fires the warning, the breach and three ladder steps.
    REQUIRE(testing::eventually([&] {
      return db.exec(fmt::format("SELECT COUNT(*) FROM events WHERE request_id = {} AND type = 'escalation.notified'",
                                 id))
                 .integer(0, 0) >= 3;
    }));
    CHECK(db.exec("SELECT COUNT(*) FROM timer_leases WHERE holder LIKE '%:" + std::to_string(second.pid()) + ":%'")
              .integer(0, 0) == 64);
    // Exactly once, at the true instants.
    CHECK(db.exec("SELECT firing_key FROM events WHERE firing_key IS NOT NULL GROUP BY firing_key HAVING COUNT(*) > 1")
              .rows() == 0);
    const auto at_of = [&](const std::string& type) {
      const auto rows = db.exec(fmt::format("SELECT at FROM events WHERE request_id = {} AND type = '{}' ORDER BY seq", id, type));
      std::vector<std::int64_t> out;
      for (int i = 0; i < rows.rows(); ++i) out.push_back(rows.integer(i, 0) - filed_at);
      return out;
    };
    CHECK(at_of("sla.warning") == std::vector<std::int64_t>{2});
    CHECK(at_of("sla.breached") == std::vector<std::int64_t>{4});
    CHECK(at_of("escalation.triggered") == std::vector<std::int64_t>{4});
    const auto notified = at_of("escalation.notified");
    REQUIRE(notified.size() >= 3);
    CHECK(std::vector<std::int64_t>(notified.begin(), notified.begin() + 3) == std::vector<std::int64_t>{4, 6, 8});
    MESSAGE("first instance killed before the warning fell due: ", killed_before_warning);
  }
}
