#include "engine/capacity.hpp"

#include "model/instant.hpp"
#include "support/events.hpp"
#include "support/policy.hpp"
#include "support/test_policy.hpp"

#include <doctest/doctest.h>

#include <map>

namespace switchboard {
namespace {

using namespace std::chrono_literals;
using model::role;
using model::team;

const model::instant filed_at = *model::parse_instant("2026-12-01T10:00:00Z");

// Loads and answers written in the test, and which questions were asked.
struct fake_loads final : engine::load_view {
  std::map<team, int> before;
  std::map<team, int> after;
  std::map<team, bool> unresolved;
  std::vector<model::request_id> order{5, 7, 3};
  std::vector<team> ordered_for;

  int open_before(team t) override { return before.contains(t) ? before.at(t) : 0; }
  int open_after(team t) override { return after.contains(t) ? after.at(t) : 0; }
  bool capacity_unresolved(team t) override { return unresolved.contains(t) && unresolved.at(t); }
  std::vector<model::request_id> breach_order(team t) override {
    ordered_for.push_back(t);
    return order;
  }
};

// A troubleshooting request filed on the test policy (SE owns it), as its recording left it.
engine::outcome filed(model::request_id id) {
  auto input = testing::make_input(model::request_kind::troubleshooting);
  return engine::decide(testing::test_policy(), engine::file_request{input, {"dana", role::ce}}, id, filed_at);
}

std::vector<engine::recorded> changes_of(const engine::outcome& out) {
  return {{out.state, out.events}};
}

std::vector<std::string> types_of(const std::vector<engine::event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(testing::type_of(e));
  return out;
}

}  // namespace

TEST_SUITE("engine::capacity") {
  TEST_CASE("a filing that takes SE over its threshold opens the capacity escalation on it, with the breach order") {
    const auto out = filed(9);
    fake_loads loads;
    loads.before[team::se] = 2;  // the test policy's SE threshold
    loads.after[team::se] = 3;
    const auto decided = engine::after_recording(testing::test_policy(), changes_of(out), loads);
    REQUIRE(decided.size() == 1);
    CHECK(decided[0].change == 0);
    const auto& events = decided[0].escalation.events;
    CHECK(types_of(events) == std::vector<std::string>{"escalation.triggered", "escalation.notified"});
    for (const auto& e : events) {
      CHECK(e.request == 9);
      CHECK(e.at == filed_at);
      CHECK(e.actor == "system");
    }
    const auto& triggered = std::get<model::escalation_triggered>(events[0].data);
    CHECK(triggered.whole.ladder == "capacity");
    CHECK(triggered.whole.id == "9-1");
    CHECK(triggered.whole.team == team::se);
    CHECK(triggered.whole.related == std::vector<model::request_id>{5, 7, 3});
    CHECK(triggered.whole.reason == "se has 3 open requests, over its threshold of 2: Head of CS sets the order of work");
    const auto& notified = std::get<model::escalation_notified>(events[1].data);
    CHECK(notified.notified == std::vector<role>{role::head_of_cs});
    CHECK(loads.ordered_for == std::vector<team>{team::se});
  }

  TEST_CASE("no escalation at the threshold, without a rise, or while one is unresolved") {
    const auto out = filed(9);
    fake_loads at_threshold;
    at_threshold.before[team::se] = 1;
    at_threshold.after[team::se] = 2;
    CHECK(engine::after_recording(testing::test_policy(), changes_of(out), at_threshold).empty());

    fake_loads no_rise;
    no_rise.before[team::se] = 3;
    no_rise.after[team::se] = 3;
    CHECK(engine::after_recording(testing::test_policy(), changes_of(out), no_rise).empty());

    fake_loads unresolved;
    unresolved.before[team::se] = 2;
    unresolved.after[team::se] = 3;
    unresolved.unresolved[team::se] = true;
    CHECK(engine::after_recording(testing::test_policy(), changes_of(out), unresolved).empty());
    // The breach order is built only for a crossing.
    CHECK(at_threshold.ordered_for.empty());
    CHECK(no_rise.ordered_for.empty());
    CHECK(unresolved.ordered_for.empty());
  }

  TEST_CASE("engage_engineering: the interrupt it opens takes Engineering over, and the escalation lands on it") {
    auto policy = testing::test_policy();
    policy.ladders.at("capacity").thresholds = {{team::se, 2}, {team::engineering, 0}};
    const auto parent = filed(7).state;
    auto decided = engine::decide(policy, parent,
                                  {engine::action_kind::engage_engineering, {.message = "indexer panics"}, {"sam", role::se}},
                                  filed_at + 10min, 8);
    REQUIRE(std::holds_alternative<engine::outcome>(decided));
    const auto& out = std::get<engine::outcome>(decided);
    REQUIRE(out.created.has_value());
    std::vector<engine::event> parent_events, child_events;
    for (const auto& e : out.events) (e.request == 8 ? child_events : parent_events).push_back(e);
    const std::vector<engine::recorded> changes{{out.state, parent_events}, {*out.created, child_events}};
    fake_loads loads;
    loads.before = {{team::se, 1}, {team::engineering, 0}};
    loads.after = {{team::se, 1}, {team::engineering, 1}};
    const auto capacity = engine::after_recording(policy, changes, loads);
    REQUIRE(capacity.size() == 1);
    CHECK(capacity[0].change == 1);
    const auto& events = capacity[0].escalation.events;
    CHECK(types_of(events) == std::vector<std::string>{"escalation.triggered", "escalation.notified"});
    const auto& triggered = std::get<model::escalation_triggered>(events[0].data);
    CHECK(triggered.whole.id == "8-1");
    CHECK(triggered.whole.team == team::engineering);
    CHECK(events[0].request == 8);
    CHECK(events[0].at == filed_at + 10min);
    CHECK(capacity[0].escalation.state.id == 8);
    CHECK(capacity[0].escalation.state.status == model::request_status::escalated);
  }

  TEST_CASE("two teams crossing in one recording get one escalation each, in team order") {
    auto policy = testing::test_policy();
    policy.ladders.at("capacity").thresholds = {{team::se, 0}, {team::engineering, 0}};
    const auto parent = filed(7).state;
    auto decided = engine::decide(policy, parent,
                                  {engine::action_kind::engage_engineering, {.message = "help"}, {"sam", role::se}},
                                  filed_at + 10min, 8);
    const auto& out = std::get<engine::outcome>(decided);
    std::vector<engine::event> parent_events, child_events;
    for (const auto& e : out.events) (e.request == 8 ? child_events : parent_events).push_back(e);
    const std::vector<engine::recorded> changes{{out.state, parent_events}, {*out.created, child_events}};
    fake_loads loads;
    loads.before = {{team::se, 0}, {team::engineering, 0}};
    loads.after = {{team::se, 1}, {team::engineering, 1}};
    const auto capacity = engine::after_recording(policy, changes, loads);
    REQUIRE(capacity.size() == 2);
    CHECK(capacity[0].change == 0);
    CHECK(capacity[1].change == 1);
    CHECK(loads.ordered_for == std::vector<team>{team::se, team::engineering});
  }
}

}  // namespace switchboard
