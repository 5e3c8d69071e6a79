#include "config/error.hpp"

#include <doctest/doctest.h>

using namespace switchboard;

TEST_SUITE("config::error") {
  TEST_CASE("an error names file, line and column, or the file alone when there is no line to point at") {
    CHECK(std::string(config::error({"a.toml", 3, 7}, "expected a string").what()) == "a.toml:3:7: expected a string");
    // A config with no [[sla.policy]] table at all has nothing to point at: never "a.toml:0:0".
    const config::error nowhere({"a.toml", 0, 0}, "SLA policy \"support\" is used by 2 open SLA clocks");
    CHECK(std::string(nowhere.what()) == "a.toml: SLA policy \"support\" is used by 2 open SLA clocks");
    CHECK(nowhere.where().line == 0);
    CHECK(nowhere.message() == "SLA policy \"support\" is used by 2 open SLA clocks");
  }

  TEST_CASE("several errors found at once are listed one per line, each at its own place") {
    const config::error both({"a.toml", 127, 13}, "first", {{{"a.toml", 127, 24}, "second"}, {{"a.toml", 0, 0}, "third"}});
    CHECK(std::string(both.what()) == "a.toml:127:13: first\na.toml:127:24: second\na.toml: third");
    CHECK(both.message() == "first");
    REQUIRE(both.further().size() == 2);
    CHECK(both.further()[0].where.column == 24);
    CHECK(both.further()[1].message == "third");
  }
}
