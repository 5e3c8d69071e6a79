#include "sla/policy.hpp"
#include "sla/load.hpp"

#include "calendar/loader.hpp"
#include "config/error.hpp"
#include "config/toml.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace switchboard;
using namespace std::literals;
using std::chrono::seconds;

namespace {

const std::vector<std::string> tiers{"standard", "premium", "enterprise"};

// The three calendar names the shipped config has, built directly (their hours do not matter
// to policies, only their names).
const sla::calendar_map& calendars() {
  static const sla::calendar_map map = [] {
    using namespace std::chrono;
    sla::calendar_map result;
    std::vector<calendar::weekly_shift> weekdays;
    for (unsigned day = 1; day <= 5; ++day) weekdays.push_back(calendar::daily_shift(weekday{day}, 2h, 18h));
    result.emplace("support", calendar::business_calendar::make({"support", "America/Los_Angeles", weekdays, {}}));
    result.emplace("24x5", calendar::business_calendar::make(
                               {"24x5", "America/Los_Angeles", {{Sunday, 18h, Friday, 18h}}, {}}));
    std::vector<calendar::weekly_shift> every_day;
    for (unsigned day = 0; day < 7; ++day) every_day.push_back(calendar::daily_shift(weekday{day}, 0h, 24h));
    result.emplace("24x7", calendar::business_calendar::make({"24x7", "UTC", every_day, {}}));
    return result;
  }();
  return map;
}

std::vector<sla::policy> load(std::string_view text, const std::vector<std::string>& known_tiers = tiers) {
  const toml::table root = toml::parse(text, "test.toml"sv);
  const auto* sla = root["sla"].as_table();
  REQUIRE(sla != nullptr);
  return sla::load_policies(*sla, "test.toml", calendars(), known_tiers);
}

// The what() of the config::error that loading `text` throws, or "no error".
std::string error_of(std::string_view text, const std::vector<std::string>& known_tiers = tiers) {
  try {
    load(text, known_tiers);
  } catch (const config::error& e) {
    return e.what();
  }
  return "no error";
}

// A one-policy [sla] document whose 5th line is `line5` (a key of the policy, at column 1).
std::string policy_with(std::string_view line5) {
  return "[sla]\n[[sla.policy]]\nname = \"p\"\ncalendar = \"support\"\n" + std::string(line5) + "\n";
}

// A one-policy document whose only metric, on line 5, is `metric` (starting at column 14).
std::string metric_doc(std::string_view metric) {
  return policy_with("metrics = [ " + std::string(metric) + " ]");
}

model::request_input request(model::request_kind kind, model::customer_stage stage, std::string tier = "") {
  model::request_input input;
  input.kind = kind;
  input.customer = {"acme", "Acme", stage, std::move(tier)};
  return input;
}

}  // namespace

TEST_SUITE("sla::policy") {
  TEST_CASE("parse_duration reads h, m and s, largest first, each at most once") {
    CHECK(sla::parse_duration("1h") == seconds{3600});
    CHECK(sla::parse_duration("90m") == seconds{5400});
    CHECK(sla::parse_duration("1h30m") == seconds{5400});
    CHECK(sla::parse_duration("45s") == seconds{45});
    CHECK(sla::parse_duration("2h0m10s") == seconds{7210});
    CHECK(sla::parse_duration("1h1s") == seconds{3601});
    CHECK(sla::parse_duration("1m30s") == seconds{90});
    CHECK(sla::parse_duration("0s") == seconds{0});
    CHECK(sla::parse_duration("80h") == seconds{80 * 3600});
    CHECK(sla::parse_duration("1h90m") == seconds{3600 + 5400});
  }

  TEST_CASE("parse_duration refuses everything else") {
    for (const std::string_view bad :
         {""sv, "0"sv, "90"sv, "1.5h"sv, "1d"sv, "1w"sv, "h"sv, "1h30"sv, "30m1h"sv, "1h1h"sv, "1m2m"sv, "1s1m"sv,
          "-1h"sv, "+1h"sv, " 1h"sv, "1h "sv, "1h 30m"sv, "1H"sv, "1hr"sv, "1 h"sv, "1e3s"sv, "PT1H"sv,
          "99999999999999999999s"sv, "9223372036854775807h"sv}) {
      CAPTURE(bad);
      CHECK_FALSE(sla::parse_duration(bad).has_value());
    }
  }

  TEST_CASE("format_duration writes what parse_duration reads") {
    CHECK(sla::format_duration(seconds{0}) == "0s");
    CHECK(sla::format_duration(seconds{45}) == "45s");
    CHECK(sla::format_duration(seconds{3600}) == "1h");
    CHECK(sla::format_duration(seconds{5400}) == "1h30m");
    CHECK(sla::format_duration(seconds{3601}) == "1h1s");
    CHECK(sla::format_duration(seconds{7210}) == "2h10s");
    CHECK(sla::format_duration(seconds{80 * 3600}) == "80h");
    CHECK(sla::format_duration(seconds{-90}) == "-1m30s");
    for (const auto count : {1, 59, 60, 61, 3599, 3600, 3661, 86399, 86400, 1'000'000}) {
      CAPTURE(count);
      CHECK(sla::parse_duration(sla::format_duration(seconds{count})) == seconds{count});
    }
  }

  TEST_CASE("a valid [sla] section loads its policies in order, with defaults") {
    const auto policies = load(R"([sla]
[[sla.policy]]
name = "pre-sales"
stages = ["prospect", "trial"]
tiers = []
kinds = ["troubleshooting"]
calendar = "support"
metrics = [
  { metric = "first_response", target = "1h" },
  { metric = "resolution", target = "40h", warning = 0.8, pause_on = ["pending_customer", "escalated"] },
]

[[sla.policy]]
name = "everything"
calendar = "24x7"
[[sla.policy.metrics]]
metric = "next_response"
target = "1h30m"
pause_on = []
)");
    REQUIRE(policies.size() == 2);
    const auto& first = policies[0];
    CHECK(first.name == "pre-sales");
    CHECK(first.stages == std::vector{model::customer_stage::prospect, model::customer_stage::trial});
    CHECK(first.tiers.empty());
    CHECK(first.kinds == std::vector{model::request_kind::troubleshooting});
    CHECK(first.calendar == "support");
    REQUIRE(first.metrics.size() == 2);
    CHECK(first.metrics[0].metric == model::sla_metric::first_response);
    CHECK(first.metrics[0].target == seconds{3600});
    CHECK(first.metrics[0].warning_millionths == 750000);
    CHECK(first.metrics[0].pause_on == std::vector{model::request_status::pending_customer});
    CHECK(first.metrics[1].metric == model::sla_metric::resolution);
    CHECK(first.metrics[1].target == seconds{40 * 3600});
    CHECK(first.metrics[1].warning_millionths == 800000);
    CHECK(first.metrics[1].pause_on ==
          std::vector{model::request_status::pending_customer, model::request_status::escalated});

    const auto& second = policies[1];
    CHECK(second.name == "everything");
    CHECK(second.stages.empty());
    CHECK(second.kinds.empty());
    CHECK(second.calendar == "24x7");
    REQUIRE(second.metrics.size() == 1);
    CHECK(second.metrics[0].metric == model::sla_metric::next_response);
    CHECK(second.metrics[0].target == seconds{5400});
    CHECK(second.metrics[0].pause_on.empty());  // an empty list: this clock never pauses
  }

  TEST_CASE("an [sla] section without policies loads none") {
    CHECK(load("[sla]\n").empty());
    CHECK(load("[sla]\npolicy = []\n").empty());
  }

  TEST_CASE("selectors: an empty list matches anything, and the first policy that applies is used") {
    using model::customer_stage;
    using model::request_kind;
    sla::policy_set set;
    set.calendars = calendars();
    set.policies = load(R"([sla]
[[sla.policy]]
name = "pre-sales"
stages = ["prospect", "trial"]
kinds = ["troubleshooting"]
calendar = "support"
metrics = [ { metric = "first_response", target = "1h" } ]

[[sla.policy]]
name = "enterprise"
stages = ["production"]
tiers = ["enterprise"]
calendar = "24x5"
metrics = [ { metric = "first_response", target = "1h" } ]

[[sla.policy]]
name = "any-troubleshooting"
kinds = ["troubleshooting"]
calendar = "24x7"
metrics = [ { metric = "first_response", target = "8h" } ]
)");
    REQUIRE(set.policies.size() == 3);

    const auto name_of = [&](const model::request_input& input) -> std::string {
      const auto* found = set.match(input);
      return found == nullptr ? "none" : found->name;
    };
    CHECK(name_of(request(request_kind::troubleshooting, customer_stage::trial)) == "pre-sales");
    CHECK(name_of(request(request_kind::troubleshooting, customer_stage::prospect)) == "pre-sales");
    // Pre-sales applies only to troubleshooting; the catch-all troubleshooting policy is next.
    CHECK(name_of(request(request_kind::how_to, customer_stage::trial)) == "none");
    // The enterprise policy has no kinds: it applies to every kind.
    CHECK(name_of(request(request_kind::how_to, customer_stage::production, "enterprise")) == "enterprise");
    CHECK(name_of(request(request_kind::troubleshooting, customer_stage::production, "enterprise")) == "enterprise");
    CHECK(name_of(request(request_kind::troubleshooting, customer_stage::production, "premium")) ==
          "any-troubleshooting");
    // A tier selector never matches a customer without a tier.
    CHECK(name_of(request(request_kind::troubleshooting, customer_stage::production)) == "any-troubleshooting");
    CHECK(name_of(request(request_kind::feature_request, customer_stage::production)) == "none");

    CHECK(set.policies[1].applies_to(request(request_kind::concern, customer_stage::production, "enterprise")));
    CHECK_FALSE(set.policies[1].applies_to(request(request_kind::concern, customer_stage::trial, "enterprise")));

    sla::policy_set empty;
    CHECK(empty.match(request(request_kind::troubleshooting, customer_stage::trial)) == nullptr);
  }

  TEST_CASE("policy_set::calendar finds a calendar by name or throws out_of_range") {
    sla::policy_set set;
    set.calendars = calendars();
    CHECK(set.calendar("24x5").name() == "24x5");
    CHECK(set.calendar("support").zone_name() == "America/Los_Angeles");
    CHECK_THROWS_AS(set.calendar("nope"), std::out_of_range);
  }

  TEST_CASE("errors in [sla] and its policies are at file:line:col, saying what was expected") {
    CHECK(error_of("[sla]\npolicies = []\n") ==
          "test.toml:2:1: unknown key \"policies\" in [sla]; expected policy");
    CHECK(error_of("[sla]\n[sla.policy]\nname = \"p\"\n") ==
          "test.toml:2:1: \"policy\" in [sla] must be an array of tables ([[sla.policy]]), found a table");
    CHECK(error_of("[sla]\npolicy = [\"p\"]\n") ==
          "test.toml:2:11: each SLA policy must be a table ([[sla.policy]]), found a string");
    CHECK(error_of(policy_with("kind = [\"how_to\"]")) ==
          "test.toml:5:1: unknown key \"kind\" in an SLA policy; expected one of name, stages, tiers, kinds, "
          "calendar, metrics, replaces");
    CHECK(error_of("[sla]\n[[sla.policy]]\ncalendar = \"support\"\n") ==
          "test.toml:2:1: missing \"name\" in SLA policy #1; expected name = \"...\", unique among the policies");
    CHECK(error_of("[sla]\n[[sla.policy]]\nname = 7\n") == "test.toml:3:8: \"name\" must be a string, found an integer");
    CHECK(error_of("[sla]\n[[sla.policy]]\nname = \"\"\n") == "test.toml:3:8: \"name\" must not be empty");
    CHECK(error_of("[sla]\n[[sla.policy]]\nname = \"p\"\nmetrics = [ { metric = \"first_response\", target = \"1h\" } "
                   "]\n") ==
          "test.toml:2:1: missing \"calendar\" in SLA policy \"p\"; expected calendar = the name of a [calendars] "
          "table");
  }

  TEST_CASE("unknown calendars list the known ones") {
    CHECK(error_of("[sla]\n[[sla.policy]]\nname = \"p\"\ncalendar = \"suport\"\n") ==
          "test.toml:4:12: unknown calendar \"suport\"; expected one of 24x5, 24x7, support (the calendars in "
          "[calendars])");
    try {
      const toml::table root = toml::parse("[sla]\n[[sla.policy]]\nname = \"p\"\ncalendar = \"support\"\n"sv,
                                           "test.toml"sv);
      sla::load_policies(*root["sla"].as_table(), "test.toml", {}, tiers);
      FAIL("no error");
    } catch (const config::error& e) {
      CHECK(std::string(e.what()) ==
            "test.toml:4:12: unknown calendar \"support\"; no calendars are configured ([calendars])");
    }
  }

  TEST_CASE("unknown or repeated selector values") {
    CHECK(error_of(policy_with("stages = [\"trial\", \"pilot\"]")) ==
          "test.toml:5:20: unknown customer stage \"pilot\"; expected one of prospect, trial, production");
    CHECK(error_of(policy_with("stages = \"trial\"")) == "test.toml:5:10: \"stages\" must be an array, found a string");
    CHECK(error_of(policy_with("stages = [\"trial\", \"trial\"]")) ==
          "test.toml:5:20: customer stage \"trial\" is listed twice in \"stages\"");
    CHECK(error_of(policy_with("kinds = [\"bug\"]")) ==
          "test.toml:5:10: unknown kind \"bug\"; expected one of how_to, feature_request, troubleshooting, "
          "engineering_interrupt, concern");
    CHECK(error_of(policy_with("kinds = [1]")) == "test.toml:5:10: each element of \"kinds\" must be a string, found an integer");
    CHECK(error_of(policy_with("tiers = [\"premium\", \"gold\"]")) ==
          "test.toml:5:21: unknown tier \"gold\"; expected one of standard, premium, enterprise (the configured "
          "[customers] tiers)");
    CHECK(error_of(policy_with("tiers = [\"gold\"]"), {}) ==
          "test.toml:5:10: unknown tier \"gold\"; no contract tiers are configured ([customers] tiers)");
    CHECK(error_of(policy_with("tiers = [\"premium\", \"premium\"]")) ==
          "test.toml:5:21: tier \"premium\" is listed twice in \"tiers\"");
  }

  TEST_CASE("a policy needs metrics") {
    CHECK(error_of(policy_with("")) ==
          "test.toml:2:1: SLA policy \"p\" has no metrics; expected metrics = [ { metric = \"first_response\", "
          "target = \"1h\" }, ... ]");
    CHECK(error_of(policy_with("metrics = []")) ==
          "test.toml:5:11: SLA policy \"p\" has no metrics; expected metrics = [ { metric = \"first_response\", "
          "target = \"1h\" }, ... ]");
    CHECK(error_of(policy_with("metrics = { metric = \"first_response\", target = \"1h\" }")) ==
          "test.toml:5:11: \"metrics\" must be an array, found a table");
    CHECK(error_of(policy_with("metrics = [\"first_response\"]")) ==
          "test.toml:5:12: each element of \"metrics\" must be a table like { metric = \"first_response\", target = "
          "\"1h\" }, found a string");
  }

  TEST_CASE("errors in a metric") {
    CHECK(error_of(metric_doc("{ metric = \"first_response\", target = \"1h\", warn = 0.5 }")) ==
          "test.toml:5:57: unknown key \"warn\" in a metric; expected one of metric, target, warning, pause_on");
    CHECK(error_of(metric_doc("{ target = \"1h\" }")) ==
          "test.toml:5:13: missing \"metric\" in a metric of SLA policy \"p\"; expected one of first_response, "
          "next_response, resolution");
    CHECK(error_of(metric_doc("{ metric = \"first_reply\", target = \"1h\" }")) ==
          "test.toml:5:24: unknown metric \"first_reply\"; expected one of first_response, next_response, resolution");
    CHECK(error_of(metric_doc("{ metric = \"resolution\" }")) ==
          "test.toml:5:13: missing \"target\" in metric \"resolution\" of SLA policy \"p\"; expected a business "
          "duration like \"1h\"");
    CHECK(error_of(metric_doc("{ metric = \"resolution\", target = \"1.5h\" }")) ==
          "test.toml:5:47: bad target \"1.5h\"; expected a business duration like 1h, 90m or 1h30m");
    CHECK(error_of(metric_doc("{ metric = \"resolution\", target = \"2d\" }")) ==
          "test.toml:5:47: bad target \"2d\"; expected a business duration like 1h, 90m or 1h30m");
    CHECK(error_of(metric_doc("{ metric = \"resolution\", target = 3600 }")) ==
          "test.toml:5:47: \"target\" must be a string, found an integer; expected a business duration like 1h, 90m "
          "or 1h30m (in quotes)");
    CHECK(error_of(metric_doc("{ metric = \"resolution\", target = \"0s\" }")) ==
          "test.toml:5:47: target \"0s\" is zero; expected a business duration like 1h, 90m or 1h30m, greater than "
          "zero");
  }

  TEST_CASE("a warning ratio is a float strictly between 0 and 1") {
    CHECK(error_of(metric_doc("{ metric = \"resolution\", target = \"8h\", warning = 1.0 }")) ==
          "test.toml:5:63: \"warning\" is 1; expected a fraction of the target strictly between 0 and 1, like 0.75");
    CHECK(error_of(metric_doc("{ metric = \"resolution\", target = \"8h\", warning = 0.0 }")) ==
          "test.toml:5:63: \"warning\" is 0; expected a fraction of the target strictly between 0 and 1, like 0.75");
    CHECK(error_of(metric_doc("{ metric = \"resolution\", target = \"8h\", warning = 1.5 }")) ==
          "test.toml:5:63: \"warning\" is 1.5; expected a fraction of the target strictly between 0 and 1, like 0.75");
    CHECK(error_of(metric_doc("{ metric = \"resolution\", target = \"8h\", warning = 75 }")) ==
          "test.toml:5:63: \"warning\" must be a fraction of the target strictly between 0 and 1, like 0.75, found "
          "an integer");
    CHECK(error_of(metric_doc("{ metric = \"resolution\", target = \"8h\", warning = nan }")) ==
          "test.toml:5:63: \"warning\" is nan; expected a fraction of the target strictly between 0 and 1, like 0.75");
    CHECK(load(metric_doc("{ metric = \"resolution\", target = \"8h\", warning = 0.5 }"))[0].metrics[0].warning_millionths ==
          500000);
  }

  TEST_CASE("a warning ratio has at most six decimals: more are refused at file:line:col, not rounded away") {
    // 0.7000001 would have warned exactly as 0.7 does, silently.
    CHECK(error_of(metric_doc("{ metric = \"resolution\", target = \"8h\", warning = 0.7000001 }")) ==
          "test.toml:5:63: \"warning\" is 0.7000001; it is read to the millionth: write at most six decimals, like 0.75 "
          "or 0.333333");
    CHECK(error_of(metric_doc("{ metric = \"resolution\", target = \"8h\", warning = 0.1234567 }")) ==
          "test.toml:5:63: \"warning\" is 0.1234567; it is read to the millionth: write at most six decimals, like 0.75 "
          "or 0.333333");
    CHECK(error_of(metric_doc("{ metric = \"resolution\", target = \"8h\", warning = 0.9999999 }")).find(
              "write at most six decimals") != std::string::npos);
    // Six are fine, however the binary fraction rounds them.
    // Not a structured binding: clang 14 cannot capture one in INFO's lambda.
    for (const auto& expected : std::vector<std::pair<std::string, std::int64_t>>{
             {"0.333333", 333333}, {"0.999999", 999999}, {"0.000001", 1}, {"0.7", 700000}, {"0.123457", 123457}}) {
      INFO(expected.first);
      CHECK(load(metric_doc("{ metric = \"resolution\", target = \"8h\", warning = " + expected.first + " }"))[0]
                .metrics[0]
                .warning_millionths == expected.second);
    }
  }

  TEST_CASE("pause_on lists known statuses, each once") {
    CHECK(error_of(metric_doc("{ metric = \"resolution\", target = \"8h\", pause_on = [\"waiting\"] }")) ==
          "test.toml:5:65: unknown status \"waiting\"; expected one of new, open, pending_customer, escalated, "
          "resolved, closed");
    CHECK(error_of(metric_doc("{ metric = \"resolution\", target = \"8h\", pause_on = \"pending_customer\" }")) ==
          "test.toml:5:64: \"pause_on\" must be an array, found a string");
    CHECK(error_of(metric_doc(
              "{ metric = \"resolution\", target = \"8h\", pause_on = [\"pending_customer\", \"pending_customer\"] }")) ==
          "test.toml:5:85: status \"pending_customer\" is listed twice in \"pause_on\"");
  }

  TEST_CASE("a duplicate metric or policy name is refused where it repeats") {
    CHECK(error_of(R"([sla]
[[sla.policy]]
name = "p"
calendar = "support"
metrics = [
  { metric = "first_response", target = "1h" },
  { metric = "first_response", target = "2h" },
]
)") == "test.toml:7:14: duplicate metric \"first_response\" in SLA policy \"p\"; first at line 6; each metric at "
          "most once per policy");
    CHECK(error_of(R"([sla]
[[sla.policy]]
name = "p"
calendar = "support"
metrics = [ { metric = "first_response", target = "1h" } ]

[[sla.policy]]
name = "p"
calendar = "24x5"
metrics = [ { metric = "first_response", target = "1h" } ]
)") == "test.toml:8:8: duplicate policy name \"p\"; first defined at line 3; policy names must be unique");
  }

  TEST_CASE("the shipped config: pre-sales and enterprise troubleshooting have clocks, how-to and feature requests none") {
    using model::customer_stage;
    using model::request_kind;
    const std::string file = SWITCHBOARD_SOURCE_DIR "/config/switchboard.toml";
    const toml::table root = config::parse_file(file);
    REQUIRE(root["calendars"].as_table() != nullptr);
    REQUIRE(root["sla"].as_table() != nullptr);
    sla::policy_set set;
    set.calendars = calendar::load_calendars(*root["calendars"].as_table(), file);
    set.policies = sla::load_policies(*root["sla"].as_table(), file, set.calendars, tiers);

    const auto* pre_sales = set.match(request(request_kind::troubleshooting, customer_stage::trial));
    REQUIRE(pre_sales != nullptr);
    CHECK(pre_sales->name == "pre-sales");
    CHECK(pre_sales->calendar == "support");
    REQUIRE(pre_sales->metrics.size() == 1);
    CHECK(pre_sales->metrics[0].metric == model::sla_metric::first_response);
    CHECK(pre_sales->metrics[0].target == seconds{3600});
    CHECK(set.match(request(request_kind::troubleshooting, customer_stage::prospect)) == pre_sales);

    const auto* enterprise = set.match(request(request_kind::troubleshooting, customer_stage::production, "enterprise"));
    REQUIRE(enterprise != nullptr);
    CHECK(enterprise->name == "enterprise");
    CHECK(enterprise->calendar == "24x5");
    CHECK(set.calendar(enterprise->calendar).name() == "24x5");

    for (const auto& tier : tiers) {
      CAPTURE(tier);
      const auto* post_sales = set.match(request(request_kind::troubleshooting, customer_stage::production, tier));
      REQUIRE(post_sales != nullptr);
      CHECK(post_sales->name == tier);
      CHECK(post_sales->metrics.size() == 3);
    }

    for (const auto kind : {request_kind::how_to, request_kind::feature_request}) {
      CAPTURE(model::to_string(kind));
      CHECK(set.match(request(kind, customer_stage::trial)) == nullptr);
      CHECK(set.match(request(kind, customer_stage::prospect)) == nullptr);
      for (const auto& tier : tiers) CHECK(set.match(request(kind, customer_stage::production, tier)) == nullptr);
    }
  }
}
