// take and assign through the real server (issue 13 E4): who may, the refusals' statuses and
// words, and the reasons in the request's history; automatic assignment (E5) by each strategy on
// both store adapters, with ?assignee= listing the outcome.
#include "http/client.hpp"
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/server_backends.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

using namespace switchboard;
namespace json = boost::json;
using model::role;

namespace {

// A person per test token (server_process person_for), each in the team their role works, and
// sam, a second SE with no token.
std::string staffed_people() {
  std::string out;
  for (int r = 0; r <= static_cast<int>(role::viewer); ++r) {
    const auto each = static_cast<role>(r);
    const auto team = each == role::ce ? "ce" : each == role::se ? "se" : each == role::product ? "product" : "";
    out += fmt::format("[[people]]\nid = \"{}\"\nname = \"Test {}\"\nroles = [\"{}\"]\ncalendar = \"always\"\n{}",
                       testing::person_for(each), model::to_string(each), model::to_string(each),
                       *team ? fmt::format("team = \"{}\"\n", team) : std::string());
  }
  return out + "[[people]]\nid = \"sam\"\nname = \"Sam Ortiz\"\nroles = [\"se\"]\nteam = \"se\"\ncalendar = \"always\"\n";
}

void check_error(const http::client_response& res, unsigned status, std::string_view code, std::string_view words) {
  CAPTURE(res.body);
  CHECK(res.status == status);
  const auto body = testing::json_of(res);
  CHECK(body.at("error").at("code").as_string() == code);
  CHECK(std::string(body.at("error").at("message").as_string()).find(words) != std::string::npos);
}

}  // namespace

TEST_SUITE("integration::api") {
  TEST_CASE("take and assign record who holds a request and why, and refusals say why with 403, 409 or 422") {
    testing::temp_dir dir;
    const auto config = testing::config_on_always_calendar(dir, staffed_people());
    testing::server_process server({config, dir.file("switchboard.db"), {}});
    auto ce = server.client(role::ce);
    auto se = server.client(role::se);
    auto head = server.client(role::head_of_cs);
    const auto filed = testing::json_of(ce.post_json("/v1/requests", json::serialize(json::object{
        {"kind", "troubleshooting"},
        {"customer", json::object{{"id", "acme"}, {"name", "Acme Corp"}, {"stage", "production"}, {"tier", "premium"}}},
        {"title", "Search is slow"},
        {"body", "Queries take 30 s since Monday."},
        {"source", "api"}})));
    REQUIRE(filed.at("owner") == "se");
    CHECK(filed.at("assignee").is_null());
    const auto id = filed.at("id").as_int64();
    const auto path = fmt::format("/v1/requests/{}/events", id);
    const auto se_person = testing::person_for(role::se);

    check_error(ce.post_json(path, R"({"type": "take"})"), 403, "forbidden", "se owns this request");
    const auto taken = se.post_json(path, R"({"type": "take", "reason": "I know this customer's cluster"})");
    CAPTURE(taken.body);
    REQUIRE(taken.status == 200);
    CHECK(testing::json_of(taken).at("assignee").as_string() == se_person);

    // Reassigned by Head of CS; the SE who held it cannot take it back while sam is on shift.
    const auto assigned =
        head.post_json(path, R"({"type": "assign", "assignee": "sam", "reason": "se-person is at capacity"})");
    CAPTURE(assigned.body);
    REQUIRE(assigned.status == 200);
    CHECK(testing::json_of(assigned).at("assignee") == "sam");
    check_error(se.post_json(path, R"({"type": "take"})"), 409, "already_assigned", "already assigned to sam");
    check_error(se.post_json(path, R"({"type": "assign", "assignee": "sam", "reason": "x"})"), 403, "forbidden",
                "only a lead of the se team");
    check_error(server.client(role::viewer).post_json(path, R"({"type": "assign", "assignee": "sam", "reason": "x"})"),
                403, "forbidden", "a viewer may not assign");
    const auto ce_person = testing::person_for(role::ce);
    const auto not_member = head.post_json(path, json::serialize(json::object{
                                                     {"type", "assign"}, {"assignee", ce_person}, {"reason", "x"}}));
    check_error(not_member, 422, "not_a_member", ce_person + " is not a member of the se team");
    CHECK(testing::json_of(not_member).at("error").at("fields").at(0).at("field") == "assignee");
    check_error(head.post_json(path, R"({"type": "assign", "assignee": "sam"})"), 422, "invalid_fields", "why");
    check_error(head.post_json(path, R"({"type": "assign", "assignee": 7, "reason": "x"})"), 422, "invalid_fields", "");

    // Refusals changed nothing; the history holds both assignments with their reasons.
    const auto request = testing::json_of(se.get(fmt::format("/v1/requests/{}", id)));
    CHECK(request.at("assignee") == "sam");
    std::vector<json::object> history;
    const auto page = testing::json_of(se.get(path + "?limit=200"));
    for (const auto& e : page.at("events").as_array())
      if (e.at("type") == "request.assigned") history.push_back(e.as_object());
    REQUIRE(history.size() == 2);
    CHECK(history[0].at("actor").as_string() == "se:" + se_person);
    CHECK(history[0].at("data").at("how") == "take");
    CHECK(history[0].at("data").at("assignee").as_string() == se_person);
    CHECK(history[0].at("data").at("previous") == "");
    CHECK(history[0].at("data").at("reason") == "I know this customer's cluster");
    CHECK(history[1].at("actor").as_string() == "head_of_cs:" + testing::person_for(role::head_of_cs));
    CHECK(history[1].at("data").at("how") == "assign");
    CHECK(history[1].at("data").at("assignee") == "sam");
    CHECK(history[1].at("data").at("previous").as_string() == se_person);
    CHECK(history[1].at("data").at("reason") == "se-person is at capacity");
  }
}

namespace {

// Three SEs: the SE token's person and sam on the always-open calendar, lee on "night"
// (20:00-24:00 UTC), so off shift at the simulated clock's 10:00 UTC start; SE assigned by
// `assignment` (a TOML table body). The other tokens' people as in staffed_people, in no team.
std::string three_ses(const testing::temp_dir& dir, std::string_view assignment, int se_capacity = 0,
                      int sam_capacity = 0, std::string_view sam_skills = "") {
  std::string people;
  for (int r = 0; r <= static_cast<int>(role::viewer); ++r) {
    const auto each = static_cast<role>(r);
    people += fmt::format("[[people]]\nid = \"{}\"\nname = \"Test {}\"\nroles = [\"{}\"]\ncalendar = \"always\"\n{}{}",
                          testing::person_for(each), model::to_string(each), model::to_string(each),
                          each == role::se ? "team = \"se\"\n" : "",
                          each == role::se && se_capacity > 0 ? fmt::format("capacity = {}\n", se_capacity) : "");
  }
  people += fmt::format("[[people]]\nid = \"sam\"\nname = \"Sam Ortiz\"\nroles = [\"se\"]\nteam = \"se\"\ncalendar = \"always\"\n{}{}",
                        sam_capacity > 0 ? fmt::format("capacity = {}\n", sam_capacity) : "",
                        sam_skills.empty() ? std::string() : fmt::format("skills = [\"{}\"]\n", sam_skills));
  people += "[[people]]\nid = \"lee\"\nname = \"Lee Park\"\nroles = [\"se\"]\nteam = \"se\"\ncalendar = \"night\"\n";
  return testing::config_on_always_calendar(
      dir, fmt::format("\n[calendars.night]\nzone = \"UTC\"\nshifts = [{{ days = [\"mon\", \"tue\", \"wed\", \"thu\", "
                       "\"fri\", \"sat\", \"sun\"], open = \"20:00\", close = \"24:00\" }}]\n\n[assignment.se]\n{}\n{}",
                       assignment, people));
}

std::string troubleshooting_json(std::string_view use_case = "") {
  json::object request{
      {"kind", "troubleshooting"},
      {"customer", json::object{{"id", "acme"}, {"name", "Acme Corp"}, {"stage", "production"}, {"tier", "premium"}}},
      {"title", "Search is slow"},
      {"body", "Queries take 30 s since Monday."},
      {"source", "api"}};
  if (!use_case.empty()) request["use_case"] = use_case;
  return json::serialize(request);
}

std::size_t listed(http::client& client, const std::string& assignee) {
  const auto page = client.get("/v1/requests?limit=200&assignee=" + assignee);
  REQUIRE(page.status == 200);
  return testing::json_of(page).at("requests").as_array().size();
}

const std::vector<std::string> clock_start{"--clock-start", "2026-12-01T10:00:00Z"};

}  // namespace

TEST_SUITE("integration::assignment") {
  TEST_CASE("round_robin gives 100 filings 50 and 50 to the two SEs on shift, none to the one off shift, and says why") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      testing::server_process server(backend.args(three_ses(dir, "strategy = \"round_robin\""), clock_start));
      auto ce = server.client(role::ce);
      auto se = server.client(role::se);
      const auto se_person = testing::person_for(role::se);
      std::map<std::string, int> counts;
      for (int i = 0; i < 100; ++i) {
        const auto filed = ce.post_json("/v1/requests", troubleshooting_json());
        REQUIRE(filed.status == 201);
        const auto body = testing::json_of(filed);
        REQUIRE(body.at("assignee").is_string());
        ++counts[std::string(body.at("assignee").as_string())];
      }
      CHECK(counts == std::map<std::string, int>{{"sam", 50}, {se_person, 50}});
      CHECK(listed(se, "sam") == 50);
      CHECK(listed(se, se_person) == 50);
      CHECK(listed(se, "mine") == 50);
      CHECK(listed(se, "lee") == 0);
      CHECK(listed(se, "none") == 0);
      const auto empty = se.get("/v1/requests?assignee=");
      CHECK(empty.status == 422);
      CHECK(testing::json_of(empty).at("error").at("code") == "invalid_fields");
      // The CLI's list --assignee: a row per request, with its ASSIGNEE column.
      const auto mine = testing::run_program({SWITCHBOARD_CLI_PATH, "--server", server.url(), "--token",
                                              testing::token_for(role::se), "list", "--assignee", "mine", "--limit", "200"});
      CHECK(mine.exit_code == 0);
      CHECK(mine.out.find("ASSIGNEE") != std::string::npos);
      int rows = 0;
      for (std::size_t at = mine.out.find(se_person); at != std::string::npos; at = mine.out.find(se_person, at + 1)) ++rows;
      CHECK(rows == 50);
      CHECK(mine.out.find("sam") == std::string::npos);

      // The decision's trace, as a routing decision's: every SE and why.
      const auto page = testing::json_of(se.get("/v1/requests/1/events"));
      const json::object* assigned = nullptr;
      for (const auto& e : page.at("events").as_array())
        if (e.at("type") == "request.assigned") assigned = &e.as_object();
      REQUIRE(assigned != nullptr);
      CHECK(assigned->at("actor") == "system");
      CHECK(assigned->at("data").at("how") == "auto");
      std::map<std::string, std::string> why;
      for (const auto& line : assigned->at("data").at("considered").as_array())
        why[std::string(line.at("person").as_string())] = std::string(line.at("why").as_string());
      CHECK(why.size() == 3);
      CHECK(why["lee"] == "off shift until 2026-12-01T20:00:00Z");
      CHECK(why["sam"] == "chosen: round_robin, first in turn");
      CHECK(why[se_person] == "on shift, not next in turn");
    });
  }

  TEST_CASE("least_loaded with capacities 60 and 40 keeps every prefix within one of 60 to 40, and past capacity leaves the request unassigned") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      testing::server_process server(backend.args(three_ses(dir, "strategy = \"least_loaded\"", 60, 40), clock_start));
      auto ce = server.client(role::ce);
      auto se = server.client(role::se);
      const auto se_person = testing::person_for(role::se);
      int to_se_person = 0;
      int to_sam = 0;
      for (int i = 1; i <= 100; ++i) {
        const auto body = testing::json_of(ce.post_json("/v1/requests", troubleshooting_json()));
        REQUIRE(body.at("assignee").is_string());
        (body.at("assignee").as_string() == se_person ? to_se_person : to_sam) += 1;
        CHECK(body.at("assignee") != "lee");
        // 60:40 of i, within one either way.
        CHECK(std::abs(to_se_person * 10 - i * 6) <= 10);
      }
      CHECK(to_se_person == 60);
      CHECK(to_sam == 40);
      // Both at capacity, lee off shift: the 101st stays unassigned, and is listed as such.
      const auto over = testing::json_of(ce.post_json("/v1/requests", troubleshooting_json()));
      CHECK(over.at("assignee").is_null());
      // Why, in its history: the automatic assignment's trace of everyone it could not choose.
      bool traced = false;
      const auto history = testing::json_of(se.get(fmt::format("/v1/requests/{}/events", over.at("id").as_int64())));
      for (const auto& e : history.at("events").as_array())
        if (e.at("type") == "request.left_unassigned") {
          traced = true;
          CHECK(e.at("data").at("reason") == "[assignment.se]: nobody of the se team is on shift and under capacity");
          CHECK(e.at("data").at("considered").as_array().size() == 3);
        }
      CHECK(traced);
      CHECK(listed(se, "none") == 1);
      CHECK(listed(se, "mine") == 60);
      CHECK(listed(se, "sam") == 40);
      const auto unassigned = testing::json_of(se.get("/v1/requests?assignee=none"));
      REQUIRE_FALSE(unassigned.at("requests").as_array().empty());
      CHECK(unassigned.at("requests").as_array().at(0).at("id") == over.at("id"));
    });
  }

  TEST_CASE("with skills the search requests go to the SE who has the skill, and the others by round_robin") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      testing::server_process server(
          backend.args(three_ses(dir, "strategy = \"round_robin\"\nskills = true", 0, 0, "search"), clock_start));
      auto ce = server.client(role::ce);
      auto se = server.client(role::se);
      for (int i = 0; i < 10; ++i) {
        const auto body = testing::json_of(ce.post_json("/v1/requests", troubleshooting_json("search")));
        CHECK(body.at("assignee") == "sam");
      }
      std::map<std::string, int> others;
      for (int i = 0; i < 10; ++i)
        ++others[std::string(testing::json_of(ce.post_json("/v1/requests", troubleshooting_json("sso"))).at("assignee").as_string())];
      CHECK(others == std::map<std::string, int>{{"sam", 5}, {testing::person_for(role::se), 5}});
      CHECK(listed(se, "sam") == 15);
      const auto page = testing::json_of(se.get("/v1/requests/1/events"));
      bool traced = false;
      for (const auto& e : page.at("events").as_array())
        if (e.at("type") == "request.assigned")
          for (const auto& line : e.at("data").at("considered").as_array())
            if (line.at("person").as_string() == testing::person_for(role::se)) traced = line.at("why") == "lacks skill search";
      CHECK(traced);
    });
  }
}
