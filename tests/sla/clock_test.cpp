#include "sla/clock.hpp"

#include "config/error.hpp"
#include "config/toml.hpp"
#include "codec/json.hpp"
#include "sla/load.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <string>

using namespace switchboard;
using namespace std::chrono;
using namespace std::literals;

namespace {

model::instant at(std::string_view iso) {
  auto parsed = model::parse_instant(iso);
  REQUIRE(parsed);
  return *parsed;
}

// Weekdays 09:00-17:00 UTC, with the given holidays.
calendar::business_calendar office(std::vector<year_month_day> holidays = {}) {
  std::vector<calendar::weekly_shift> shifts;
  for (unsigned day = 1; day <= 5; ++day) shifts.push_back(calendar::daily_shift(weekday{day}, 9h, 17h));
  return calendar::business_calendar::make({"office", "UTC", shifts, std::move(holidays)});
}

sla::policy_set set_with(calendar::business_calendar calendar, seconds target, std::int64_t warning = 750'000) {
  sla::policy_set set;
  set.calendars.emplace(calendar.name(), calendar);
  sla::policy p;
  p.name = "standard";
  p.calendar = calendar.name();
  p.metrics.push_back({model::sla_metric::resolution, target, warning, {model::request_status::pending_customer}});
  set.policies.push_back(p);
  return set;
}

model::sla_clock started(const sla::policy_set& set, model::instant now) {
  return sla::start(set.policies[0], set.policies[0].metrics[0], set.calendar(set.policies[0].calendar), now);
}

}  // namespace

TEST_SUITE("sla::clock") {
  TEST_CASE("the warning threshold is exact integer arithmetic, rounded up to the second") {
    // 180 * 0.7 is 125.99999999999999 in binary floating point.
    CHECK(sla::warning_threshold(180s, 700'000) == 126s);
    CHECK(sla::warning_threshold(4s, 500'000) == 2s);
    CHECK(sla::warning_threshold(10s, 333'333) == 4s);  // 3.33333 s used is first reached in second 4
    CHECK(sla::warning_threshold(1s, 1) == 1s);         // never 0: a warning is not due at the start
    CHECK(sla::warning_threshold(3h, 750'000) == 8100s);
    // No overflow for a target of three million years.
    CHECK(sla::warning_threshold(seconds{94'608'000'000'000}, 999'999) == seconds{94'607'905'392'000});

    const toml::table root = toml::parse(
        "[[sla.policy]]\nname = \"p\"\ncalendar = \"office\"\nmetrics = [{ metric = \"resolution\", target = \"3m\", "
        "warning = 0.7 }]\n"sv,
        "test.toml"sv);
    sla::calendar_map calendars;
    calendars.emplace("office", office());
    const auto policies = sla::load_policies(*root["sla"].as_table(), "test.toml", calendars, {});
    CHECK(policies[0].metrics[0].warning_millionths == 700'000);
    const auto clock = sla::start(policies[0], policies[0].metrics[0], calendars.at("office"), at("2026-12-01T10:00:00Z"));
    CHECK(clock.warning_at == 126s);
    CHECK(clock.warning_deadline == at("2026-12-01T10:02:06Z"));
  }

  TEST_CASE("firings carry the business time used at their instant and are checkpoints") {
    const auto set = set_with(office(), 2h);  // warns at 1h30m
    auto clock = started(set, at("2026-12-01T16:30:00Z"));
    CHECK(clock.warning_deadline == at("2026-12-02T10:00:00Z"));
    CHECK(clock.deadline == at("2026-12-02T10:30:00Z"));
    const auto fired = sla::fire_due(clock, at("2026-12-02T11:00:00Z"));
    REQUIRE(fired.size() == 2);
    CHECK(fired[0].kind == sla::firing_kind::warning);
    CHECK(fired[0].clock.used == 90min);
    CHECK(fired[0].clock.since == at("2026-12-02T10:00:00Z"));
    CHECK(fired[0].clock.warned);
    CHECK_FALSE(fired[0].clock.breached);
    CHECK(fired[1].kind == sla::firing_kind::breach);
    CHECK(fired[1].clock.used == 2h);
    CHECK(fired[1].clock.breached);
    CHECK(clock.state == model::clock_state::breached);
    // Overdue time keeps counting from the checkpoint.
    CHECK(sla::used(clock, set.calendar("office"), at("2026-12-02T11:00:00Z")) == 2h + 30min);
  }

  TEST_CASE("a breached clock stops counting while paused and resumes breached") {
    const auto set = set_with(office(), 1h);
    const auto& calendar = set.calendar("office");
    auto clock = started(set, at("2026-12-01T09:00:00Z"));
    sla::fire_due(clock, at("2026-12-01T10:00:00Z"));
    REQUIRE(clock.state == model::clock_state::breached);
    CHECK(sla::pause(clock, calendar, at("2026-12-01T10:20:00Z")));
    CHECK(clock.state == model::clock_state::paused);
    CHECK(clock.breached);
    CHECK(clock.used == 80min);
    // Two business days waiting on the customer count for nothing.
    CHECK(sla::used(clock, calendar, at("2026-12-03T10:20:00Z")) == 80min);
    CHECK(sla::resume(clock, calendar, at("2026-12-03T10:20:00Z")));
    CHECK(clock.state == model::clock_state::breached);
    CHECK(sla::next_firing(clock) == std::nullopt);  // a breach is recorded once
    CHECK(sla::used(clock, calendar, at("2026-12-03T10:30:00Z")) == 90min);
    sla::complete(clock, calendar, at("2026-12-03T10:30:00Z"));
    CHECK(clock.state == model::clock_state::breached);
    sla::reopen(clock, calendar, at("2026-12-04T09:00:00Z"));
    CHECK(clock.state == model::clock_state::breached);

    // The flag survives storage; documents written before it existed read it from the state.
    CHECK(codec::sla_clock_from_json(codec::to_json(clock)).breached);
    auto old = codec::to_json(clock);
    old.erase("breached");
    CHECK(codec::sla_clock_from_json(old).breached);
    old["state"] = "paused";
    CHECK_FALSE(codec::sla_clock_from_json(old).breached);
  }

  TEST_CASE("re-timing follows a holiday added and a target changed, from the business time used") {
    const auto before = set_with(office(), 4h);  // warns at 3h
    auto clock = started(before, at("2026-12-23T15:00:00Z"));  // Wednesday: 2 h used by 17:00
    CHECK(clock.deadline == at("2026-12-24T11:00:00Z"));

    auto with_holiday = set_with(office({2026y / December / 24}), 4h);
    auto moved = clock;
    CHECK(sla::retime(moved, with_holiday));
    CHECK(moved.deadline == at("2026-12-25T11:00:00Z"));
    CHECK(moved.warning_deadline == at("2026-12-25T10:00:00Z"));
    CHECK_FALSE(sla::retime(moved, with_holiday));  // nothing left to change

    auto longer = set_with(office({2026y / December / 24}), 6h, 500'000);
    CHECK(sla::retime(moved, longer));
    CHECK(moved.target == 6h);
    CHECK(moved.warning_at == 3h);
    CHECK(moved.deadline == at("2026-12-25T13:00:00Z"));
    CHECK(moved.warning_deadline == at("2026-12-25T10:00:00Z"));

    // A warned, then breached clock keeps its history: no second warning, the breach instant stays.
    sla::fire_due(clock, at("2026-12-24T11:00:00Z"));
    REQUIRE(clock.breached);
    auto breached = clock;
    CHECK(sla::retime(breached, longer));  // its target follows the policy
    CHECK(breached.deadline == clock.deadline);
    CHECK(breached.state == model::clock_state::breached);
    CHECK(sla::next_firing(breached) == std::nullopt);

    // A paused clock takes the new target and is planned when it resumes.
    auto paused = started(before, at("2026-12-23T15:00:00Z"));
    sla::pause(paused, before.calendar("office"), at("2026-12-23T16:00:00Z"));
    CHECK(sla::retime(paused, with_holiday) == false);
    CHECK(sla::retime(paused, longer));
    sla::resume(paused, longer.calendar("office"), at("2026-12-28T09:00:00Z"));
    CHECK(paused.deadline == at("2026-12-28T14:00:00Z"));
  }

  TEST_CASE("renamed calendars and policies are followed, missing ones are counted") {
    auto set = set_with(office(), 4h);
    auto clock = started(set, at("2026-12-23T15:00:00Z"));
    clock.calendar = "support";
    clock.policy = "gold";
    auto completed = clock;
    completed.completed = true;
    const std::vector<model::sla_clock> clocks{clock, clock, completed};

    auto missing = sla::missing_names(set, clocks);
    REQUIRE(missing.size() == 2);
    CHECK(missing[0].kind == sla::missing_name::what::calendar);
    CHECK(missing[0].name == "support");
    CHECK(missing[0].open_clocks == 2);  // the completed clock does not count
    CHECK(missing[1].kind == sla::missing_name::what::policy);
    CHECK(missing[1].name == "gold");
    set.calendars_at = {"switchboard.toml", 25, 1};
    set.policies_at = {"switchboard.toml", 107, 1};
    try {
      sla::refuse_missing(set, missing);
      FAIL("refuse_missing did not throw");
    } catch (const config::error& e) {
      CHECK(std::string(e.what()).starts_with(
          "switchboard.toml:25:1: calendar \"support\" is used by 2 open SLA clocks but is not configured; keep it, "
          "or name it in `replaces = [\"support\"]` of the [calendars.NAME] table that takes its place\n"
          "switchboard.toml:107:1: SLA policy \"gold\" is used by 2 open SLA clocks"));
    }

    set.calendar_renames.emplace("support", "office");
    set.policy_renames.emplace("gold", "standard");
    CHECK(sla::missing_names(set, clocks).empty());
    CHECK(sla::retime(clock, set));
    CHECK(clock.calendar == "office");
    CHECK(clock.policy == "standard");
    CHECK(&set.calendar("support") == &set.calendar("office"));
  }

  TEST_CASE("replaces: a replaced name must be gone and replaced once") {
    sla::calendar_map calendars;
    calendars.emplace("office", office());
    calendars.emplace("other", office());
    auto renames_of = [&](std::string_view text) {
      const toml::table root = toml::parse(text, "test.toml"sv);
      return sla::load_calendar_renames(*root["calendars"].as_table(), "test.toml", calendars);
    };
    const auto renames = renames_of("[calendars.office]\nreplaces = [\"support\", \"old\"]\n"sv);
    CHECK(renames == sla::rename_map{{"old", "office"}, {"support", "office"}});
    auto error_of = [&](std::string_view text) -> std::string {
      try {
        renames_of(text);
      } catch (const config::error& e) {
        return e.what();
      }
      return "no error";
    };
    CHECK(error_of("[calendars.office]\nreplaces = [\"other\"]\n"sv) ==
          "test.toml:2:13: calendar \"office\" replaces \"other\", but a calendar of that name still exists; a name is "
          "either current or replaced");
    CHECK(error_of("[calendars.office]\nreplaces = [\"a\"]\n[calendars.other]\nreplaces = [\"a\"]\n"sv) ==
          "test.toml:4:13: \"a\" is replaced by both \"office\" and \"other\"; each old name maps to one calendar");
    CHECK(error_of("[calendars.office]\nreplaces = \"a\"\n"sv).starts_with("test.toml:2:12: \"replaces\" must be an array"));

    auto policies_of = [&](std::string_view text) {
      const toml::table root = toml::parse(text, "test.toml"sv);
      return sla::load_policies(*root["sla"].as_table(), "test.toml", calendars, {});
    };
    constexpr auto metrics = "metrics = [{ metric = \"resolution\", target = \"1h\" }]\n"sv;
    const auto policies = policies_of(fmt::format("[[sla.policy]]\nname = \"b\"\ncalendar = \"office\"\n{}replaces = "
                                                  "[\"a\"]\n",
                                                  metrics));
    CHECK(sla::policy_renames(policies) == sla::rename_map{{"a", "b"}});
    try {
      policies_of(fmt::format("[[sla.policy]]\nname = \"a\"\ncalendar = \"office\"\n{0}[[sla.policy]]\nname = \"b\"\n"
                              "calendar = \"office\"\n{0}replaces = [\"a\"]\n",
                              metrics));
      FAIL("no error");
    } catch (const config::error& e) {
      CHECK(std::string(e.what()) ==
            "test.toml:9:13: policy \"b\" replaces \"a\", but a policy of that name still exists; a name is either "
            "current or replaced");
    }
  }
  TEST_CASE("replaces: a name listed twice in one list is refused there, not as replaced by the same policy twice") {
    sla::calendar_map calendars;
    calendars.emplace("office", office());
    auto error_of = [&](auto load) -> std::string {
      try {
        load();
      } catch (const config::error& e) {
        return e.what();
      }
      return "no error";
    };
    CHECK(error_of([&] {
      const toml::table root = toml::parse("[calendars.office]\nreplaces = [\"a\", \"a\"]\n"sv, "test.toml"sv);
      sla::load_calendar_renames(*root["calendars"].as_table(), "test.toml", calendars);
    }) == "test.toml:2:18: \"a\" is listed twice in the \"replaces\" of calendar \"office\"; name each old calendar once");
    CHECK(error_of([&] {
      const toml::table root = toml::parse(
          "[[sla.policy]]\nname = \"premium\"\ncalendar = \"office\"\n"
          "metrics = [{ metric = \"resolution\", target = \"1h\" }]\nreplaces = [\"ghost\", \"ghost\"]\n"sv,
          "test.toml"sv);
      sla::load_policies(*root["sla"].as_table(), "test.toml", calendars, {});
    }) == "test.toml:5:22: \"ghost\" is listed twice in the \"replaces\" of policy \"premium\"; name each old policy once");
  }

  TEST_CASE("a policy that replaces another without a metric its open clocks count is refused at that replaces entry") {
    auto set = set_with(office(), 4h);
    auto clock = started(set, at("2026-12-23T15:00:00Z"));
    clock.policy = "gold";
    auto first = clock;
    first.metric = model::sla_metric::first_response;
    // "standard" replaces "gold" but has only resolution: gold's first_response clocks lose theirs.
    set.policies.front().replaces = {"gold"};
    set.policies.front().replaces_at = {{"switchboard.toml", 40, 13}};
    set.policy_renames = sla::policy_renames(set.policies);
    const auto missing = sla::missing_names(set, {clock, first, first});
    REQUIRE(missing.size() == 1);
    CHECK(missing[0].kind == sla::missing_name::what::metric);
    CHECK(missing[0].name == "gold");
    CHECK(missing[0].metric == model::sla_metric::first_response);
    CHECK(missing[0].open_clocks == 2);
    try {
      sla::refuse_missing(set, missing);
      FAIL("refuse_missing did not throw");
    } catch (const config::error& e) {
      CHECK(std::string(e.what()).starts_with(
          "switchboard.toml:40:13: SLA policy \"standard\" replaces \"gold\", whose 2 open SLA clocks count "
          "first_response, but has no first_response metric; add { metric = \"first_response\", target = \"...\" } to its "
          "metrics, or keep \"gold\" for them"));
    }
  }

  TEST_CASE("two replaced policies lacking a metric are each refused on their own line, at their own entry") {
    auto set = set_with(office(), 4h);
    auto gold = started(set, at("2026-12-23T15:00:00Z"));
    gold.policy = "gold";
    gold.metric = model::sla_metric::first_response;
    auto silver = gold;
    silver.policy = "silver";
    set.policies.front().replaces = {"gold", "silver"};
    set.policies.front().replaces_at = {{"switchboard.toml", 127, 13}, {"switchboard.toml", 127, 21}};
    set.policy_renames = sla::policy_renames(set.policies);
    try {
      sla::refuse_missing(set, sla::missing_names(set, {gold, silver}));
      FAIL("refuse_missing did not throw");
    } catch (const config::error& e) {
      const std::string what = e.what();
      CHECK_MESSAGE(what.starts_with("switchboard.toml:127:13: SLA policy \"standard\" replaces \"gold\""), what);
      CHECK_MESSAGE(what.find("\nswitchboard.toml:127:21: SLA policy \"standard\" replaces \"silver\"") != std::string::npos,
                    what);
    }
  }

  TEST_CASE("a policy that keeps its name but drops a metric its open clocks count is refused at its name") {
    auto set = set_with(office(), 4h);
    auto clock = started(set, at("2026-12-23T15:00:00Z"));
    auto first = clock;
    first.metric = model::sla_metric::first_response;  // "standard" has only resolution now
    set.policies.front().at = {"switchboard.toml", 31, 8};
    const auto missing = sla::missing_names(set, {clock, first});
    REQUIRE(missing.size() == 1);
    CHECK(missing[0].kind == sla::missing_name::what::metric);
    CHECK(missing[0].name == "standard");
    CHECK(missing[0].metric == model::sla_metric::first_response);
    CHECK(missing[0].open_clocks == 1);
    try {
      sla::refuse_missing(set, missing);
      FAIL("refuse_missing did not throw");
    } catch (const config::error& e) {
      CHECK(std::string(e.what()) ==
            "switchboard.toml:31:8: SLA policy \"standard\" has no first_response metric, but 1 open SLA clock of it "
            "counts first_response; add { metric = \"first_response\", target = \"...\" } back to its metrics until "
            "they are met");
    }
    // Met clocks need nothing: a policy may drop a metric once no open clock counts it.
    first.completed = true;
    CHECK(sla::missing_names(set, {clock, first}).empty());
  }
}

TEST_SUITE("sla::clock") {
  TEST_CASE("paused business time: counted over a calendar close and a holiday, added on resume and on completion") {
    // Weekdays 09:00-17:00 UTC; Wednesday 25 November 2026 a holiday.
    const auto set = set_with(office({2026y / November / 25}), 40h);
    const auto& calendar = set.calendar("office");
    auto clock = started(set, at("2026-11-23T09:00:00Z"));
    CHECK(clock.started_at == at("2026-11-23T09:00:00Z"));
    CHECK_FALSE(clock.paused_seconds);
    // Paused Monday 16:00 to Tuesday 10:00: one business hour before the close, one after the
    // opening; the night does not count.
    REQUIRE(sla::pause(clock, calendar, at("2026-11-23T16:00:00Z")));
    REQUIRE(sla::resume(clock, calendar, at("2026-11-24T10:00:00Z")));
    REQUIRE(clock.paused_seconds);
    CHECK(*clock.paused_seconds == 2h);
    // Paused Tuesday 16:30 to Thursday 09:30 over the holiday: 30 + 30 minutes.
    REQUIRE(sla::pause(clock, calendar, at("2026-11-24T16:30:00Z")));
    REQUIRE(sla::resume(clock, calendar, at("2026-11-26T09:30:00Z")));
    CHECK(*clock.paused_seconds == 3h);
    // Completed while paused: the last stretch is added too.
    REQUIRE(sla::pause(clock, calendar, at("2026-11-26T10:00:00Z")));
    sla::complete(clock, calendar, at("2026-11-26T11:15:00Z"));
    CHECK(*clock.paused_seconds == 4h + 15min);
    CHECK(clock.completed);
    // A reopen keeps the start.
    sla::reopen(clock, calendar, at("2026-11-27T09:00:00Z"));
    CHECK(clock.started_at == at("2026-11-23T09:00:00Z"));
    CHECK(*clock.paused_seconds == 4h + 15min);
  }

  TEST_CASE("started_at and paused_seconds round-trip through the codec, and a clock without them writes neither") {
    const auto set = set_with(office(), 40h);
    const auto& calendar = set.calendar("office");
    auto clock = started(set, at("2026-11-23T09:00:00Z"));
    REQUIRE(sla::pause(clock, calendar, at("2026-11-23T10:00:00Z")));
    REQUIRE(sla::resume(clock, calendar, at("2026-11-23T10:30:00Z")));
    const auto json = codec::to_json(clock);
    CHECK(json.at("started_at") == "2026-11-23T09:00:00Z");
    CHECK(json.at("paused_seconds") == 1800);
    const auto back = codec::sla_clock_from_json(json);
    CHECK(back.started_at == clock.started_at);
    CHECK(back.paused_seconds == clock.paused_seconds);
    auto old = clock;
    old.started_at.reset();
    old.paused_seconds.reset();
    const auto old_json = codec::to_json(old);
    CHECK_FALSE(old_json.contains("started_at"));
    CHECK_FALSE(old_json.contains("paused_seconds"));
  }
}
