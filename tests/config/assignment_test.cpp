#include "config/assignment.hpp"

#include "config/settings.hpp"
#include "policy/load.hpp"
#include "support/configs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace switchboard;

TEST_SUITE("config::assignment") {
  TEST_CASE("[assignment.<team>] loads each team's strategy and skills into the policy") {
    testing::temp_dir dir;
    const auto path = testing::config_on_always_calendar(dir, R"(
[assignment.se]
strategy = "least_loaded"
skills = true
[assignment.ce]
strategy = "round_robin"
)");
    const auto policy = policy::load(config::load_settings(path));
    REQUIRE(policy.assignment.size() == 2);
    CHECK(policy.assignment.at(model::team::se).strategy == model::assignment_strategy::least_loaded);
    CHECK(policy.assignment.at(model::team::se).skills);
    CHECK(policy.assignment.at(model::team::ce).strategy == model::assignment_strategy::round_robin);
    CHECK_FALSE(policy.assignment.at(model::team::ce).skills);
    CHECK(policy::load(config::load_settings(testing::config_on_always_calendar(dir, ""))).assignment.empty());
  }

  TEST_CASE("every refusal is at file:line:col and says what was expected") {
    testing::temp_dir dir;
    // `rest` starts at line 8.
    testing::check_config_refusals(dir, {
        {"[[assignment]]\nstrategy = \"round_robin\"\n", ":8:", "assignment must be a table of [assignment.<team>] tables, found an array"},
        {"[assignment.sales]\nstrategy = \"round_robin\"\n", ":8:13:",
         "unknown team \"sales\" in [assignment]; expected one of ce, se, product, engineering, engineering_discussion"},
        {"[assignment]\nse = 1\n", ":9:6:", "[assignment.se] must be a table with strategy and skills, found an integer"},
        {"[assignment.se]\nstrategy = \"round_robin\"\nweights = 2\n", ":10:1:",
         "unknown key \"weights\" in [assignment.se]; expected one of strategy, skills"},
        {"[assignment.se]\nskills = true\n", ":8:1:", "[assignment.se] needs strategy = \"round_robin\" or \"least_loaded\""},
        {"[assignment.se]\nstrategy = \"random\"\n", ":9:12:",
         "unknown strategy \"random\"; expected \"round_robin\" or \"least_loaded\""},
        {"[assignment.se]\nstrategy = 3\n", ":9:12:", "strategy must be \"round_robin\" or \"least_loaded\", found an integer"},
        {"[assignment.se]\nstrategy = \"round_robin\"\nskills = \"yes\"\n", ":10:10:", "skills must be true or false, found a string"},
    }, [](const std::string& file) { policy::load(config::load_settings(file)); });
  }
}
