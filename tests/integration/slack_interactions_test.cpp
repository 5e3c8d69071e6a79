// Acknowledging where the alert arrives (issue 14 §3), through the real server on a simulated
// clock: a breach on a short calendar sends the escalation to a Slack-format webhook subscription
// and to the Head of CS by DM, both with Acknowledge, Resolve and Open in dashboard buttons;
// signed button clicks (Slack's form body and v0 signature) to /v1/webhooks/slack/interactions
// act as the person the Slack user is, once, and the message is replaced through its response_url
// (a fake Slack on loopback); refusals answer the clicker alone and change nothing. On both
// store adapters (support/server_backends.hpp).
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/environment.hpp"
#include "support/eventually.hpp"
#include "support/fake_slack.hpp"
#include "support/server_backends.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "webhooks/webhook_server.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

using namespace switchboard;
using namespace std::chrono_literals;
namespace json = boost::json;
using model::role;

namespace {

constexpr const char* bot_token = "xoxb-test-slack-interactions";
constexpr const char* interactions = "/v1/webhooks/slack/interactions";

bool eventually(const std::function<bool()>& done) { return testing::eventually(done, 60s); }

// application/x-www-form-urlencoded, every byte but unreserved ones percent-encoded.
std::string form_encode(std::string_view text) {
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

// A block_actions payload as Slack sends it for a click on `action_id` (value `escalation`) in
// the message holding `blocks`, by `user`, as the form body Slack posts.
std::string click(const std::string& user, const std::string& action_id, const std::string& escalation,
                  const std::string& action_ts, const std::string& response_url, const json::array& blocks) {
  const json::object payload{
      {"type", "block_actions"},
      {"user", json::object{{"id", user}, {"username", "someone"}, {"team_id", "T0TEAM0001"}}},
      {"team", json::object{{"id", "T0TEAM0001"}, {"domain", "acme-support"}}},
      {"api_app_id", "A0APP00001"},
      {"container", json::object{{"type", "message"}, {"message_ts", "1700000000.000100"}, {"channel_id", "D0U0HEADCS01"}}},
      {"trigger_id", "1234.5678.abcdef"},
      {"response_url", response_url},
      {"message", json::object{{"type", "message"}, {"text", "Escalation"}, {"ts", "1700000000.000100"}, {"blocks", blocks}}},
      {"actions", json::array{json::object{{"action_id", action_id},
                                           {"block_id", "sb:" + escalation},
                                           {"type", "button"},
                                           {"value", escalation},
                                           {"action_ts", action_ts}}}}};
  return "payload=" + form_encode(json::serialize(payload));
}

const json::object* actions_block(const json::array& blocks) {
  for (const auto& block : blocks)
    if (block.at("type") == "actions") return &block.as_object();
  return nullptr;
}

std::vector<std::string> action_ids(const json::object& actions) {
  std::vector<std::string> out;
  for (const auto& element : actions.at("elements").as_array())
    out.push_back(element.as_object().contains("action_id") ? std::string(element.at("action_id").as_string())
                                                             : std::string());
  return out;
}

}  // namespace

TEST_SUITE("integration::slack_interactions") {
  TEST_CASE("Slack buttons acknowledge and resolve an escalation once, as the clicker's person, and update the message") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::fake_slack slack(bot_token);
      const testing::scoped_environment env{{{"SWITCHBOARD_SLACK_BOT_TOKEN", bot_token}}};
      testing::set_integration_secrets(true);
      testing::temp_dir dir;
      const auto people = testing::test_people(
          "always", {{role::head_of_cs, "slack_user = \"U0HEADCS01\"\n"}, {role::se, "slack_user = \"U0SEPERS01\"\n"}});
      auto config = testing::config_on_always_calendar(
          dir, people + testing::outbound_notify_and_acme_toml() + testing::short_calendar_toml() +
                   fmt::format(R"(
[integrations.slack]
api_base_url = "{}"

[[notify.subscription]]
name = "ops-slack"
url = "{}hook"
events = ["escalation.notified"]
format = "slack"
allow_private = true

[[escalation.ladder]]
name = "sla_breach"
calendar = "short"
levels = [{{ after = "0s", notify = ["head_of_cs"] }}]
)",
                               slack.base_url(), slack.base_url()));
      {
        std::ifstream in(config);
        std::stringstream text;
        text << in.rdbuf();
        auto content = text.str();
        content.replace(content.find("[server]\n"), 9, "[server]\npublic_url = \"https://support.example.com\"\n");
        testing::write_file(config, content);
      }
      const auto start = backend.postgres() ? "2026-11-20T03:00:00Z" : "2026-11-20T05:00:00Z";
      const auto speed = backend.postgres() ? "7200" : "3600";
      testing::server_process server(backend.args(config, {"--clock-start", start, "--clock-speed", speed}));
      auto ce = server.client(role::ce);
      const auto filed = testing::json_of(ce.post_json("/v1/requests", json::serialize(json::object{
          {"kind", "troubleshooting"},
          {"customer", json::object{{"id", "acme"}}},
          {"title", "Search is down"},
          {"body", "Every query fails."},
          {"source", "api"}})));
      const auto id = filed.at("id").as_int64();
      const auto escalation = fmt::format("{}-1", id);
      const auto dashboard_link = fmt::format("https://support.example.com/dashboard?request={}", id);

      // The breach: the Slack-format subscription's message and the DM both carry the buttons.
      const auto call_of = [&](std::string_view method) -> std::optional<testing::fake_slack_call> {
        for (const auto& call : slack.calls())
          if (call.method == method && call.body.contains("blocks")) return call;
        return std::nullopt;
      };
      REQUIRE(eventually([&] { return call_of("hook") && call_of("chat.postMessage"); }));
      const auto hook = *call_of("hook");
      const auto* hook_actions = actions_block(hook.body.at("blocks").as_array());
      REQUIRE(hook_actions != nullptr);
      CHECK(std::string(hook_actions->at("block_id").as_string()) == "sb:" + escalation);
      CHECK(action_ids(*hook_actions) == std::vector<std::string>{"sb_ack", "sb_resolve", "sb_open"});
      CHECK(std::string(hook_actions->at("elements").as_array()[0].at("value").as_string()) == escalation);
      CHECK(std::string(hook_actions->at("elements").as_array()[2].at("url").as_string()) == dashboard_link);
      const auto dm = *call_of("chat.postMessage");
      CHECK(dm.body.at("channel") == "D0U0HEADCS01");
      CHECK(std::string(dm.body.at("text").as_string()).find("Search is down") != std::string::npos);
      const auto& dm_blocks = dm.body.at("blocks").as_array();
      const auto* dm_actions = actions_block(dm_blocks);
      REQUIRE(dm_actions != nullptr);
      CHECK(action_ids(*dm_actions) == std::vector<std::string>{"sb_ack", "sb_resolve", "sb_open"});

      http::client slack_side(server.url());
      const auto post = [&](const std::string& body, const testing::headers& headers) {
        return slack_side.request("POST", interactions, body, "application/x-www-form-urlencoded", headers);
      };
      const auto signed_post = [&](const std::string& body) { return post(body, testing::slack_headers(body, testing::unix_now())); };
      const auto state = [&] {
        const auto request = testing::json_of(ce.get(fmt::format("/v1/requests/{}", id)));
        return std::string(request.at("escalations").at(0).at("state").as_string());
      };
      REQUIRE(state() == "open");
      const auto url = slack.response_url(1);

      // A bad signature: 401, and nothing changes.
      const auto forged = click("U0HEADCS01", "sb_ack", escalation, "1700000001.000001", url, dm_blocks);
      const auto unsigned_answer = post(forged, testing::slack_headers(forged, testing::unix_now(), "not-the-secret"));
      CHECK(unsigned_answer.status == 401);
      CHECK(testing::json_of(unsigned_answer).at("error").at("code") == "invalid_signature");
      const auto stale = post(forged, testing::slack_headers(forged, testing::unix_now() - 600));
      CHECK(stale.status == 401);
      CHECK(testing::json_of(stale).at("error").at("code") == "stale_timestamp");
      CHECK(state() == "open");

      // A Slack user mapped to nobody, and an SE the ladder does not name: an ephemeral answer to
      // the clicker alone, and the escalation stays open.
      CHECK(signed_post(click("U0STRANGER", "sb_ack", escalation, "1700000002.000001", url, dm_blocks)).status == 200);
      REQUIRE(eventually([&] { return slack.response_posts().size() >= 1; }));
      const auto unmapped = slack.response_posts().at(0).body;
      CHECK(unmapped.at("response_type") == "ephemeral");
      CHECK_FALSE(unmapped.at("replace_original").as_bool());
      CHECK(std::string(unmapped.at("text").as_string()).find("Slack user U0STRANGER is not mapped") != std::string::npos);
      CHECK(signed_post(click("U0SEPERS01", "sb_ack", escalation, "1700000003.000001", url, dm_blocks)).status == 200);
      REQUIRE(eventually([&] { return slack.response_posts().size() >= 2; }));
      const auto refused = slack.response_posts().at(1).body;
      CAPTURE(json::serialize(refused));
      CHECK(refused.at("response_type") == "ephemeral");
      CHECK(std::string(refused.at("text").as_string()).find("acknowledge") != std::string::npos);
      CHECK(state() == "open");

      // A signed payload whose response_url is not Slack's: refused, nothing done or posted.
      CHECK(signed_post(click("U0HEADCS01", "sb_ack", escalation, "1700000004.000001", "https://evil.example/x",
                              dm_blocks))
                .status == 200);
      CHECK(state() == "open");
      CHECK(eventually([&] { return server.stderr_text().find("response_url \"https://evil.example/x\"") != std::string::npos; }));
      // A form without exactly one payload is refused; another interaction type is received and ignored.
      const auto no_payload = signed_post("text=hello");
      CHECK(no_payload.status == 400);
      CHECK(testing::json_of(no_payload).at("error").at("code") == "malformed_form");
      CHECK(signed_post("payload=" + form_encode(R"({"type":"view_submission","user":{"id":"U0HEADCS01"}})")).status == 200);
      // The Open in dashboard button: Slack opens the link; nothing to do here.
      CHECK(signed_post(click("U0HEADCS01", "sb_open", escalation, "1700000005.000001", url, dm_blocks)).status == 200);
      CHECK(state() == "open");

      // Acknowledge: recorded as the Head of CS before the 200, the message replaced in place.
      const auto ack = click("U0HEADCS01", "sb_ack", escalation, "1700000006.000001", url, dm_blocks);
      const auto ack_headers = testing::slack_headers(ack, testing::unix_now());
      CHECK(post(ack, ack_headers).status == 200);
      CHECK(state() == "acknowledged");
      const auto listed = testing::json_of(ce.get("/v1/escalations?state=acknowledged")).at("escalations").as_array();
      REQUIRE(listed.size() == 1);
      CHECK(std::string(listed[0].at("id").as_string()) == escalation);
      CHECK(std::string(listed[0].at("closed_by").as_string()).find(testing::person_for(role::head_of_cs)) !=
            std::string::npos);
      REQUIRE(eventually([&] { return slack.response_posts().size() >= 3; }));
      const auto acknowledged = slack.response_posts().at(2);
      CHECK(acknowledged.method == "/actions/1");
      CHECK(acknowledged.body.at("replace_original").as_bool());
      const auto& ack_blocks = acknowledged.body.at("blocks").as_array();
      CHECK(json::serialize(ack_blocks).find("Acknowledged by Test head_of_cs (head_of_cs)") != std::string::npos);
      CHECK(json::serialize(ack_blocks).find("Search is down") != std::string::npos);  // the message is kept
      const auto* left = actions_block(ack_blocks);
      REQUIRE(left != nullptr);
      CHECK(action_ids(*left) == std::vector<std::string>{"sb_resolve", "sb_open"});

      // The same signed body again (Slack retrying, or a replay): 200, and nothing happens twice.
      CHECK(post(ack, ack_headers).status == 200);

      // Resolve: the update has no buttons. It is the fourth post: the replay posted nothing.
      CHECK(signed_post(click("U0HEADCS01", "sb_resolve", escalation, "1700000007.000001", url, ack_blocks)).status ==
            200);
      CHECK(state() == "resolved");
      REQUIRE(eventually([&] { return slack.response_posts().size() >= 4; }));
      const auto resolved = slack.response_posts().at(3).body;
      CAPTURE(json::serialize(resolved));
      CHECK(json::serialize(resolved).find("Resolved by Test head_of_cs (head_of_cs)") != std::string::npos);
      CHECK(json::serialize(resolved).find("Acknowledged by Test head_of_cs") != std::string::npos);
      CHECK(actions_block(resolved.at("blocks").as_array()) == nullptr);
      int acknowledgements = 0;
      const auto page = testing::json_of(ce.get(fmt::format("/v1/requests/{}/events?limit=200", id)));
      for (const auto& e : page.at("events").as_array())
        if (e.at("type") == "escalation.acknowledged") ++acknowledgements;
      CHECK(acknowledgements == 1);
      CHECK(slack.response_posts().size() == 4);
    });
  }
}
