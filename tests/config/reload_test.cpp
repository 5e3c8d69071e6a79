#include "config/reload.hpp"

#include "config/settings.hpp"
#include "config/tokens.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace switchboard;

namespace {

const std::string fallback_se = "[fallback]\nreason = \"SE triages.\"\nthen = { owner = \"se\" }\n";
const std::string fallback_ce = "[fallback]\nreason = \"CE triages.\"\nthen = { owner = \"ce\" }\n";

}  // namespace

TEST_SUITE("config::reload") {
  TEST_CASE("a changed rules file or rules path is reported once to be put in force, never as needing a restart") {
    testing::temp_dir dir;
    testing::write_file(dir.file("a.toml"), fallback_se);
    testing::write_file(dir.file("b.toml"), fallback_ce);
    const auto config = testing::write_file(dir.file("switchboard.toml"), "[server]\nrules = \"a.toml\"\n");
    config::token_table tokens(std::vector<config::token_entry>{});
    config::config_watch watch(config::load_settings(config), "", {}, "support");

    auto unchanged = watch.reload(tokens);
    CHECK_FALSE(unchanged.rules_changed);
    CHECK(unchanged.needs_restart.empty());

    testing::write_file(dir.file("a.toml"), fallback_ce);
    auto edited = watch.reload(tokens);
    REQUIRE(edited.rules_changed);
    CHECK(*edited.rules_changed == dir.file("a.toml"));
    CHECK(edited.needs_restart.empty());
    // In force from then on: the same text again is no change.
    CHECK_FALSE(watch.reload(tokens).rules_changed);

    testing::write_file(config, "[server]\nrules = \"b.toml\"\nlisten = \"127.0.0.1:9\"\n");
    auto moved = watch.reload(tokens);
    REQUIRE(moved.rules_changed);
    CHECK(*moved.rules_changed == dir.file("b.toml"));
    REQUIRE(moved.needs_restart.size() == 1);
    CHECK(moved.needs_restart[0] == "[server] listen");
  }
}
