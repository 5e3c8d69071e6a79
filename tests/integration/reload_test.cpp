// SIGHUP through the real server: the tokens file and people again, without a restart;
// `switchboard-cli token revoke`; what else changed is reported as needing a restart; an invalid
// file leaves the old tokens in force. The server's cases run on both store adapters
// (support/server_backends.hpp); token revoke's has no server.
#include "config/tokens.hpp"
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/server_backends.hpp"
#include "support/server_process.hpp"
#include "support/sse_viewer.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <csignal>
#include <filesystem>
#include <functional>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <utility>

using namespace switchboard;
using namespace std::chrono_literals;

namespace {

// Polls `done` until it holds or 10 s pass.
bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

unsigned status_with(const testing::server_process& server, const std::string& token) {
  http::client client(server.url());
  client.set_token(token);
  return client.get("/v1/requests?limit=1").status;
}

std::string entry(const std::string& person, const std::string& role, const std::string& token) {
  return "[[token]]\nperson = \"" + person + "\"\nrole = \"" + role + "\"\nsha256 = \"" + config::sha256_hex(token) +
         "\"\n";
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

const std::string second_token = "sb_reload_test_second_token_0123456789abcdefghijk";

const std::string all_to_se = "[fallback]\nreason = \"SE triages everything.\"\nthen = { owner = \"se\" }\n";
const std::string vpn_to_ce =
    "[[rule]]\nname = \"vpn-to-ce\"\nreason = \"CE knows the VPN client.\"\n"
    "when = { field = \"title\", op = \"contains\", value = \"vpn\" }\nthen = { owner = \"ce\" }\n" +
    all_to_se;

// Files a troubleshooting request titled `title`: its id and owner.
std::pair<std::int64_t, std::string> file_one(const testing::server_process& server, const std::string& title) {
  http::client client(server.url());
  client.set_token(testing::token_for(model::role::ce));
  const auto filed = testing::json_of(client.post_json("/v1/requests", testing::troubleshooting_filing(title)));
  return {filed.at("id").as_int64(), std::string(filed.at("owner").as_string())};
}

std::string owner_of(const testing::server_process& server, std::int64_t id) {
  http::client client(server.url());
  client.set_token(testing::token_for(model::role::ce));
  return std::string(testing::json_of(client.get("/v1/requests/" + std::to_string(id))).at("owner").as_string());
}

std::string metrics_of(const testing::server_process& server) {
  http::client client(server.url());
  client.set_token(testing::token_for(model::role::ce));
  return client.get("/metrics").body;
}

}  // namespace

TEST_SUITE("integration::reload") {
  TEST_CASE("token revoke finds every spelling the server loads and leaves the other entries and comments as they were") {
    testing::temp_dir dir;
    const auto dana = config::sha256_hex("dana-token");
    const auto sam = config::sha256_hex("sam-token");
    const auto kim = config::sha256_hex("kim-token");
    // Spacing in the header, literal strings, keys in another order, a trailing comment.
    const std::string text = "# tokens\n"
                             "[[ token ]]\n"
                             "role = 'ce'\n"
                             "sha256 = '" + dana + "'\n"
                             "person = 'dana'\n"
                             "\n"
                             "# sam, on call\n"
                             "[[token]]  # sam\n"
                             "person = \"sam\"\n"
                             "role = \"se\"\n"
                             "sha256 = \"" + sam + "\"\n"
                             "[[token]]\n"
                             "person=\"dana\"\n"
                             "role=\"admin\"\n"
                             "sha256=\"" + kim + "\"\n";
    const auto tokens = testing::write_file(dir.file("tokens.toml"), text);
    const auto revoked = testing::run_program({SWITCHBOARD_CLI_PATH, "token", "revoke", "--person", "dana", "--file", tokens});
    INFO(revoked.out << revoked.err);
    CHECK(revoked.exit_code == 0);
    CHECK(testing::read_text(tokens) == "# tokens\n"
                                        "\n"
                                        "# sam, on call\n"
                                        "[[token]]  # sam\n"
                                        "person = \"sam\"\n"
                                        "role = \"se\"\n"
                                        "sha256 = \"" + sam + "\"\n");
    const auto left = config::load_token_file(tokens);
    REQUIRE(left.size() == 1);
    CHECK(left[0].person == "sam");

    // An inline array of tables: nothing to remove by lines, so nothing is changed.
    const std::string inline_text = "token = [{person = \"sam\", role = \"se\", sha256 = \"" + sam + "\"}]\n";
    const auto inline_tokens = testing::write_file(dir.file("inline.toml"), inline_text);
    const auto refused = testing::run_program({SWITCHBOARD_CLI_PATH, "token", "revoke", "--person", "sam", "--file", inline_tokens});
    CHECK(refused.exit_code != 0);
    CHECK(refused.err.find("inline table") != std::string::npos);
    CHECK(testing::read_text(inline_tokens) == inline_text);
  }

  TEST_CASE("token revoke keeps the tokens file's mode: an installed 0644 file stays readable to the service") {
    testing::temp_dir dir;
    const auto first = testing::token_for(model::role::ce);
    const auto tokens = testing::write_file(dir.file("tokens.toml"),
                                            entry("ce-person", "ce", first) + entry("se-person", "se", second_token));
    REQUIRE(::chmod(tokens.c_str(), 0644) == 0);
    const auto revoked = testing::run_program(
        {"/bin/sh", "-c", "printf '%s\\n' \"$1\" | \"$2\" token revoke --token - --file \"$3\"", "sh", second_token,
         SWITCHBOARD_CLI_PATH, tokens});
    INFO(revoked.out << revoked.err);
    CHECK(revoked.exit_code == 0);
    CHECK(testing::read_text(tokens) == entry("ce-person", "ce", first));
    struct stat info{};
    REQUIRE(::stat(tokens.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0644);
  }

  TEST_CASE("SIGHUP puts an appended token in force and token revoke takes it out again") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      const auto config = testing::fast_config(dir);
      const auto first = testing::token_for(model::role::ce);
      const auto tokens = testing::write_file(dir.file("tokens.toml"),
                                              "# the CE on duty\n" + entry("ce-person", "ce", first) + "\n# kept\n");
      ::chmod(tokens.c_str(), 0600);
      testing::server_process server(backend.args(config, {"--tokens", tokens}));
      CHECK(status_with(server, first) == 200);
      CHECK(status_with(server, second_token) == 401);

      testing::write_file(tokens, testing::read_text(tokens) + entry("se-person", "se", second_token));
      server.send_signal(SIGHUP);
      CHECK(eventually([&] { return status_with(server, second_token) == 200; }));
      CHECK(eventually([&] { return server.stderr_text().find("reloaded tokens (1 \u2192 2)") != std::string::npos; }));

      // The token from stdin, so that it stays out of the shell's history.
      const auto revoked = testing::run_program(
          {"/bin/sh", "-c", "printf '%s\\n' \"$1\" | \"$2\" token revoke --token - --file \"$3\"", "sh", second_token,
           SWITCHBOARD_CLI_PATH, tokens});
      INFO(revoked.out << revoked.err);
      CHECK(revoked.exit_code == 0);
      CHECK(revoked.out.find("removed 1") != std::string::npos);
      const auto left = testing::read_text(tokens);
      CHECK(left == "# the CE on duty\n" + entry("ce-person", "ce", first) + "\n# kept\n");
      struct stat info{};
      REQUIRE(::stat(tokens.c_str(), &info) == 0);
      CHECK((info.st_mode & 0777) == 0600);

      server.send_signal(SIGHUP);
      CHECK(eventually([&] { return status_with(server, second_token) == 401; }));
      CHECK(status_with(server, first) == 200);
      CHECK(eventually([&] { return server.stderr_text().find("reloaded tokens (2 \u2192 1)") != std::string::npos; }));
    });
  }

  TEST_CASE("token revoke by person removes each of their entries and exits 1 when none matches") {
    testing::temp_dir dir;
    const auto tokens = testing::write_file(
        dir.file("tokens.toml"), entry("dana", "ce", "sb_a") + entry("vic", "viewer", "sb_b") + entry("dana", "se", "sb_c"));
    const auto removed = testing::run_program({SWITCHBOARD_CLI_PATH, "token", "revoke", "--person", "dana", "--file", tokens});
    CHECK(removed.exit_code == 0);
    CHECK(removed.out.find("removed 2") != std::string::npos);
    CHECK(testing::read_text(tokens) == entry("vic", "viewer", "sb_b"));
    const auto none = testing::run_program(
        {SWITCHBOARD_CLI_PATH, "token", "revoke", "--sha256", config::sha256_hex("sb_zzz"), "--file", tokens});
    CHECK(none.exit_code == 1);
    CHECK(none.out.find("removed 0") != std::string::npos);
    CHECK(testing::read_text(tokens) == entry("vic", "viewer", "sb_b"));
  }

  TEST_CASE("SIGHUP reports a changed listen address and SLA policy as needing a restart and keeps serving") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      const auto config = testing::fast_config(dir);
      testing::server_process server(backend.args(config));
      const auto token = testing::token_for(model::role::ce);
      CHECK(status_with(server, token) == 200);

      auto text = testing::read_text(config);
      const auto server_table = text.find("[server]\n");
      REQUIRE(server_table != std::string::npos);
      text.insert(server_table + 9, "listen = \"127.0.0.1:1\"\n");
      const auto target = text.find("target = \"4s\"");
      REQUIRE(target != std::string::npos);
      text.replace(target, 13, "target = \"5s\"");
      testing::write_file(config, text);
      server.send_signal(SIGHUP);
      CHECK(eventually([&] {
        return server.stderr_text().find("needs a restart: [server] listen, [[sla.policy]]\n") != std::string::npos;
      }));
      CHECK(status_with(server, token) == 200);  // on the port it started on
      CHECK(metrics_of(server).find("switchboard_config_restart_pending 1\n") != std::string::npos);
    });
  }

  TEST_CASE("SIGHUP with an invalid table that needs a restart refuses it at its file line and column") {
    testing::temp_dir dir;
    const auto config = testing::fast_config(dir);
    testing::server_process server(testing::server_args{config, dir.file("switchboard.db"), {}});
    const auto token = testing::token_for(model::role::ce);
    CHECK(status_with(server, token) == 200);
    testing::write_file(config, testing::read_text(config) + "\n[assignment.se]\nstrategy = \"bogus\"\n");
    server.send_signal(SIGHUP);
    CHECK(eventually([&] { return count_of(server.stderr_text(), "reload refused") == 1; }));
    const auto log = server.stderr_text();
    CHECK(log.find("unknown strategy \"bogus\"") != std::string::npos);
    CHECK(log.find("switchboard.toml:") != std::string::npos);
    CHECK(log.find("needs a restart") == std::string::npos);
    CHECK(status_with(server, token) == 200);
  }

  TEST_CASE("SIGHUP with a broken tokens file or an unknown person refuses and keeps the old tokens") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      const auto config = testing::fast_config(dir);  // with a people directory
      const auto token = testing::token_for(model::role::ce);
      const auto tokens = testing::write_file(dir.file("tokens.toml"), entry("ce-person", "ce", token));
      testing::server_process server(backend.args(config, {"--tokens", tokens}));
      CHECK(status_with(server, token) == 200);

      testing::write_file(tokens, entry("ce-person", "ce", token) + "[[token]\nperson = \"x\"\n");
      server.send_signal(SIGHUP);
      CHECK(eventually([&] { return count_of(server.stderr_text(), "reload refused") == 1; }));
      const auto log = server.stderr_text();
      CHECK(log.find("tokens.toml:5:") != std::string::npos);
      CHECK(status_with(server, token) == 200);

      testing::write_file(tokens, entry("ce-person", "ce", token) + entry("nobody-at-all", "se", second_token));
      server.send_signal(SIGHUP);
      CHECK(eventually([&] { return count_of(server.stderr_text(), "reload refused") == 2; }));
      CHECK(server.stderr_text().find("nobody-at-all") != std::string::npos);
      CHECK(status_with(server, token) == 200);
      CHECK(status_with(server, second_token) == 401);
    });
  }

  TEST_CASE("SIGHUP puts a changed rules file in force for later filings and keeps a broken one out") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      const auto rules = testing::write_file(dir.file("routing.toml"), all_to_se);
      auto text = testing::read_text(testing::fast_config(dir));
      const auto shipped = "rules = \"" + testing::source_path("rules/routing.toml") + "\"";
      const auto at = text.find(shipped);
      REQUIRE(at != std::string::npos);
      text.replace(at, shipped.size(), "rules = \"routing.toml\"");
      const auto config = testing::write_file(dir.file("switchboard.toml"), text);
      testing::server_process server(backend.args(config));

      const auto before = file_one(server, "VPN drops every hour");
      CHECK(before.second == "se");

      testing::write_file(rules, vpn_to_ce);
      server.send_signal(SIGHUP);
      CHECK(eventually([&] { return server.stderr_text().find("routing rules from") != std::string::npos; }));
      CHECK(server.stderr_text().find("needs a restart") == std::string::npos);
      const auto after = file_one(server, "VPN drops again");
      CHECK(after.second == "ce");
      CHECK(file_one(server, "Queries are slow").second == "se");
      // A decision already recorded is history.
      CHECK(owner_of(server, before.first) == "se");

      // A broken file is refused at its line and the rules in force stay.
      testing::write_file(rules, vpn_to_ce + "[[rule]]\nname = \"half\"\n");
      server.send_signal(SIGHUP);
      CHECK(eventually([&] { return count_of(server.stderr_text(), "reload refused") == 1; }));
      CHECK(server.stderr_text().find("routing.toml:") != std::string::npos);
      CHECK(file_one(server, "VPN once more").second == "ce");

      const auto metrics = metrics_of(server);
      CHECK(metrics.find("switchboard_config_reloads_total{result=\"applied\"} 1\n") != std::string::npos);
      CHECK(metrics.find("switchboard_config_reloads_total{result=\"refused\"} 1\n") != std::string::npos);
      CHECK(metrics.find("switchboard_config_restart_pending 0\n") != std::string::npos);
    });
  }

  TEST_CASE("a dashboard stream opened with a token that SIGHUP revokes ends and shows no later request") {
    testing::temp_dir dir;
    const auto config = testing::fast_config(dir);
    const auto ce = testing::token_for(model::role::ce);
    const auto viewer_token = testing::token_for(model::role::viewer);
    const auto both = entry("ce-person", "ce", ce) + entry("viewer-person", "viewer", viewer_token);
    const auto tokens = testing::write_file(dir.file("tokens.toml"), both);
    testing::server_process server(testing::server_args{config, dir.file("sb.db"), {"--tokens", tokens}});

    testing::sse_viewer viewer(server.url(), viewer_token);
    REQUIRE(viewer.read_until([&](const auto&) { return !viewer.header().empty(); }));
    REQUIRE(viewer.header().starts_with("HTTP/1.1 200"));

    testing::write_file(tokens, entry("ce-person", "ce", ce));
    server.send_signal(SIGHUP);
    REQUIRE(eventually([&] { return server.stderr_text().find("reloaded tokens (2 \u2192 1)") != std::string::npos; }));
    {
      http::client check(server.url());
      check.set_token(viewer_token);
      REQUIRE(check.get("/v1/me").status == 401);  // the token is revoked for every new request
    }

    http::client filer(server.url());
    filer.set_token(ce);
    const auto filed = filer.post_json("/v1/requests", testing::troubleshooting_filing("secret after revoke"));
    REQUIRE(filed.status == 201);

    // The stream is told to resync and ends; the new request never reaches it.
    const bool saw = viewer.read_until(
        [](const std::vector<testing::sse_frame>& frames) {
          for (const auto& f : frames)
            if (f.data.find("secret after revoke") != std::string::npos) return true;
          return false;
        },
        3s);
    CHECK_FALSE(saw);
    CHECK(viewer.closed());
  }
}
