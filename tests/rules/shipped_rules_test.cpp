#include "rules/loader.hpp"

#include "rules/evaluator.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

using namespace switchboard;

namespace {

const rules::rule_set& shipped() {
  static const rules::rule_set set = rules::load_rules(std::string(SWITCHBOARD_SOURCE_DIR) + "/rules/routing.toml",
                                                       rules::vocabulary{{"standard", "premium", "enterprise"}});
  return set;
}

model::request_input filed_by_ce(model::request_kind kind, std::string title, std::string body = "") {
  model::request_input input;
  input.kind = kind;
  input.customer = {"acme", "Acme Corp", model::customer_stage::trial, ""};
  input.title = std::move(title);
  input.body = std::move(body);
  input.source = model::request_source::cli;
  return input;
}

bool has(const std::vector<std::string>& values, std::string_view wanted) {
  return std::find(values.begin(), values.end(), wanted) != values.end();
}

}  // namespace

TEST_SUITE("rules::shipped") {
  TEST_CASE("rules/routing.toml loads") {
    CHECK(shipped().size() == 9);
    CHECK(shipped().fallback().then.owner == model::team::se);
  }

  TEST_CASE("each kind goes to the team the policy names") {
    using model::request_kind;
    using model::team;
    struct expectation {
      request_kind kind;
      team owner;
      const char* rule;
    };
    for (const auto& [kind, owner, rule] : {
             expectation{request_kind::how_to, team::ce, "how-to-to-ce"},
             expectation{request_kind::feature_request, team::product, "feature-requests-to-product"},
             expectation{request_kind::troubleshooting, team::se, "troubleshooting-to-se"},
             expectation{request_kind::concern, team::ce, "concerns-to-ce"},
             expectation{request_kind::engineering_interrupt, team::se, "engineering-interrupt-from-ce-to-se"},
         }) {
      const auto kind_name = model::to_string(kind);  // named: clang 14 cannot capture a structured binding
      CAPTURE(kind_name);
      const auto decision = rules::evaluate(shipped(), filed_by_ce(kind, "Search is slow on our monorepo"));
      CHECK(decision.owner == owner);
      CHECK(decision.rule == rule);
      CHECK_FALSE(decision.fallback);
      CHECK_FALSE(decision.reason.empty());
      CHECK(decision.priority == model::priority::normal);
    }
  }

  TEST_CASE("troubleshooting is owned by SE with the CE watching") {
    const auto decision =
        rules::evaluate(shipped(), filed_by_ce(model::request_kind::troubleshooting, "Indexing stuck"));
    CHECK(decision.owner == model::team::se);
    CHECK(decision.watchers == std::vector<std::string>{"ce"});
    CHECK(decision.notes.empty());
  }

  TEST_CASE("an engineering interrupt from a CE goes to SE, and the decision says only SE engages Engineering") {
    const auto decision = rules::evaluate(
        shipped(), filed_by_ce(model::request_kind::engineering_interrupt, "Prod outage", "Need a fix now"));
    CHECK(decision.owner == model::team::se);
    REQUIRE(decision.notes.size() == 1);
    CHECK(decision.notes[0].find("Only SE engages Engineering") != std::string::npos);
    CHECK(decision.reason.find("only SE engages Engineering") != std::string::npos);
    CHECK(has(decision.tags, "asked-for-engineering"));
  }

  TEST_CASE("\"engineering, please\" is routed by kind, with a note") {
    using model::request_kind;
    using model::team;
    struct expectation {
      request_kind kind;
      const char* title;
      const char* body;
      team owner;
      const char* rule;
    };
    for (const auto& [kind, title, body, owner, rule] : {
             expectation{request_kind::feature_request, "Bulk export", "Can the Engineering team add this?",
                         team::product, "asks-for-engineering-feature-request-to-product"},
             expectation{request_kind::troubleshooting, "Need an ENGINEER on this", "", team::se,
                         "asks-for-engineering-troubleshooting-to-se"},
             expectation{request_kind::how_to, "How do I set up SAML?", "Please loop in the dev team.", team::ce,
                         "asks-for-engineering-how-to-to-ce"},
             expectation{request_kind::concern, "Decision on export", "Escalate to engineering", team::ce,
                         "asks-for-engineering-concern-to-ce"},
         }) {
      const auto title_text = title;  // named: clang 14 cannot capture a structured binding
      CAPTURE(title_text);
      const auto decision = rules::evaluate(shipped(), filed_by_ce(kind, title, body));
      CHECK(decision.owner == owner);
      CHECK(decision.rule == rule);
      REQUIRE(decision.notes.size() == 1);
      CHECK(decision.notes[0].starts_with("Asked for Engineering: routed to"));
      CHECK(decision.notes[0].find("not to Engineering") != std::string::npos);
      CHECK(decision.reason.find("for Engineering") != std::string::npos);
      CHECK(has(decision.tags, "asked-for-engineering"));
    }
  }

  TEST_CASE("no request reaches Engineering directly") {
    using model::request_kind;
    for (auto kind : {request_kind::how_to, request_kind::feature_request, request_kind::troubleshooting,
                      request_kind::engineering_interrupt, request_kind::concern})
      for (const char* text : {"", "engineering please", "dev team", "URGENT bug"}) {
        const auto decision = rules::evaluate(shipped(), filed_by_ce(kind, text, text));
        CHECK(decision.owner != model::team::engineering);
        CHECK_FALSE(has(decision.watchers, "engineering"));
      }
  }

  TEST_CASE("the trace of a plain troubleshooting request shows why the earlier rules did not match") {
    const auto decision =
        rules::evaluate(shipped(), filed_by_ce(model::request_kind::troubleshooting, "Indexing stuck"));
    const auto names = shipped().names();
    const auto matched = std::find(names.begin(), names.end(), "troubleshooting-to-se") - names.begin();
    REQUIRE(decision.trace.size() == static_cast<std::size_t>(matched + 1));
    for (std::size_t i = 0; i < decision.trace.size(); ++i) CHECK(decision.trace[i].rule == names[i]);
    CHECK(decision.trace.back().matched);

    const auto& interrupt = decision.trace[0].failure;
    REQUIRE(interrupt);
    CHECK(interrupt->field == "kind");
    CHECK(interrupt->actual == "troubleshooting");

    const auto& mention = decision.trace[2].failure;  // asks-for-engineering-troubleshooting-to-se
    REQUIRE(mention);
    CHECK(mention->field == "text");
    CHECK(mention->op == "contains_any");
    CHECK(mention->actual == "no match in title \"Indexing stuck\" or body (empty)");
  }
}
