#include "notify/config.hpp"

#include "config/error.hpp"
#include "config/settings.hpp"
#include "policy/load.hpp"
#include "store/outbox.hpp"
#include "support/configs.hpp"
#include "support/temp_dir.hpp"

#include <fstream>

#include <doctest/doctest.h>

using namespace switchboard;

namespace {

notify::settings load_text(const testing::temp_dir& dir, const std::string& text) {
  return notify::load_settings_file(testing::write_file(dir.file("notify.toml"), text));
}

std::string error_of(const testing::temp_dir& dir, const std::string& text) {
  try {
    load_text(dir, text);
  } catch (const config::error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_SUITE("notify::config") {
  TEST_CASE("event types match exactly, by prefix.* or *") {
    CHECK(store::event_type_matches("sla.breached", "sla.breached"));
    CHECK_FALSE(store::event_type_matches("sla.breached", "sla.warning"));
    CHECK(store::event_type_matches("sla.*", "sla.warning"));
    CHECK(store::event_type_matches("sla.*", "sla.breached"));
    CHECK_FALSE(store::event_type_matches("sla.*", "sla"));
    CHECK_FALSE(store::event_type_matches("sla.*", "slack.message"));
    CHECK_FALSE(store::event_type_matches("request.*", "escalation.notified"));
    CHECK(store::event_type_matches("*", "request.routed"));
    CHECK_FALSE(store::event_type_matches("escalation.notified", "escalation.notified.extra"));
    const engine::outbound_route route{"ops", {"escalation.notified", "sla.*"}};
    CHECK(store::route_takes(route, "escalation.notified"));
    CHECK(store::route_takes(route, "sla.warning"));
    CHECK_FALSE(store::route_takes(route, "request.routed"));
  }

  TEST_CASE("a [notify] section loads with its defaults and routes") {
    testing::temp_dir dir;
    const auto settings = load_text(dir, R"(
[notify]
initial_backoff = "1s"
max_age = "2h"

[[notify.subscription]]
name = "ops"
url = "http://127.0.0.1:8099/hook?x=1"
events = ["escalation.notified", "sla.*"]
secret_env = "OPS_SECRET"
allow_private = true

[[notify.subscription]]
name = "slack-escalations"
url_env = "SLACK_URL"
events = ["escalation.notified"]
format = "slack"
)");
    CHECK(settings.initial_backoff == std::chrono::seconds{1});
    CHECK(settings.max_backoff == std::chrono::seconds{3600});
    CHECK(settings.max_age == std::chrono::seconds{7200});
    REQUIRE(settings.subscriptions.size() == 2);
    CHECK(settings.subscriptions[0].allow_private);
    CHECK(settings.subscriptions[1].format == notify::body_format::slack);
    CHECK_FALSE(settings.subscriptions[1].allow_private);
    const auto routes = notify::routes(settings);
    REQUIRE(routes.size() == 2);
    CHECK(routes[0].subscription == "ops");
    CHECK(routes[0].event_types == std::vector<std::string>{"escalation.notified", "sla.*"});
  }

  TEST_CASE("no [notify] section means no subscriptions") {
    testing::temp_dir dir;
    CHECK(load_text(dir, "[server]\n").subscriptions.empty());
  }

  TEST_CASE("mistakes are reported with file:line:col") {
    testing::temp_dir dir;
    CHECK(error_of(dir, "[notify]\nretries = 3\n").find("notify.toml:2:") != std::string::npos);
    CHECK(error_of(dir, "[notify]\ninitial_backoff = \"soon\"\n").find("duration") != std::string::npos);
    CHECK(error_of(dir, "[[notify.subscription]]\nname = \"a\"\nurl = \"ftp://x\"\nevents = [\"sla.*\"]\nsecret_env = \"S\"\n")
              .find("notify.toml:3:") != std::string::npos);
    CHECK(error_of(dir, "[[notify.subscription]]\nname = \"a\"\nurl = \"https://x\"\nevents = [\"sla.*\"]\n")
              .find("secret_env") != std::string::npos);
    CHECK(error_of(dir, "[[notify.subscription]]\nname = \"a\"\nurl = \"https://x\"\nevents = [\"sla.\"]\nsecret_env = \"S\"\n")
              .find("notify.toml:4:") != std::string::npos);
    CHECK(error_of(dir, "[[notify.subscription]]\nname = \"a\"\nurl = \"https://x\"\nevents = [\"*\"]\nformat = \"teams\"\n")
              .find("format") != std::string::npos);
    CHECK(error_of(dir, "[[notify.subscription]]\nname = \"a\"\nurl = \"https://x\"\nurl_env = \"U\"\nevents = [\"*\"]\nformat = \"slack\"\n")
              .find("exactly one of url or url_env") != std::string::npos);
    CHECK(error_of(dir, "[[notify.subscription]]\nname = \"a\"\nurl = \"https://x\"\nevents = [\"*\"]\nformat = \"slack\"\n"
                        "[[notify.subscription]]\nname = \"a\"\nurl = \"https://y\"\nevents = [\"*\"]\nformat = \"slack\"\n")
              .find("already defined") != std::string::npos);
  }

  TEST_CASE("URLs") {
    auto u = notify::parse_url("https://hooks.slack.com/services/T0/B0/xyz");
    CHECK(u.https);
    CHECK(u.host == "hooks.slack.com");
    CHECK(u.port == 443);
    CHECK(u.target == "/services/T0/B0/xyz");
    u = notify::parse_url("http://127.0.0.1:8080");
    CHECK_FALSE(u.https);
    CHECK(u.port == 8080);
    CHECK(u.target == "/");
    u = notify::parse_url("http://[::1]:9000/a?b=c#frag");
    CHECK(u.host == "::1");
    CHECK(u.port == 9000);
    CHECK(u.target == "/a?b=c");
    CHECK_THROWS_AS(notify::parse_url("hooks.example.com/x"), std::invalid_argument);
    CHECK_THROWS_AS(notify::parse_url("https://user:pw@example.com/"), std::invalid_argument);
    CHECK_THROWS_AS(notify::parse_url("https://example.com:99999/"), std::invalid_argument);
    CHECK_THROWS_AS(notify::parse_url("https:///path"), std::invalid_argument);
  }

  TEST_CASE("the policy loader fills engine::policy::outbound from [notify]") {
    testing::temp_dir dir;
    const auto path = testing::fast_config(dir);
    CHECK(policy::load(config::load_settings(path)).outbound.empty());
    std::ofstream(path, std::ios::app) << R"(
[[notify.subscription]]
name = "ops"
url = "https://hooks.example.com/x"
events = ["escalation.notified", "sla.*", "request.routed", "request.handed_off"]
secret_env = "OPS"
)";
    const auto loaded = policy::load(config::load_settings(path));
    REQUIRE(loaded.outbound.size() == 1);
    CHECK(loaded.outbound[0].subscription == "ops");
    CHECK(loaded.outbound[0].event_types.size() == 4);
    // The shipped config ships its [notify] examples commented out.
    CHECK(policy::load(config::load_settings(testing::source_path("config/switchboard.toml"))).outbound.empty());
  }
}
