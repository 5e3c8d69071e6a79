// The end of a request's life and Product's review (issue 13 §4, §5) through the real server on a
// simulated clock: a resolved Slack request closes after its quiet business day, the customer's
// next message in its thread opens a follow-up answered in the same thread and the one after
// lands on it; a feature request with a use case goes to its DRI, its review falls overdue at the
// close of the business day, the product_review ladder reaches the DRI, and VP Technical Success
// makes the executive decision. On both store adapters (support/server_backends.hpp).
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/fake_slack.hpp"
#include "support/server_backends.hpp"
#include "support/environment.hpp"
#include "support/eventually.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "webhooks/webhook_server.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

using namespace switchboard;
using namespace std::chrono_literals;
namespace json = boost::json;
using model::role;

namespace {

constexpr const char* bot_token = "xoxb-test-lifecycle";
constexpr std::string_view events_path = "/v1/webhooks/slack/events";
// slack_app_mention.json: a customer's message in C0SUPPORT01, the parent of its thread.
constexpr std::string_view mention_ts = "1718049598.123459";

// The server's notifier and scheduler run on their own: wait up to a minute.
bool eventually(const std::function<bool()>& done) { return testing::eventually(done, 60s); }


// The customer's message in the mention's thread, as Slack's Events API delivers it.
std::string thread_reply(std::string_view event_id, std::string_view text, std::string_view ts) {
  auto body = json::parse(testing::fixture("slack_app_mention.json")).as_object();
  body["event_id"] = event_id;
  body["event"] = json::object{{"type", "message"},        {"user", "U0CUSTOMER9"}, {"text", text},
                               {"ts", ts},                 {"thread_ts", mention_ts}, {"channel", "C0SUPPORT01"},
                               {"team", "T0AB12CD3"},      {"event_ts", ts},         {"channel_type", "channel"}};
  return json::serialize(body);
}

// Test people on the always-open calendar, acme, Slack on C0SUPPORT01, one use case ("search",
// whose DRI is the test product person; acme's account team names the test CE and TA), a
// business day of 00:00-24:00 UTC for closing (1 day) and the review (1 day), and no SLA policy
// (no clock fires while the simulated days pass).
std::string lifecycle_config(const testing::temp_dir& dir, const std::string& api_base_url) {
  return testing::config_on_always_calendar(
      // Product's person (the DRI) and the TA have Slack users, so what they are told arrives at
      // the fake Slack as direct messages; the TA an address too, with no [outbound.email].
      dir, testing::test_people("always", {{role::product, "slack_user = \"U0PRODUCT1\"\n"},
                                           {role::ta, "slack_user = \"U0TAPERSN1\"\nemail = \"ta@example.com\"\n"}}) +
               testing::outbound_notify_and_acme_toml(fmt::format("account_team = {{ ce = \"{}\", ta = \"{}\" }}\n",
                                                                   testing::person_for(role::ce),
                                                                   testing::person_for(role::ta))) +
               fmt::format(R"(
[workflow]
close_after_days = 1
close_calendar = "always"

[use_cases.search]
name = "Code search"
dri = "{}"

[[escalation.ladder]]
name = "product_review"
calendar = "always"
review_after_days = 1
levels = [
  {{ after = "0s", notify = ["product"] }},
  {{ after = "4h", notify = ["vp_technical_success"] }},
]

[integrations.slack]
api_base_url = "{}"

[integrations.slack.channels.C0SUPPORT01]
customer = "acme"
kind = "troubleshooting"
file = "all"
)",
                           testing::person_for(role::product), api_base_url));
}

struct lifecycle_server {
  lifecycle_server(const testing::server_backend& backend, const std::string& api_base_url) {
    testing::set_integration_secrets(true);
    // 1 wall second is 5.5 simulated hours: a business day passes in about 4 seconds.
    server = std::make_unique<testing::server_process>(backend.args(
        lifecycle_config(dir, api_base_url), {"--clock-start", "2026-12-02T10:00:00Z", "--clock-speed", "20000"}));
  }

  http::client client(role r) const { return server->client(r); }

  json::object post_event(const std::string& body) const {
    auto c = client(role::ce);
    const auto res = c.request("POST", std::string(events_path), body, "application/json",
                               testing::slack_headers(body, testing::unix_now()));
    REQUIRE(res.status == 200);
    return json::parse(res.body).as_object();
  }

  json::object request(std::int64_t id) const {
    auto c = client(role::viewer);
    return testing::json_of(c.get("/v1/requests/" + std::to_string(id)));
  }

  std::vector<json::object> events_of_type(std::int64_t id, std::string_view type) const {
    auto c = client(role::viewer);
    std::vector<json::object> out;
    const auto page = testing::json_of(c.get("/v1/requests/" + std::to_string(id) + "/events?limit=200"));
    for (const auto& e : page.at("events").as_array())
      if (e.at("type").as_string() == type) {
        auto data = e.at("data").as_object();
        data["at"] = e.at("at");
        data["actor"] = e.at("actor");
        out.push_back(std::move(data));
      }
    return out;
  }

  testing::temp_dir dir;
  std::unique_ptr<testing::server_process> server;
};

}  // namespace

TEST_SUITE("integration::lifecycle") {
  TEST_CASE("a resolved Slack request closes, and the customer's next message opens a follow-up in the same thread") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::fake_slack slack(bot_token);
      const testing::scoped_environment token{{{"SWITCHBOARD_SLACK_BOT_TOKEN", bot_token}}};
      lifecycle_server s(backend, slack.base_url());

      // The TA has an address and there is no [outbound.email]: said once at start-up.
      CHECK(s.server->stderr_text().find("1 person is notified by e-mail (" + testing::person_for(role::ta) +
                                         "), but there is no [outbound.email]") != std::string::npos);
      const auto filed = s.post_event(testing::fixture("slack_app_mention.json"));
      REQUIRE(filed.at("outcome") == "created");
      const auto id = filed.at("request_id").as_int64();
      auto se = s.client(role::se);
      const auto resolved = se.post_json(fmt::format("/v1/requests/{}/events", id),
                                         R"({"type": "resolve", "message": "Fixed in 5.2.1"})");
      CAPTURE(resolved.body);
      REQUIRE(resolved.status == 200);
      // close_after_days = 1 on the always-open calendar: the day after the resolution is its one
      // full business day, and it closes at the start of the day after that. Resolved on Wednesday
      // 2 December, it closes at Friday's start. The clock runs 20,000 times faster than real
      // time, so a loaded machine can take until Thursday (2.5 s of real time from the start) or later.
      const auto resolved_events = s.events_of_type(id, "request.resolved");
      REQUIRE(resolved_events.size() == 1);
      const auto resolved_at = std::string(resolved_events[0].at("at").as_string());
      CAPTURE(resolved_at);
      const auto resolved_on = std::chrono::year_month_day{
          std::chrono::year{std::stoi(resolved_at.substr(0, 4))},
          std::chrono::month{static_cast<unsigned>(std::stoi(resolved_at.substr(5, 2)))},
          std::chrono::day{static_cast<unsigned>(std::stoi(resolved_at.substr(8, 2)))}};
      REQUIRE(resolved_on >= std::chrono::year{2026} / 12 / 2);
      const std::chrono::year_month_day closes_on{std::chrono::sys_days{resolved_on} + std::chrono::days{2}};
      const auto closes_at = fmt::format("{:04}-{:02}-{:02}T00:00:00Z", static_cast<int>(closes_on.year()),
                                         static_cast<unsigned>(closes_on.month()), static_cast<unsigned>(closes_on.day()));
      CHECK(s.request(id).at("closes_at").as_string() == closes_at);

      REQUIRE(eventually([&] { return s.request(id).at("status") == "closed"; }));
      const auto closed = s.events_of_type(id, "request.closed");
      REQUIRE(closed.size() == 1);
      CHECK(closed[0].at("at").as_string() == closes_at);
      CHECK(closed[0].at("actor") == "system");

      // The customer writes in the thread again: a new request follows the closed one up.
      const auto replied = s.post_event(thread_reply("Ev0LIFE00001", "It broke again after 5.3", "1718049900.000100"));
      CAPTURE(json::serialize(replied));
      REQUIRE(replied.at("outcome") == "replied");
      const auto follow_up = replied.at("request_id").as_int64();
      CHECK(follow_up != id);
      const auto original = s.request(id);
      CHECK(original.at("status") == "closed");
      CHECK(original.at("followed_up_by") == follow_up);
      const auto opened = s.request(follow_up);
      CHECK(opened.at("follows") == id);
      CHECK(opened.at("status") == "open");
      CHECK(opened.at("body") == "It broke again after 5.3");
      CHECK(std::string(opened.at("title").as_string()).starts_with(fmt::format("Follow-up to request {}: ", id)));
      CHECK(opened.at("customer").at("id") == "acme");

      // Its answer goes to the same thread.
      const auto answered = se.post_json(fmt::format("/v1/requests/{}/events", follow_up),
                                         R"({"type": "respond", "message": "Looking into 5.3 now"})");
      REQUIRE(answered.status == 200);
      const auto calls = slack.wait_for(1, 60s);
      REQUIRE(calls);
      CHECK((*calls)[0].method == "chat.postMessage");
      CHECK((*calls)[0].body.at("thread_ts").as_string() == mention_ts);
      CHECK((*calls)[0].body.at("text") == "Looking into 5.3 now");

      // The next message in the thread lands on the follow-up, and opens nothing new.
      const auto again = s.post_event(thread_reply("Ev0LIFE00002", "Thanks, any news?", "1718049950.000100"));
      CHECK(again.at("outcome") == "replied");
      CHECK(again.at("request_id") == follow_up);
      CHECK(s.events_of_type(follow_up, "request.customer_replied").size() == 1);
      CHECK(s.events_of_type(id, "request.followed_up").size() == 1);
      auto viewer = s.client(role::viewer);
      const auto list = testing::json_of(viewer.get("/v1/requests?limit=100"));
      CHECK(list.at("requests").as_array().size() == 2);
    });
  }

  TEST_CASE("a feature request goes to its use case's DRI, its overdue review reaches the DRI and the TA, and VP Technical Success decides") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::fake_slack slack(bot_token);
      const testing::scoped_environment token{{{"SWITCHBOARD_SLACK_BOT_TOKEN", bot_token}}};
      lifecycle_server s(backend, slack.base_url());
      auto ce = s.client(role::ce);
      const auto filed = testing::json_of(ce.post_json("/v1/requests", json::serialize(json::object{
          {"kind", "feature_request"},
          {"customer", json::object{{"id", "acme"}}},
          {"title", "Search across archived repositories"},
          {"body", "We need archived repositories in results."},
          {"use_case", "search"},
          {"source", "api"}})));
      const auto id = filed.at("id").as_int64();
      const auto dri = testing::person_for(role::product);
      CHECK(filed.at("owner") == "product");
      CHECK(filed.at("assignee") == json::value(dri));
      CHECK(filed.at("review_due_at") == "2026-12-04T00:00:00Z");
      // The DRI is told the request is theirs, by Slack DM.
      const auto dm_to = [&](std::string_view user, std::string_view says) {
        for (const auto& call : slack.calls())
          if (call.method == "chat.postMessage" && call.body.at("channel") == json::value(fmt::format("D0{}", user)) &&
              std::string(call.body.at("text").as_string()).find(says) != std::string::npos)
            return true;
        return false;
      };
      CHECK(eventually([&] { return dm_to("U0PRODUCT1", fmt::format("Request {} was assigned to you", id)); }));
      CHECK(dm_to("U0PRODUCT1", "the DRI of use case search"));

      // An AE's concern about it goes to the CE of acme's account team.
      auto ae = s.client(role::ae);
      const auto raised = ae.post_json(fmt::format("/v1/requests/{}/events", id),
                                       R"({"type": "raise_concern", "message": "Renewal depends on this"})");
      REQUIRE(raised.status == 200);
      const auto children = s.request(id).at("children").as_array();
      REQUIRE(children.size() == 1);
      const auto concern = s.request(children[0].as_int64());
      CHECK(concern.at("kind") == "concern");
      CHECK(concern.at("assignee") == json::value(testing::person_for(role::ce)));
      CHECK(s.events_of_type(children[0].as_int64(), "request.assigned").at(0).at("how") == "account_team");

      REQUIRE(eventually([&] { return !s.events_of_type(id, "escalation.notified").empty(); }));
      const auto overdue = s.events_of_type(id, "request.review_overdue");
      REQUIRE(overdue.size() == 1);
      CHECK(overdue[0].at("at") == "2026-12-04T00:00:00Z");
      const auto notified = s.events_of_type(id, "escalation.notified").front();
      CHECK(notified.at("escalation").at("ladder") == "product_review");
      CHECK(notified.at("people") == json::array{json::value(dri)});
      // The DRI by the ladder; the account's TA, who watches acme's requests, of the escalation.
      CHECK(eventually([&] { return dm_to("U0PRODUCT1", "level 1 of the product_review ladder"); }));
      CHECK(eventually(
          [&] { return dm_to("U0TAPERSN1", fmt::format("escalation {}-1 opened on the product_review ladder", id)); }));
      const auto request = s.request(id);
      CHECK(request.at("review_overdue") == true);
      CHECK(request.at("status") == "escalated");

      auto vp = s.client(role::vp_technical_success);
      const auto path = fmt::format("/v1/requests/{}/events", id);
      const auto no_reason = vp.post_json(path, R"({"type": "decline"})");
      CHECK(no_reason.status == 422);
      auto se = s.client(role::se);
      CHECK(se.post_json(path, R"({"type": "decline", "reason": "no"})").status == 403);
      const auto decided =
          vp.post_json(path, R"({"type": "accept", "reason": "Three enterprise renewals depend on it"})");
      CAPTURE(decided.body);
      REQUIRE(decided.status == 200);
      const auto accepted = s.events_of_type(id, "request.accepted");
      REQUIRE(accepted.size() == 1);
      CHECK(accepted[0].at("executive") == true);
      CHECK(accepted[0].at("reason") == "Three enterprise renewals depend on it");
      CHECK(s.events_of_type(id, "escalation.resolved").size() == 1);
      const auto after = s.request(id);
      CHECK(after.at("status") == "resolved");
      CHECK_FALSE(after.contains("review_overdue"));
    });
  }
}
