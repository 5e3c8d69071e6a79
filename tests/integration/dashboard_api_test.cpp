// The dashboard's data routes on the real server, on both store adapters: the snapshot filtered on
// the server (a filter finds clocks beyond the 200 most urgent), the escalations strip (bounded,
// most urgent first, obeying the view's filters), the team cards' request counts (equal to a
// recount from the requests themselves, a request without an open clock included), who the
// token is (/v1/me), the people directory without contacts (/v1/people), and the clock speed the
// page counts down at.
#include "http/client.hpp"
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
#include <string>
#include <tuple>
#include <vector>

using namespace switchboard;
namespace json = boost::json;
using model::role;
using testing::eventually;

namespace {

// Troubleshooting breaches its first response 2 s after filing (warning at 1 s) on the always-open
// calendar, and each breach opens an sla_breach escalation that notifies head_of_cs at once. The
// test tokens' people, se-person in SE (so se may take SE's requests), the others in no team.
std::string board_config(const testing::temp_dir& dir) {
  std::string people;
  for (int r = 0; r <= static_cast<int>(role::viewer); ++r) {
    const auto each = static_cast<role>(r);
    people += fmt::format("[[people]]\nid = \"{}\"\nname = \"Test {}\"\nroles = [\"{}\"]\ncalendar = \"always\"\n{}{}",
                          testing::person_for(each), model::to_string(each), model::to_string(each),
                          each == role::se ? "team = \"se\"\n" : "",
                          each == role::se ? "email = \"se-person@example.com\"\n" : "");
  }
  return testing::config_on_always_calendar(dir, R"(
[[sla.policy]]
name = "fast"
kinds = ["troubleshooting"]
calendar = "always"
metrics = [{ metric = "first_response", target = "2s", warning = 0.5 }, { metric = "resolution", target = "1h" }]

[[escalation.ladder]]
name = "sla_breach"
calendar = "always"
levels = [{ after = "0s", notify = ["head_of_cs"] }, { after = "1h", notify = ["vp_technical_success"] }]
)" + people);
}

std::int64_t file(http::client& client, std::string_view customer, std::string_view priority) {
  const auto res = client.post_json("/v1/requests", json::serialize(json::object{
                                                        {"kind", "troubleshooting"},
                                                        {"title", fmt::format("{} needs help", customer)},
                                                        {"priority", priority},
                                                        {"customer", json::object{{"id", customer}, {"name", customer}, {"stage", "prospect"}}},
                                                    }));
  REQUIRE(res.status == 201);
  return testing::json_of(res).at("id").as_int64();
}

json::object get(http::client& client, const std::string& target) {
  const auto res = client.get(target);
  CAPTURE(target);
  CAPTURE(res.body);
  REQUIRE(res.status == 200);
  return testing::json_of(res);
}

std::vector<std::int64_t> strip_ids(const json::object& strip) {
  std::vector<std::int64_t> out;
  for (const auto& e : strip.at("escalations").as_array()) out.push_back(e.at("request_id").as_int64());
  return out;
}

// (team, state, unassigned) -> requests, as the API counts them, and as a recount from every
// active request's clocks: worst open clock, breached (also paused after a breach) > warning >
// running > paused, or none without an open clock.
using request_counts = std::map<std::tuple<std::string, std::string, bool>, std::int64_t>;

request_counts counts_of(const json::array& rows) {
  request_counts out;
  for (const auto& row : rows)
    out[{std::string(row.at("team").as_string()), std::string(row.at("state").as_string()),
         row.at("unassigned").as_bool()}] += row.at("requests").as_int64();
  return out;
}

request_counts recount(http::client& client) {
  request_counts out;
  const std::map<std::string, int> rank{{"paused", 0}, {"running", 1}, {"warning", 2}, {"breached", 3}};
  const auto listed = get(client, "/v1/requests?limit=200");
  for (const auto& r : listed.at("requests").as_array()) {
    std::string worst;
    for (const auto& c : r.at("clocks").as_array()) {
      if (!c.at("open").as_bool()) continue;
      std::string state(c.at("state").as_string());
      if (c.at("breached").as_bool()) state = "breached";
      else if (state == "running" && c.at("warned").as_bool()) state = "warning";
      if (worst.empty() || rank.at(state) > rank.at(worst)) worst = state;
    }
    const auto status = r.at("status").as_string();
    if (status == "resolved" || status == "closed") continue;
    if (worst.empty()) worst = "none";
    const auto& assignee = r.at("assignee");
    out[{std::string(r.at("owner").as_string()), worst, assignee.is_null() || assignee.as_string().empty()}] += 1;
  }
  return out;
}


// Open clocks that do not breach during the test: first response in 1 h, resolution in 10 h, for
// troubleshooting and feature requests.
std::string slow_config(const testing::temp_dir& dir) {
  return testing::config_on_always_calendar(dir, R"(
[[sla.policy]]
name = "slow"
kinds = ["troubleshooting", "feature_request"]
calendar = "always"
metrics = [{ metric = "first_response", target = "1h", warning = 0.9 }, { metric = "resolution", target = "10h" }]

[[escalation.ladder]]
name = "sla_breach"
calendar = "always"
levels = [{ after = "0s", notify = ["head_of_cs"] }]
)" + testing::test_people("always", {{role::se, "team = \"se\"\n"}}));
}

// The ids of the snapshot's requests, in its order.
std::vector<std::int64_t> snapshot_ids(const json::object& snapshot) {
  std::vector<std::int64_t> out;
  for (const auto& r : snapshot.at("requests").as_array()) out.push_back(r.at("id").as_int64());
  return out;
}

}  // namespace

TEST_SUITE("integration::dashboard_api") {
  TEST_CASE("the snapshot filters on the server, beyond the 200 most urgent open clocks") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      testing::server_process server(backend.args(slow_config(dir)));
      auto ce = server.client(role::ce);
      auto se = server.client(role::se);
      // 260 requests, two open clocks each, filed in turn: their deadlines (and so their urgency)
      // follow the filing order, and the 200 most urgent clocks are the first 200 requests' first
      // responses. The last 60 hold what each filter looks for.
      std::vector<std::int64_t> ids;
      for (int i = 0; i < 260; ++i) {
        const bool late = i >= 200;
        const auto res = ce.post_json("/v1/requests", json::serialize(json::object{
            {"kind", late && i % 20 == 5 ? "feature_request" : "troubleshooting"},
            {"title", fmt::format("Request {}", i)},
            {"body", i == 247 ? "The zeppelin mirror times out." : "Something is slow."},
            {"priority", late && i % 10 == 0 ? "urgent" : "normal"},
            {"customer", json::object{{"id", late && i % 7 == 0 ? "zeta" : "acme"}, {"name", "Customer"},
                                      {"stage", "production"}, {"tier", "standard"}}},
        }));
        CAPTURE(res.body);
        REQUIRE(res.status == 201);
        ids.push_back(testing::json_of(res).at("id").as_int64());
      }
      REQUIRE(se.post_json(fmt::format("/v1/requests/{}/events", ids[251]), R"({"type":"take"})").status == 200);
      REQUIRE(se.post_json(fmt::format("/v1/requests/{}/events", ids[253]), R"({"type":"pend","message":"Logs?"})")
                  .status == 200);

      const auto unfiltered = get(se, "/v1/dashboard/clocks");
      CHECK(unfiltered.at("filtered").as_bool() == false);
      CHECK_FALSE(unfiltered.at("next_cursor").is_null());
      const auto open_clocks = unfiltered.at("open_clocks").as_int64();
      CHECK(open_clocks > 500);  // 260 × 2, less 253's first response (pending on the customer)
      for (const auto id : snapshot_ids(unfiltered)) CHECK(id < ids[200]);

      const auto pick = [&](std::initializer_list<int> at) {
        std::vector<std::int64_t> out;
        for (const int i : at) out.push_back(ids[static_cast<std::size_t>(i)]);
        return out;
      };
      // Each filter, and two together: every match, most urgent first, none left to page to.
      const std::map<std::string, std::vector<std::int64_t>> views{
          {"priority=urgent", pick({200, 210, 220, 230, 240, 250})},
          {"customer=zeta", pick({203, 210, 217, 224, 231, 238, 245, 252, 259})},
          {"kind=feature_request", pick({205, 225, 245})},
          {"team=product", pick({205, 225, 245})},
          {"assignee=me", pick({251})},
          {"assignee=se-person", pick({251})},
          {"state=paused", pick({253})},
          {"q=zeppelin", pick({247})},
          {fmt::format("q=%23{}", ids[258]), pick({258})},
          {"customer=zeta&priority=urgent", pick({210})},
          {"q=zeppelin&priority=urgent", {}},
      };
      for (const auto& [query_binding, expected_binding] : views) {
        const auto& query = query_binding;  // named: clang 14 cannot capture a structured binding
        const auto& expected = expected_binding;
        CAPTURE(query);
        const auto view = get(se, "/v1/dashboard/clocks?" + query);
        CHECK(snapshot_ids(view) == expected);
        CHECK(view.at("filtered").as_bool());
        CHECK(view.at("next_cursor").is_null());
        CHECK(view.at("open_clocks").as_int64() == open_clocks);  // the counts are the whole board's
      }

      // assignee=none pages through 259 requests' clocks with the filter kept: 251 is on no page.
      std::vector<std::int64_t> unassigned;
      std::string cursor;
      for (int pages = 0; pages < 10; ++pages) {
        const auto page = get(se, "/v1/dashboard/clocks?assignee=none&limit=200" + cursor);
        for (const auto id : snapshot_ids(page)) unassigned.push_back(id);
        if (page.at("next_cursor").is_null()) break;
        cursor = "&cursor=" + std::string(page.at("next_cursor").as_string());
      }
      std::sort(unassigned.begin(), unassigned.end());
      unassigned.erase(std::unique(unassigned.begin(), unassigned.end()), unassigned.end());
      CHECK(unassigned.size() == 259);
      CHECK(std::find(unassigned.begin(), unassigned.end(), ids[251]) == unassigned.end());

      // A change moves a request between views in the events' transaction: 250 taken leaves
      // assignee=none and joins assignee=me; resolved, it leaves every view.
      REQUIRE(se.post_json(fmt::format("/v1/requests/{}/events", ids[250]), R"({"type":"take"})").status == 200);
      CHECK(snapshot_ids(get(se, "/v1/dashboard/clocks?priority=urgent&assignee=none")) ==
            pick({200, 210, 220, 230, 240}));
      CHECK(snapshot_ids(get(se, "/v1/dashboard/clocks?assignee=me")) == pick({250, 251}));
      REQUIRE(se.post_json(fmt::format("/v1/requests/{}/events", ids[250]), R"({"type":"resolve","message":"Done"})")
                  .status == 200);
      CHECK(snapshot_ids(get(se, "/v1/dashboard/clocks?assignee=me")) == pick({251}));

      // Bad values are 422 naming the parameter, and change nothing.
      for (const auto* bad : {"state=nope", "priority=soon", "team=sales", "kind=chat", "assignee=", "customer=", "q=",
                              "limit=0", "cursor=x", "sort=title"}) {
        CAPTURE(bad);
        const auto res = se.get(std::string("/v1/dashboard/clocks?") + bad);
        CHECK(res.status == 422);
        const std::string name(std::string_view(bad).substr(0, std::string_view(bad).find('=')));
        CHECK(testing::json_of(res).at("error").at("fields").as_array()[0].at("field").as_string() == name);
      }
      CHECK(se.get("/v1/dashboard/clocks?q=" + std::string(201, 'a')).status == 422);
    });
  }
}

TEST_SUITE("integration::dashboard_api") {
  TEST_CASE("the escalations strip is bounded, most urgent first, and obeys the view's filters") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      testing::server_process server(backend.args(board_config(dir)));
      auto ce = server.client(role::ce);
      auto se = server.client(role::se);
      auto head = server.client(role::head_of_cs);
      std::vector<std::int64_t> ids;
      ids.push_back(file(ce, "acme", "low"));
      ids.push_back(file(ce, "acme", "urgent"));
      ids.push_back(file(ce, "globex", "high"));
      ids.push_back(file(ce, "globex", "normal"));
      REQUIRE(eventually([&] { return get(ce, "/v1/escalations?state=open").at("escalations").as_array().size() == 4; },
                         std::chrono::seconds{15}));
      REQUIRE(se.post_json(fmt::format("/v1/requests/{}/events", ids[2]), R"({"type":"take"})").status == 200);

      // The most urgent three of four: all at level 1, so the oldest first.
      auto strip = get(se, "/v1/dashboard/escalations");
      CHECK(strip.at("count").as_int64() == 4);
      CHECK(strip.at("open").as_int64() == 4);
      CHECK(strip_ids(strip) == std::vector<std::int64_t>{ids[0], ids[1], ids[2]});
      const auto& first = strip.at("escalations").as_array()[0].as_object();
      CHECK(first.at("level").as_int64() == 1);
      CHECK(first.at("state").as_string() == "open");
      CHECK(first.at("request").at("title").as_string() == "acme needs help");
      CHECK(first.at("request").at("priority").as_string() == "low");
      CHECK(first.at("request").at("owner").as_string() == "se");
      CHECK(first.at("request").at("assignee").is_null());
      CHECK(strip_ids(get(se, "/v1/dashboard/escalations?limit=10")).size() == 4);

      // Each filter: the strip counts and lists what it selects.
      const std::map<std::string, std::vector<std::int64_t>> views{
          {"priority=urgent", {ids[1]}},
          {"customer=acme", {ids[0], ids[1]}},
          {"assignee=me", {ids[2]}},
          {"assignee=se-person", {ids[2]}},
          {"assignee=none", {ids[0], ids[1], ids[3]}},
          {"team=se&kind=troubleshooting", {ids[0], ids[1], ids[2], ids[3]}},
          {"team=ce", {}},
          {"state=breached", {ids[0], ids[1], ids[2], ids[3]}},
          {"state=warning", {}},
          {"customer=globex&assignee=none", {ids[3]}},
      };
      for (const auto& [query_binding, expected] : views) {
        const auto& query = query_binding;  // named: clang 14 cannot capture a structured binding
        CAPTURE(query);
        const auto view = get(se, "/v1/dashboard/escalations?limit=200&" + query);
        CHECK(strip_ids(view) == expected);
        CHECK(view.at("count").as_int64() == static_cast<std::int64_t>(expected.size()));
      }

      // Acknowledged: still counted, no longer open, after the open ones.
      const auto oldest = std::string(first.at("id").as_string());
      REQUIRE(head.post_json("/v1/escalations/" + oldest + "/events", R"({"type":"acknowledge_escalation"})").status == 200);
      strip = get(se, "/v1/dashboard/escalations?limit=10");
      CHECK(strip.at("count").as_int64() == 4);
      CHECK(strip.at("open").as_int64() == 3);
      CHECK(strip_ids(strip) == std::vector<std::int64_t>{ids[1], ids[2], ids[3], ids[0]});
      // Resolved: gone from the strip.
      REQUIRE(head.post_json("/v1/escalations/" + oldest + "/events", R"({"type":"resolve_escalation"})").status == 200);
      CHECK(get(se, "/v1/dashboard/escalations").at("count").as_int64() == 3);

      // Bad values are 422 naming the parameter, and change nothing.
      for (const auto* bad : {"state=nope", "priority=soon", "team=sales", "kind=chat", "limit=0", "limit=201",
                              "assignee=", "customer=", "cursor=x"}) {
        CAPTURE(bad);
        const auto res = se.get(std::string("/v1/dashboard/escalations?") + bad);
        CHECK(res.status == 422);
        const std::string name(std::string_view(bad).substr(0, std::string_view(bad).find('=')));
        CHECK(testing::json_of(res).at("error").at("fields").as_array()[0].at("field").as_string() == name);
      }
    });
  }

  TEST_CASE("the team cards count requests by their worst open clock, and the unassigned, as a recount does") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      testing::server_process server(backend.args(board_config(dir)));
      auto ce = server.client(role::ce);
      auto se = server.client(role::se);
      std::vector<std::int64_t> ids;
      for (const auto* customer : {"a", "b", "c", "d", "e"}) ids.push_back(file(ce, customer, "normal"));
      REQUIRE(se.post_json(fmt::format("/v1/requests/{}/events", ids[0]), R"({"type":"take"})").status == 200);
      REQUIRE(se.post_json(fmt::format("/v1/requests/{}/events", ids[1]), R"({"type":"pend","message":"Logs?"})")
                  .status == 200);
      REQUIRE(se.post_json(fmt::format("/v1/requests/{}/events", ids[2]), R"({"type":"resolve","message":"Done"})")
                  .status == 200);
      // A how-to has no SLA here: an open request without an open clock, counted all the same.
      const auto how_to = ce.post_json("/v1/requests", R"({"kind":"how_to","title":"How do I rotate keys?",
          "customer":{"id":"f","name":"F","stage":"prospect"}})");
      REQUIRE(how_to.status == 201);
      const std::string how_to_owner(testing::json_of(how_to).at("owner").as_string());
      // The three left open breach their first response; the pended one is paused (its first
      // response met), the resolved one is not counted.
      REQUIRE(eventually([&] { return get(ce, "/v1/escalations?state=open").at("escalations").as_array().size() == 3; },
                         std::chrono::seconds{15}));
      const auto expected = recount(ce);
      CHECK(expected == request_counts{{{"se", "breached", false}, 1},
                                       {{"se", "breached", true}, 2},
                                       {{"se", "paused", true}, 1},
                                       {{how_to_owner, "none", true}, 1}});
      CHECK(counts_of(get(ce, "/v1/dashboard/clocks").at("request_counts").as_array()) == expected);
      const auto counts = get(ce, "/v1/dashboard/counts");
      CHECK(counts_of(counts.at("request_counts").as_array()) == expected);
      CHECK(counts.at("open_clocks").as_int64() == get(ce, "/v1/dashboard/clocks").at("open_clocks").as_int64());
      CHECK(ce.get("/v1/dashboard/counts?team=se").status == 422);
    });
  }

  TEST_CASE("/v1/me says who the token is, /v1/people lists the directory without contacts") {
    testing::temp_dir dir;
    testing::server_process server({board_config(dir), dir.file("switchboard.db"), {}});
    auto se = server.client(role::se);
    const auto me = get(se, "/v1/me");
    CHECK(me.at("person").as_string() == testing::person_for(role::se));
    CHECK(me.at("role").as_string() == "se");
    CHECK(me.at("name").as_string() == "Test se");
    CHECK(me.at("team").as_string() == "se");
    CHECK(me.at("leads").as_array().empty());
    auto viewer_client = server.client(role::viewer);
    const auto viewer = get(viewer_client, "/v1/me");
    CHECK(viewer.at("role").as_string() == "viewer");
    CHECK(viewer.at("team").is_null());

    const auto people = get(viewer_client, "/v1/people").at("people").as_array();
    CHECK(people.size() == static_cast<std::size_t>(role::viewer) + 1);
    for (const auto& p : people) {
      CHECK(p.as_object().size() == 5);  // id, name, team, roles, leads: no e-mail, no Slack id
      CHECK_FALSE(p.as_object().contains("email"));
    }
    http::client anonymous(server.url());
    CHECK(anonymous.get("/v1/me").status == 401);
    CHECK(anonymous.get("/v1/people").status == 401);
  }

  TEST_CASE("the snapshot tells the page the server's clock speed") {
    testing::temp_dir dir;
    {
      testing::server_process server({board_config(dir), dir.file("real.db"), {}});
      auto viewer = server.client(role::viewer);
      CHECK(get(viewer, "/v1/dashboard/clocks").at("clock_speed").to_number<double>() == 1.0);
    }
    testing::server_process fast(
        {board_config(dir), dir.file("fast.db"), {"--clock-start", "2026-12-01T17:00:00Z", "--clock-speed", "60"}});
    auto viewer = fast.client(role::viewer);
    CHECK(get(viewer, "/v1/dashboard/clocks").at("clock_speed").to_number<double>() == 60.0);
  }
}

TEST_SUITE("integration::dashboard_api") {
  TEST_CASE("search finds requests by title, body, customer and id, and reads no syntax in the words") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      testing::server_process server(backend.args(board_config(dir)));
      auto ce = server.client(role::ce);
      const auto filed = [&](std::string_view title, std::string_view body, std::string_view customer) {
        const auto res = ce.post_json("/v1/requests", json::serialize(json::object{
                                                          {"kind", "how_to"},
                                                          {"title", title},
                                                          {"body", body},
                                                          {"customer", json::object{{"id", customer}, {"name", std::string(customer) + " Corp"}, {"stage", "trial"}}},
                                                      }));
        REQUIRE(res.status == 201);
        return testing::json_of(res).at("id").as_int64();
      };
      // A word deep in a 60 KiB body.
      std::string long_body(60 * 1024, 'x');
      for (std::size_t i = 0; i < long_body.size(); i += 8) long_body[i] = ' ';
      long_body += " kerberos ticket expired";
      const auto vpn = filed("VPN drops every hour", "Since Monday.", "initech");
      const auto deep = filed("Login problem", long_body, "globex");
      const auto sso = filed("SSO certificate rotation", "How do we rotate it?", "umbrella");
      const auto ids = [&](const std::string& q) {
        std::vector<std::int64_t> out;
        const auto res = ce.get("/v1/dashboard/search?q=" + q);
        CAPTURE(q);
        CAPTURE(res.body);
        REQUIRE(res.status == 200);
        const auto body = testing::json_of(res);
        for (const auto& id : body.at("ids").as_array()) out.push_back(id.as_int64());
        return out;
      };
      CHECK(ids("vpn") == std::vector<std::int64_t>{vpn});
      CHECK(ids("kerberos") == std::vector<std::int64_t>{deep});
      CHECK(ids("kerb") == std::vector<std::int64_t>{deep});           // a prefix
      CHECK(ids("GLOBEX") == std::vector<std::int64_t>{deep});         // the customer's id, any case
      CHECK(ids("umbrella%20corp") == std::vector<std::int64_t>{sso});  // and name: every word
      CHECK(ids("rotate%20certificate") == std::vector<std::int64_t>{sso});
      CHECK(ids("vpn%20kerberos").empty());
      CHECK(ids(fmt::format("%23{}", sso)) == std::vector<std::int64_t>{sso});  // #id: that one alone
      CHECK(ids("%23999").empty());
      CHECK(ids(std::to_string(vpn)).front() == vpn);
      // Search syntax in the words is never read: no error, no wider match.
      CHECK(ids("vpn%22%20OR%20%22x") == std::vector<std::int64_t>{});  // vpn" OR "x: every word, none has "or x"
      CHECK(ids("NEAR(vpn%20hour)") == std::vector<std::int64_t>{});    // "near" is not in it
      CHECK(ids("*").empty());
      CHECK(ids("-vpn") == std::vector<std::int64_t>{vpn});
      CHECK(ids("vpn:*") == std::vector<std::int64_t>{vpn});
      // Newest first.
      CHECK(ids("corp") == std::vector<std::int64_t>{sso, deep, vpn});
      CHECK(ids("corp&limit=1") == std::vector<std::int64_t>{sso});

      CHECK(ce.get("/v1/dashboard/search").status == 422);
      CHECK(ce.get("/v1/dashboard/search?q=").status == 422);
      CHECK(ce.get("/v1/dashboard/search?q=" + std::string(201, 'a')).status == 422);
      CHECK(ce.get("/v1/dashboard/search?q=a&limit=0").status == 422);
      CHECK(ce.get("/v1/dashboard/search?q=a&team=se").status == 422);
    });
  }
}
