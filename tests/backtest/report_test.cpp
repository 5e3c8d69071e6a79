// backtest::run and the report (issue 15 W6): two replays of hand-made inputs on the test policy,
// compared. Expected values are written here from the test policy's numbers (test_policy.hpp),
// not computed by the code under test.
#include "backtest/report.hpp"

#include "calendar/calendar.hpp"
#include "config/toml.hpp"
#include "model/instant.hpp"
#include "rules/loader.hpp"
#include "support/policy.hpp"
#include "support/test_policy.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

using namespace switchboard;
using namespace std::chrono_literals;
using engine::action_kind;
using model::role;

namespace {

const model::instant t0 = *model::parse_instant("2026-12-01T10:00:00Z");

backtest::input filing(model::request_id id, std::int64_t seq, model::request_kind kind, model::instant at) {
  backtest::input in;
  in.request = id;
  in.seq = seq;
  in.at = at;
  in.actor = "ce:dana";
  in.command = engine::file_request{testing::make_input(kind), {"dana", role::ce}};
  return in;
}

backtest::input respond(model::request_id id, std::int64_t seq, model::instant at, model::actor by = {"sam", role::se}) {
  backtest::input in;
  in.request = id;
  in.seq = seq;
  in.at = at;
  in.actor = engine::actor_label(by);
  in.command = engine::act_on_request{action_kind::respond, {.message = "here"}, by};
  return in;
}

// Three requests: 1 (troubleshooting) answered after 20 minutes, 2 (troubleshooting) after 50,
// 3 (how-to) never; replayed to t0 + 2h.
backtest::history three() {
  backtest::history h;
  h.inputs = {filing(1, 1, model::request_kind::troubleshooting, t0), filing(2, 2, model::request_kind::troubleshooting, t0),
              filing(3, 3, model::request_kind::how_to, t0), respond(1, 4, t0 + 20min), respond(2, 5, t0 + 50min)};
  h.filed = {1, 2, 3};
  h.as_of = t0 + 2h;
  h.horizon_seq = 5;
  return h;
}

const backtest::window window{t0, t0 + 1h, std::nullopt};

// The test policy's only calendar (UTC) defines the weeks.
backtest::run_options on_24x7() {
  backtest::run_options options;
  options.calendar = "24x7";
  return options;
}

engine::policy with_routing(std::string_view text) {
  auto p = testing::test_policy();
  p.routing = rules::load_rules(config::parse_text(text, "proposed"), "proposed", rules::vocabulary{{"premium"}});
  return p;
}

engine::policy with_first_response(std::chrono::seconds target) {
  auto p = testing::test_policy();
  for (auto& policy : p.sla.policies)
    for (auto& metric : policy.metrics)
      if (metric.metric == model::sla_metric::first_response) metric.target = target;
  return p;
}

}  // namespace

TEST_SUITE("backtest::report") {
  TEST_CASE("the same policy on both sides changes nothing") {
    const auto h = three();
    const auto r = backtest::run(h, window, testing::test_policy(), testing::test_policy(), on_24x7());
    CHECK(r.requests == 3);
    CHECK(r.inputs_replayed == 5);
    CHECK(r.as_of == t0 + 2h);
    CHECK(r.routing.changed == 0);
    CHECK(r.sla.to_met.empty());
    CHECK(r.sla.to_breached.empty());
    CHECK(r.escalations.only_current.empty());
    CHECK(r.escalations.only_proposed.empty());
    CHECK(r.actions.not_applicable.empty());
    CHECK(r.sla.paired == 2);
    // 1h target: 40 and 10 minutes left; the median by nearest rank of two is the lower.
    REQUIRE(r.sla.current_median_left);
    CHECK(*r.sla.current_median_left == 10min);
    // Request 3 breached its first response at t0 + 1h, which the record does not say: drift 1.
    CHECK(r.drift == 1);
  }

  TEST_CASE("a moved rule: the requests it moves, by owner and by rule, and SE's answers replayed as CE") {
    const auto proposed = with_routing(R"(
[[rule]]
name = "everything-to-ce"
reason = "CE first."
when = { field = "kind", op = "in", value = ["how_to", "troubleshooting"] }
then = { owner = "ce" }

[fallback]
reason = "SE triages what no rule routes."
then = { owner = "se" }
)");
    const auto r = backtest::run(three(), window, testing::test_policy(), proposed, on_24x7());
    CHECK(r.routing.changed == 3);
    REQUIRE(r.routing.by_owner.size() == 2);
    CHECK(r.routing.by_owner[0].current == model::team::ce);
    CHECK(r.routing.by_owner[0].proposed == model::team::ce);
    CHECK(r.routing.by_owner[0].count == 1);  // the how-to: same owner, another rule
    CHECK(r.routing.by_owner[1].current == model::team::se);
    CHECK(r.routing.by_owner[1].proposed == model::team::ce);
    CHECK(r.routing.by_owner[1].count == 2);
    REQUIRE(r.routing.by_rule.size() == 2);
    CHECK(r.routing.by_rule[0].current == "questions-and-ideas-to-ce");
    CHECK(r.routing.by_rule[0].proposed == "everything-to-ce");
    CHECK(r.routing.by_rule[0].count == 1);
    CHECK(r.routing.by_rule[1].current == "troubleshooting-to-se");
    CHECK(r.routing.by_rule[1].proposed == "everything-to-ce");
    CHECK(r.routing.by_rule[1].count == 2);
    REQUIRE(r.routing.requests.size() == 3);
    CHECK(r.routing.requests[0].id == 1);
    CHECK(r.routing.requests[2].id == 3);
    // Each with the proposed rules' trace: the first rule matched.
    for (const auto& changed : r.routing.requests) {
      REQUIRE(changed.proposed_trace.size() == 1);
      CHECK(changed.proposed_trace[0].rule.view() == "everything-to-ce");
      CHECK(changed.proposed_trace[0].matched);
    }
    // SE's two answers on what CE owns now: replayed as CE, so nothing flips.
    CHECK(r.actions.replayed_as_owner == 2);
    CHECK(r.sla.to_breached.empty());
  }

  TEST_CASE("a lowered first-response target: the flips to breached and the time left, negative when late") {
    const auto r = backtest::run(three(), window, testing::test_policy(), with_first_response(30min), on_24x7());
    // Request 2 answered at 50 minutes: met under 1h, breached under 30 minutes. Request 3 was
    // never answered: breached on both sides.
    REQUIRE(r.sla.to_breached.size() == 1);
    CHECK(r.sla.to_breached[0].id == 2);
    CHECK(r.sla.to_breached[0].metric == model::sla_metric::first_response);
    CHECK(r.sla.to_met.empty());
    CHECK(r.sla.paired == 2);
    REQUIRE(r.sla.proposed_median_left);
    CHECK(*r.sla.proposed_median_left == -20min);  // 10 and -20 minutes left
    const auto row = std::find_if(r.sla.by_policy_metric.begin(), r.sla.by_policy_metric.end(), [](const auto& m) {
      return m.metric == model::sla_metric::first_response;
    });
    REQUIRE(row != r.sla.by_policy_metric.end());
    CHECK(row->current == backtest::side_counts{2, 1, 0});
    CHECK(row->proposed == backtest::side_counts{1, 2, 0});
    // The breach of request 2 opened the sla_breach ladder: its first level, at the breach, is
    // sent only under proposed; request 1 notified nobody on either side.
    backtest::notification_sent first_level;
    first_level.request = 2;
    first_level.ladder = "sla_breach";
    first_level.level = 1;
    first_level.at = t0 + 30min;
    CHECK(std::count(r.escalations.only_proposed.begin(), r.escalations.only_proposed.end(), first_level) == 1);
    for (const auto& n : r.escalations.only_current) CHECK(n.request == 3);
    for (const auto& n : r.escalations.only_proposed) CHECK(n.request != 1);
    // Tuesday 2026-12-01 is in ISO week 49: request 3's breach on both sides, request 2's on one.
    REQUIRE(r.breaches_by_week.size() == 1);
    CHECK(r.breaches_by_week[0].key == "2026-W49");
    CHECK(r.breaches_by_week[0].start == *model::parse_instant("2026-11-30T00:00:00Z"));
    CHECK(r.breaches_by_week[0].current == 1);
    CHECK(r.breaches_by_week[0].proposed == 2);
  }

  TEST_CASE("load at each business day's close on both sides, and a day the proposed calendar closes") {
    // "night" (20:00-24:00 UTC every day) is the report calendar; proposed, 2026-12-02 is a
    // holiday on it. Replayed to Thursday 02:00, so two closes: Tuesday's and Wednesday's midnight.
    auto current = testing::test_policy();
    testing::add_night_calendar(current);
    auto proposed = testing::test_policy();
    calendar::calendar_spec night{"night", "UTC", {}, {std::chrono::year{2026} / 12 / 2}};
    for (unsigned day = 0; day < 7; ++day) night.shifts.push_back(calendar::daily_shift(std::chrono::weekday{day}, 20h, 24h));
    proposed.sla.calendars.emplace("night", calendar::business_calendar::make(std::move(night)));
    auto h = three();
    // Request 2 resolved on Wednesday at noon: open at Tuesday's close, not at Wednesday's.
    backtest::input resolve;
    resolve.request = 2;
    resolve.seq = 6;
    resolve.at = *model::parse_instant("2026-12-02T12:00:00Z");
    resolve.actor = "se:sam";
    resolve.command = engine::act_on_request{action_kind::resolve, {.message = "fixed"}, {"sam", role::se}};
    h.inputs.push_back(resolve);
    h.as_of = *model::parse_instant("2026-12-03T02:00:00Z");
    auto options = on_24x7();
    options.calendar = "night";
    const auto r = backtest::run(h, window, current, proposed, options);
    REQUIRE(r.load.size() == 2);
    CHECK(r.load[0].date == "2026-12-01");
    CHECK(r.load[0].close == *model::parse_instant("2026-12-02T00:00:00Z"));
    CHECK_FALSE(r.load[0].closed_in_proposed);
    REQUIRE(r.load[0].teams.size() == 2);
    CHECK(r.load[0].teams[0].team == model::team::ce);  // the how-to
    CHECK(r.load[0].teams[0].current == 1);
    CHECK(r.load[0].teams[0].proposed == 1);
    CHECK(r.load[0].teams[1].team == model::team::se);  // requests 1 and 2
    CHECK(r.load[0].teams[1].current == 2);
    CHECK(r.load[0].teams[1].proposed == 2);
    CHECK(r.load[1].date == "2026-12-02");
    CHECK(r.load[1].closed_in_proposed);
    REQUIRE(r.load[1].teams.size() == 2);
    CHECK(r.load[1].teams[1].current == 1);
  }

  TEST_CASE("ISO weeks in America/Los_Angeles across New Year: 2026 has a week 53") {
    const std::string zone = "America/Los_Angeles";
    // Thursday 2026-12-31 23:59:59 PST.
    const auto last = backtest::iso_week(*model::parse_instant("2027-01-01T07:59:59Z"), zone);
    CHECK(last.first == "2026-W53");
    CHECK(last.second == *model::parse_instant("2026-12-28T08:00:00Z"));
    // Sunday 2027-01-03 is still in it; Monday 2027-01-04 00:00 PST begins 2027-W01.
    CHECK(backtest::iso_week(*model::parse_instant("2027-01-04T07:59:59Z"), zone).first == "2026-W53");
    CHECK(backtest::iso_week(*model::parse_instant("2027-01-04T08:00:00Z"), zone).first == "2027-W01");
    // Monday 2026-03-09, the day after DST began: midnight is 07:00 UTC.
    CHECK(backtest::iso_week(*model::parse_instant("2026-03-12T12:00:00Z"), zone).second ==
          *model::parse_instant("2026-03-09T07:00:00Z"));
    CHECK_THROWS_AS(backtest::iso_week(*model::parse_instant("2026-03-12T12:00:00Z"), "Mars/Olympus"),
                    std::invalid_argument);
  }

  TEST_CASE("progress counts both sides' inputs and ends at the total, and an unknown report calendar is refused") {
    std::vector<std::pair<std::size_t, std::size_t>> calls;
    std::mutex lock;
    auto options = on_24x7();
    options.progress = [&](std::size_t done, std::size_t total) {
      std::lock_guard guard(lock);
      calls.emplace_back(done, total);
    };
    backtest::run(three(), window, testing::test_policy(), testing::test_policy(), options);
    REQUIRE_FALSE(calls.empty());
    CHECK(calls.back() == std::pair<std::size_t, std::size_t>{10, 10});
    CHECK_THROWS_AS(backtest::run(three(), window, testing::test_policy(), testing::test_policy()), std::invalid_argument);
  }

  TEST_CASE("a stopped run throws and reports no result") {
    std::stop_source stop;
    stop.request_stop();
    auto options = on_24x7();
    options.stop = stop.get_token();
    CHECK_THROWS_AS(backtest::run(three(), window, testing::test_policy(), testing::test_policy(), options),
                    backtest::run_stopped);
  }
}
