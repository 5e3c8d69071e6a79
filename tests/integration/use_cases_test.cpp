// GET /v1/use_cases (issue 13 §4) through the real server on a simulated clock, on both store
// adapters: requests with use cases are filed, one routed to Product, one accepted and one
// declined; each use case's open counts equal a recount from GET /v1/requests; a decision older
// than 90 days (a second server on the same database, its clock started four months later) is
// left out; switchboard-cli use-cases prints the table and the JSON.
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/server_backends.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

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

// Test people on the always-open calendar, acme, and two use cases whose DRI is the test product
// person. No SLA policy and no ladder: nothing fires on its own while the test compares answers.
std::string use_case_config(const testing::temp_dir& dir) {
  return testing::config_on_always_calendar(
      dir, testing::test_people("always") + testing::outbound_notify_and_acme_toml() +
               fmt::format(R"(
[use_cases.search]
name = "Code search"
description = "Finding code across repositories"
dri = "{0}"

[use_cases.billing]
name = "Billing"
dri = "{0}"
)",
                           testing::person_for(role::product)));
}

// Each use case's open requests, counted from every request the API lists (one page of 200).
struct open_count {
  std::int64_t total = 0;
  std::map<std::string, std::int64_t> by_kind;
  std::map<std::string, std::int64_t> by_team;
};

std::map<std::string, open_count> recount(http::client& client) {
  const auto page = testing::json_of(client.get("/v1/requests?limit=200"));
  REQUIRE(page.at("next_cursor").is_null());
  std::map<std::string, open_count> out;
  for (const auto& item : page.at("requests").as_array()) {
    const auto& r = item.as_object();
    if (!r.at("use_case").is_string()) continue;
    const auto status = std::string(r.at("status").as_string());
    if (status != "new" && status != "open" && status != "pending_customer" && status != "escalated") continue;
    if (r.at("customer").at("id") == "unattributed") continue;
    auto& c = out[std::string(r.at("use_case").as_string())];
    ++c.total;
    ++c.by_kind[std::string(r.at("kind").as_string())];
    ++c.by_team[std::string(r.at("owner").as_string())];
  }
  return out;
}

open_count shown(const json::object& use_case) {
  const auto& open = use_case.at("open").as_object();
  open_count out;
  out.total = open.at("total").as_int64();
  for (const auto& [kind, n] : open.at("by_kind").as_object()) out.by_kind[std::string(kind)] = n.as_int64();
  for (const auto& [team, n] : open.at("by_team").as_object()) out.by_team[std::string(team)] = n.as_int64();
  return out;
}

// GET /v1/use_cases's counts equal the recount, use case by use case.
void check_counts_equal_recount(http::client& client) {
  const auto answer = testing::json_of(client.get("/v1/use_cases"));
  CHECK(answer.at("configured") == true);
  const auto counted = recount(client);
  for (const auto& item : answer.at("use_cases").as_array()) {
    const auto tag = std::string(item.at("tag").as_string());
    INFO("use case ", tag);
    const auto from_api = shown(item.as_object());
    const auto expected = counted.contains(tag) ? counted.at(tag) : open_count{};
    CHECK(from_api.total == expected.total);
    CHECK(from_api.by_kind == expected.by_kind);
    CHECK(from_api.by_team == expected.by_team);
  }
}

json::object use_case_of(const json::object& answer, std::string_view tag) {
  for (const auto& item : answer.at("use_cases").as_array())
    if (item.at("tag").as_string() == tag) return item.as_object();
  FAIL("no use case " << tag << " in " << json::serialize(answer));
  return {};
}

std::int64_t file(http::client& ce, std::string_view kind, std::string_view use_case, std::string_view title) {
  json::object body{{"kind", kind},
                    {"customer", json::object{{"id", "acme"}}},
                    {"title", title},
                    {"body", "Details"},
                    {"source", "api"}};
  if (!use_case.empty()) body["use_case"] = use_case;
  const auto res = ce.post_json("/v1/requests", json::serialize(body));
  CAPTURE(res.body);
  REQUIRE(res.status == 201);
  return json::parse(res.body).at("id").as_int64();
}

void act(http::client& client, std::int64_t id, const std::string& body) {
  const auto res = client.post_json(fmt::format("/v1/requests/{}/events", id), body);
  CAPTURE(res.body);
  REQUIRE(res.status == 200);
}

}  // namespace

TEST_SUITE("integration::use_cases") {
  TEST_CASE("open counts equal a recount, decisions of the last 90 days only, and the CLI prints them") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      const auto config = use_case_config(dir);
      const auto product_actor = fmt::format("product:{}", testing::person_for(role::product));
      std::int64_t old_accepted = 0, declined = 0, new_accepted = 0;
      {
        // Monday 3 August 2026: the first decision is made here.
        testing::server_process early(
            backend.args(config, {"--clock-start", "2026-08-03T10:00:00Z", "--clock-speed", "1"}));
        auto ce = early.client(role::ce);
        auto product = early.client(role::product);
        auto viewer = early.client(role::viewer);
        old_accepted = file(ce, "feature_request", "search", "Search archived repositories");
        declined = file(ce, "feature_request", "search", "Regex in file names");
        const auto how_to = file(ce, "how_to", "search", "How do I search one branch?");
        file(ce, "troubleshooting", "search", "Search returns nothing");
        file(ce, "troubleshooting", "billing", "Invoice is wrong");
        file(ce, "troubleshooting", "", "No use case");
        check_counts_equal_recount(viewer);

        act(ce, how_to, R"({"type": "route_to_product", "message": "This is really a feature request"})");
        act(product, old_accepted, R"({"type": "accept"})");
        check_counts_equal_recount(viewer);
        const auto search = use_case_of(testing::json_of(viewer.get("/v1/use_cases")), "search");
        CHECK(search.at("name") == "Code search");
        CHECK(search.at("description") == "Finding code across repositories");
        CHECK(search.at("dri") == json::value(testing::person_for(role::product)));
        REQUIRE(search.at("decisions").as_array().size() == 1);
        CHECK(search.at("decisions").at(0).at("request_id") == old_accepted);
        CHECK(search.at("decisions").at(0).at("decision") == "accepted");
        CHECK(search.at("open").at("by_team").at("product") == 2);  // the routed how_to and the undecided one
        CHECK(early.terminate() == 0);
      }

      // Tuesday 1 December 2026, four months on: a second server on the same database.
      testing::server_process later(
          backend.args(config, {"--clock-start", "2026-12-01T10:00:00Z", "--clock-speed", "1"}));
      auto ce = later.client(role::ce);
      auto product = later.client(role::product);
      auto viewer = later.client(role::viewer);
      act(product, declined, R"({"type": "decline", "reason": "Not on this year's roadmap"})");
      new_accepted = file(ce, "feature_request", "search", "Search in commit messages");
      act(product, new_accepted, R"({"type": "accept"})");
      check_counts_equal_recount(viewer);

      const auto answer = testing::json_of(viewer.get("/v1/use_cases"));
      CAPTURE(json::serialize(answer));
      CHECK(std::string(answer.at("decisions_since").as_string()).starts_with("2026-09-02T10:"));
      const auto search = use_case_of(answer, "search");
      const auto& decisions = search.at("decisions").as_array();
      // The August acceptance is more than 90 days old: left out.
      REQUIRE(decisions.size() == 2);
      CHECK(decisions.at(0).at("request_id") == new_accepted);
      CHECK(decisions.at(0).at("decision") == "accepted");
      CHECK(decisions.at(0).at("reason") == "");
      CHECK(decisions.at(1).at("request_id") == declined);
      CHECK(decisions.at(1).at("decision") == "declined");
      CHECK(decisions.at(1).at("reason") == "Not on this year's roadmap");
      CHECK(decisions.at(1).at("actor") == json::value(product_actor));
      CHECK(decisions.at(1).at("executive") == false);
      CHECK(std::string(decisions.at(1).at("at").as_string()).starts_with("2026-12-01T10:"));
      CHECK(use_case_of(answer, "billing").at("decisions").as_array().empty());

      // One use case; an unknown tag is 404 with the error body.
      const auto one = testing::json_of(viewer.get("/v1/use_cases/search"));
      CHECK(one.at("use_case").at("decisions") == search.at("decisions"));
      CHECK(one.at("use_case").at("open") == search.at("open"));
      const auto unknown = viewer.get("/v1/use_cases/nope");
      CHECK(unknown.status == 404);
      CHECK(json::parse(unknown.body).at("error").at("code") == "not_found");
      CHECK(viewer.get("/v1/use_cases").status == 200);
      auto nobody = later.client(role::viewer);
      nobody.set_token("not-a-token");
      CHECK(nobody.get("/v1/use_cases").status == 401);

      // The CLI: a table row per use case, and the same answer as JSON.
      const auto token = testing::token_for(role::viewer);
      const auto table = cli({"--server", later.url(), "--token", token, "use-cases"});
      CAPTURE(table.out);
      CAPTURE(table.err);
      REQUIRE(table.exit_code == 0);
      std::map<std::string, std::vector<std::string>> rows;
      std::istringstream lines(table.out);
      for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::vector<std::string> cells;
        for (std::string w; words >> w;) cells.push_back(w);
        if (!cells.empty()) rows[cells[0]] = cells;
      }
      REQUIRE(rows.contains("search"));
      CHECK(rows["search"] == std::vector<std::string>{"search", testing::person_for(role::product),
                                                        std::to_string(shown(search).total), "1", "1"});
      REQUIRE(rows.contains("billing"));
      CHECK(rows["billing"][4] == "0");
      const auto as_json = cli({"--server", later.url(), "--token", token, "--json", "use-cases"});
      REQUIRE(as_json.exit_code == 0);
      CHECK(use_case_of(json::parse(as_json.out).as_object(), "search").at("decisions") == search.at("decisions"));
      const auto detail = cli({"--server", later.url(), "--token", token, "use-cases", "search"});
      REQUIRE(detail.exit_code == 0);
      CHECK(detail.out.find("Use case: search (Code search)") != std::string::npos);
      CHECK(detail.out.find("Not on this year's roadmap") != std::string::npos);
      CHECK(later.terminate() == 0);  // a clean stop, which also flushes its access log
    });
  }

  TEST_CASE("without [use_cases] the list is empty and says so, every tag is unknown, and a query parameter is refused") {
    testing::temp_dir dir;
    testing::server_process server(testing::server_args{
        testing::config_on_always_calendar(dir, testing::test_people("always")), dir.file("switchboard.db"), {}});
    auto viewer = server.client(role::viewer);
    const auto answer = testing::json_of(viewer.get("/v1/use_cases"));
    CHECK(answer.at("configured") == false);
    CHECK(answer.at("use_cases").as_array().empty());
    const auto unknown = viewer.get("/v1/use_cases/search");
    CHECK(unknown.status == 404);
    CHECK(json::parse(unknown.body).at("error").at("code") == "not_found");
    const auto paged = viewer.get("/v1/use_cases?limit=5");  // not a paged list: nothing to ask for
    CHECK(paged.status == 422);
    CHECK(json::parse(paged.body).at("error").at("code") == "invalid_fields");
    const auto table = cli({"--server", server.url(), "--token", testing::token_for(role::viewer), "use-cases"});
    CHECK(table.exit_code == 0);
    CHECK(table.out.find("No use cases are configured") != std::string::npos);
    CHECK(server.terminate() == 0);
  }
}
