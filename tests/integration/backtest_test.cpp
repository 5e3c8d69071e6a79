// Issue 15's "Done means", through the real CLI on a history the real server
// recorded on a simulated clock (plan W9): an unchanged policy replays exactly;
// a moved holiday flips exactly the requests an independent minute-stepping
// computation says; a moved rule moves exactly the owners a hand-written table
// says; and a backtest on the live server's database changes nothing in it.
#include "model/instant.hpp"
#include "support/api.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace switchboard;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

testing::run_result cli(std::vector<std::string> args) {
  args.insert(args.begin(), SWITCHBOARD_CLI_PATH);
  return testing::run_program(args);
}

// Two rules that both match an urgent troubleshooting request: which one is
// first decides its owner. The current file checks the kind first, the proposed
// one the priority.
constexpr std::string_view kind_rule = R"(
[[rule]]
name = "troubleshooting-to-se"
reason = "Troubleshooting goes to SE."
when = { all = [ { field = "kind", op = "equals", value = "troubleshooting" } ] }
then = { owner = "se" }
)";
constexpr std::string_view urgent_rule = R"(
[[rule]]
name = "urgent-to-ce"
reason = "Urgent requests go to CE first."
when = { all = [ { field = "priority", op = "equals", value = "urgent" } ] }
then = { owner = "ce" }
)";
constexpr std::string_view fallback = R"(
[fallback]
reason = "No rule matched."
then = { owner = "se" }
)";

// UTC, Mon-Fri 09:00-17:00, a 3 h first response for troubleshooting and
// how-to, and `holiday`.
std::string office_config(const std::string& rules, const std::string& holiday) {
  return fmt::format(R"(
[server]
rules = "{}"

[calendars.office]
zone = "UTC"
shifts = [{{ days = ["mon", "tue", "wed", "thu", "fri"], open = "09:00", close = "17:00" }}]
holidays = ["{}"]

[[sla.policy]]
name = "standard"
kinds = ["troubleshooting", "how_to"]
calendar = "office"
metrics = [{{ metric = "first_response", target = "3h", warning = 0.5 }}]
)",
                     rules, holiday);
}

// The oracle: business seconds on the office calendar from `from` to `to`,
// counted minute by minute with std::chrono alone (not
// calendar::business_calendar).
std::chrono::seconds office_seconds(model::instant from, model::instant to, const std::string& holiday) {
  std::chrono::seconds used{0};
  for (auto t = from; t < to; t += 1min) {
    const auto day = std::chrono::floor<std::chrono::days>(t);
    const std::chrono::weekday weekday{std::chrono::sys_days{day}};
    const std::chrono::year_month_day date{std::chrono::sys_days{day}};
    const auto text = fmt::format("{:04}-{:02}-{:02}", static_cast<int>(date.year()),
                                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
    const auto since_midnight = t - day;
    if (weekday == std::chrono::Saturday || weekday == std::chrono::Sunday || text == holiday) continue;
    if (since_midnight >= 9h && since_midnight < 17h) used += 1min;
  }
  return used;
}

model::instant at(std::string_view iso) { return *model::parse_instant(iso); }

std::string filing(std::string_view kind, std::string_view priority, std::string_view title) {
  return json::serialize(json::object{
      {"kind", kind},
      {"customer", json::object{{"id", "acme"}, {"name", "Acme Corp"}, {"stage", "production"}, {"tier", "premium"}}},
      {"title", title},
      {"body", "Exports stopped on Monday."},
      {"source", "api"},
      {"priority", priority}});
}

struct recorded_request {
  std::string name;
  std::string kind;
  std::string priority;
  model::instant filed{};
  std::optional<model::instant> answered;
  model::role answered_as = model::role::se;
  std::string current_owner;   // under the kind-first rules
  std::string proposed_owner;  // under the urgent-first rules
  model::request_id id = 0;
};

json::object parsed(const testing::run_result& result) {
  INFO(result.err);
  return json::parse(result.out).as_object();
}

std::set<model::request_id> ids_of(const json::array& flips) {
  std::set<model::request_id> out;
  for (const auto& f : flips) out.insert(f.at("id").as_int64());
  return out;
}

struct live_counts {
  std::int64_t events = 0;
  std::int64_t max_seq = 0;
  std::int64_t outbox = 0;
  bool operator==(const live_counts&) const = default;
};

live_counts counts_of(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  live_counts out;
  SQLite::Statement events(db, "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM events");
  events.executeStep();
  out.events = events.getColumn(0).getInt64();
  out.max_seq = events.getColumn(1).getInt64();
  out.outbox = db.execAndGet("SELECT COUNT(*) FROM outbox").getInt64();
  return out;
}

// A consistent copy of a SQLite database, its WAL included (a plain file copy would miss what the
// last server left in live.db-wal).
void copy_of(const std::string& from, const std::string& to) {
  SQLite::Database db(from, SQLite::OPEN_READONLY);
  db.exec(fmt::format("VACUUM INTO '{}'", to));
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

TEST_SUITE("integration::backtest") {
  TEST_CASE(
      "a live recording replays exactly, a moved holiday and a moved "
      "rule change exactly what is expected, and "
      "the live database is untouched") {
    // doctest runs the body again for each SUBCASE: the live run is recorded on
    // the first pass only, and the later passes reuse its files.
    static testing::temp_dir dir;
    static std::vector<recorded_request> story;
    static model::instant as_of{};
    const auto current_rules = testing::write_file(
        dir.file("current-rules.toml"), std::string(kind_rule) + std::string(urgent_rule) + std::string(fallback));
    const auto proposed_rules = testing::write_file(
        dir.file("proposed-rules.toml"), std::string(urgent_rule) + std::string(kind_rule) + std::string(fallback));
    // The record's holiday is Tuesday 2026-11-10; the proposal moves it to
    // Thursday the 12th.
    const auto current = testing::write_file(dir.file("current.toml"), office_config(current_rules, "2026-11-10"));
    const auto moved_holiday =
        testing::write_file(dir.file("holiday.toml"), office_config(current_rules, "2026-11-12"));
    const auto live = dir.file("live.db");

    // Filed Monday 16:00 and answered Wednesday 10:30, or filed Wednesday 16:00
    // and answered Friday 10:30; two left unanswered. Owners by hand: an urgent
    // troubleshooting request is the one both rules match.
    const auto add = [](std::string name, std::string kind, std::string priority, std::string_view filed,
                        std::optional<std::string_view> answered, model::role as, std::string current_owner,
                        std::string proposed_owner) {
      recorded_request r;
      r.name = std::move(name);
      r.kind = std::move(kind);
      r.priority = std::move(priority);
      r.filed = at(filed);
      if (answered) r.answered = at(*answered);
      r.answered_as = as;
      r.current_owner = std::move(current_owner);
      r.proposed_owner = std::move(proposed_owner);
      story.push_back(std::move(r));
    };
    const bool first_pass = story.empty();
    if (first_pass) {
      add("mon-ts-high", "troubleshooting", "high", "2026-11-09T16:00:00Z", "2026-11-11T10:30:00Z", model::role::se,
          "se", "se");
      add("mon-ts-urgent", "troubleshooting", "urgent", "2026-11-09T16:00:00Z", std::nullopt, model::role::se, "se",
          "ce");
      add("mon-howto-urgent", "how_to", "urgent", "2026-11-09T16:00:00Z", "2026-11-11T10:30:00Z", model::role::ce, "ce",
          "ce");
      add("mon-howto-normal", "how_to", "normal", "2026-11-09T16:00:00Z", std::nullopt, model::role::se, "se", "se");
      add("wed-ts-high", "troubleshooting", "high", "2026-11-11T16:00:00Z", "2026-11-13T10:30:00Z", model::role::se,
          "se", "se");
      add("wed-ts-urgent", "troubleshooting", "urgent", "2026-11-11T16:00:00Z", "2026-11-13T10:30:00Z", model::role::se,
          "se", "ce");

      // The live run: one server start per instant something happens, each on
      // an almost frozen simulated clock, so every instant is exact; what falls
      // due between starts is recorded at the next start at its true instant.
      std::set<model::instant> instants;
      for (const auto& r : story) {
        instants.insert(r.filed);
        if (r.answered) instants.insert(*r.answered);
      }
      for (const auto instant : instants) {
        testing::server_process server(testing::server_args{
            current, live, {"--clock-start", model::format_instant(instant), "--clock-speed", "0.001"}});
        for (auto& r : story) {
          if (r.filed == instant) {
            auto client = server.client(model::role::ce);
            const auto created = client.post_json("/v1/requests", filing(r.kind, r.priority, r.name));
            REQUIRE(created.status == 201);
            const auto body = testing::json_of(created);
            r.id = body.at("id").as_int64();
            CHECK(body.at("created_at").as_string() == model::format_instant(instant));
            CHECK(body.at("routing").at("owner").as_string() == r.current_owner);
          }
          if (r.answered == instant) {
            auto client = server.client(r.answered_as);
            const auto answered = client.post_json(fmt::format("/v1/requests/{}/events", r.id),
                                                   R"({"type": "respond", "message": "On it."})");
            CHECK(answered.status == 200);
          }
        }
        CHECK(server.terminate() == 0);
      }
      as_of = *instants.rbegin();
      copy_of(live, dir.file("copy.db"));
    }
    const auto copy = dir.file("copy.db");

    SUBCASE(
        "the record replayed under its own config is exact, with no change "
        "anywhere") {
      const auto result = cli({"backtest", "--db", copy, "--config", current, "--current", current, "--calendar",
                               "office", "--from", "2026-11-09", "--to", "2026-11-13", "--verify", "--json"});
      CHECK(result.exit_code == 0);
      const auto report = parsed(result);
      CHECK(report.at("requests").as_int64() == static_cast<std::int64_t>(story.size()));
      CHECK(report.at("verify").at("exact").as_bool());
      CHECK(report.at("verify").at("requests").as_int64() == static_cast<std::int64_t>(story.size()));
      CHECK(report.at("verify").at("events").as_int64() > 0);
      CHECK(report.at("routing").at("changed").as_int64() == 0);
      CHECK(report.at("sla").at("to_met").as_array().empty());
      CHECK(report.at("sla").at("to_breached").as_array().empty());
      for (const auto& row : report.at("sla").at("by_policy_metric").as_array())
        CHECK(row.at("current") == row.at("proposed"));
      CHECK(report.at("escalations").at("only_current").as_array().empty());
      CHECK(report.at("escalations").at("only_proposed").as_array().empty());
      CHECK(report.at("actions").at("not_applicable").as_array().empty());
      CHECK(report.at("actions").at("replayed_as_owner").as_int64() == 0);
      CHECK(report.at("drift").as_int64() == 0);
      // The human form says so too.
      const auto human = cli({"backtest", "--db", copy, "--config", current, "--current", current, "--calendar",
                              "office", "--from", "2026-11-09", "--to", "2026-11-13", "--verify"});
      CHECK(human.exit_code == 0);
      CHECK(human.out.find(fmt::format("replay of the record: exact ({} requests,", story.size())) !=
            std::string::npos);
      CHECK(human.out.find("Routing: 0 requests would go to another team") != std::string::npos);
      CHECK(human.out.find("Drift: none") != std::string::npos);
    }

    SUBCASE(
        "moving the holiday from Tuesday to Thursday flips exactly the "
        "requests the oracle says") {
      const auto result = cli({"backtest", "--db", copy, "--config", moved_holiday, "--current", current, "--calendar",
                               "office", "--from", "2026-11-09", "--to", "2026-11-13", "--json"});
      CHECK(result.exit_code == 0);
      const auto report = parsed(result);
      INFO(cli({"backtest", "--db", copy, "--config", moved_holiday, "--current", current, "--calendar", "office",
                "--from", "2026-11-09", "--to", "2026-11-13"}).out);
      std::set<model::request_id> to_met, to_breached;
      int current_breached = 0, proposed_breached = 0;
      for (const auto& r : story) {
        const auto end = r.answered ? *r.answered : as_of;
        const bool was = office_seconds(r.filed, end, "2026-11-10") >= 3h;
        const bool now = office_seconds(r.filed, end, "2026-11-12") >= 3h;
        current_breached += was;
        proposed_breached += now;
        if (was && !now) to_met.insert(r.id);
        if (!was && now) to_breached.insert(r.id);
      }
      // The story was written so that both directions happen.
      CHECK(to_met.size() == 2);
      CHECK(to_breached.size() == 2);
      CHECK(ids_of(report.at("sla").at("to_met").as_array()) == to_met);
      CHECK(ids_of(report.at("sla").at("to_breached").as_array()) == to_breached);
      const auto& rows = report.at("sla").at("by_policy_metric").as_array();
      REQUIRE(rows.size() == 1);
      CHECK(rows[0].at("policy") == "standard");
      CHECK(rows[0].at("metric") == "first_response");
      CHECK(rows[0].at("current").at("breached").as_int64() == current_breached);
      CHECK(rows[0].at("proposed").at("breached").as_int64() == proposed_breached);
      CHECK(rows[0].at("current").at("met").as_int64() == static_cast<std::int64_t>(story.size()) - current_breached);
      CHECK(rows[0].at("proposed").at("met").as_int64() == static_cast<std::int64_t>(story.size()) - proposed_breached);
      CHECK(report.at("routing").at("changed").as_int64() == 0);
      // Thursday the 12th is closed all day under the proposal.
      bool thursday_closed = false;
      for (const auto& day : report.at("load").as_array())
        if (day.at("date") == "2026-11-12") thursday_closed = day.at("closed_in_proposed").as_bool();
      CHECK(thursday_closed);
    }

    SUBCASE(
        "putting the urgent rule first moves exactly the owners the table "
        "says") {
      const auto result =
          cli({"backtest", "--db", copy, "--config", current, "--rules", proposed_rules, "--current", current,
               "--calendar", "office", "--from", "2026-11-09", "--to", "2026-11-13", "--json"});
      CHECK(result.exit_code == 0);
      const auto report = parsed(result);
      std::map<model::request_id, std::pair<std::string, std::string>> expected;
      for (const auto& r : story)
        if (r.current_owner != r.proposed_owner) expected[r.id] = {r.current_owner, r.proposed_owner};
      REQUIRE(expected.size() == 2);
      const auto& routing = report.at("routing").as_object();
      CHECK(routing.at("changed").as_int64() == 2);
      std::map<model::request_id, std::pair<std::string, std::string>> changed;
      for (const auto& c : routing.at("requests").as_array()) {
        changed[c.at("id").as_int64()] = {std::string(c.at("current_owner").as_string()),
                                          std::string(c.at("proposed_owner").as_string())};
        CHECK(c.at("current_rule") == "troubleshooting-to-se");
        CHECK(c.at("proposed_rule") == "urgent-to-ce");
        // The proposed trace shows the urgent rule tried first, and matching.
        const auto& trace = c.at("proposed_trace").as_array();
        REQUIRE(!trace.empty());
        CHECK(trace[0].at("rule") == "urgent-to-ce");
        CHECK(trace[0].at("matched").as_bool());
      }
      CHECK(changed == expected);
      const auto& by_owner = routing.at("by_owner").as_array();
      REQUIRE(by_owner.size() == 1);
      CHECK(by_owner[0] == json::value(json::object{{"current", "se"}, {"proposed", "ce"}, {"count", 2}}));
      const auto& by_rule = routing.at("by_rule").as_array();
      REQUIRE(by_rule.size() == 1);
      CHECK(by_rule[0] == json::value(json::object{
                              {"current", "troubleshooting-to-se"}, {"proposed", "urgent-to-ce"}, {"count", 2}}));
      // The SE's answer to the request CE owns under the proposal is replayed
      // as CE.
      CHECK(report.at("actions").at("replayed_as_owner").as_int64() == 1);
      // The CSV lists the two, one row each, after its header.
      const auto csv = cli({"backtest", "--db", copy, "--config", current, "--rules", proposed_rules, "--current",
                            current, "--calendar", "office", "--from", "2026-11-09", "--to", "2026-11-13", "--csv"});
      CHECK(csv.exit_code == 0);
      CHECK(csv.out == fmt::format("request,change,current,proposed,detail\r\n"
                                   "{},routing,se,ce,troubleshooting-to-se -> urgent-to-ce\r\n"
                                   "{},routing,se,ce,troubleshooting-to-se -> urgent-to-ce\r\n",
                                   expected.begin()->first, std::next(expected.begin())->first));
    }

    SUBCASE("a progress bar on a terminal, and none when stderr is a pipe") {
      const auto command = fmt::format(
          "'{}' backtest --db '{}' --config '{}' --current '{}' --calendar office --from 2026-11-09 --to 2026-11-13 "
          "--json",
          SWITCHBOARD_CLI_PATH, copy, current, current);
      // script(1) gives the CLI a terminal; what it drew there comes back on script's stdout.
      const auto on_terminal = testing::run_program({"/usr/bin/script", "-qfec", command, "/dev/null"}, {{"TERM", "xterm"}});
      CHECK(on_terminal.exit_code == 0);
      CHECK(on_terminal.out.find("\r[") != std::string::npos);
      CHECK(on_terminal.out.find("] ") != std::string::npos);
      CHECK(on_terminal.out.find(" inputs ") != std::string::npos);
      // It ends full: the last drawing shows every input done.
      const auto last = on_terminal.out.rfind("\r[");
      REQUIRE(last != std::string::npos);
      const auto bar = on_terminal.out.substr(last, on_terminal.out.find(']', last) - last);
      CHECK(bar.find(' ') == std::string::npos);
      const auto piped = cli({"backtest", "--db", copy, "--config", current, "--current", current, "--calendar",
                              "office", "--from", "2026-11-09", "--to", "2026-11-13", "--json"});
      CHECK(piped.exit_code == 0);
      CHECK(piped.err.find('\r') == std::string::npos);
      CHECK(piped.err.empty());
    }

    SUBCASE("a backtest on the live server's database writes nothing to it") {
      // The server runs on the live file, its clock all but frozen just after
      // the record's end: nothing is due, so any new event or outbox row could
      // only come from the backtest.
      testing::server_process server(testing::server_args{
          current, live, {"--clock-start", model::format_instant(as_of + 1s), "--clock-speed", "0.001"}});
      auto client = server.client(model::role::se);
      REQUIRE(client.get("/healthz").status == 200);
      const auto before = counts_of(live);
      const auto result = cli({"backtest", "--db", live, "--config", moved_holiday, "--current", current, "--calendar",
                               "office", "--from", "2026-11-09", "--to", "2026-11-13", "--json"});
      CHECK(result.exit_code == 0);
      CHECK(parsed(result).at("requests").as_int64() == static_cast<std::int64_t>(story.size()));
      CHECK(counts_of(live) == before);
      CHECK(client.get("/healthz").status == 200);
      CHECK(server.terminate() == 0);
    }

    SUBCASE(
        "the CLI opens the database read-only: a read-only copy is read "
        "and left byte for byte") {
      const auto frozen = dir.file("frozen.db");
      copy_of(live, frozen);
      std::filesystem::permissions(frozen, std::filesystem::perms::owner_read | std::filesystem::perms::group_read);
      const auto bytes = bytes_of(frozen);
      const auto result = cli({"backtest", "--db", frozen, "--config", current, "--current", current, "--calendar",
                               "office", "--from", "2026-11-09", "--to", "2026-11-13", "--verify"});
      CHECK(result.exit_code == 0);
      CHECK(bytes_of(frozen) == bytes);
      CHECK_FALSE(std::filesystem::exists(frozen + "-wal"));
      CHECK_FALSE(std::filesystem::exists(frozen + "-shm"));
    }
  }

  TEST_CASE(
      "backtest refuses a window backwards and a bad proposed config, at "
      "file:line:col, with exit 1") {
    testing::temp_dir dir;
    const auto config = testing::write_file(dir.file("current.toml"),
                                            office_config(testing::source_path("rules/routing.toml"), "2026-11-10"));
    const auto db = dir.file("empty.db");
    {
      testing::server_process server(testing::server_args{config, db, {}});
      CHECK(server.terminate() == 0);
    }
    const auto backwards = cli({"backtest", "--db", db, "--config", config, "--current", config, "--calendar", "office",
                                "--from", "2026-11-13", "--to", "2026-11-09"});
    CHECK(backwards.exit_code == 1);
    CHECK(backwards.err.find("is after --to") != std::string::npos);
    auto bad_text = office_config(testing::source_path("rules/routing.toml"), "2026-11-10");
    bad_text.replace(bad_text.find("[server]\n"), 9, "[server]\nno_such_key = 1\n");
    const auto bad = testing::write_file(dir.file("bad.toml"), bad_text);
    const auto refused = cli({"backtest", "--db", db, "--config", bad, "--current", config, "--calendar", "office"});
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.starts_with(bad + ":"));
    const auto missing =
        cli({"backtest", "--db", dir.file("nope.db"), "--config", config, "--current", config, "--calendar", "office"});
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find("no such database") != std::string::npos);
  }
}
