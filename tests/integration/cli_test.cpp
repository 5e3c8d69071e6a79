// switchboard-cli against the real server, and its offline rules commands.
#include "config/tokens.hpp"
#include "support/configs.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>

using namespace switchboard;
using testing::run_program;

namespace {

testing::run_result cli(std::vector<std::string> args) {
  args.insert(args.begin(), SWITCHBOARD_CLI_PATH);
  return run_program(args);
}


// The words a `--help` lists: each subcommand's name and each long option (`-h,--help`, `--json`).
std::set<std::string> help_words(const std::string& help) {
  std::set<std::string> words;
  std::istringstream lines(help);
  std::string line, section;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == ':' && line.front() != ' ') {
      section = line;
      continue;
    }
    if (!line.starts_with("  ") || line.starts_with("   ")) continue;  // continuation lines are indented further
    const auto name = line.substr(2, line.find(' ', 2) - 2);
    if (section == "Subcommands:") {
      words.insert(name);
    } else if (section == "Options:") {
      for (std::size_t at = name.find("--"); at != std::string::npos; at = name.find("--", at + 2)) {
        words.insert(name.substr(at, name.find_first_of(",= ", at) - at));
      }
    }
  }
  return words;
}

// COMPREPLY of the generated script for the words typed so far, the last one being completed.
std::set<std::string> completed(const std::string& script, const std::string& typed) {
  const auto result = run_program(
      {"/bin/bash", "-c",
       fmt::format("source '{}' && COMP_WORDS=({}) && COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)) && "
                   "_switchboard_cli && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                   script, typed)});
  REQUIRE(result.exit_code == 0);
  std::set<std::string> words;
  std::istringstream lines(result.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) words.insert(line);
  }
  return words;
}
}  // namespace

TEST_SUITE("integration::cli") {
  TEST_CASE("completion bash offers every subcommand and option each level's help lists") {
    const testing::temp_dir dir;
    const auto script = dir.file("switchboard-cli.bash");
    const auto generated = cli({"completion", "bash"});
    REQUIRE(generated.exit_code == 0);
    {
      std::ofstream out(script);
      out << generated.out;
    }
    // The build writes the same script beside the binary (a POST_BUILD step).
    {
      std::ifstream beside(std::string(SWITCHBOARD_CLI_PATH) + ".bash", std::ios::binary);
      REQUIRE(beside.good());
      const std::string written((std::istreambuf_iterator<char>(beside)), std::istreambuf_iterator<char>());
      CHECK(written == generated.out);
    }
    CHECK(completed(script, "switchboard-cli ru") == std::set<std::string>{"rules"});
    CHECK(completed(script, "switchboard-cli rules ''") == std::set<std::string>{"check", "explain", "--help"});
    CHECK(completed(script, "switchboard-cli --json file --cu") ==
          std::set<std::string>{"--customer", "--customer-name"});
    // Options and their values between subcommands do not change the level.
    CHECK(completed(script, "switchboard-cli --server http://x escalation a") == std::set<std::string>{"ack"});
    // Every level, down the tree the top-level help starts: what its --help lists is offered.
    std::vector<std::vector<std::string>> pending{{}};
    int levels = 0;
    while (!pending.empty()) {
      auto path = pending.back();
      pending.pop_back();
      auto args = path;
      args.push_back("--help");
      const auto help = cli(args);
      REQUIRE(help.exit_code == 0);
      const auto listed = help_words(help.out);
      std::string typed = "switchboard-cli";
      for (const auto& word : path) typed += " " + word;
      INFO(typed);
      CHECK(completed(script, typed + " ''") == listed);
      for (const auto& word : listed) {
        if (!word.starts_with("-")) {
          auto deeper = path;
          deeper.push_back(word);
          pending.push_back(deeper);
        }
      }
      ++levels;
    }
    CHECK(levels >= 17);
  }

  TEST_CASE("both binaries print their version and the commit they were built from") {
    // The commit is the checkout's when the source is a git checkout (a clean clone in CI, a
    // worktree here), with -dirty after it when the tree had uncommitted changes at build time.
    const auto head = run_program({"/usr/bin/git", "-C", testing::source_path(""), "rev-parse", "--short=12", "HEAD"});
    for (const char* program : {SWITCHBOARD_SERVER_PATH, SWITCHBOARD_CLI_PATH}) {
      const auto result = run_program({program, "--version"});
      INFO(program);
      CAPTURE(result.out);
      CHECK(result.exit_code == 0);
      const std::string name = std::filesystem::path(program).filename().string();
      const std::string prefix = name + " 0.1.0 (commit ";
      REQUIRE(result.out.starts_with(prefix));
      REQUIRE(result.out.ends_with(")\n"));
      const std::string commit = result.out.substr(prefix.size(), result.out.size() - prefix.size() - 2);
      if (head.exit_code == 0 && head.out.size() == 13) {
        const std::string expected = head.out.substr(0, 12);
        CHECK((commit == expected || commit == expected + "-dirty"));
      } else {
        CHECK(!commit.empty());
      }
    }
  }

  TEST_CASE("a CE files, shows and lists requests through the API") {
    testing::temp_dir dir;
    testing::server_process server(dir.file("switchboard.db"));

    const auto filed = cli({"--server", server.url(), "--token", testing::token_for(model::role::ce), "file", "--kind", "troubleshooting", "--customer", "acme",
                            "--stage", "trial", "--title", "Indexing stuck", "--body", "Since 09:00"});
    CAPTURE(filed.err);
    CHECK(filed.exit_code == 0);
    CHECK(filed.out.find("Filed request 1: owner se") != std::string::npos);
    CHECK(filed.out.find("Why: ") != std::string::npos);

    const auto json_filed = cli({"--server", server.url(), "--token", testing::token_for(model::role::ce), "--json", "file", "--kind", "feature_request",
                                 "--customer", "globex", "--customer-name", "Globex", "--stage", "production", "--tier", "enterprise", "--title",
                                 "SAML groups"});
    CHECK(json_filed.exit_code == 0);
    const auto created = boost::json::parse(json_filed.out).as_object();
    CHECK(created.at("owner").as_string() == "product");
    CHECK(created.at("source").as_string() == "cli");

    const auto shown = cli({"--server", server.url(), "--token", testing::token_for(model::role::ce), "show", "1"});
    CHECK(shown.exit_code == 0);
    CHECK(shown.out.find("Indexing stuck") != std::string::npos);
    CHECK(shown.out.find("Rules evaluated:") != std::string::npos);

    const auto listed = cli({"--server", server.url(), "--token", testing::token_for(model::role::ce), "list", "--team", "se"});
    CHECK(listed.exit_code == 0);
    CHECK(listed.out.find("Indexing stuck") != std::string::npos);
    CHECK(listed.out.find("SAML groups") == std::string::npos);

    const auto missing = cli({"--server", server.url(), "--token", testing::token_for(model::role::ce), "show", "42"});
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find("not_found") != std::string::npos);

    const auto invalid = cli({"--server", server.url(), "--token", testing::token_for(model::role::ce), "file", "--kind", "bug", "--customer", "acme", "--stage",
                              "trial", "--title", "x"});
    CHECK(invalid.exit_code == 1);
    CHECK(invalid.err.find("kind") != std::string::npos);
  }

  TEST_CASE("rules check passes on the shipped files and fails with file:line:col") {
    testing::temp_dir dir;
    // The shipped config names var/tokens.toml, which only `tools/dev run` makes: check with
    // another, as the server would be started with --tokens.
    const auto tokens = testing::write_file(dir.file("tokens.toml"), "");
    const auto ok = cli({"--config", testing::source_path("config/switchboard.toml"), "rules", "check", "--tokens", tokens});
    CHECK(ok.exit_code == 0);
    CHECK(ok.out.starts_with("ok: "));

    testing::write_file(dir.file("routing.toml"), "[[rule]]\nname = \"x\"\nreason = \"y\"\nwhen = { field = \"kind\", op = \"equals\", value = \"bug\" }\nthen = { owner = \"se\" }\n[fallback]\nreason = \"z\"\nthen = { owner = \"se\" }\n");
    const auto config = testing::write_file(dir.file("switchboard.toml"), "[server]\nrules = \"routing.toml\"\n");
    const auto bad = cli({"--config", config, "rules", "check"});
    CHECK(bad.exit_code == 1);
    CHECK(bad.err.starts_with(dir.file("routing.toml") + ":4:"));
    CHECK(bad.err.find("bug") != std::string::npos);
  }

  TEST_CASE("rules check fails, as the server does, when the tokens file the config names is missing") {
    testing::temp_dir dir;
    const auto config = testing::write_file(dir.file("switchboard.toml"),
                                            fmt::format("[server]\nrules = \"{}\"\n[auth]\ntokens_file = \"absent.toml\"\n",
                                                        testing::source_path("rules/routing.toml")));
    const std::string expected = "absent.toml: no such file; expected a tokens file";

    const auto checked = cli({"--config", config, "rules", "check"});
    CHECK(checked.exit_code == 1);
    CHECK_MESSAGE(checked.err.find(expected) != std::string::npos, checked.err);
    CHECK(checked.out.empty());

    const auto started = testing::run_program({SWITCHBOARD_SERVER_PATH, "--config", config, "--db", dir.file("s.db"),
                                               "--listen", "127.0.0.1:0"});
    CHECK(started.exit_code == 1);
    CHECK_MESSAGE(started.err.find(expected) != std::string::npos, started.err);

    // Once it exists (even with no tokens yet), both accept it.
    testing::write_file(dir.file("absent.toml"), "");
    CHECK(cli({"--config", config, "rules", "check"}).exit_code == 0);
  }

  TEST_CASE("with a people directory, the server and rules check refuse a token naming an unknown person") {
    testing::temp_dir dir;
    const auto config = testing::config_on_always_calendar(
        dir, "[auth]\ntokens_file = \"tokens.toml\"\n" + testing::test_people("always"));
    const auto tokens = dir.file("tokens.toml");
    const auto write_token = [&](const std::string& person) {
      testing::write_file(tokens, fmt::format("[[token]]\nperson = \"{}\"\nrole = \"ce\"\nsha256 = \"{}\"\n", person,
                                              config::sha256_hex("a-token")));
    };
    const auto start = [&] {
      return testing::run_program({SWITCHBOARD_SERVER_PATH, "--config", config, "--db", dir.file("s.db"), "--listen",
                                   "127.0.0.1:0", "--tokens", tokens});
    };

    write_token("pat");
    const std::string expected =
        tokens + ":2:10: a token names person \"pat\", who is not in the people directory ([[people]])";
    const auto started = start();
    CHECK(started.exit_code == 1);
    CHECK_MESSAGE(started.err.find(expected) != std::string::npos, started.err);
    const auto checked = cli({"--config", config, "rules", "check"});
    CHECK(checked.exit_code == 1);
    CHECK_MESSAGE(checked.err.find(expected) != std::string::npos, checked.err);

    // A directory error itself is reported the same way, at the config's file:line:col (the
    // helper writes the same file: the good config is put back after).
    const auto good = testing::read_text(config);
    const auto bad_config = testing::config_on_always_calendar(
        dir, "[[people]]\nid = \"kim\"\nname = \"Kim\"\nroles = [\"se\"]\nemail = \"kim\"\n");
    const auto bad = cli({"--config", bad_config, "rules", "check"});
    CHECK(bad.exit_code == 1);
    CHECK_MESSAGE(bad.err.find(bad_config + ":") != std::string::npos, bad.err);
    CHECK_MESSAGE(bad.err.find("email \"kim\" is not an address like name@example.com") != std::string::npos, bad.err);
    testing::write_file(config, good);

    // The person of the directory is accepted by both, and the server serves with that token.
    write_token("ce-person");
    CHECK(cli({"--config", config, "rules", "check"}).exit_code == 0);
    testing::server_process server({config, dir.file("s.db"), {"--tokens", tokens}});
    http::client client(server.url());
    client.set_token("a-token");
    const auto listed = client.get("/v1/requests");
    CHECK(listed.status == 200);
  }

  TEST_CASE("sla deadline and between read every ISO-8601 form and refuse a backwards interval") {
    const auto config = testing::source_path("config/switchboard.toml");
    const auto sla = [&](std::vector<std::string> args) {
      args.insert(args.begin(), {"--config", config, "sla"});
      return cli(args);
    };
    // Fri 2026-11-20 17:30 PST + 1h = Mon 02:30 PST, whatever the spelling of the start.
    for (const char* start : {"2026-11-20T17:30:00-08:00", "2026-11-21T01:30:00.000Z", "2026-11-21T01:30:00.999Z",
                              "2026-11-20 17:30-08:00", "2026-11-21t01:30z", "2026-11-21T02:30:00+0100"}) {
      INFO(start);
      const auto result = sla({"deadline", "--calendar", "support", "--start", start, "--duration", "1h"});
      CAPTURE(result.err);
      CHECK(result.exit_code == 0);
      CHECK(result.out == "2026-11-23T10:30:00Z\n");
    }
    const auto forwards = sla({"between", "--calendar", "support", "--from", "2026-11-20T17:30-08:00", "--to",
                               "2026-11-23T10:30:00.000Z"});
    CHECK(forwards.exit_code == 0);
    CHECK(forwards.out == "3600\n");
    const auto empty = sla({"between", "--calendar", "support", "--from", "2026-11-23T10:30:00Z", "--to",
                            "2026-11-23T02:30:00-08:00"});
    CHECK(empty.exit_code == 0);
    CHECK(empty.out == "0\n");

    const auto backwards = sla({"between", "--calendar", "support", "--from", "2026-11-23T10:30:00Z", "--to",
                                "2026-11-20T17:30:00-08:00"});
    CHECK(backwards.exit_code == 1);
    CHECK(backwards.out.empty());
    CHECK(backwards.err ==
          "error: --from 2026-11-23T10:30:00Z is after --to 2026-11-21T01:30:00Z; expected --from at or before --to\n");
    const auto one_second_back = sla({"between", "--calendar", "support", "--from", "2026-11-23T10:30:00Z", "--to",
                                     "2026-11-23T10:29:59Z"});
    CHECK(one_second_back.exit_code == 1);

    const auto local = sla({"deadline", "--calendar", "support", "--start", "2026-11-20T17:30", "--duration", "1h"});
    CHECK(local.exit_code == 1);
    CHECK(local.err.find("--start \"2026-11-20T17:30\" is not an ISO-8601 instant with an offset") != std::string::npos);
  }

  TEST_CASE("sla deadline at the last instant answers it for 0s, and a result past 9999 is said to be the result's fault") {
    const auto config = testing::source_path("config/switchboard.toml");
    const auto sla = [&](std::vector<std::string> args) {
      args.insert(args.begin(), {"--config", config, "sla"});
      return cli(args);
    };
    // 9999-12-31T23:59:59Z is Friday 15:59:59 PST, inside support hours: zero duration is itself.
    const auto zero = sla({"deadline", "--calendar", "support", "--start", "9999-12-31T23:59:59Z", "--duration", "0s"});
    CHECK_MESSAGE(zero.exit_code == 0, zero.err);
    CHECK(zero.out == "9999-12-31T23:59:59Z\n");
    const auto at_end = sla({"between", "--calendar", "24x7", "--from", "9999-12-31T23:00:00Z", "--to", "9999-12-31T23:59:59Z"});
    CHECK_MESSAGE(at_end.exit_code == 0, at_end.err);
    CHECK(at_end.out == "3599\n");
    // An hour later is past the last instant: the start is fine, the result is not.
    const auto past = sla({"deadline", "--calendar", "support", "--start", "9999-12-31T23:59:59Z", "--duration", "1h"});
    CHECK(past.exit_code == 1);
    CHECK(past.out.empty());
    CHECK(past.err == "error: --start 9999-12-31T23:59:59Z plus --duration 1h of business time on calendar \"support\" ends "
                      "after 9999-12-31T23:59:59Z, outside the years 0001-9999 an instant can have\n");
  }

  TEST_CASE("sla between and deadline refuse impossible instants, naming the option, and the server refuses such a --clock-start") {
    const auto config = testing::source_path("config/switchboard.toml");
    const auto sla = [&](std::vector<std::string> args) {
      args.insert(args.begin(), {"--config", config, "sla"});
      return cli(args);
    };
    // Second 60 used to be read as the next minute (17:00:60 as 17:01:00): now refused like
    // minute 60, hour 24 (ISO 8601's end of day; RFC 3339 has none) and 30 February.
    for (const char* impossible : {"2026-11-20T17:00:60Z", "2026-11-20T17:00:60.000-08:00", "2026-12-31T23:59:60Z",
                                   "2026-11-20T17:60:00Z", "2026-11-20T24:00:00Z", "2026-02-30T12:00:00Z"}) {
      INFO(impossible);
      const auto from = sla({"between", "--calendar", "support", "--from", impossible, "--to", "2026-12-31T00:00:00Z"});
      CHECK(from.exit_code == 1);
      CHECK(from.out.empty());
      CHECK(from.err.starts_with(fmt::format("error: --from \"{}\" is not an ISO-8601 instant", impossible)));
      CHECK(from.err.find("no leap second 60") != std::string::npos);
      const auto to = sla({"between", "--calendar", "support", "--from", "2026-01-01T00:00:00Z", "--to", impossible});
      CHECK(to.exit_code == 1);
      CHECK(to.err.starts_with(fmt::format("error: --to \"{}\" is not an ISO-8601 instant", impossible)));
      const auto start = sla({"deadline", "--calendar", "support", "--start", impossible, "--duration", "1h"});
      CHECK(start.exit_code == 1);
      CHECK(start.err.starts_with(fmt::format("error: --start \"{}\" is not an ISO-8601 instant", impossible)));
    }
    // Second 59 is fine: Fri 17:00:59 PST to the 18:00 close is 3541 s of business time.
    const auto fine = sla({"between", "--calendar", "support", "--from", "2026-11-20T17:00:59-08:00", "--to",
                           "2026-11-23T02:00:00-08:00"});
    CHECK(fine.exit_code == 0);
    CHECK(fine.out == "3541\n");

    testing::temp_dir dir;
    const auto refused = testing::run_program({SWITCHBOARD_SERVER_PATH, "--config", testing::config_on_always_calendar(dir, ""),
                                               "--db", dir.file("switchboard.db"), "--listen", "127.0.0.1:0",
                                               "--clock-start", "2026-11-20T17:00:60Z"});
    CHECK(refused.exit_code == 1);
    CHECK_MESSAGE(refused.err.find("--clock-start \"2026-11-20T17:00:60Z\" is not an ISO-8601 instant") != std::string::npos,
                  refused.err);

    // Fields without their two digits are not RFC 3339: refused, saying the form expected.
    for (const char* unpadded : {"2026-1-23T9:5:5Z", "2026-01-23T09:05:5Z"}) {
      INFO(unpadded);
      const auto from = sla({"between", "--calendar", "support", "--from", unpadded, "--to", "2026-12-31T00:00:00Z"});
      CHECK(from.exit_code == 1);
      CHECK(from.out.empty());
      CHECK(from.err.starts_with(fmt::format("error: --from \"{}\" is not an ISO-8601 instant with an offset, like "
                                             "2026-11-20T17:30:00-08:00",
                                             unpadded)));
      CHECK(from.err.find("two digits for month, day, hour, minute and second") != std::string::npos);
      const auto server = testing::run_program({SWITCHBOARD_SERVER_PATH, "--config",
                                                testing::config_on_always_calendar(dir, ""), "--db",
                                                dir.file("unpadded.db"), "--listen", "127.0.0.1:0", "--clock-start", unpadded});
      CHECK(server.exit_code == 1);
      CHECK_MESSAGE(server.err.find(fmt::format("--clock-start \"{}\" is not an ISO-8601 instant with an offset whose date "
                                                "and time exist, like 2026-11-20T17:30:00-08:00 (two digits",
                                                unpadded)) != std::string::npos,
                    server.err);
    }
    // The same instant with its digits is fine.
    CHECK(sla({"between", "--calendar", "support", "--from", "2026-01-23T09:05:05Z", "--to", "2026-01-23T09:05:05Z"})
              .out == "0\n");

    // A speed without a start would run on real time, silently: refused before anything opens.
    const auto speed_alone = testing::run_program({SWITCHBOARD_SERVER_PATH, "--config",
                                                   testing::config_on_always_calendar(dir, ""), "--db",
                                                   dir.file("speed.db"), "--listen", "127.0.0.1:0", "--clock-speed", "3600"});
    CHECK(speed_alone.exit_code != 0);
    CHECK_MESSAGE(speed_alone.err.find("--clock-speed requires --clock-start") != std::string::npos, speed_alone.err);
    CHECK_FALSE(std::filesystem::exists(dir.file("speed.db")));
  }

  TEST_CASE("the server refuses a --clock-start before the newest stored event, and starts at or after it") {
    testing::temp_dir dir;
    const auto database = dir.file("switchboard.db");
    {
      testing::server_process first({"", database, {"--clock-start", "2026-12-07T14:00:00Z"}});
      auto ce = first.client(model::role::ce);
      const auto filed = ce.post_json(
          "/v1/requests",
          R"({"kind":"troubleshooting","customer":{"id":"acme","name":"Acme","stage":"trial"},"title":"Down"})");
      REQUIRE(filed.status == 201);
    }
    try {
      testing::server_process earlier({"", database, {"--clock-start", "2026-12-07T09:00:00Z"}});
      FAIL("the server started on a simulated clock before its stored events");
    } catch (const std::runtime_error& e) {
      const std::string err = e.what();
      CHECK_MESSAGE(err.find("--clock-start 2026-12-07T09:00:00Z is before the newest stored event (2026-12-07T14:00:") !=
                        std::string::npos,
                    err);
    }
    // Going on from the last run is fine.
    testing::server_process later({"", database, {"--clock-start", "2026-12-08T09:00:00Z"}});
    CHECK(later.client(model::role::ce).get("/v1/requests/1").status == 200);
  }

  TEST_CASE("--clock-origin: the simulated clock reads --clock-start at that wall instant, not at the server's start") {
    testing::temp_dir dir;
    // An hour of wall time since the origin, at speed 2: two simulated hours past the start.
    const auto origin = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) - std::chrono::hours{1};
    testing::server_process server(
        {"", dir.file("switchboard.db"),
         {"--clock-start", "2026-12-07T14:00:00Z", "--clock-speed", "2", "--clock-origin",
          std::to_string(origin.time_since_epoch().count())}});
    const auto filed = server.client(model::role::ce)
                           .post_json("/v1/requests",
                                      R"({"kind":"how_to","customer":{"id":"acme","name":"Acme","stage":"trial"},"title":"Q"})");
    REQUIRE(filed.status == 201);
    const std::string created(boost::json::parse(filed.body).at("created_at").as_string());
    // 16:00:00 and a few simulated seconds for the start-up and the filing.
    CHECK_MESSAGE(created.starts_with("2026-12-07T16:00:"), created);
    // Without --clock-start it means nothing: refused.
    const auto alone = run_program({SWITCHBOARD_SERVER_PATH, "--clock-origin", "1"});
    CHECK(alone.exit_code != 0);
  }

  TEST_CASE("rules explain runs the rules offline and prints the decision and trace") {
    testing::temp_dir dir;
    const auto request = testing::write_file(
        dir.file("request.json"),
        R"({"kind":"feature_request","customer":{"id":"acme","name":"Acme","stage":"trial"},"title":"Add SSO"})");
    const auto explained =
        cli({"--config", testing::source_path("config/switchboard.toml"), "rules", "explain", request});
    CHECK(explained.exit_code == 0);
    CHECK(explained.out.find("Owner:    product") != std::string::npos);
    CHECK(explained.out.find("Rules evaluated:") != std::string::npos);

    const auto as_json =
        cli({"--config", testing::source_path("config/switchboard.toml"), "--json", "rules", "explain", request});
    CHECK(boost::json::parse(as_json.out).at("owner").as_string() == "product");
  }
}

TEST_SUITE("integration::cli") {
  TEST_CASE("token new appends a hashed entry the server accepts, act and escalations work as their roles") {
    testing::temp_dir dir;
    const auto tokens = dir.file("tokens.toml");
    const auto made = cli({"token", "new", "--person", "dana", "--role", "se", "--append", tokens});
    REQUIRE(made.exit_code == 0);
    const auto token = made.out.substr(0, made.out.find('\n'));
    CHECK(token.starts_with("sb_"));
    CHECK(token.size() == 46);
    const auto entry = testing::read_text(tokens);
    CHECK(entry.find("person = \"dana\"") != std::string::npos);
    CHECK(entry.find(config::sha256_hex(token)) != std::string::npos);
    CHECK(entry.find(token) == std::string::npos);  // only the hash is kept

    testing::server_process server({"", dir.file("switchboard.db"), {"--tokens", tokens}});
    const auto filed = cli({"--server", server.url(), "--token", token, "file", "--kind", "troubleshooting",
                            "--customer", "acme", "--stage", "trial", "--title", "Indexing stuck"});
    CAPTURE(filed.err);
    CHECK(filed.exit_code == 0);
    const auto pended = cli({"--server", server.url(), "--token", token, "act", "1", "pend", "-m", "Logs please?"});
    CHECK(pended.exit_code == 0);
    CHECK(pended.out.find("Status:   pending_customer") != std::string::npos);
    const auto refused = cli({"--server", server.url(), "--token", token, "act", "1", "handoff"});
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("forbidden") != std::string::npos);
    const auto listed = cli({"--server", server.url(), "--token", token, "escalations", "--state", "open"});
    CHECK(listed.exit_code == 0);
    CHECK(listed.out.starts_with("ID"));
    const auto anonymous = cli({"--server", server.url(), "list"});
    CHECK(anonymous.exit_code == 1);
    CHECK(anonymous.err.find("unauthenticated") != std::string::npos);
  }
}

TEST_SUITE("integration::cli") {
  TEST_CASE("terminal control characters in stored text are shown escaped, and kept in JSON output") {
    testing::temp_dir dir;
    testing::server_process server(dir.file("switchboard.db"));
    // An OSC that retitles the terminal, a CSI (ESC [ and the C1 form U+009B) that clears it,
    // a carriage return that hides what came before, and DEL; tab is kept.
    // Also bidi overrides and isolates (U+202E, U+2066) and a line separator (U+2028), which
    // reorder or break the line a terminal shows.
    const std::string title = "Search\x1b]0;pwned\x07 is \x1b[2Jdown\r\xc2\x9b" "2J\x7f\tnow"
                              " \xe2\x80\xae" "evil\xe2\x81\xa6x\xe2\x80\xa8y";
    auto ce = server.client(model::role::ce);
    const auto filed = ce.post_json(
        "/v1/requests", boost::json::serialize(boost::json::object{
                            {"kind", "how_to"},
                            {"customer", boost::json::object{{"id", "acme"}, {"name", "Acme\x1b[31m"}, {"stage", "trial"}}},
                            {"title", title}}));
    REQUIRE(filed.status == 201);
    const std::vector<std::string> server_args{"--server", server.url(), "--token", testing::token_for(model::role::ce)};
    const std::vector<std::vector<std::string>> commands{{"show", "1"}, {"list"}};
    for (const auto& command : commands) {
      auto args = server_args;
      args.insert(args.end(), command.begin(), command.end());
      const auto shown = cli(args);
      CAPTURE(shown.out);
      REQUIRE(shown.exit_code == 0);
      for (const char* raw : {"\x1b", "\x07", "\r", "\xc2\x9b", "\x7f", "\xe2\x80\xae", "\xe2\x81\xa6", "\xe2\x80\xa8"})
        CHECK(shown.out.find(raw) == std::string::npos);
      CHECK(shown.out.find("Search\\x1b]0;pwned\\x07 is \\x1b[2Jdown\\x0d\\u009b2J\\x7f\tnow \\u202eevil\\u2066x\\u2028y") !=
            std::string::npos);
    }
    auto args = server_args;
    args.insert(args.begin(), "--json");
    args.insert(args.end(), {"show", "1"});
    const auto as_json = cli(args);
    REQUIRE(as_json.exit_code == 0);
    CHECK(boost::json::parse(as_json.out).at("title").as_string() == title);

    // A line break in a one-line field (an e-mail subject may carry one, RFC 2047-encoded)
    // cannot start a line that passes for the CLI's own.
    const auto forged = ce.post_json(
        "/v1/requests", boost::json::serialize(boost::json::object{
                            {"kind", "how_to"},
                            {"customer", boost::json::object{{"id", "acme"}}},
                            {"title", "Login fails\nStatus:   resolved"}}));
    REQUIRE(forged.status == 201);
    for (const auto& command : std::vector<std::vector<std::string>>{{"show", "2"}, {"list"}}) {
      auto shown_args = server_args;
      shown_args.insert(shown_args.end(), command.begin(), command.end());
      const auto shown = cli(shown_args);
      CAPTURE(shown.out);
      REQUIRE(shown.exit_code == 0);
      CHECK(shown.out.find("Login fails\\x0aStatus:   resolved") != std::string::npos);
      CHECK(shown.out.find("\nStatus:   resolved") == std::string::npos);
    }
  }
}
