// The SLA reports' facts (migration 20) and their aggregation: clock_facts, written in the
// events' transaction, equals a recount from the stored requests' clocks after every step of a
// story with pauses, completions, a reopen and a breach, on both adapters; the migration fills the
// same rows in for what was stored before it; and the aggregation's counts and nearest-rank
// percentiles on hand-built facts whose values the test writes out.
#include "store/reports.hpp"

#include "store/database.hpp"
#if SWITCHBOARD_POSTGRES
#include "store/postgres/schema.hpp"
#endif
#include "store/requests.hpp"
#include "support/backends.hpp"
#include "support/policy.hpp"
#include "support/temp_dir.hpp"
#include "support/test_policy.hpp"
#include "model/instant.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using namespace switchboard;
using model::role;
using engine::action_kind;

namespace {

model::instant at(std::string_view iso) { return *model::parse_instant(iso); }

const model::actor ce{"casey", role::ce};
const model::actor se{"sam", role::se};

const engine::policy& shipped() { return testing::shipped_with_use_cases(); }

// A fact as a comparable row of text.
std::string row_of(const store::clock_fact& f) {
  return fmt::format("{} {} {} {} {} {} {} {} {} {} {} {} {} {} {}", f.request_id, model::to_string(f.metric), f.policy,
                     f.calendar, model::to_string(f.team), f.customer_id, f.customer_name, f.use_case,
                     model::to_string(f.kind), f.started_at ? model::format_instant(*f.started_at) : "-",
                     f.completed_at ? model::format_instant(*f.completed_at) : "-", store::to_string(f.state),
                     f.breached, f.used.count(), f.paused ? std::to_string(f.paused->count()) : "-");
}

// clock_facts as the store reads it back, one row per clock.
std::map<std::string, std::string> kept(store::read_session db) {
  std::map<std::string, std::string> out;
  for (const auto& f : store::clock_facts_started(db, at("2000-01-01T00:00:00Z"), at("2100-01-01T00:00:00Z")))
    out[fmt::format("{}/{}", f.request_id, model::to_string(f.metric))] = row_of(f);
  return out;
}

// What it should hold, from every stored request's clocks.
std::map<std::string, std::string> recounted(store::read_session db) {
  store::request_filter filter;
  filter.limit = 200;
  std::map<std::string, std::string> out;
  for (const auto& r : store::list_requests(db, filter).requests)
    for (const auto& clock : r.clocks)
      out[fmt::format("{}/{}", r.id, model::to_string(clock.metric))] = row_of(store::fact_of(r, clock));
  return out;
}

model::request_id file(store::unit_of_work db, model::instant now, std::string use_case = "search") {
  auto input = testing::make_input(model::request_kind::troubleshooting, "acme", model::customer_stage::production);
  input.use_case = std::move(use_case);
  return store::record_new_request(db, shipped(), {std::move(input), ce}, now).request.id;
}

void act(store::unit_of_work db, model::request_id id, action_kind kind, const model::actor& who, model::instant now,
         engine::action_input input = {}) {
  const auto outcome = store::record_action(db, shipped(), id, {kind, std::move(input), who}, now);
  if (const auto* refused = std::get_if<engine::refusal>(&outcome)) FAIL(refused->code << ": " << refused->message);
  REQUIRE(std::holds_alternative<std::vector<store::change>>(outcome));
}

// Tuesday 17 November 2026 in support hours.
const model::instant start = at("2026-11-17T10:00:00-08:00");

void story(store::unit_of_work db) {
  const auto same = [&](std::string_view step) {
    INFO("after ", step);
    CHECK(kept(db) == recounted(db));
  };
  const auto r1 = file(db, start);
  const auto r2 = file(db, start + 1min, "");
  const auto r3 = file(db, start + 2min);
  same("filings");
  REQUIRE(kept(db).size() >= 6);
  act(db, r1, action_kind::pend, se, start + 10min, {.message = "Which version?"});
  same("pend");
  act(db, r1, action_kind::customer_reply, ce, start + 70min, {.message = "5.2"});
  same("customer_reply");
  act(db, r1, action_kind::resolve, se, start + 90min, {.message = "Fixed in 5.2.1"});
  same("resolve");
  act(db, r1, action_kind::reopen, se, start + 100min, {.message = "It came back"});
  same("reopen");
  act(db, r2, action_kind::respond, se, start + 20min, {.message = "Looking"});
  same("respond");
  // r3 left alone: its first response breaches when its due firing is recorded.
  REQUIRE(store::record_due(db, shipped(), r3, at("2026-11-20T10:00:00-08:00")));
  same("breach");
}

store::clock_fact fact(model::sla_metric metric, store::fact_state state, std::chrono::seconds used,
                       std::string_view started, model::team team = model::team::se) {
  store::clock_fact f;
  f.metric = metric;
  f.state = state;
  f.breached = state == store::fact_state::breached;
  f.used = used;
  f.team = team;
  f.started_at = at(started);
  if (state != store::fact_state::open) f.completed_at = at(started) + used;
  f.paused = 0s;
  return f;
}

std::vector<store::clock_fact> first_responses(const std::vector<int>& minutes) {
  std::vector<store::clock_fact> out;
  for (const int m : minutes)
    out.push_back(fact(model::sla_metric::first_response, store::fact_state::met, std::chrono::minutes{m},
                       "2026-11-23T10:00:00Z"));
  return out;
}

}  // namespace

TEST_SUITE("store::reports") {
  TEST_CASE("clock_facts equals a recount after filings, a pause, a reply, resolve, reopen, a response and a breach") {
    testing::for_each_backend([](testing::backend& db) {
      story(db);
      const auto facts = store::clock_facts_started(db, start, start + 1h);
      REQUIRE_FALSE(facts.empty());
      // r1's resolution clock was paused for the hour between the pend and the reply.
      bool found = false;
      for (const auto& f : facts)
        if (f.request_id == 1 && f.metric == model::sla_metric::resolution) {
          found = true;
          REQUIRE(f.paused);
          CHECK(*f.paused == 1h);
          CHECK(f.state == store::fact_state::open);  // reopened
          CHECK(f.started_at == start);
        }
      CHECK(found);
      // The range is [from, to): r3's clocks started at start + 2 min.
      for (const auto& f : store::clock_facts_started(db, start + 2min, start + 3min)) CHECK(f.request_id == 3);
      CHECK(store::clock_facts_started(db, start + 3min, start + 10min).empty());
    });
  }

  TEST_CASE("migration 20 fills clock_facts in from the requests and events stored before it") {
    testing::temp_dir dir;
    const auto path = dir.file("switchboard.db");
    std::map<std::string, std::string> before;
    {
      auto db = store::open_database(path);
      story(db);
      before = kept(db);
      // Back to before this migration, as a database written by the previous release looks.
      db.exec("DROP TABLE clock_facts; DELETE FROM schema_migrations WHERE version = 20");
    }
    {
      auto db = store::open_database(path);
      CHECK(store::schema_version(db) == store::latest_schema_version());
      CHECK(kept(db) == before);
      // And documents from before started_at and paused_seconds were kept.
      db.exec("DROP TABLE clock_facts; DELETE FROM schema_migrations WHERE version = 20;"
              " UPDATE requests SET document = json_remove(document, '$.clocks[0].started_at',"
              " '$.clocks[1].started_at', '$.clocks[2].started_at', '$.clocks[3].started_at',"
              " '$.clocks[0].paused_seconds', '$.clocks[1].paused_seconds', '$.clocks[2].paused_seconds',"
              " '$.clocks[3].paused_seconds')");
    }
    auto db = store::open_database(path);
    // A clock's start is then its first sla.started event's instant; its paused time is unknown.
    const auto filled = store::clock_facts_started(db, start, start + 1h);
    REQUIRE(filled.size() >= 6);
    for (const auto& f : filled) {
      CAPTURE(row_of(f));
      CHECK(f.started_at == start + std::chrono::minutes{f.request_id - 1});
      CHECK_FALSE(f.paused);
    }
  }

  TEST_CASE("migration 20 on PostgreSQL fills the same in") {
    testing::for_each_backend([](testing::backend& db) {
#if SWITCHBOARD_POSTGRES
      if (db.postgres() == nullptr) return;  // SQLite's migration: the case above
      story(db);
      const auto before = kept(db);
      db.exec("DROP TABLE clock_facts; DELETE FROM schema_migrations WHERE version = 20");
      store::postgres::migrate(*db.postgres());
      CHECK(kept(db) == before);
#else
      static_cast<void>(db);
#endif
    });
  }

  TEST_CASE("nearest rank: the value at rank ceil(p n), at n = 1, 2, 10 and 11") {
    const auto zone = absl::UTCTimeZone();
    auto stats = [&](const std::vector<int>& minutes) {
      return store::aggregate(first_responses(minutes), store::report_grouping::team, zone).total.first_response;
    };
    const auto one = stats({7});
    CHECK(one.count == 1);
    CHECK(one.median == 7min);
    CHECK(one.p90 == 7min);
    const auto two = stats({9, 3});
    CHECK(two.median == 3min);  // rank ceil(1.0) = 1
    CHECK(two.p90 == 9min);     // rank ceil(1.8) = 2
    const auto ten = stats({10, 1, 9, 2, 8, 3, 7, 4, 6, 5});
    CHECK(ten.median == 5min);  // rank 5
    CHECK(ten.p90 == 9min);     // rank 9
    const auto eleven = stats({11, 1, 10, 2, 9, 3, 8, 4, 7, 5, 6});
    CHECK(eleven.median == 6min);  // rank ceil(5.5) = 6
    CHECK(eleven.p90 == 10min);    // rank ceil(9.9) = 10
    const auto none = stats({});
    CHECK(none.count == 0);
    CHECK_FALSE(none.median);
    CHECK_FALSE(none.p90);
  }

  TEST_CASE("counts, % met, resolution and paused per group, and ISO weeks of a time zone") {
    std::vector<store::clock_fact> facts;
    using model::sla_metric;
    using store::fact_state;
    facts.push_back(fact(sla_metric::first_response, fact_state::met, 10min, "2026-11-23T10:00:00Z"));
    facts.push_back(fact(sla_metric::first_response, fact_state::breached, 90min, "2026-11-24T10:00:00Z"));
    facts.push_back(fact(sla_metric::first_response, fact_state::open, 5min, "2026-11-25T10:00:00Z"));
    facts.push_back(fact(sla_metric::resolution, fact_state::met, 3h, "2026-11-23T10:00:00Z"));
    auto paused = fact(sla_metric::resolution, fact_state::met, 5h, "2026-11-30T07:00:00Z", model::team::ce);
    paused.paused = 2h;
    facts.push_back(paused);
    auto open_breached = fact(sla_metric::resolution, fact_state::breached, 50h, "2026-11-30T09:00:00Z", model::team::ce);
    open_breached.completed_at.reset();  // breached and not done yet
    facts.push_back(open_breached);

    const auto by_team = store::aggregate(facts, store::report_grouping::team, absl::UTCTimeZone());
    REQUIRE(by_team.groups.size() == 2);
    const auto& ce_row = by_team.groups[0];
    const auto& se_row = by_team.groups[1];
    CHECK(ce_row.key == "ce");
    CHECK(ce_row.clocks_started == 2);
    CHECK(ce_row.met == 1);
    CHECK(ce_row.breached == 1);
    CHECK(ce_row.percent_met == doctest::Approx(50.0));
    CHECK(ce_row.resolution.count == 1);  // the open breached one has no completion time
    CHECK(ce_row.resolution.median == 5h);
    CHECK(ce_row.paused.count == 1);
    CHECK(ce_row.paused.total == 2h);
    CHECK(ce_row.paused.median == 2h);
    CHECK(se_row.key == "se");
    CHECK(se_row.clocks_started == 4);
    CHECK(se_row.met == 2);
    CHECK(se_row.breached == 1);
    CHECK(se_row.open == 1);
    CHECK(se_row.percent_met == doctest::Approx(66.7));
    CHECK(se_row.first_response.count == 2);
    CHECK(se_row.first_response.median == 10min);
    CHECK(se_row.first_response.p90 == 90min);
    CHECK(by_team.total.clocks_started == 6);
    CHECK(by_team.total.percent_met == doctest::Approx(60.0));

    // Weeks in Los Angeles: Monday 30 November 07:00 UTC is still Sunday 29 November there.
    absl::TimeZone la;
    REQUIRE(absl::LoadTimeZone("America/Los_Angeles", &la));
    const auto by_week = store::aggregate(facts, store::report_grouping::week, la);
    REQUIRE(by_week.groups.size() == 2);
    CHECK(by_week.groups[0].key == "2026-W48");
    CHECK(by_week.groups[0].week_start == at("2026-11-23T08:00:00Z"));
    CHECK(by_week.groups[0].clocks_started == 5);
    CHECK(by_week.groups[1].key == "2026-W49");
    CHECK(by_week.groups[1].week_start == at("2026-11-30T08:00:00Z"));
    CHECK(by_week.groups[1].clocks_started == 1);
    // In UTC that clock is in week 49.
    const auto utc_weeks = store::aggregate(facts, store::report_grouping::week, absl::UTCTimeZone());
    CHECK(utc_weeks.groups[1].clocks_started == 2);
    // The ISO year of a week is its Thursday's: Monday 28 December 2026 is in 2026-W53.
    const auto new_year = store::aggregate(
        {fact(sla_metric::first_response, fact_state::met, 1min, "2027-01-01T10:00:00Z")}, store::report_grouping::week,
        absl::UTCTimeZone());
    CHECK(new_year.groups[0].key == "2026-W53");
    CHECK(new_year.groups[0].week_start == at("2026-12-28T00:00:00Z"));
    CHECK_FALSE(store::aggregate(facts, store::report_grouping::team, la).groups.empty());
  }
}
