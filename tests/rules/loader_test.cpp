#include "rules/loader.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <vector>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

using namespace switchboard;
using namespace std::literals;

namespace {

const rules::vocabulary tiers{{"standard", "premium", "enterprise"}};

constexpr std::string_view fallback_section = R"(
[fallback]
reason = "Nobody else."
then = { owner = "se" }
)";

// One rule whose `when` is on line 4 and `then` on line 5, both values starting at column 8,
// followed by a valid fallback.
std::string rule_doc(std::string_view when, std::string_view then = R"({ owner = "se" })") {
  return "[[rule]]\nname = \"a\"\nreason = \"Because.\"\nwhen = " + std::string(when) + "\nthen = " +
         std::string(then) + "\n" + std::string(fallback_section);
}

rules::rule_set load(std::string_view text) {
  return rules::load_rules(toml::parse(text, "test.toml"sv), "test.toml", tiers);
}

// The what() of the config::error that loading `text` throws, or "no error".
std::string error_of(std::string_view text) {
  try {
    load(text);
  } catch (const config::error& e) {
    return e.what();
  }
  return "no error";
}

constexpr std::string_view kind_equals = R"({ all = [ { field = "kind", op = "equals", value = "how_to" } ] })";

}  // namespace

TEST_SUITE("rules::loader") {
  TEST_CASE("a valid file loads its rules in order with their conditions and actions") {
    const auto set = load(R"([[rule]]
name = "first"
reason = "One."
when = { any = [ { field = "kind", op = "in", value = ["how_to", "concern"] },
                 { all = [ { field = "customer.tier", op = "equals", value = "premium" },
                           { field = "text", op = "contains", value = "SSO" } ] } ] }
then = { owner = "ce", priority = "high", tags = ["x"], watchers = ["se", "product"], note = "n" }

[[rule]]
name = "second"
reason = "Two."
when = { field = "customer.tier", op = "empty" }
[rule.then]
owner = "product"

[fallback]
reason = "Else."
then = { owner = "se", tags = ["unrouted"] }
)");
    REQUIRE(set.size() == 2);
    CHECK(set.names() == std::vector<std::string>{"first", "second"});
    CHECK(set.source() == "test.toml");
    const auto& first = set.rules()[0];
    CHECK(first.reason == "One.");
    const auto& root = std::get<rules::group>(first.when.node);
    CHECK(root.any);
    REQUIRE(root.members.size() == 2);
    const auto& in = std::get<rules::test>(root.members[0].node);
    CHECK(in.field == rules::field::kind);
    CHECK(in.op == rules::op::in);
    CHECK(in.values == std::vector<std::string>{"how_to", "concern"});
    const auto& nested = std::get<rules::group>(root.members[1].node);
    CHECK_FALSE(nested.any);
    CHECK(std::get<rules::test>(nested.members[1].node).values == std::vector<std::string>{"sso"});
    CHECK(first.then.owner == model::team::ce);
    CHECK(first.then.priority == model::priority::high);
    CHECK(first.then.watchers == std::vector<model::team>{model::team::se, model::team::product});
    CHECK(first.then.note == "n");
    const auto& second = set.rules()[1];
    CHECK(std::get<rules::test>(second.when.node).op == rules::op::empty);
    CHECK(second.then.owner == model::team::product);
    CHECK_FALSE(second.then.priority);
    CHECK(set.fallback().reason == "Else.");
    CHECK(set.fallback().then.tags == std::vector<std::string>{"unrouted"});
  }

  TEST_CASE("a file with only a fallback is valid") {
    CHECK(load(fallback_section).size() == 0);
  }

  TEST_CASE("an unknown field is refused at the field's value") {
    CHECK(error_of(rule_doc(R"({ all = [ { field = "severity", op = "equals", value = "high" } ] })")) ==
          "test.toml:4:28: unknown field \"severity\"; expected one of kind, customer.stage, customer.tier, "
          "customer.id, source, priority, use_case, title, body, text");
  }

  TEST_CASE("an unknown operator is refused at the operator") {
    CHECK(error_of(rule_doc(R"({ all = [ { field = "kind", op = "matches", value = "how_to" } ] })")) ==
          "test.toml:4:41: unknown operator \"matches\"; expected one of equals, not_equals, in, not_in, "
          "contains, contains_any, present, empty");
  }

  TEST_CASE("an operator that does not apply to its field is refused with the ones that do") {
    CHECK(error_of(rule_doc(R"({ all = [ { field = "kind", op = "contains", value = "how" } ] })")) ==
          "test.toml:4:41: operator \"contains\" does not apply to field \"kind\"; expected one of equals, "
          "not_equals, in, not_in");
    CHECK(error_of(rule_doc(R"({ all = [ { field = "title", op = "equals", value = "x" } ] })")) ==
          "test.toml:4:42: operator \"equals\" does not apply to field \"title\"; expected one of contains, "
          "contains_any, present, empty");
    CHECK(error_of(rule_doc(R"({ field = "priority", op = "present" })")) ==
          "test.toml:4:35: operator \"present\" does not apply to field \"priority\"; expected one of equals, "
          "not_equals, in, not_in");
  }

  TEST_CASE("unknown values are refused at the value, naming the accepted ones") {
    CHECK(error_of(rule_doc(R"({ field = "kind", op = "equals", value = "bug" })")) ==
          "test.toml:4:49: unknown kind \"bug\"; expected one of how_to, feature_request, troubleshooting, "
          "engineering_interrupt, concern");
    CHECK(error_of(rule_doc(R"({ field = "customer.stage", op = "in", value = ["trial", "customer"] })")) ==
          "test.toml:4:65: unknown customer stage \"customer\"; expected one of prospect, trial, production");
    CHECK(error_of(rule_doc(R"({ field = "priority", op = "not_equals", value = "p1" })")) ==
          "test.toml:4:57: unknown priority \"p1\"; expected one of low, normal, high, urgent");
    CHECK(error_of(rule_doc(R"({ field = "source", op = "not_in", value = ["fax"] })")) ==
          "test.toml:4:52: unknown source \"fax\"; expected one of api, cli, slack, email");
    CHECK(error_of(rule_doc(R"({ field = "customer.tier", op = "equals", value = "gold" })")) ==
          "test.toml:4:58: unknown tier \"gold\"; expected one of standard, premium, enterprise (the configured "
          "[customers] tiers)");
    CHECK(error_of(rule_doc(R"({ field = "text", op = "contains", value = "" })")) ==
          "test.toml:4:51: empty text for field \"text\" would match everything; expected some text");
  }

  TEST_CASE("a tier is unknown when the configuration names no tiers") {
    const auto text = rule_doc(R"({ field = "customer.tier", op = "equals", value = "premium" })");
    CHECK_THROWS_WITH_AS(rules::load_rules(toml::parse(text, "test.toml"sv), "test.toml", rules::vocabulary{}),
                         "test.toml:4:58: unknown tier \"premium\"; no contract tiers are configured ([customers] tiers)",
                         config::error);
  }

  TEST_CASE("unknown teams are refused in owner and in watchers") {
    CHECK(error_of(rule_doc(kind_equals, R"({ owner = "sales" })")) ==
          "test.toml:5:18: unknown team \"sales\"; expected one of ce, se, product, engineering, "
          "engineering_discussion");
    CHECK(error_of(rule_doc(kind_equals, R"({ owner = "se", watchers = ["ce", "cs"] })")) ==
          "test.toml:5:42: unknown team \"cs\"; expected one of ce, se, product, engineering, "
          "engineering_discussion");
  }

  TEST_CASE("unknown keys are refused at the key, wherever they are") {
    SUBCASE("at the top level") {
      CHECK(error_of("[[rules]]\nname = \"a\"\n" + std::string(fallback_section)) ==
            "test.toml:1:3: unknown key \"rules\" in the rules file; expected one of rule, fallback");
    }
    SUBCASE("in a rule") {
      CHECK(error_of("[[rule]]\nname = \"a\"\nowner = \"se\"\n" + std::string(fallback_section)) ==
            "test.toml:3:1: unknown key \"owner\" in a rule; expected one of name, reason, when, then");
    }
    SUBCASE("in a condition") {
      CHECK(error_of(rule_doc(R"({ field = "kind", op = "in", values = ["how_to"] })")) ==
            "test.toml:4:37: unknown key \"values\" in a condition; expected one of field, op, value");
    }
    SUBCASE("in a condition group") {
      CHECK(error_of(rule_doc(R"({ all = [ { field = "kind", op = "equals", value = "how_to" } ], none = [] })")) ==
            "test.toml:4:73: unknown key \"none\" in a condition group (\"all\"); expected all");
    }
    SUBCASE("in a table that is neither a test nor a group") {
      CHECK(error_of(rule_doc(R"({ all = [ { feild = "kind" } ] })")) ==
            "test.toml:4:20: unknown key \"feild\" in a condition; expected one of field, op, value, all, any");
    }
    SUBCASE("in then") {
      CHECK(error_of(rule_doc(kind_equals, R"({ owner = "se", team = "ce" })")) ==
            "test.toml:5:24: unknown key \"team\" in \"then\"; expected one of owner, priority, tags, watchers, "
            "note");
    }
    SUBCASE("in the fallback") {
      CHECK(error_of("[fallback]\nreason = \"r\"\nname = \"x\"\nthen = { owner = \"se\" }\n") ==
            "test.toml:3:1: unknown key \"name\" in [fallback]; expected one of reason, then");
    }
  }

  TEST_CASE("values of the wrong type are refused at the value") {
    CHECK(error_of("[[rule]]\nname = 5\n" + std::string(fallback_section)) ==
          "test.toml:2:8: \"name\" must be a string, found an integer");
    CHECK(error_of(rule_doc(R"({ field = "kind", op = "in", value = "how_to" })")) ==
          "test.toml:4:45: \"value\" of operator \"in\" must be an array of strings, found a string");
    CHECK(error_of(rule_doc(R"({ field = "kind", op = "equals", value = ["how_to"] })")) ==
          "test.toml:4:49: \"value\" of operator \"equals\" must be a string, found an array");
    CHECK(error_of(rule_doc(R"({ field = "kind", op = "in", value = ["how_to", 3] })")) ==
          "test.toml:4:56: each element of \"value\" of operator \"in\" must be a string, found an integer");
    CHECK(error_of(rule_doc(R"("kind = how_to")")) == "test.toml:4:8: \"when\" must be a table, found a string");
    CHECK(error_of(rule_doc(R"({ all = { field = "kind" } })")) ==
          "test.toml:4:16: \"all\" must be an array, found a table");
    CHECK(error_of(rule_doc(kind_equals, R"({ owner = "se", tags = "x" })")) ==
          "test.toml:5:31: \"tags\" must be an array, found a string");
    CHECK(error_of(rule_doc(kind_equals, R"({ owner = "se", priority = 1 })")) ==
          "test.toml:5:35: \"priority\" must be a string, found an integer");
    CHECK(error_of("[rule]\nname = \"a\"\n" + std::string(fallback_section)) ==
          "test.toml:1:1: \"rule\" must be an array of tables ([[rule]]), found a table");
  }

  TEST_CASE("an empty condition group is refused at the group's array") {
    CHECK(error_of(rule_doc(R"({ all = [] })")) ==
          "test.toml:4:16: empty \"all\" group; a group needs at least one condition");
    CHECK(error_of(rule_doc(R"({ all = [ { field = "kind", op = "equals", value = "how_to" }, { any = [] } ] })")) ==
          "test.toml:4:79: empty \"any\" group; a group needs at least one condition");
    CHECK(error_of(rule_doc(R"({})")) ==
          "test.toml:4:8: expected a condition { field = \"...\", op = \"...\", value = ... } or a group "
          "{ all = [...] } / { any = [...] }");
  }

  TEST_CASE("a group with both all and any is refused") {
    CHECK(error_of(rule_doc(R"({ all = [ { field = "kind", op = "equals", value = "how_to" } ], any = [] })")) ==
          "test.toml:4:73: a condition group has either \"all\" or \"any\", not both");
  }

  TEST_CASE("missing keys and values are refused at the table that lacks them") {
    CHECK(error_of("[[rule]]\nname = \"a\"\nwhen = {}\n" + std::string(fallback_section)) ==
          "test.toml:1:1: missing \"reason\" in rule \"a\"");
    CHECK(error_of("[[rule]]\nreason = \"r\"\n" + std::string(fallback_section)) ==
          "test.toml:1:1: missing \"name\" in rule #1");
    CHECK(error_of(rule_doc(R"({ field = "kind", value = "how_to" })")) ==
          "test.toml:4:8: missing \"op\" in a condition");
    CHECK(error_of(rule_doc(R"({ field = "kind", op = "equals" })")) ==
          "test.toml:4:8: missing \"value\" in a condition; operator \"equals\" needs a string");
    CHECK(error_of(rule_doc(kind_equals, R"({ tags = ["x"] })")) ==
          "test.toml:5:8: missing \"owner\" in \"then\" of rule \"a\"");
    CHECK(error_of(rule_doc(R"({ field = "use_case", op = "present", value = "x" })")) ==
          "test.toml:4:54: operator \"present\" takes no value");
    CHECK(error_of(rule_doc(R"({ field = "kind", op = "in", value = [] })")) ==
          "test.toml:4:45: \"value\" of operator \"in\" must not be an empty array");
  }

  TEST_CASE("use_case values must be configured use cases once [use_cases] exists") {
    const auto load_with = [](std::string_view text, std::optional<std::vector<std::string>> use_cases) {
      rules::vocabulary known{{"standard"}};
      known.use_cases = std::move(use_cases);
      try {
        rules::load_rules(toml::parse(text, "test.toml"sv), "test.toml", known);
      } catch (const config::error& e) {
        return std::string(e.what());
      }
      return std::string("no error");
    };
    const auto equals_nope = rule_doc(R"({ field = "use_case", op = "equals", value = "nope" })");
    CHECK(load_with(equals_nope, std::vector<std::string>{"search", "sso"}) ==
          "test.toml:4:53: unknown use case \"nope\"; expected one of search, sso (the configured [use_cases])");
    CHECK(load_with(rule_doc(R"({ field = "use_case", op = "in", value = ["sso", "nope"] })"),
                    std::vector<std::string>{"search", "sso"}) ==
          "test.toml:4:57: unknown use case \"nope\"; expected one of search, sso (the configured [use_cases])");
    CHECK(load_with(rule_doc(R"({ field = "use_case", op = "equals", value = "sso" })"), std::vector<std::string>{"sso"}) ==
          "no error");
    // No [use_cases]: a free tag, as before.
    CHECK(load_with(equals_nope, std::nullopt) == "no error");
  }

  TEST_CASE("a duplicate rule name is refused at the second name, citing the first") {
    const std::string text = R"([[rule]]
name = "same"
reason = "One."
when = { field = "kind", op = "equals", value = "how_to" }
then = { owner = "ce" }

[[rule]]
name = "same"
reason = "Two."
when = { field = "kind", op = "equals", value = "concern" }
then = { owner = "ce" }
)" + std::string(fallback_section);
    CHECK(error_of(text) ==
          "test.toml:8:8: duplicate rule name \"same\"; first defined at line 2; rule names must be unique");
  }

  TEST_CASE("the name \"fallback\" is reserved") {
    CHECK(error_of("[[rule]]\nname = \"fallback\"\n" + std::string(fallback_section)) ==
          "test.toml:2:8: rule name \"fallback\" is reserved for the [fallback] section; choose another name");
  }

  TEST_CASE("a missing fallback is refused") {
    CHECK(error_of("[[rule]]\nname = \"a\"\nreason = \"r\"\nwhen = " + std::string(kind_equals) +
                   "\nthen = { owner = \"ce\" }\n") ==
          "test.toml:1:1: missing [fallback] section; expected [fallback] with reason = \"...\" and then = "
          "{ owner = ... } to decide requests that no rule matches");
    CHECK(error_of("[fallback]\nthen = { owner = \"se\" }\n") == "test.toml:1:1: missing \"reason\" in [fallback]");
  }

  TEST_CASE("nothing is routed to Engineering directly: the policy is quoted") {
    const std::string policy =
        "the policy says: \"Any other request for help from engineering should go through SE (for "
        "troubleshooting) or product (for feature requests) and not to engineering directly.\" Route it to se or "
        "product instead";
    CHECK(error_of(rule_doc(kind_equals, R"({ owner = "engineering" })")) ==
          "test.toml:5:18: rule \"a\" hands work to engineering directly (as owner); " + policy);
    CHECK(error_of(rule_doc(kind_equals, R"({ owner = "se", watchers = ["product", "engineering"] })")) ==
          "test.toml:5:47: rule \"a\" hands work to engineering directly (as a watcher); " + policy);
    CHECK(error_of("[fallback]\nreason = \"r\"\nthen = { owner = \"engineering\" }\n") ==
          "test.toml:3:18: the fallback hands work to engineering directly (as owner); " + policy);
  }

  TEST_CASE("the error carries its position as numbers too") {
    try {
      load(rule_doc(R"({ field = "kind", op = "equals", value = "bug" })"));
      FAIL("expected a config::error");
    } catch (const config::error& e) {
      CHECK(e.where().file == "test.toml");
      CHECK(e.where().line == 4);
      CHECK(e.where().column == 49);
      CHECK(e.message().starts_with("unknown kind \"bug\""));
    }
  }

  TEST_CASE("loading from a path names the path in errors") {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("switchboard-rules-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(dir);
    const auto path = (dir / "routing.toml").string();
    {
      std::ofstream out(path);
      out << rule_doc(R"({ field = "severity", op = "equals", value = "high" })");
    }
    CHECK_THROWS_WITH_AS(rules::load_rules(path, tiers),
                         (path + ":4:18: unknown field \"severity\"; expected one of kind, customer.stage, "
                                 "customer.tier, customer.id, source, priority, use_case, title, body, text")
                             .c_str(),
                         config::error);
    {
      std::ofstream out(path);
      out << rule_doc(kind_equals);
    }
    CHECK(rules::load_rules(path, tiers).size() == 1);
    CHECK_THROWS_AS(rules::load_rules((dir / "missing.toml").string(), tiers), config::error);
    std::filesystem::remove_all(dir);
  }
}
