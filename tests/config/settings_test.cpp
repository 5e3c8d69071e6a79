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
          file +
              ":2:1: unknown key \"port\" in [server]; expected one of listen, database, max_body_bytes, rules, "
              "io_threads, "
              "worker_threads, intake_threads, max_intake_jobs, max_connections, max_large_uploads, "
              "header_timeout_seconds, body_timeout_seconds, write_timeout_seconds, "
              "handler_timeout_seconds, shutdown_timeout_seconds, health_deadline_ms, "
              "max_connections_per_client, min_body_bytes_per_second, "
              "body_rate_grace_seconds, large_body_bytes, max_unauthenticated_body_bytes, "
              "max_page_bytes, max_buffered_response_bytes, log_format, public_url");
    CHECK(error_of(dir, "[server]\nmax_body_bytes = -1\n") ==
          file + ":2:18: max_body_bytes must be a positive integer (bytes)");
    CHECK(error_of(dir, "[customers]\ntiers = []\n") == file + ":2:9: tiers must be a non-empty array of strings");
    CHECK(error_of(dir, "[servre]\n") ==
          file + ":1:2: unknown key \"servre\" in the top level; expected one of server, customers, calendars, sla, auth, workflow, escalation, notify, integrations, outbound, people, use_cases, assignment, storage");
    CHECK(error_of(dir, "[server\n").starts_with(file + ":1:8: "));
  }

  TEST_CASE("the body, upload and page limits are [server] keys with their defaults, and a bad value is refused at its place") {
    const auto shipped = config::load_settings(testing::source_path("config/switchboard.toml"));
    CHECK(shipped.min_body_bytes_per_second == 8 * 1024);
    CHECK(shipped.body_rate_grace_seconds == 5);
    CHECK(shipped.large_body_bytes == 1024 * 1024);
    CHECK(shipped.max_unauthenticated_body_bytes == 64 * 1024 * 1024);
    CHECK(shipped.max_page_bytes == 4 * 1024 * 1024);

    testing::temp_dir dir;
    const auto file = dir.file("switchboard.toml");
    const auto set = config::load_settings(testing::write_file(
        file, "[server]\nmin_body_bytes_per_second = 0\nbody_rate_grace_seconds = 2\nlarge_body_bytes = 65536\n"
              "max_unauthenticated_body_bytes = 1048576\nmax_page_bytes = 16384\n"));
    CHECK(set.min_body_bytes_per_second == 0);  // no minimum rate
    CHECK(set.body_rate_grace_seconds == 2);
    CHECK(set.large_body_bytes == 65536);
    CHECK(set.max_unauthenticated_body_bytes == 1048576);
    CHECK(set.max_page_bytes == 16384);

    CHECK(error_of(dir, "[server]\nmax_page_bytes = 0\n") ==
          file + ":2:18: max_page_bytes must be a whole number of bytes from 1 to 1099511627776");
    CHECK(error_of(dir, "[server]\nlisten = \"127.0.0.1:0\"\nmin_body_bytes_per_second = \"8 KiB\"\n") ==
          file + ":3:29: min_body_bytes_per_second must be a whole number of bytes from 0 to 1099511627776");
    CHECK(error_of(dir, "[server]\nmax_unauthenticated_body_bytes = -1\n") ==
          file + ":2:34: max_unauthenticated_body_bytes must be a whole number of bytes from 1 to 1099511627776");
    CHECK(error_of(dir, "[server]\nlarge_body_bytes = 1.5\n") ==
          file + ":2:20: large_body_bytes must be a whole number of bytes from 1 to 1099511627776");
    CHECK(error_of(dir, "[server]\nbody_rate_grace_seconds = 0\n") ==
          file + ":2:27: body_rate_grace_seconds must be a whole number from 1 to 1000000");
  }

  TEST_CASE("[server] log_format is text by default, json when asked, and nothing else") {
    CHECK(config::load_settings(testing::source_path("config/switchboard.toml")).log_format == "text");
    testing::temp_dir dir;
    const auto file = dir.file("switchboard.toml");
    CHECK(config::load_settings(testing::write_file(file, "[server]\nlog_format = \"json\"\n")).log_format == "json");
    CHECK(error_of(dir, "[server]\nlog_format = \"yaml\"\n") ==
          file + ":2:14: log_format must be \"text\" or \"json\"");
    CHECK(error_of(dir, "[server]\nlog_format = 1\n").starts_with(file + ":2:14: "));
  }

  TEST_CASE("[server] public_url is https (http only on loopback), kept without its trailing slash, and empty by default") {
    CHECK(config::load_settings(testing::source_path("config/switchboard.toml")).public_url.empty());
    testing::temp_dir dir;
    const auto file = dir.file("switchboard.toml");
    CHECK(config::load_settings(testing::write_file(file, "[server]\npublic_url = \"https://support.example.com/sb/\"\n"))
              .public_url == "https://support.example.com/sb");
    CHECK(config::load_settings(testing::write_file(file, "[server]\npublic_url = \"http://127.0.0.1:8080\"\n"))
              .public_url == "http://127.0.0.1:8080");
    CHECK(error_of(dir, "[server]\npublic_url = \"http://support.example.com\"\n") ==
          file + ":2:14: public_url must be https:// (http:// only for localhost, 127.0.0.0/8 or [::1])");
    CHECK(error_of(dir, "[server]\npublic_url = \"ftp://x\"\n").starts_with(file + ":2:14: public_url \"ftp://x\" must start"));
    CHECK(error_of(dir, "[server]\npublic_url = \"https://x.example/?a=1\"\n") ==
          file + ":2:14: public_url must not carry a query or a fragment");
    CHECK(error_of(dir, "[server]\npublic_url = \"https://me@x.example\"\n") ==
          file + ":2:14: public_url must not carry user:password@");
    CHECK(error_of(dir, "[server]\npublic_url = \"https://\"\n") == file + ":2:14: public_url has no host");
  }

  TEST_CASE("[storage] names the SQLite file or postgres, [server] database is still read") {
    testing::temp_dir dir;
    const auto file = dir.file("switchboard.toml");
    {
      const auto path = testing::write_file(file, "[storage]\nbackend = \"sqlite\"\npath = \"data/sb.db\"\n");
      CHECK(config::load_settings(path).database_path == dir.file("data/sb.db"));
    }
    {
      const auto path = testing::write_file(file, "[server]\ndatabase = \"old/sb.db\"\n");
      CHECK(config::load_settings(path).database_path == dir.file("old/sb.db"));
    }
    CHECK(error_of(dir, "[server]\ndatabase = \"a.db\"\n[storage]\npath = \"b.db\"\n") ==
          file + ":4:8: give the database file once: [storage] path, or its older name [server] database");
    CHECK(error_of(dir, "[storage]\nurl = \"postgresql://sb:secret@db1/switchboard\"\n") ==
          file + ":2:7: url is not read from the file: the PostgreSQL URL comes from SWITCHBOARD_DATABASE_URL");
    {
      const auto path = testing::write_file(file, "[storage]\nbackend = \"postgres\"\nreaders = 3\nconnect_wait_ms = 500\nlease_seconds = 2\n");
      const auto settings = config::load_settings(path);
      CHECK(settings.storage_kind == config::storage_backend::postgres);
      CHECK(settings.storage_readers == 3);
      CHECK(settings.storage_connect_wait_ms == 500);
      CHECK(settings.storage_lease_seconds == 2);
    }
    CHECK(config::load_settings(testing::write_file(file, "[storage]\n")).storage_lease_seconds == 10);
    CHECK(error_of(dir, "[storage]\nlease_seconds = 0\n") ==
          file + ":2:17: lease_seconds must be a whole number from 1 to 3600");
    CHECK(config::load_settings(testing::write_file(file, "[storage]\n")).storage_kind == config::storage_backend::sqlite);
    CHECK(error_of(dir, "[storage]\nbackend = \"postgres\"\npath = \"x.db\"\n") ==
          file + ":3:8: path is the embedded database's file; with backend \"postgres\" the database is SWITCHBOARD_DATABASE_URL's");
    CHECK(error_of(dir, "[storage]\nbackend = \"mysql\"\n") ==
          file + ":2:11: unknown backend \"mysql\"; expected \"sqlite\" or \"postgres\"");
    CHECK(error_of(dir, "[storage]\nreaders = -1\n") == file + ":2:11: readers must be a whole number from 0 to 1024");
    CHECK(error_of(dir, "[storage]\nfile = \"x.db\"\n") ==
          file + ":2:1: unknown key \"file\" in [storage]; expected one of backend, path, readers, connect_wait_ms, lease_seconds");

    // A URL where a file is expected: refused, never taken for a path (password and all).
    CHECK(error_of(dir, "[server]\ndatabase = \"postgresql://sb:secret@db1/switchboard\"\n") ==
          file + ":2:12: database is the embedded database's file, and this looks like a URL; for PostgreSQL set "
                 "[storage] backend = \"postgres\" and the URL in SWITCHBOARD_DATABASE_URL");
    CHECK(error_of(dir, "[storage]\npath = \"postgres:sb@db1\"\n") ==
          file + ":2:8: path is the embedded database's file, and this looks like a URL; for PostgreSQL set "
                 "[storage] backend = \"postgres\" and the URL in SWITCHBOARD_DATABASE_URL");
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
