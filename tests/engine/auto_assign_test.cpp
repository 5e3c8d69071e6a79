// engine::auto_assign: each strategy, skills, off shift, at capacity, nobody qualifying, and the
// trace it leaves. The people and their counts are written here.
#include "engine/assignment.hpp"

#include "model/instant.hpp"
#include "support/policy.hpp"
#include "support/test_policy.hpp"

#include <doctest/doctest.h>

#include <chrono>

using namespace std::chrono_literals;

namespace switchboard {
namespace {

using model::role;

// 10:00 UTC on a Tuesday: the "night" calendar (20:00-24:00 UTC) is closed until 20:00.
const model::instant now = *model::parse_instant("2026-12-01T10:00:00Z");

// The test policy with SE members ana, lee (night shift) and sam, a CE member carl, and SE's
// assignment set to `strategy`. Capacities and skills as given (none: no limit, no skills).
engine::policy policy_with(model::assignment_strategy strategy, bool skills = false,
                           std::map<std::string, int> capacities = {},
                           std::map<std::string, std::vector<std::string>> skill_sets = {}) {
  auto p = testing::test_policy();
  testing::add_night_calendar(p);
  for (auto person : {testing::person_of("ana", {role::se}, model::team::se),
                      testing::person_of("lee", {role::se}, model::team::se, {}, "night"),
                      testing::person_of("sam", {role::se}, model::team::se),
                      testing::person_of("carl", {role::ce}, model::team::ce)}) {
    if (const auto c = capacities.find(person.id); c != capacities.end()) person.capacity = c->second;
    if (const auto s = skill_sets.find(person.id); s != skill_sets.end()) person.skills = s->second;
    p.people.by_id.emplace(person.id, person);
  }
  p.assignment[model::team::se] = {strategy, skills};
  return p;
}

model::request filed(const engine::policy& policy, std::string use_case = "") {
  auto input = testing::make_input(model::request_kind::troubleshooting);
  input.use_case = std::move(use_case);
  return engine::decide(policy, engine::file_request{input, {"dana", role::ce}}, 1, now).state;
}

const model::assignment_consideration& line_of(const model::request_assigned& e, std::string_view person) {
  for (const auto& c : e.considered)
    if (c.person == person) return c;
  FAIL("no trace line for " << person);
  throw;
}

const model::request_assigned& assigned_event(const engine::auto_assignment& a) {
  REQUIRE(a.assigned.events.size() == 1);
  const auto* e = std::get_if<model::request_assigned>(&a.assigned.events.front().data);
  REQUIRE(e != nullptr);
  return *e;
}

}  // namespace
}  // namespace switchboard

using namespace switchboard;

TEST_SUITE("engine::auto_assign") {
  TEST_CASE("round_robin takes the next on-shift member after the last chosen, wrapping, and skips one off shift") {
    const auto policy = policy_with(model::assignment_strategy::round_robin);
    const auto request = filed(policy);
    REQUIRE(request.owner == model::team::se);
    REQUIRE(engine::wants_auto_assignment(policy, request, engine::decide(policy, engine::file_request{request.input, {"dana", role::ce}}, 1, now).events));

    const auto first = engine::auto_assign(policy, request, {}, now);
    REQUIRE(first.has_value());
    CHECK(first->person == "ana");
    const auto after_ana = engine::auto_assign(policy, request, {{}, "ana"}, now);
    REQUIRE(after_ana.has_value());
    CHECK(after_ana->person == "sam");  // lee is next in id order, but off shift
    const auto after_sam = engine::auto_assign(policy, request, {{}, "sam"}, now);
    REQUIRE(after_sam.has_value());
    CHECK(after_sam->person == "ana");  // wraps around

    const auto& e = assigned_event(*after_ana);
    CHECK(e.how == "auto");
    CHECK(e.assignee == "sam");
    CHECK(e.previous.empty());
    CHECK(e.common.status == request.status);
    CHECK(after_ana->assigned.events.front().actor == "system");
    CHECK(after_ana->assigned.state.assignee == "sam");
    REQUIRE(e.considered.size() == 3);  // SE's members only: carl works CE
    CHECK(line_of(e, "sam").chosen);
    CHECK(line_of(e, "sam").why == "chosen: round_robin, next after ana");
    CHECK_FALSE(line_of(e, "lee").chosen);
    CHECK(line_of(e, "lee").why == "off shift until 2026-12-01T20:00:00Z");
    CHECK(line_of(e, "ana").why == "on shift, not next in turn");
  }

  TEST_CASE("least_loaded takes the lowest share of capacity, then the fewest open, then the lowest id") {
    const auto policy = policy_with(model::assignment_strategy::least_loaded, false, {{"ana", 60}, {"sam", 40}});
    const auto request = filed(policy);
    // 30/60 is more than 19/40: sam.
    auto chosen = engine::auto_assign(policy, request, {{{"ana", 30}, {"sam", 19}}, ""}, now);
    REQUIRE(chosen.has_value());
    CHECK(chosen->person == "sam");
    CHECK(line_of(assigned_event(*chosen), "sam").why == "chosen: least_loaded, 19 of 40 open");
    CHECK(line_of(assigned_event(*chosen), "ana").why == "more loaded (30 of 60 open)");
    // 30/60 equals 20/40: the share ties, and sam has fewer open.
    chosen = engine::auto_assign(policy, request, {{{"ana", 30}, {"sam", 20}}, ""}, now);
    REQUIRE(chosen.has_value());
    CHECK(chosen->person == "sam");
    // Nothing open anywhere: the lowest id.
    chosen = engine::auto_assign(policy, request, {}, now);
    REQUIRE(chosen.has_value());
    CHECK(chosen->person == "ana");
  }

  TEST_CASE("a member at capacity is skipped, and the trace says so") {
    const auto policy = policy_with(model::assignment_strategy::round_robin, false, {{"ana", 2}, {"sam", 5}});
    const auto request = filed(policy);
    const auto chosen = engine::auto_assign(policy, request, {{{"ana", 2}, {"sam", 1}}, ""}, now);
    REQUIRE(chosen.has_value());
    CHECK(chosen->person == "sam");
    CHECK(line_of(assigned_event(*chosen), "ana").why == "at capacity (2 of 2 open)");
  }

  TEST_CASE("nobody qualifies: off shift or at capacity, the request stays unassigned") {
    const auto policy = policy_with(model::assignment_strategy::least_loaded, false, {{"ana", 1}, {"sam", 0}});
    const auto request = filed(policy);
    const auto nobody = engine::auto_assign(policy, request, {{{"ana", 1}}, ""}, now);
    REQUIRE(nobody.has_value());
    CHECK(nobody->person.empty());
    // Traced all the same: the history says why it waits, member by member.
    REQUIRE(nobody->assigned.events.size() == 1);
    const auto* left = std::get_if<model::request_left_unassigned>(&nobody->assigned.events.front().data);
    REQUIRE(left != nullptr);
    CHECK(left->reason == "[assignment.se]: nobody of the se team is on shift and under capacity");
    REQUIRE(left->considered.size() == 3);
    for (const auto& line : left->considered) {
      CAPTURE(line.person);
      CHECK_FALSE(line.chosen);
      CHECK_FALSE(line.why.empty());
    }
    CHECK(nobody->assigned.state.assignee.empty());
    // At 20:00 lee's shift opens, and lee qualifies.
    const auto evening = engine::auto_assign(policy, request, {{{"ana", 1}}, ""}, now + 10h);
    REQUIRE(evening.has_value());
    CHECK(evening->person == "lee");
  }

  TEST_CASE("skills: a member with the use case is preferred, and without one on shift anyone qualifying is chosen") {
    const auto policy = policy_with(model::assignment_strategy::round_robin, true, {},
                                    {{"sam", {"search"}}, {"lee", {"search", "sso"}}});
    const auto search = filed(policy, "search");
    for (const auto* last : {"", "ana", "sam"}) {
      const auto chosen = engine::auto_assign(policy, search, {{}, last}, now);
      REQUIRE(chosen.has_value());
      CHECK(chosen->person == "sam");
      CHECK(line_of(assigned_event(*chosen), "ana").why == "lacks skill search");
      CHECK(line_of(assigned_event(*chosen), "sam").why.find("has skill search") != std::string::npos);
    }
    // sso: only lee has it, and lee is off shift: round robin over everyone on shift.
    const auto sso = filed(policy, "sso");
    const auto chosen = engine::auto_assign(policy, sso, {{}, "ana"}, now);
    REQUIRE(chosen.has_value());
    CHECK(chosen->person == "sam");
    CHECK(line_of(assigned_event(*chosen), "sam").why.find("nobody qualifying has skill sso") != std::string::npos);
    // Without a use case skills change nothing.
    const auto plain = engine::auto_assign(policy, filed(policy), {{}, "ana"}, now);
    REQUIRE(plain.has_value());
    CHECK(plain->person == "sam");
  }

  TEST_CASE("no strategy for the team, an assigned request or a CE request is not assigned automatically") {
    auto policy = policy_with(model::assignment_strategy::round_robin);
    auto request = filed(policy);
    const auto events = engine::decide(policy, engine::file_request{request.input, {"dana", role::ce}}, 1, now).events;
    CHECK(engine::wants_auto_assignment(policy, request, events));
    request.assignee = "sam";
    CHECK_FALSE(engine::wants_auto_assignment(policy, request, events));
    request.assignee.clear();
    CHECK_FALSE(engine::wants_auto_assignment(policy, request, {}));  // nothing filed or moved
    // A reopening asks again (a request left unassigned when resolved); a customer's reply does not.
    const auto returned = [&](bool reopened) {
      model::request_returned data;
      data.reopened = reopened;
      engine::event e;
      e.request = request.id;
      e.at = now;
      e.data = std::move(data);
      return std::vector<engine::event>{std::move(e)};
    };
    CHECK(engine::wants_auto_assignment(policy, request, returned(true)));
    CHECK_FALSE(engine::wants_auto_assignment(policy, request, returned(false)));
    policy.assignment.clear();
    CHECK_FALSE(engine::wants_auto_assignment(policy, request, events));
    CHECK_FALSE(engine::auto_assign(policy, request, {}, now).has_value());
  }
}
