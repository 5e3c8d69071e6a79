#include "rules/evaluator.hpp"

#include "rules/loader.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

using namespace switchboard;
using namespace std::literals;

namespace {

rules::rule_set load(std::string_view text) {
  return rules::load_rules(toml::parse(text, "test.toml"sv), "test.toml",
                           rules::vocabulary{{"standard", "premium", "enterprise"}});
}

model::request_input request(model::request_kind kind, std::string title = "Help", std::string body = "") {
  model::request_input input;
  input.kind = kind;
  input.customer = {"acme", "Acme", model::customer_stage::trial, ""};
  input.title = std::move(title);
  input.body = std::move(body);
  return input;
}

constexpr std::string_view by_kind = R"(
[[rule]]
name = "how-to"
reason = "How-to to CE."
when = { all = [ { field = "kind", op = "equals", value = "how_to" } ] }
then = { owner = "ce", tags = ["how-to"] }

[[rule]]
name = "features"
reason = "Features to Product."
when = { field = "kind", op = "in", value = ["feature_request", "concern"] }
then = { owner = "product", priority = "high", tags = ["feature-request"], watchers = ["ce"], note = "Seen." }

[[rule]]
name = "also-how-to"
reason = "Never reached for how-to."
when = { field = "kind", op = "equals", value = "how_to" }
then = { owner = "se" }

[fallback]
reason = "Nothing matched."
then = { owner = "se", tags = ["unrouted"] }
)";

}  // namespace

TEST_SUITE("rules::evaluator") {
  TEST_CASE("the first matching rule decides and later rules are not evaluated") {
    const auto set = load(by_kind);
    const auto decision = rules::evaluate(set, request(model::request_kind::how_to));
    CHECK(decision.rule == "how-to");
    CHECK_FALSE(decision.fallback);
    CHECK(decision.owner == model::team::ce);
    CHECK(decision.reason == "How-to to CE.");
    CHECK(decision.tags == std::vector<std::string>{"how-to"});
    CHECK(decision.notes.empty());
    REQUIRE(decision.trace.size() == 1);
    CHECK(decision.trace[0].rule == "how-to");
    CHECK(decision.trace[0].matched);
    CHECK_FALSE(decision.trace[0].failure);
  }

  TEST_CASE("the trace lists every evaluated rule in order with the first failing condition") {
    const auto set = load(by_kind);
    const auto decision = rules::evaluate(set, request(model::request_kind::concern));
    CHECK(decision.rule == "features");
    REQUIRE(decision.trace.size() == 2);
    CHECK(decision.trace[0].rule == "how-to");
    CHECK_FALSE(decision.trace[0].matched);
    REQUIRE(decision.trace[0].failure);
    CHECK(decision.trace[0].failure->field == "kind");
    CHECK(decision.trace[0].failure->op == "equals");
    CHECK(decision.trace[0].failure->expected == "how_to");
    CHECK(decision.trace[0].failure->actual == "concern");
    CHECK(decision.trace[1].rule == "features");
    CHECK(decision.trace[1].matched);
  }

  TEST_CASE("actions: owner, priority override, tags, watchers and note") {
    const auto set = load(by_kind);
    auto input = request(model::request_kind::feature_request);
    input.priority = model::priority::low;
    const auto decision = rules::evaluate(set, input);
    CHECK(decision.owner == model::team::product);
    CHECK(decision.priority == model::priority::high);
    CHECK(decision.tags == std::vector<std::string>{"feature-request"});
    CHECK(decision.watchers == std::vector<std::string>{"ce"});
    CHECK(decision.notes == std::vector<std::string>{"Seen."});
  }

  TEST_CASE("without a priority action the request keeps its own priority") {
    const auto set = load(by_kind);
    auto input = request(model::request_kind::how_to);
    input.priority = model::priority::urgent;
    CHECK(rules::evaluate(set, input).priority == model::priority::urgent);
  }

  TEST_CASE("when no rule matches the fallback decides, after every rule was tried") {
    const auto set = load(by_kind);
    const auto decision = rules::evaluate(set, request(model::request_kind::troubleshooting));
    CHECK(decision.rule == "fallback");
    CHECK(decision.fallback);
    CHECK(decision.owner == model::team::se);
    CHECK(decision.reason == "Nothing matched.");
    CHECK(decision.tags == std::vector<std::string>{"unrouted"});
    REQUIRE(decision.trace.size() == 3);
    CHECK(decision.trace[0].rule == "how-to");
    CHECK(decision.trace[1].rule == "features");
    CHECK(decision.trace[2].rule == "also-how-to");
    for (const auto& each : decision.trace) {
      CHECK_FALSE(each.matched);
      REQUIRE(each.failure);
      CHECK(each.failure->actual == "troubleshooting");
    }
    CHECK(decision.trace[1].failure->op == "in");
    CHECK(decision.trace[1].failure->expected == "[feature_request, concern]");
  }

  TEST_CASE("all and any groups nest") {
    const auto set = load(R"(
[[rule]]
name = "nested"
reason = "Nested."
when = { all = [
  { field = "kind", op = "in", value = ["troubleshooting", "how_to"] },
  { any = [
    { field = "customer.stage", op = "equals", value = "production" },
    { all = [ { field = "source", op = "equals", value = "slack" },
              { field = "priority", op = "in", value = ["high", "urgent"] } ] },
  ] },
] }
then = { owner = "ce" }

[fallback]
reason = "Else."
then = { owner = "se" }
)");
    auto input = request(model::request_kind::troubleshooting);
    CHECK(rules::evaluate(set, input).fallback);  // trial, api, normal

    input.customer.stage = model::customer_stage::production;
    CHECK(rules::evaluate(set, input).rule == "nested");

    input.customer.stage = model::customer_stage::trial;
    input.source = model::request_source::slack;
    CHECK(rules::evaluate(set, input).fallback);  // slack but normal priority
    input.priority = model::priority::urgent;
    CHECK(rules::evaluate(set, input).rule == "nested");

    input.kind = model::request_kind::concern;  // the first member of the outer all fails
    const auto decision = rules::evaluate(set, input);
    CHECK(decision.fallback);
    REQUIRE(decision.trace[0].failure);
    CHECK(decision.trace[0].failure->field == "kind");
    CHECK(decision.trace[0].failure->actual == "concern");
  }

  TEST_CASE("a failed any group is reported as a whole, with what each member saw") {
    const auto set = load(R"(
[[rule]]
name = "mentions"
reason = "Mentions."
when = { any = [
  { field = "text", op = "contains_any", value = ["Dev Team", "engineer"] },
  { field = "use_case", op = "equals", value = "sso" },
] }
then = { owner = "se" }

[fallback]
reason = "Else."
then = { owner = "ce" }
)");
    const auto decision = rules::evaluate(set, request(model::request_kind::how_to, "Login fails", "Since Monday."));
    REQUIRE(decision.trace.size() == 1);
    const auto& failure = decision.trace[0].failure;
    REQUIRE(failure);
    CHECK(failure->field == "text, use_case");
    CHECK(failure->op == "any");
    CHECK(failure->expected ==
          "at least one of: text contains_any [dev team, engineer] | use_case equals sso");
    CHECK(failure->actual ==
          "none held: text: no match in title \"Login fails\" or body \"Since Monday.\"; use_case: (empty)");
  }

  TEST_CASE("text matching ignores case, title and body are separate fields, text is either") {
    const auto set = load(R"(
[[rule]]
name = "title-only"
reason = "Title."
when = { field = "title", op = "contains", value = "SSO" }
then = { owner = "ce" }

[[rule]]
name = "either"
reason = "Either."
when = { field = "text", op = "contains_any", value = ["Dev Team", "okta"] }
then = { owner = "product" }

[fallback]
reason = "Else."
then = { owner = "se" }
)");
    CHECK(rules::evaluate(set, request(model::request_kind::how_to, "Configure sso")).rule == "title-only");
    CHECK(rules::evaluate(set, request(model::request_kind::how_to, "Configure", "our OKTA setup")).rule == "either");
    CHECK(rules::evaluate(set, request(model::request_kind::how_to, "ask the DEV TEAM")).rule == "either");

    const auto decision = rules::evaluate(set, request(model::request_kind::how_to, "Login", "about SSO"));
    CHECK(decision.fallback);  // "SSO" only in the body: title-only does not see it; either has no needle
    REQUIRE(decision.trace[0].failure);
    CHECK(decision.trace[0].failure->field == "title");
    CHECK(decision.trace[0].failure->op == "contains");
    CHECK(decision.trace[0].failure->expected == "sso");
    CHECK(decision.trace[0].failure->actual == "no match in title \"Login\"");
  }

  TEST_CASE("contains_any finds values that share a prefix or contain one another, wherever they occur") {
    // Searched as groups by common prefix ("eng", "dev"), "engineering" left out for "engineer":
    // the answers must be those of searching each value on its own.
    const auto set = load(R"(
[[rule]]
name = "asks"
reason = "Asks."
when = { field = "text", op = "contains_any", value = ["engineering", "engineer", "eng team", "dev team", "developer", "ok"] }
then = { owner = "product" }

[fallback]
reason = "Else."
then = { owner = "se" }
)");
    const auto routed = [&](std::string title, std::string body) {
      return rules::evaluate(set, request(model::request_kind::how_to, std::move(title), std::move(body))).rule;
    };
    CHECK(routed("eng eng engi enginee", "dev devel developr dev tea") == "fallback");
    CHECK(routed("eng eng engi enginee", "the eng team") == "asks");
    CHECK(routed("our ENGINEERING group", "") == "asks");
    CHECK(routed("x", "engineer") == "asks");  // at the very end
    CHECK(routed("dev dev developer", "") == "asks");
    CHECK(routed("deve", "ask the Dev Team") == "asks");
    CHECK(routed("o", "k") == "fallback");
    CHECK(routed("", "book") == "asks");
    const auto missed = rules::evaluate(set, request(model::request_kind::how_to, "eng", "dev"));
    REQUIRE(missed.trace.at(0).failure);
    CHECK(missed.trace[0].failure->expected == "[engineering, engineer, eng team, dev team, developer, ok]");
  }

  TEST_CASE("text matching ignores case for all of Unicode, after NFC, in rule words and request text alike") {
    // The rule words are written in capitals, decomposed or with ß: they are folded once at load.
    const auto set = load(R"(
[[rule]]
name = "outage"
reason = "Outage words."
when = { field = "text", op = "contains_any", value = ["störung", "СБОЙ", "ΣΎΣΤΗΜΑ", "Straße", "cafe\u0301"] }
then = { owner = "se", priority = "urgent" }

[fallback]
reason = "Else."
then = { owner = "ce" }
)");
    const auto& words = set.rules().front().when;
    CHECK(std::get<rules::test>(words.node).values ==
          std::vector<std::string>{"störung", "сбой", "σύστημα", "strasse", "caf\xC3\xA9"});

    auto rule_for = [&](std::string title, std::string body = "") {
      return rules::evaluate(set, request(model::request_kind::troubleshooting, std::move(title), std::move(body))).rule;
    };
    CHECK(rule_for("STÖRUNG: Anmeldung nicht möglich") == "outage");
    CHECK(rule_for("Help", "Störung seit 08:00") == "outage");
    CHECK(rule_for("СБОЙ авторизации") == "outage");
    CHECK(rule_for("σύστημα εκτός λειτουργίας") == "outage");
    CHECK(rule_for("ΣΎΣΤΗΜΑ") == "outage");
    CHECK(rule_for("Lieferung in die STRASSE") == "outage");
    CHECK(rule_for("Lieferung in die Straße") == "outage");
    CHECK(rule_for("CAF\xC3\x89 menu") == "outage");        // composed É
    CHECK(rule_for("Cafe\xCC\x81 menu") == "outage");       // e + combining acute
    CHECK(rule_for("Storung") == "fallback");                 // a different letter is not a case
    CHECK(rule_for("Login \xFF\xFE broken") == "fallback");  // invalid UTF-8 is read, not refused
  }

  TEST_CASE("long text in the trace is a short single-line excerpt") {
    const auto set = load(R"(
[[rule]]
name = "needle"
reason = "Needle."
when = { field = "body", op = "contains", value = "needle" }
then = { owner = "ce" }

[fallback]
reason = "Else."
then = { owner = "se" }
)");
    const std::string body = "first line\nsecond line " + std::string(200, 'x') + " é end";
    const auto decision = rules::evaluate(set, request(model::request_kind::how_to, "t", body));
    REQUIRE(decision.trace[0].failure);
    const auto& actual = decision.trace[0].failure->actual;
    CHECK(actual.starts_with("no match in body \"first line second line xxx"));
    CHECK(actual.ends_with("…\""));
    CHECK(actual.size() < 80);
    CHECK(actual.find('\n') == std::string::npos);

    // The cut never splits a UTF-8 character: "é" straddles the limit and is left out whole.
    const auto cut = rules::evaluate(set, request(model::request_kind::how_to, "t", std::string(47, 'a') + "é tail"));
    CHECK(cut.trace[0].failure->actual == "no match in body \"" + std::string(47, 'a') + "…\"");
  }

  TEST_CASE("not_equals, not_in, present and empty") {
    const auto set = load(R"(
[[rule]]
name = "post-sales-premium"
reason = "Premium."
when = { all = [ { field = "customer.tier", op = "present" },
                 { field = "customer.tier", op = "not_in", value = ["standard"] },
                 { field = "source", op = "not_equals", value = "email" } ] }
then = { owner = "se" }

[[rule]]
name = "no-use-case"
reason = "No use case."
when = { field = "use_case", op = "empty" }
then = { owner = "ce" }

[fallback]
reason = "Else."
then = { owner = "product" }
)");
    auto input = request(model::request_kind::how_to);
    auto decision = rules::evaluate(set, input);
    CHECK(decision.rule == "no-use-case");
    REQUIRE(decision.trace[0].failure);
    CHECK(decision.trace[0].failure->field == "customer.tier");
    CHECK(decision.trace[0].failure->op == "present");
    CHECK(decision.trace[0].failure->expected == "non-empty");
    CHECK(decision.trace[0].failure->actual == "(empty)");

    input.customer.tier = "premium";
    CHECK(rules::evaluate(set, input).rule == "post-sales-premium");
    input.source = model::request_source::email;
    decision = rules::evaluate(set, input);
    CHECK(decision.rule == "no-use-case");
    CHECK(decision.trace[0].failure->field == "source");
    CHECK(decision.trace[0].failure->actual == "email");

    input.customer.tier = "standard";
    input.use_case = "sso";
    decision = rules::evaluate(set, input);
    CHECK(decision.fallback);
    CHECK(decision.owner == model::team::product);
    CHECK(decision.trace[0].failure->op == "not_in");
    CHECK(decision.trace[0].failure->actual == "standard");
    CHECK(decision.trace[1].failure->actual == "sso");
  }

  TEST_CASE("customer.id matches exactly") {
    const auto set = load(R"(
[[rule]]
name = "acme"
reason = "Acme."
when = { field = "customer.id", op = "equals", value = "acme" }
then = { owner = "ce" }

[fallback]
reason = "Else."
then = { owner = "se" }
)");
    auto input = request(model::request_kind::how_to);
    CHECK(rules::evaluate(set, input).rule == "acme");
    input.customer.id = "ACME";
    CHECK(rules::evaluate(set, input).fallback);
  }
}
