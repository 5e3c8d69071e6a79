// GET /v1/reports/sla (issue 14 §2) through the real server on a simulated clock (600 times
// real time on an always-open calendar), on both store adapters: first-response clocks met at
// chosen moments, one breached and then answered, one left open; the report's counts, % met,
// median and p90 equal the nearest-rank values of the clocks' own used time as the API shows
// them; weeks in a time zone; CSV by format=csv and by Accept, equal to the JSON, formula-safe;
// refusals; and switchboard-cli report sla.
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/eventually.hpp"
#include "support/server_backends.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace switchboard;
namespace json = boost::json;
using model::role;

namespace {

testing::run_result cli(std::vector<std::string> args) {
  args.insert(args.begin(), SWITCHBOARD_CLI_PATH);
  return testing::run_program(args);
}

// Troubleshooting gets one clock, a first response within 1 business hour on the always-open
// calendar, so every clock in the report is one this test places. No ladder.
std::string report_config(const testing::temp_dir& dir) {
  return testing::config_on_always_calendar(dir, testing::test_people("always") + R"(
[[sla.policy]]
name = "first-hour"
kinds = ["troubleshooting"]
calendar = "always"
metrics = [{ metric = "first_response", target = "1h" }]
)");
}

// The customers: one with an ordinary name, one whose name a spreadsheet would run as a formula.
const std::string formula_name = "=HYPERLINK(\"http://evil.example\",\"x\")";

std::int64_t file(http::client& ce, std::string_view customer_id, std::string_view customer_name,
                  std::string_view title) {
  json::object body{{"kind", "troubleshooting"},
                    {"customer", json::object{{"id", customer_id}, {"name", customer_name}, {"stage", "prospect"}}},
                    {"title", title},
                    {"body", "Details"},
                    {"source", "api"}};
  const auto res = ce.post_json("/v1/requests", json::serialize(body));
  CAPTURE(res.body);
  REQUIRE(res.status == 201);
  return json::parse(res.body).at("id").as_int64();
}

void respond(http::client& se, std::int64_t id) {
  const auto res = se.post_json(fmt::format("/v1/requests/{}/events", id), R"({"type": "respond", "message": "On it"})");
  CAPTURE(res.body);
  REQUIRE(res.status == 200);
}

json::object first_response_clock(http::client& client, std::int64_t id) {
  const auto request = testing::json_of(client.get(fmt::format("/v1/requests/{}", id)));
  for (const auto& clock : request.at("clocks").as_array())
    if (clock.at("metric") == "first_response") return clock.as_object();
  FAIL("request " << id << " has no first_response clock");
  return {};
}

// The nearest-rank percentile, written out here rather than taken from the code under test.
std::int64_t nearest_rank(std::vector<std::int64_t> values, int percent) {
  std::sort(values.begin(), values.end());
  const auto n = static_cast<std::int64_t>(values.size());
  std::int64_t rank = (percent * n + 99) / 100;
  rank = std::max<std::int64_t>(1, std::min(rank, n));
  return values[static_cast<std::size_t>(rank - 1)];
}

json::object group_of(const json::object& report, std::string_view key) {
  for (const auto& item : report.at("groups").as_array())
    if (item.at("key").as_string() == key) return item.as_object();
  FAIL("no group " << key << " in " << json::serialize(report));
  return {};
}

// RFC 4180 fields of one CSV text: lines end in CRLF, quoted fields may hold commas, quotes
// (doubled) and line breaks.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      row.push_back(field);
      field.clear();
      rows.push_back(row);
      row.clear();
      ++i;
    } else {
      field += c;
    }
  }
  return rows;
}

std::string cell_of(const json::value& value) {
  if (value.is_null()) return "";
  if (value.is_double()) return fmt::format("{:.1f}", value.as_double());
  return json::serialize(value);
}

void check_error(const http::client_response& res, int status, std::string_view field) {
  CAPTURE(res.body);
  CHECK(res.status == status);
  const auto body = json::parse(res.body);
  CHECK(body.at("error").at("code") == "invalid_fields");
  bool named = false;
  for (const auto& f : body.at("error").at("fields").as_array()) named = named || std::string(f.at("field").as_string()) == field;
  CHECK(named);
}

}  // namespace

TEST_SUITE("integration::reports") {
  TEST_CASE("met, breached and open clocks, % met, median and p90, weeks, CSV and the CLI on a simulated clock") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      const auto config = report_config(dir);
      std::map<std::string, std::vector<std::int64_t>> met_used;  // customer -> business seconds used
      std::map<std::string, std::int64_t> breached_used;
      const std::vector<std::pair<std::string, std::string>> customers{{"globex", "Globex"},
                                                                       {"mallory", formula_name}};
      {
        // Monday 23 November 2026 10:00 UTC, 600 times real time: 1 s real is 10 minutes.
        testing::server_process server(
            backend.args(config, {"--clock-start", "2026-11-23T10:00:00Z", "--clock-speed", "600"}));
        auto ce = server.client(role::ce);
        auto se = server.client(role::se);
        std::map<std::string, std::vector<std::int64_t>> ids;
        for (const auto& [id, name] : customers)
          for (int i = 0; i < 5; ++i) ids[id].push_back(file(ce, id, name, fmt::format("Problem {}", i)));
        // Four answered per customer, the i-th once its clock has used i * 5 minutes (simulated):
        // moments spread over the first hour, each clock's own time read back from the API after.
        for (std::size_t i = 0; i < 4; ++i) {
          for (const auto& [id, name] : customers) {
            const auto request = ids[id][i];
            REQUIRE(testing::eventually(
                [&] {
                  return first_response_clock(se, request).at("used_seconds").as_int64() >=
                         static_cast<std::int64_t>(300 * i);
                },
                std::chrono::seconds{30}));
            respond(se, request);
          }
        }
        // The fifth breaches (1 h simulated, 6 s real), and is answered after.
        for (const auto& [id, name] : customers) {
          const auto late = ids[id][4];
          REQUIRE(testing::eventually([&] { return first_response_clock(se, late).at("breached") == true; },
                                      std::chrono::seconds{30}));
          respond(se, late);
          breached_used[id] = first_response_clock(se, late).at("used_seconds").as_int64();
          for (int i = 0; i < 4; ++i)
            met_used[id].push_back(first_response_clock(se, ids[id][static_cast<std::size_t>(i)]).at("used_seconds").as_int64());
        }
        CHECK(server.terminate() == 0);
      }

      // The next week (Monday 30 November): a second server on the same database, at real speed,
      // where a sixth request per customer is filed and left open (due an hour later: not
      // during this test).
      testing::server_process server(
          backend.args(config, {"--clock-start", "2026-11-30T10:00:00Z", "--clock-speed", "1"}));
      auto ce = server.client(role::ce);
      auto viewer = server.client(role::viewer);
      for (const auto& [id, name] : customers) file(ce, id, name, "Still waiting");

      const auto range = "from=2026-11-23&to=2026-12-07";
      const auto by_customer = testing::json_of(viewer.get(fmt::format("/v1/reports/sla?{}&group_by=customer", range)));
      CAPTURE(json::serialize(by_customer));
      CHECK(by_customer.at("from") == "2026-11-23T00:00:00Z");
      CHECK(by_customer.at("to") == "2026-12-07T00:00:00Z");
      for (const auto& [id, name] : customers) {
        const auto customer = id;  // named: clang 14 cannot capture a structured binding
        INFO("customer ", customer);
        const auto group = group_of(by_customer, id);
        CHECK(group.at("name") == json::value(name));
        CHECK(group.at("clocks_started") == 6);
        CHECK(group.at("met") == 4);
        CHECK(group.at("breached") == 1);
        CHECK(group.at("open") == 1);
        CHECK(group.at("percent_met").as_double() == doctest::Approx(80.0));
        auto completed = met_used[id];
        completed.push_back(breached_used[id]);
        CHECK(std::all_of(met_used[id].begin(), met_used[id].end(), [](std::int64_t s) { return s < 3600; }));
        CHECK(breached_used[id] >= 3600);
        const auto& fr = group.at("first_response");
        CHECK(fr.at("count") == 5);
        CHECK(fr.at("median_seconds") == nearest_rank(completed, 50));
        CHECK(fr.at("p90_seconds") == nearest_rank(completed, 90));
        CHECK(group.at("resolution").at("count") == 0);
        CHECK(group.at("resolution").at("median_seconds").is_null());
        CHECK(group.at("paused").at("count") == 0);
      }
      CHECK(by_customer.at("total").at("clocks_started") == 12);
      CHECK(by_customer.at("total").at("percent_met").as_double() == doctest::Approx(80.0));

      // By team: all of them troubleshooting, held by SE.
      const auto by_team = testing::json_of(viewer.get(fmt::format("/v1/reports/sla?{}&group_by=team", range)));
      REQUIRE(by_team.at("groups").as_array().size() == 1);
      CHECK(group_of(by_team, "se").at("met") == 8);

      // Weeks: the range over both weeks; ISO weeks of Los Angeles begin Monday 00:00 there.
      const auto weeks = testing::json_of(viewer.get(
          "/v1/reports/sla?from=2026-11-16&to=2026-12-07&group_by=week&tz=America/Los_Angeles"));
      CAPTURE(json::serialize(weeks));
      REQUIRE(weeks.at("groups").as_array().size() == 2);
      CHECK(group_of(weeks, "2026-W48").at("week_start") == "2026-11-23T08:00:00Z");
      CHECK(group_of(weeks, "2026-W48").at("clocks_started") == 10);
      CHECK(group_of(weeks, "2026-W48").at("percent_met").as_double() == doctest::Approx(80.0));
      CHECK(group_of(weeks, "2026-W49").at("week_start") == "2026-11-30T08:00:00Z");
      CHECK(group_of(weeks, "2026-W49").at("clocks_started") == 2);
      CHECK(group_of(weeks, "2026-W49").at("open") == 2);
      CHECK(group_of(weeks, "2026-W49").at("percent_met").is_null());
      CHECK(weeks.at("from") == "2026-11-16T08:00:00Z");

      // CSV: by format=csv and by Accept, the same bytes, the same numbers as the JSON.
      const auto target = fmt::format("/v1/reports/sla?{}&group_by=customer", range);
      const auto csv = viewer.get(target + "&format=csv");
      REQUIRE(csv.status == 200);
      auto accepting = server.client(role::viewer);
      const auto by_accept = accepting.request("GET", target, {}, "application/json", {{"Accept", "text/csv"}});
      REQUIRE(by_accept.status == 200);
      CHECK(by_accept.body == csv.body);
      const auto rows = parse_csv(csv.body);
      REQUIRE(rows.size() == 4);  // header, two customers, total
      CHECK(rows[0][0] == "group");
      CHECK(rows[0].size() == 17);
      const std::vector<std::string> columns{"clocks_started", "met", "breached", "open", "percent_met"};
      for (std::size_t r = 1; r < rows.size(); ++r) {
        const auto& row = rows[r];
        REQUIRE(row.size() == 17);
        const auto group = row[0] == "total" ? by_customer.at("total").as_object() : group_of(by_customer, row[0]);
        for (std::size_t c = 0; c < columns.size(); ++c) CHECK(row[3 + c] == cell_of(group.at(columns[c])));
        CHECK(row[8] == cell_of(group.at("first_response").at("count")));
        CHECK(row[9] == cell_of(group.at("first_response").at("median_seconds")));
        CHECK(row[10] == cell_of(group.at("first_response").at("p90_seconds")));
        CHECK(row[12] == "");  // no resolution clocks: empty where the JSON has null
      }
      // The formula-looking name is exported as text.
      CHECK(rows[2][0] == "mallory");
      CHECK(rows[2][1] == "'" + formula_name);
      CHECK(csv.body.find("\r\n") != std::string::npos);

      // Refusals name the field, and change nothing.
      check_error(viewer.get("/v1/reports/sla?from=2026-11-30&to=2026-11-23"), 422, "to");
      check_error(viewer.get("/v1/reports/sla?from=2025-01-01&to=2026-11-23"), 422, "to");
      check_error(viewer.get("/v1/reports/sla?group_by=nope"), 422, "group_by");
      check_error(viewer.get("/v1/reports/sla?from=yesterday"), 422, "from");
      check_error(viewer.get("/v1/reports/sla?tz=Mars/Olympus"), 422, "tz");
      check_error(viewer.get("/v1/reports/sla?format=xml"), 422, "format");
      check_error(viewer.get("/v1/reports/sla?colour=red"), 422, "colour");
      // A parameter given twice is refused, not last-wins (the router's check, every route).
      check_error(viewer.get("/v1/reports/sla?tz=UTC&tz=Europe/Paris"), 422, "tz");
      check_error(viewer.get("/v1/requests?limit=5&limit=6"), 422, "limit");

      // Accept by q-value (RFC 9110 §12.5.1): what each Accept gets, JSON on a tie.
      const auto type_for = [&](std::string accept) {
        const auto res = accepting.request("GET", target, {}, "application/json", {{"Accept", accept}});
        CAPTURE(accept);
        CAPTURE(res.body);
        if (res.status != 200) return fmt::format("{}", res.status);
        return res.header("Content-Type").substr(0, res.header("Content-Type").find(';'));
      };
      CHECK(type_for("text/csv;q=0, application/json") == "application/json");
      CHECK(type_for("application/json, text/csv") == "application/json");
      CHECK(type_for("text/csv, application/json") == "application/json");
      CHECK(type_for("application/json;q=0.5, text/csv") == "text/csv");
      CHECK(type_for("text/*;q=0.9, application/json;q=0.8") == "text/csv");
      CHECK(type_for("*/*;q=0.1, text/csv;q=0") == "application/json");
      CHECK(type_for("TEXT/CSV") == "text/csv");
      CHECK(type_for("*/*") == "application/json");
      CHECK(type_for("text/html") == "406");
      CHECK(type_for("text/csv;q=0") == "406");
      CHECK(type_for("application/json;q=0, text/csv;q=0") == "406");
      const auto refused_type = accepting.request("GET", target, {}, "application/json", {{"Accept", "text/html"}});
      CHECK(json::parse(refused_type.body).at("error").at("code") == "not_acceptable");
      // format= chooses whatever Accept says.
      const auto chosen = accepting.request("GET", target + "&format=csv", {}, "application/json", {{"Accept", "text/html"}});
      CHECK(chosen.status == 200);
      CHECK(chosen.body == csv.body);
      auto nobody = server.client(role::viewer);
      nobody.set_token("not-a-token");
      CHECK(nobody.get("/v1/reports/sla").status == 401);
      // Any role reads it.
      for (auto r : {role::ce, role::se, role::head_of_cs, role::product})
        CHECK(server.client(r).get(target).status == 200);

      // The CLI: the CSV byte for byte, and a table.
      const auto token = testing::token_for(role::viewer);
      const auto cli_csv = cli({"--server", server.url(), "--token", token, "report", "sla", "--from", "2026-11-23",
                                "--to", "2026-12-07", "--group-by", "customer", "--csv"});
      CAPTURE(cli_csv.err);
      REQUIRE(cli_csv.exit_code == 0);
      CHECK(cli_csv.out == csv.body);
      const auto table = cli({"--server", server.url(), "--token", token, "report", "sla", "--from", "2026-11-23",
                              "--to", "2026-12-07", "--group-by", "customer"});
      CAPTURE(table.out);
      REQUIRE(table.exit_code == 0);
      std::map<std::string, std::vector<std::string>> lines;
      std::istringstream text(table.out);
      for (std::string line; std::getline(text, line);) {
        std::istringstream words(line);
        std::vector<std::string> cells;
        for (std::string w; words >> w;) cells.push_back(w);
        if (!cells.empty()) lines[cells[0]] = cells;
      }
      REQUIRE(lines.contains("globex"));
      CHECK(lines["globex"][1] == "(Globex)");
      CHECK(lines["globex"][2] == "6");
      CHECK(lines["globex"][3] == "4");
      CHECK(lines["globex"][4] == "1");
      CHECK(lines["globex"][6] == "80.0");
      REQUIRE(lines.contains("total"));
      CHECK(lines["total"][1] == "12");
      const auto refused = cli({"--server", server.url(), "--token", token, "report", "sla", "--from", "2026-11-30",
                                "--to", "2026-11-23"});
      CHECK(refused.exit_code == 1);
      CHECK(refused.err.find("invalid_fields") != std::string::npos);
      CHECK(server.terminate() == 0);
    });
  }
}
