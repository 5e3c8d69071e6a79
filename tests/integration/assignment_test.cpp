// take and assign through the real server (issue 13 E4): who may, the refusals' statuses and
// words, and the reasons in the request's history.
#include "http/client.hpp"
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

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
