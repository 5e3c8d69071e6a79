#include "engine/engine.hpp"

#include "codec/json.hpp"
#include "support/events.hpp"
#include "support/policy.hpp"
#include "util/text.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace switchboard;
using testing::make_input;

TEST_SUITE("engine") {
  const model::instant now{std::chrono::seconds{1795000000}};

  TEST_CASE("SE's first-contact template, shipped and default, uses none of the loaded terms it would flag in a CE") {
    const auto& shipped = testing::shipped_policy().workflow;
    const engine::workflow_settings defaults;
    REQUIRE(shipped.loaded_terms.size() >= defaults.loaded_terms.size());
    for (const auto* workflow : {&shipped, &defaults}) {
      const auto text = util::fold(workflow->first_contact_template);
      CHECK(text.find("in a few hours at most") != std::string::npos);
      for (const auto& term : shipped.loaded_terms) {
        CAPTURE(term);
        CHECK(text.find(util::fold(term)) == std::string::npos);
      }
    }
  }

  TEST_CASE("filing a request yields created then routed, at the command's instant") {
    const auto events = engine::decide(testing::shipped_policy(), {make_input(model::request_kind::how_to), model::actor{"dana", model::role::ce}},
                                       42, now).events;
    REQUIRE(events.size() == 2);
    CHECK(testing::type_of(events[0]) == "request.created");
    CHECK(events[0].request == 42);
    CHECK(events[0].actor == "ce:dana");
    CHECK(testing::type_of(events[1]) == "request.routed");
    CHECK(events[1].at == now);
  }

  TEST_CASE("folding the events gives the routed request") {
    struct expectation {
      model::request_kind kind;
      model::team owner;
    };
    for (auto [kind, owner] : {expectation{model::request_kind::how_to, model::team::ce},
                               expectation{model::request_kind::feature_request, model::team::product},
                               expectation{model::request_kind::troubleshooting, model::team::se},
                               expectation{model::request_kind::engineering_interrupt, model::team::se},
                               expectation{model::request_kind::concern, model::team::ce}}) {
      const auto kind_name = model::to_string(kind);  // named: clang 14 cannot capture a structured binding
      CAPTURE(kind_name);
      model::request state;
      for (const auto& e : engine::decide(testing::shipped_policy(), {make_input(kind), model::actor{"dana", model::role::ce}}, 7, now).events)
        engine::apply(state, e);
      CHECK(state.id == 7);
      CHECK(state.owner == owner);
      CHECK(state.status == model::request_status::open);
      CHECK(state.created_at == now);
      CHECK_FALSE(state.routing.trace.empty());
      CHECK(state.input.kind == kind);
    }
  }

  TEST_CASE("an outcome's states are the fold of its events, the created request's too") {
    const auto& policy = testing::shipped_policy();
    const auto filed = engine::decide(policy, {make_input(model::request_kind::troubleshooting), {"dana", model::role::ce}}, 7, now);
    model::request folded;
    for (const auto& e : filed.events) engine::apply(folded, e);
    CHECK(codec::to_json(filed.state) == codec::to_json(folded));
    CHECK_FALSE(filed.created);

    const auto later = now + std::chrono::minutes{5};
    const auto raised = engine::decide(policy, filed.state,
                                       {engine::action_kind::raise_concern, {.message = "not in the customer's interest"},
                                        {"avery", model::role::ae}},
                                       later, 8);
    REQUIRE(std::holds_alternative<engine::outcome>(raised));
    const auto& outcome = std::get<engine::outcome>(raised);
    REQUIRE(outcome.created);
    model::request about = filed.state, concern;
    for (const auto& e : outcome.events) engine::apply(e.request == 7 ? about : concern, e);
    CHECK(codec::to_json(outcome.state) == codec::to_json(about));
    CHECK(codec::to_json(*outcome.created) == codec::to_json(concern));
    CHECK(outcome.created->id == 8);
    CHECK(outcome.created->parent == 7);
    CHECK(outcome.state.children == std::vector<model::request_id>{8});
  }

  TEST_CASE("an unknown event type is refused, not ignored") {
    CHECK_THROWS_AS(codec::decode(1, "request.teleported", now, "x", {}), std::invalid_argument);
  }

  TEST_CASE("a climb naming no escalation of its request is refused") {
    model::request state;
    const engine::event climb{1, now, "system", model::escalation_skipped{{"1-9", "sla_breach", "", 1, std::nullopt}}};
    CHECK_THROWS_AS(engine::apply(state, climb), std::invalid_argument);
  }
}
