#include "store/clocks.hpp"

#include "codec/json.hpp"
#include "config/error.hpp"
#include "store/database.hpp"
#include "store/outbox.hpp"
#include "store/requests.hpp"
#include "support/backends.hpp"
#include "support/events.hpp"
#include "support/policy.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <fstream>
#include <map>

using namespace switchboard;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

model::instant at(std::string_view iso) {
  auto parsed = model::parse_instant(iso);
  REQUIRE(parsed);
  return *parsed;
}

// A trial troubleshooting request: the shipped pre-sales policy, first response in 1 business
// hour on "support" (02:00-18:00 Pacific), warning at 45 minutes.
model::request_id file(store::unit_of_work db, const engine::policy& policy, model::instant now) {
  return store::record_new_request(
             db, policy, {testing::make_input(model::request_kind::troubleshooting), model::actor{"dana", model::role::ce}},
             now)
      .request.id;
}

}  // namespace

TEST_SUITE("store::clocks") {
  TEST_CASE("sla.warning and sla.breached webhooks carry the business time used at their instant") {
    testing::for_each_backend([](testing::backend& db) {
      auto policy = testing::shipped_policy();
      policy.outbound = {{"ops", {"sla.*"}}};
      const auto id = store::record_new_request(db, policy,
                                                {testing::make_input(model::request_kind::troubleshooting),
                                                 model::actor{"dana", model::role::ce}},
                                                at("2026-12-01T08:50:00-08:00"))
                          .request.id;
      store::record_due(db, policy, id, at("2026-12-01T12:00:00-08:00"));
      std::map<std::string, std::int64_t> used;
      for (const auto& row : db.rows("SELECT event_type, payload FROM outbox ORDER BY id")) {
        const auto payload = json::parse(row.at(1));
        const auto& type = row.at(0);
        if (type != "sla.warning" && type != "sla.breached") continue;
        used[type] = payload.at("data").at("clock").at("used_seconds").as_int64();
        // The payload names the event by its place in the log.
        CHECK(payload.at("data").at("event_id").as_int64() == db.integer("SELECT seq FROM events WHERE type = '" + type + "'"));
      }
      CHECK(used == std::map<std::string, std::int64_t>{{"sla.warning", 2700}, {"sla.breached", 3600}});
    });
  }

  TEST_CASE("open clocks on a calendar the config dropped are counted and refused, and re-timed once renamed") {
    testing::for_each_backend([](testing::backend& db) {
      const auto& shipped = testing::shipped_policy();
      const auto first = file(db, shipped, at("2026-12-23T16:30:00-08:00"));
      file(db, shipped, at("2026-12-23T16:45:00-08:00"));
      CHECK(store::missing_clock_names(db, shipped).empty());
      CHECK_NOTHROW(store::check_open_clocks(db, shipped));

      auto renamed = shipped;
      auto support = renamed.sla.calendars.extract("support");
      support.key() = "support_us";
      renamed.sla.calendars.insert(std::move(support));
      for (auto& p : renamed.sla.policies)
        if (p.calendar == "support") p.calendar = "support_us";
      renamed.sla.calendars_at = {"switchboard.toml", 25, 1};
      const auto missing = store::missing_clock_names(db, renamed);
      REQUIRE(missing.size() == 1);
      CHECK(missing[0].name == "support");
      CHECK(missing[0].open_clocks == 2);
      CHECK_THROWS_AS(store::check_open_clocks(db, renamed), config::error);

      renamed.sla.calendar_renames.emplace("support", "support_us");
      CHECK_NOTHROW(store::check_open_clocks(db, renamed));
      CHECK(store::retime_open_clocks(db, renamed, at("2026-12-24T00:00:00Z")) == store::retimed{2, 0, 0});
      const auto request = store::find_request(db, first);
      REQUIRE(request);
      CHECK(request->clocks[0].calendar == "support_us");
      const auto events = store::events_of(db, first);
      CHECK(testing::type_of(events.back()) == "sla.retimed");
      CHECK(testing::data_of(events.back()).at("before").at("calendar").as_string() == "support");
      // Done once: a second start with the same config changes nothing.
      CHECK(store::retime_open_clocks(db, renamed, at("2026-12-24T00:05:00Z")).total() == 0);
    });
  }

  TEST_CASE("a restart with the config the clocks were planned on reads none of them") {
    testing::for_each_backend([](testing::backend& db) {
      const auto& shipped = testing::shipped_policy();
      const auto first = file(db, shipped, at("2026-12-23T16:30:00-08:00"));
      CHECK(store::align_open_clocks(db, shipped, at("2026-12-23T17:00:00-08:00"), "planned-on-a") == store::retimed{});
      // The same fingerprint: skipped, even with a config that would refuse or re-time them.
      auto renamed = shipped;
      auto support = renamed.sla.calendars.extract("support");
      support.key() = "support_us";
      renamed.sla.calendars.insert(std::move(support));
      for (auto& p : renamed.sla.policies)
        if (p.calendar == "support") p.calendar = "support_us";
      renamed.sla.calendar_renames.emplace("support", "support_us");
      CHECK_FALSE(store::align_open_clocks(db, renamed, at("2026-12-24T00:00:00Z"), "planned-on-a").has_value());
      CHECK(store::find_request(db, first)->clocks[0].calendar == "support");
      // A new fingerprint: checked and re-timed, once.
      CHECK(store::align_open_clocks(db, renamed, at("2026-12-24T00:00:00Z"), "planned-on-b") == store::retimed{1, 0, 0});
      CHECK(store::find_request(db, first)->clocks[0].calendar == "support_us");
      CHECK_FALSE(store::align_open_clocks(db, renamed, at("2026-12-24T00:05:00Z"), "planned-on-b").has_value());
    });
  }

  TEST_CASE("the planning fingerprint follows the config file's bytes") {
    testing::temp_dir dir;
    const auto path = dir.file("switchboard.toml");
    const auto& shipped = testing::shipped_policy();
    std::ofstream(path) << "# one\n";
    const auto one = store::planning_fingerprint(path, shipped);
    CHECK(one.size() == 64);
    CHECK(store::planning_fingerprint(path, shipped) == one);
    std::ofstream(path) << "# two\n";
    CHECK(store::planning_fingerprint(path, shipped) != one);
    CHECK_THROWS_AS(store::planning_fingerprint(dir.file("missing.toml"), shipped), std::runtime_error);
  }

  TEST_CASE("open clocks are counted and re-timed across many pages of requests") {
    testing::for_each_backend([](testing::backend& db) {
      const auto& shipped = testing::shipped_policy();
      constexpr int requests = 1001;  // more than two pages of 500
      for (int i = 0; i < requests; ++i)
        store::record_new_request(
            db, shipped, {testing::make_input(model::request_kind::troubleshooting), model::actor{"dana", model::role::ce}},
            at("2026-12-23T16:30:00-08:00"));
      auto renamed = shipped;
      auto support = renamed.sla.calendars.extract("support");
      support.key() = "support_us";
      renamed.sla.calendars.insert(std::move(support));
      for (auto& p : renamed.sla.policies)
        if (p.calendar == "support") p.calendar = "support_us";
      const auto missing = store::missing_clock_names(db, renamed);
      REQUIRE(missing.size() == 1);
      CHECK(missing[0].open_clocks == requests);
      renamed.sla.calendar_renames.emplace("support", "support_us");
      CHECK(store::retime_open_clocks(db, renamed, at("2026-12-24T00:00:00Z")).clocks == requests);
      CHECK(db.integer("SELECT COUNT(*) FROM events WHERE type = 'sla.retimed'") == requests);
    });
  }
}
