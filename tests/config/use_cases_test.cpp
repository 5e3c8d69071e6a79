#include "config/use_cases.hpp"

#include "config/error.hpp"
#include "config/people.hpp"
#include "config/settings.hpp"
#include "policy/load.hpp"
#include "support/configs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <functional>

using namespace switchboard;

namespace {

// Lines 8 to 17 of a config_on_always_calendar config (`rest` starts at line 8).
constexpr std::string_view people = R"([[people]]
id = "pat"
name = "Pat"
roles = ["product"]
calendar = "always"
[[people]]
id = "dana"
name = "Dana"
roles = ["ce"]
calendar = "always"
)";

std::string error_of(const std::function<void()>& run) { return testing::config_error_of(run); }

}  // namespace

TEST_SUITE("config::use_cases") {
  TEST_CASE("use cases load with their name, description and DRI") {
    testing::temp_dir dir;
    const auto path = testing::config_on_always_calendar(dir, std::string(people) + R"(
[use_cases.search]
name = "Code search"
description = "Finding code across repositories"
dri = "pat"
[use_cases.sso]
name = "Single sign-on"
dri = "pat"
)");
    const auto loaded = config::load_use_cases_of(path);
    CHECK(loaded.configured);
    CHECK(loaded.tags() == std::vector<std::string>{"search", "sso"});
    CHECK(loaded.by_tag.at("search").name == "Code search");
    CHECK(loaded.by_tag.at("search").description == "Finding code across repositories");
    CHECK(loaded.by_tag.at("sso").dri == "pat");
    CHECK(loaded.accepts(""));
    CHECK(loaded.accepts("sso"));
    CHECK_FALSE(loaded.accepts("nope"));

    const auto policy = policy::load(config::load_settings(path));
    const auto directory = config::load_people_of(path, config::names_of(policy.sla.calendars));
    CHECK(error_of([&] { config::check_use_case_dris(path, directory); }) == "no error");
  }

  TEST_CASE("no [use_cases] leaves use_case a free tag") {
    testing::temp_dir dir;
    const auto path = testing::config_on_always_calendar(dir, "");
    const auto loaded = config::load_use_cases_of(path);
    CHECK_FALSE(loaded.configured);
    CHECK(loaded.accepts("anything"));
    CHECK(error_of([&] { config::check_use_case_dris(path, {}); }) == "no error");
  }

  TEST_CASE("every refusal is at file:line:col and says what was expected") {
    testing::temp_dir dir;
    // `rest` starts at line 8.
    testing::check_config_refusals(dir, {
        {"[[use_cases]]\nname = \"S\"\n", ":8:", "use_cases must be a table of [use_cases.<tag>] tables, found an array"},
        {"[use_cases]\nSearch = { name = \"S\", dri = \"pat\" }\n", ":9:1:", "use case tag \"Search\" must match [a-z0-9._-]+"},
        {"[use_cases]\nsearch = 1\n", ":9:10:", "[use_cases.search] must be a table with name, description and dri, found an integer"},
        {"[use_cases.search]\nname = \"S\"\ndri = \"pat\"\nowner = \"pat\"\n", ":11:1:",
         "unknown key \"owner\" in [use_cases.search]; expected one of name, description, dri"},
        {"[use_cases.search]\ndri = \"pat\"\n", ":8:1:", "[use_cases.search] needs name = \"<display name>\""},
        {"[use_cases.search]\nname = \"\"\ndri = \"pat\"\n", ":9:8:", "name must be a non-empty string, found a string"},
        {"[use_cases.search]\nname = \"S\"\n", ":8:1:", "[use_cases.search] needs dri = \"<person id>\", a person from Product"},
        {"[use_cases.search]\nname = \"S\"\ndri = [\"pat\"]\n", ":10:7:", "dri must be a non-empty string, found an array"},
        {"[use_cases.search]\nname = \"S\"\ndescription = 2\ndri = \"pat\"\n", ":10:15:", "description must be a string, found an integer"},
    }, [](const std::string& file) { config::load_use_cases_of(file); });
  }

  TEST_CASE("a DRI is a person of the directory who holds the role product") {
    testing::temp_dir dir;
    const auto path = dir.file("switchboard.toml");
    const auto check = [&](std::string_view dri, bool with_people) {
      // With people, [use_cases.search] is line 18 and its dri line 20, the value at column 7.
      testing::config_on_always_calendar(dir, (with_people ? std::string(people) : std::string()) +
                                                  fmt::format("[use_cases.search]\nname = \"S\"\ndri = \"{}\"\n", dri));
      return error_of([&] {
        const auto policy = policy::load(config::load_settings(path));
        config::check_use_case_dris(path, config::load_people_of(path, config::names_of(policy.sla.calendars)));
      });
    };
    CHECK(check("pat", true) == "no error");
    const auto unknown = check("lee", true);
    CHECK_MESSAGE(unknown.starts_with(path + ":20:7: the dri of [use_cases.search] names person \"lee\", who is not in "
                                             "the people directory ([[people]]); expected one of dana, pat"),
                  unknown);
    const auto role = check("dana", true);
    CHECK_MESSAGE(role.starts_with(path + ":20:7: the dri of [use_cases.search] gives person \"dana\" the role product, "
                                          "which they do not hold in [[people]] (roles: ce)"),
                  role);
    const auto no_directory = check("pat", false);
    CHECK_MESSAGE(no_directory.starts_with(path + ":10:7: the dri of [use_cases.search] names person \"pat\", but there "
                                                  "is no people directory: declare [[people]]"),
                  no_directory);
  }

  TEST_CASE("the rules of a config with use cases may name only those") {
    testing::temp_dir dir;
    const auto rules = testing::write_file(dir.file("routing.toml"), R"([[rule]]
name = "sso to se"
reason = "SSO is troubleshooting."
when = { field = "use_case", op = "equals", value = "nope" }
then = { owner = "se" }
[fallback]
reason = "Nobody else."
then = { owner = "se" }
)");
    const auto path = testing::write_file(dir.file("switchboard.toml"), fmt::format(R"([server]
rules = "{}"
[use_cases.sso]
name = "Single sign-on"
dri = "pat"
)", rules));
    const auto error = error_of([&] { policy::load(config::load_settings(path)); });
    CHECK_MESSAGE(error.starts_with(rules + ":4:53: unknown use case \"nope\"; expected one of sso"), error);
  }
}
