// Public answers to Slack requests through the real server and a fake Slack Web API on loopback
// (issue 13 E2): the answer is posted in the request's thread, a 429 is waited out, the outcome
// comes back on the request, notes never leave, our bot's echo files nothing, and a refusal is
// visible on the request and in the delivery log. On both store adapters
// (support/server_backends.hpp).
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/fake_slack.hpp"
#include "support/server_backends.hpp"
#include "support/environment.hpp"
#include "support/eventually.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "webhooks/webhook_server.hpp"
#include "model/instant.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace switchboard;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr const char* bot_token = "xoxb-test-outbound-slack";
constexpr std::string_view events_path = "/v1/webhooks/slack/events";
// slack_app_mention.json: a customer's message in C0SUPPORT01, the parent of its thread.
constexpr std::string_view mention_ts = "1718049598.123459";

// The server's notifier and scheduler run on their own: wait up to a minute.
bool eventually(const std::function<bool()>& done) { return testing::eventually(done, 60s); }


// webhook_server's Slack set-up (C0SUPPORT01 files every message for acme, U0SESAM001 is an SE)
// with the Web API at `api_base_url` and the notifier polling every second, on `backend`'s
// database.
struct slack_server {
  slack_server(const testing::server_backend& backend, const std::string& api_base_url) {
    testing::set_integration_secrets(true);
    const auto path = testing::fast_config(dir);
    std::ofstream(path, std::ios::app) << testing::outbound_notify_and_acme_toml() << R"(
[integrations.slack]
api_base_url = ")" << api_base_url << R"("

[integrations.slack.channels.C0SUPPORT01]
customer = "acme"
kind = "troubleshooting"
file = "all"

[integrations.slack.users]
U0SESAM001 = { person = "se-person", role = "se" }
)";
    server = std::make_unique<testing::server_process>(backend.args(path));
  }

  http::client client(model::role role) const { return server->client(role); }

  // A signed Events API delivery; its answer's "outcome" and "request_id".
  json::object post_event(const std::string& body) const {
    auto c = client(model::role::ce);
    const auto res = c.request("POST", std::string(events_path), body, "application/json",
                               testing::slack_headers(body, testing::unix_now()));
    REQUIRE(res.status == 200);
    return json::parse(res.body).as_object();
  }

  json::array events_of(std::int64_t id) const {
    auto c = client(model::role::viewer);
    return testing::json_of(c.get("/v1/requests/" + std::to_string(id) + "/events?limit=200")).at("events").as_array();
  }

  // The data of `id`'s events of `type`, oldest first.
  std::vector<json::object> events_of_type(std::int64_t id, std::string_view type) const {
    std::vector<json::object> out;
    for (const auto& e : events_of(id))
      if (e.at("type").as_string() == type) out.push_back(e.at("data").as_object());
    return out;
  }

  json::object request(std::int64_t id) const {
    auto c = client(model::role::viewer);
    return testing::json_of(c.get("/v1/requests/" + std::to_string(id)));
  }

  json::array deliveries_of(std::int64_t id) const {
    auto c = client(model::role::viewer);
    return testing::json_of(c.get("/v1/requests/" + std::to_string(id) + "/deliveries")).at("deliveries").as_array();
  }

  testing::temp_dir dir;
  std::unique_ptr<testing::server_process> server;
};

// The app_mention fixture as another message: its own event_id and ts (a new thread).
std::string mention_as(std::string_view event_id, std::string_view ts) {
  auto body = json::parse(testing::fixture("slack_app_mention.json")).as_object();
  body["event_id"] = event_id;
  auto& event = body["event"].as_object();
  event["ts"] = ts;
  event["event_ts"] = ts;
  event.erase("client_msg_id");
  return json::serialize(body);
}

// What Slack sends back when our bot posts in a thread: a message with bot_id from the app's own
// bot user (the one `authorizations` names).
std::string bot_echo(std::string_view text, std::string_view ts, std::string_view thread_ts) {
  auto body = json::parse(testing::fixture("slack_app_mention.json")).as_object();
  body["event_id"] = "Ev0ECHO00001";
  json::object event{{"type", "message"},   {"user", "U0BOTUSER1"}, {"bot_id", "B0BOTAPP01"}, {"text", text},
                     {"ts", ts},            {"thread_ts", thread_ts}, {"channel", "C0SUPPORT01"},
                     {"team", "T0AB12CD3"}, {"event_ts", ts},         {"channel_type", "channel"}};
  body["event"] = std::move(event);
  return json::serialize(body);
}

std::int64_t seconds_of(const json::value& at) {
  const auto instant = model::parse_instant(at.as_string());
  REQUIRE(instant.has_value());
  return instant->time_since_epoch().count();
}

}  // namespace

TEST_SUITE("integration::outbound_slack") {
  TEST_CASE("an SE's answer to a Slack request is posted in its thread after a 429, and only the answer, not the note") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::fake_slack slack(bot_token);
      // The first call is rate limited for a second; the retry gets Slack's ok with this ts.
      slack.script(testing::fake_slack_answer::ratelimited(1));
      slack.script(testing::fake_slack_answer::ok_ts("1718049700.000100"));
      const testing::scoped_environment token{{{"SWITCHBOARD_SLACK_BOT_TOKEN", bot_token}}};
      slack_server s(backend, slack.base_url());

      const auto filed = s.post_event(testing::fixture("slack_app_mention.json"));
      REQUIRE(filed.at("outcome") == "created");
      const auto id = filed.at("request_id").as_int64();
      const auto path = "/v1/requests/" + std::to_string(id) + "/events";

      auto se = s.client(model::role::se);
      // A note just before the answer: it is recorded and never leaves.
      const auto note = se.post_json(path, R"({"type": "respond", "public": false, "message": "Customer is on VPN client 4.2"})");
      REQUIRE(note.status == 200);
      const std::string answer = "Could you restart the VPN client and tell us if it still drops?";
      const auto answered = se.post_json(path, json::serialize(json::object{{"type", "respond"}, {"message", answer}}));
      CAPTURE(answered.body);
      REQUIRE(answered.status == 200);

      REQUIRE(eventually([&] { return !s.events_of_type(id, "request.reply_delivered").empty(); }));
      const auto calls = slack.calls();
      // The 429 and its retry: the one answer twice, the note never.
      REQUIRE(calls.size() == 2);
      CHECK(calls[0].answered == 429);
      CHECK(calls[1].answered == 200);
      for (const auto& call : calls) {
        CHECK(call.method == "chat.postMessage");
        CHECK(call.authorization == std::string("Bearer ") + bot_token);
        CHECK(call.body.at("channel") == "C0SUPPORT01");
        CHECK(call.body.at("thread_ts").as_string() == mention_ts);
        CHECK(call.body.at("text").as_string() == answer);
      }

      const auto delivered = s.events_of_type(id, "request.reply_delivered");
      REQUIRE(delivered.size() == 1);
      CHECK(delivered[0].at("external_id") == "1718049700.000100");
      CHECK(delivered[0].at("text").as_string() == answer);
      CHECK(delivered[0].at("channel") == "slack_reply");
      CHECK(delivered[0].at("to") == "C0SUPPORT01");
      CHECK(delivered[0].at("reply") == 1);
      CHECK(delivered[0].at("attempts") == 2);
      CHECK(s.events_of_type(id, "request.reply_failed").empty());

      // The request shows what the customer saw, and when; the note is not among its replies.
      const auto request = s.request(id);
      const auto& replies = request.at("replies").as_array();
      REQUIRE(replies.size() == 1);
      CHECK(replies[0].at("text").as_string() == answer);
      CHECK(replies[0].at("via") == "slack");
      CHECK(replies[0].at("state") == "delivered");
      CHECK(replies[0].at("external_id") == "1718049700.000100");
      CHECK_FALSE(replies[0].at("settled_at").is_null());

      // One row in the delivery log, delivered on its second attempt, at least Retry-After later.
      const auto log = s.deliveries_of(id);
      REQUIRE(log.size() == 1);
      const auto& row = log[0].as_object();
      CHECK(row.at("channel") == "slack_reply");
      CHECK(row.at("purpose") == "reply");
      CHECK(row.at("state") == "delivered");
      CHECK(row.at("recipient") == "C0SUPPORT01");
      CHECK(row.at("external_id") == "1718049700.000100");
      const auto& attempts = row.at("attempt_log").as_array();
      REQUIRE(attempts.size() == 2);
      CHECK(attempts[0].at("error") == "HTTP 429 ratelimited");
      CHECK(seconds_of(attempts[1].at("at")) >= seconds_of(attempts[0].at("at")) + 1);

      // Slack sends our own post back as a message event in the thread: it files and records nothing.
      const auto before = s.events_of(id).size();
      const auto echo = s.post_event(bot_echo(answer, "1718049700.000100", mention_ts));
      CHECK(echo.at("outcome") == "ignored");
      CHECK(s.events_of(id).size() == before);
      CHECK(testing::all_requests(se).size() == 1);
      CHECK(slack.calls().size() == 2);

      // The customer has the answer: redelivering its row is refused and leaves it delivered (a
      // row is sent only while pending), where a webhook's delivered row may be sent again.
      const auto redeliver = fmt::format("/v1/webhooks/deliveries/{}/redeliver", row.at("id").as_int64());
      const auto again = s.client(model::role::head_of_cs).post_json(redeliver, "");
      CHECK(again.status == 409);
      CHECK(json::parse(again.body).at("error").at("code") == "already_delivered");
      const auto after = s.deliveries_of(id);
      REQUIRE(after.size() == 1);
      CHECK(after[0].at("state") == "delivered");
      CHECK(after[0].at("attempt_log").as_array().size() == 2);
      CHECK(s.events_of_type(id, "request.reply_delivered").size() == 1);
    });
  }

  TEST_CASE("Slack's channel_not_found leaves reply_failed on the request and a dead row in the delivery log") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::fake_slack slack(bot_token);
      slack.script(testing::fake_slack_answer::error("channel_not_found"));
      const testing::scoped_environment token{{{"SWITCHBOARD_SLACK_BOT_TOKEN", bot_token}}};
      slack_server s(backend, slack.base_url());

      const auto filed = s.post_event(mention_as("Ev0NOTFOUND1", "1718049800.000300"));
      REQUIRE(filed.at("outcome") == "created");
      const auto id = filed.at("request_id").as_int64();
      auto se = s.client(model::role::se);
      const auto answered = se.post_json("/v1/requests/" + std::to_string(id) + "/events",
                                         R"({"type": "pend", "message": "Which VPN client version do you run?"})");
      REQUIRE(answered.status == 200);

      REQUIRE(eventually([&] { return !s.events_of_type(id, "request.reply_failed").empty(); }));
      const auto failed = s.events_of_type(id, "request.reply_failed");
      REQUIRE(failed.size() == 1);
      CHECK(failed[0].at("reason") == "channel_not_found");
      CHECK(failed[0].at("attempts") == 1);
      CHECK(s.events_of_type(id, "request.reply_delivered").empty());
      // Dead at once: Slack's refusal is not retried.
      REQUIRE(slack.calls().size() == 1);
      CHECK(slack.calls()[0].body.at("thread_ts") == "1718049800.000300");

      const auto request = s.request(id);
      CHECK(request.at("status") == "pending_customer");  // the outcome changes no status
      const auto& replies = request.at("replies").as_array();
      REQUIRE(replies.size() == 1);
      CHECK(replies[0].at("state") == "failed");
      CHECK(replies[0].at("reason") == "channel_not_found");

      const auto log = s.deliveries_of(id);
      REQUIRE(log.size() == 1);
      CHECK(log[0].at("state") == "dead");
      CHECK(log[0].at("last_error") == "channel_not_found");
      auto viewer = s.client(model::role::viewer);
      const auto dead = testing::json_of(viewer.get("/v1/webhooks/deliveries?channel=slack_reply&state=dead"));
      REQUIRE(dead.at("deliveries").as_array().size() == 1);
      CHECK(dead.at("deliveries").at(0).at("request_id") == id);
    });
  }

  // SQLite only, for time (three retries with backoff, ~8 s): on PostgreSQL the first case counts
  // an answer's attempts through a retry (reply_delivered's attempts, the delivery log's
  // attempt_log), from the same message row this case reads while the answer is pending.
  TEST_CASE("an answer being retried shows its failed sends on the request while it is still pending") {
    const testing::server_backend sqlite;
    testing::fake_slack slack(bot_token);
    // Three 500s, then Slack's ok: each retry waits at least a second (the server clock's unit),
    // so the answer is pending with two or more failed sends for a second or more.
    for (int i = 0; i < 3; ++i) slack.script(testing::fake_slack_answer::server_error());
    slack.script(testing::fake_slack_answer::ok_ts("1718049900.000400"));
    const testing::scoped_environment token{{{"SWITCHBOARD_SLACK_BOT_TOKEN", bot_token}}};
    slack_server s(sqlite, slack.base_url());

    const auto filed = s.post_event(mention_as("Ev0RETRIED01", "1718049900.000300"));
    REQUIRE(filed.at("outcome") == "created");
    const auto id = filed.at("request_id").as_int64();
    auto se = s.client(model::role::se);
    const auto answered = se.post_json("/v1/requests/" + std::to_string(id) + "/events",
                                       R"({"type": "respond", "message": "We are looking at the VPN logs now."})");
    REQUIRE(answered.status == 200);

    // Until the fix the reply said 0 attempts until it settled: this waited for the delivery.
    json::object reply;
    REQUIRE(eventually([&] {
      reply = s.request(id).at("replies").at(0).as_object();
      return reply.at("attempts").as_int64() >= 2 || reply.at("state") != "pending";
    }));
    CAPTURE(json::serialize(reply));
    CHECK(reply.at("state") == "pending");
    CHECK(reply.at("attempts").as_int64() >= 2);
    // The count is the delivery log's.
    const auto log = s.deliveries_of(id);
    REQUIRE(log.size() == 1);
    CHECK(log[0].at("attempts").as_int64() >= reply.at("attempts").as_int64());

    // Settled, the request keeps the count the outcome recorded: four sends.
    REQUIRE(eventually([&] { return s.request(id).at("replies").at(0).at("state") == "delivered"; }));
    CHECK(s.request(id).at("replies").at(0).at("attempts") == 4);
    CHECK(s.events_of_type(id, "request.reply_delivered").at(0).at("attempts") == 4);
  }
}
