#include "http/webhooks/integrations.hpp"

#include "config/error.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace switchboard;
using switchboard::http::webhooks::load_integrations;
using switchboard::http::webhooks::slack_filing;

namespace {

const std::vector<std::string> tiers{"standard", "premium"};

constexpr std::string_view acme = R"([integrations.customers.acme]
name = "Acme Corp"
stage = "production"
tier = "premium"
)";

std::string error_of(const testing::temp_dir& dir, std::string_view slack) {
  const auto path = testing::write_file(dir.file("switchboard.toml"), std::string(acme) + std::string(slack));
  try {
    load_integrations(path, tiers);
  } catch (const config::error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_SUITE("http::webhooks::integrations") {
  TEST_CASE("Slack channels file mentions by default or everything, and Slack users map to CE or SE agents") {
    testing::temp_dir dir;
    const auto path = testing::write_file(dir.file("switchboard.toml"), std::string(acme) + R"(
[integrations.slack.channels.C0LOBBY0001]
customer = "acme"

[integrations.slack.channels.C0SUPPORT01]
customer = "acme"
file = "all"

[integrations.slack.users]
U0CEDANA01 = "dana"
U0SESAM001 = { person = "sam", role = "se" }
U0CEKIM001 = { person = "kim", role = "ce" }
)");
    const auto config = load_integrations(path, tiers);
    CHECK(config.slack_channels.at("C0LOBBY0001").file == slack_filing::mentions);
    CHECK(config.slack_channels.at("C0SUPPORT01").file == slack_filing::all);
    CHECK(config.slack_users.at("U0CEDANA01").person == "dana");
    CHECK(config.slack_users.at("U0CEDANA01").role == model::role::ce);
    CHECK(config.slack_users.at("U0SESAM001").person == "sam");
    CHECK(config.slack_users.at("U0SESAM001").role == model::role::se);
    CHECK(config.slack_users.at("U0CEKIM001").role == model::role::ce);
  }

  TEST_CASE("bad Slack channel and user entries are refused with file, line and column") {
    testing::temp_dir dir;
    const auto file = dir.file("switchboard.toml");
    CHECK(error_of(dir, "[integrations.slack.channels.C1]\ncustomer = \"acme\"\nfile = \"everything\"\n") ==
          file + ":7:8: unknown file \"everything\"; expected \"mentions\" (only messages that mention the app) or "
                 "\"all\" (every message)");
    CHECK(error_of(dir, "[integrations.slack.users]\nU1 = { person = \"pat\", role = \"product\" }\n") ==
          file + ":6:31: unknown role \"product\" for a Slack user; expected ce or se");
    CHECK(error_of(dir, "[integrations.slack.users]\nU1 = { person = \"pat\" }\n") ==
          file + ":6:6: a Slack user needs person and role");
    CHECK(error_of(dir, "[integrations.slack.users]\nU1 = { person = \"pat\", role = \"se\", team = \"x\" }\n")
              .starts_with(file + ":6:"));
    CHECK(error_of(dir, "[integrations.slack.users]\nU1 = 7\n") ==
          file + ":6:6: a Slack user must be \"<CE person>\" or { person = \"<person>\", role = \"ce\" or \"se\" }");
  }
}
