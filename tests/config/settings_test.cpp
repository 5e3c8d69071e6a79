#include "config/settings.hpp"

#include "config/error.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace switchboard;

namespace {

// The error a config file with `content` gives, as file:line:col: message.
std::string error_of(const testing::temp_dir& dir, const std::string& content) {
  const auto path = testing::write_file(dir.file("switchboard.toml"), content);
  try {
    config::load_settings(path);
  } catch (const config::error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_SUITE("config::settings") {
  TEST_CASE("the shipped config loads, with paths resolved against its folder") {
    const auto settings = config::load_settings(testing::source_path("config/switchboard.toml"));
    CHECK(settings.listen.host == "127.0.0.1");
    CHECK(settings.listen.port == 8080);
    CHECK(settings.max_body_bytes == 1024 * 1024);
    CHECK(settings.rules_path == testing::source_path("rules/routing.toml"));
    CHECK(settings.database_path == testing::source_path("var/switchboard.db"));
    CHECK(settings.tiers == std::vector<std::string>{"standard", "premium", "enterprise"});
  }

  TEST_CASE("errors name file, line and column and what was expected") {
    testing::temp_dir dir;
    const auto file = dir.file("switchboard.toml");
    CHECK(error_of(dir, "[server]\nlisten = \"nowhere\"\n") ==
          file + ":2:10: \"nowhere\" is not HOST:PORT");
    CHECK(error_of(dir, "[server]\nport = 80\n") ==
          file + ":2:1: unknown key \"port\" in [server]; expected one of listen, database, max_body_bytes, rules, io_threads, "
                                                     "worker_threads, max_connections, max_large_uploads, "
                                                     "header_timeout_seconds, body_timeout_seconds, write_timeout_seconds, "
                                                     "handler_timeout_seconds, shutdown_timeout_seconds, health_deadline_ms, "
                                                     "max_connections_per_client");
    CHECK(error_of(dir, "[server]\nmax_body_bytes = -1\n") ==
          file + ":2:18: max_body_bytes must be a positive integer (bytes)");
    CHECK(error_of(dir, "[customers]\ntiers = []\n") == file + ":2:9: tiers must be a non-empty array of strings");
    CHECK(error_of(dir, "[servre]\n") ==
          file + ":1:2: unknown key \"servre\" in the top level; expected one of server, customers, calendars, sla, auth, workflow, escalation, notify, integrations, outbound, people, use_cases");
    CHECK(error_of(dir, "[server\n").starts_with(file + ":1:8: "));
  }

  TEST_CASE("listen addresses") {
    CHECK(config::parse_listen_address("127.0.0.1:0").port == 0);
    CHECK(config::parse_listen_address("0.0.0.0:9000").host == "0.0.0.0");
    CHECK(config::parse_listen_address("[::1]:8080").host == "::1");
    CHECK_THROWS(config::parse_listen_address("localhost"));
    CHECK_THROWS(config::parse_listen_address("127.0.0.1:70000"));
    CHECK_THROWS(config::parse_listen_address("127.0.0.1:80x"));
  }
}
