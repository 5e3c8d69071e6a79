// Findings of the issue 14 breaker session (brk), written as tests of what the README promises.
// Each case FAILS on 49233d1 and is marked may_fail so that a merge does not turn CI red before
// the fix: the run still prints the failed checks. Drop `may_fail` in the commit that fixes it.
//
// - Revoking a token (token revoke + SIGHUP) leaves a dashboard stream opened with it running:
//   the revoked viewer keeps receiving every new request's title and customer for as long as the
//   tab stays open (README "Adding and revoking without a restart").
// - `token revoke --person` edits the tokens file by text and misses entries written in other
//   valid TOML (`[[ token ]]`, single-quoted strings), which the server loads: it prints
//   "removed N", exits 0, and a token of that person stays in force.
#include "config/tokens.hpp"
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/server_process.hpp"
#include "support/sse_viewer.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <string>
#include <thread>

using namespace switchboard;
using namespace std::chrono_literals;

namespace {

std::string entry(const std::string& person, const std::string& role, const std::string& token) {
  return "[[token]]\nperson = \"" + person + "\"\nrole = \"" + role + "\"\nsha256 = \"" + config::sha256_hex(token) +
         "\"\n";
}

// Polls `done` until it holds or 10 s pass.
bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

}  // namespace

TEST_SUITE("breaker::issue14") {
  TEST_CASE("breaker: a revoked token's dashboard stream sees no request filed after the SIGHUP that revoked it" *
            doctest::may_fail()) {
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

    // The stream either ends or at least never shows the new request; read until one or the other.
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

  TEST_CASE("breaker: token revoke --person leaves no token of theirs that the server would load" *
            doctest::may_fail()) {
    testing::temp_dir dir;
    // Both forms are TOML the server's tokens loader accepts (it parses the file as TOML).
    const auto tokens = testing::write_file(
        dir.file("tokens.toml"),
        entry("dana", "admin", "sb_breaker_a") + "\n[[ token ]]\nperson = 'dana'\nrole = 'admin'\nsha256 = '" +
            config::sha256_hex("sb_breaker_b") + "'\n\n" + entry("vic", "viewer", "sb_breaker_c"));
    REQUIRE(config::load_token_file(tokens).size() == 3);

    const auto removed =
        testing::run_program({SWITCHBOARD_CLI_PATH, "token", "revoke", "--person", "dana", "--file", tokens});
    INFO(removed.out << removed.err);
    std::size_t left_for_dana = 0;
    for (const auto& token : config::load_token_file(tokens))
      if (token.person == "dana") ++left_for_dana;
    // Either every entry of dana's is gone, or the command says it could not do it.
    CHECK((left_for_dana == 0 || removed.exit_code != 0));
    CHECK(left_for_dana == 0);
  }
}
