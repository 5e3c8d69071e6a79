// Escalations reach people, not only roles (issue 13 E6), through the real server on a simulated
// clock: a breach on a short business calendar notifies the Head of CS by a Slack direct message
// (a fake Slack Web API on loopback) and by e-mail (aiosmtpd with STARTTLS and AUTH), each saying
// what happened, why and how to acknowledge, and the outbound webhook still gets its event; on
// both store adapters (support/server_backends.hpp).
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/fake_slack.hpp"
#include "support/server_backends.hpp"
#include "support/environment.hpp"
#include "support/eventually.hpp"
#include "support/server_process.hpp"
#include "support/smtp_sink.hpp"
#include "support/temp_dir.hpp"
#include "webhooks/webhook_server.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
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

constexpr const char* bot_token = "xoxb-test-escalation-people";

// The server's notifier and scheduler run on their own: wait up to a minute.
bool eventually(const std::function<bool()>& done) { return testing::eventually(done, 60s); }


}  // namespace

TEST_SUITE("integration::escalation_people") {
  TEST_CASE("a breach on a short calendar reaches the Head of CS by Slack DM and e-mail, and the webhook too") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::fake_slack slack(bot_token);
      testing::smtp_sink sink;
      const testing::scoped_environment env{{{"SWITCHBOARD_SLACK_BOT_TOKEN", bot_token},
                                 {"SWITCHBOARD_SMTP_PASSWORD", sink.options().password},
                                 {"SWITCHBOARD_TEST_PEOPLE_WEBHOOK_SECRET", "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ="}}};
      testing::set_integration_secrets(true);
      testing::temp_dir dir;
      // The Head of CS has a Slack user and an address (both channels by default), VP Technical
      // Success only an address and notify = ["email"].
      const auto people = testing::test_people(
          "always", {{role::head_of_cs, "slack_user = \"U0HEADCS01\"\nemail = \"hana@example.com\"\n"},
                     {role::vp_technical_success, "email = \"vic@example.com\"\nnotify = [\"email\"]\n"}});
      // Business time is one minute at 10:00 and one at 12:00 UTC each day (integration::escalation's
      // short calendar): filed at 05:00, the 1-minute first response breaches at 10:01:00.
      const auto config = testing::config_on_always_calendar(dir, people + testing::outbound_notify_and_acme_toml() + testing::short_calendar_toml() +
                                                                      fmt::format(R"(
[integrations.slack]
api_base_url = "{}"

[outbound.email]
smtp_url = "{}"
username = "{}"
from = "support@example.com"
ca_file = "{}"
timeout = "20s"

[[notify.subscription]]
name = "ops"
url = "{}hook"
events = ["escalation.notified"]
secret_env = "SWITCHBOARD_TEST_PEOPLE_WEBHOOK_SECRET"
allow_private = true


[[escalation.ladder]]
name = "sla_breach"
calendar = "short"
levels = [
  {{ after = "0s", notify = ["head_of_cs"] }},
  {{ after = "30s", notify = ["vp_technical_success"] }},
]
)",
                                                                                  slack.base_url(), sink.url(),
                                                                                  sink.options().user, sink.ca_file(),
                                                                                  slack.base_url()));
      // On PostgreSQL at twice the speed from 03:00, for time: 3.5 s to file before 10:00, 4.75 s
      // to the second level instead of 7.
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
      const auto escalation_id = fmt::format("{}-1", id);
      const auto ack = fmt::format("switchboard-cli escalation ack {}", escalation_id);

      // The DM: conversations.open for the Head of CS's user, then chat.postMessage to the D… it gave.
      auto dm_calls = [&] {
        std::vector<testing::fake_slack_call> out;
        for (const auto& call : slack.calls())
          if (call.method == "conversations.open" || call.method == "chat.postMessage") out.push_back(call);
        return out;
      };
      REQUIRE(eventually([&] { return dm_calls().size() >= 2; }));
      const auto calls = dm_calls();
      REQUIRE(calls.size() == 2);  // VP Technical Success is notified by e-mail only
      CHECK(calls[0].method == "conversations.open");
      CHECK(calls[0].authorization == std::string("Bearer ") + bot_token);
      CHECK(calls[0].body.at("users") == "U0HEADCS01");
      const auto opened = json::parse(calls[0].answer).at("channel").at("id").as_string();
      CHECK(opened.starts_with("D"));
      CHECK(calls[1].method == "chat.postMessage");
      CHECK(calls[1].body.at("channel").as_string() == opened);
      const std::string dm(calls[1].body.at("text").as_string());
      CAPTURE(dm);
      CHECK(dm.find(fmt::format("Escalation {} on request {} reached level 1 of the sla_breach ladder", escalation_id,
                                id)) != std::string::npos);
      CHECK(dm.find("Search is down") != std::string::npos);
      CHECK(dm.find("first_response breached") != std::string::npos);  // why it escalated
      CHECK(dm.find("You are told as head_of_cs") != std::string::npos);
      CHECK(dm.find(ack) != std::string::npos);
      CHECK(dm.find(fmt::format("POST /v1/escalations/{}/events", escalation_id)) != std::string::npos);

      // The mails: the Head of CS's at the breach, VP Technical Success's 30 business seconds on.
      const auto mails = sink.wait_for(2, 60s);
      REQUIRE(mails);
      std::vector<testing::received_mail> received = sink.messages();
      const auto to = [](const testing::received_mail& m) { return m.rcpt_tos.empty() ? std::string() : m.rcpt_tos[0]; };
      std::sort(received.begin(), received.end(), [&](const auto& a, const auto& b) { return to(a) < to(b); });
      REQUIRE(received.size() == 2);
      const auto& hana = received[0];
      CHECK(to(hana) == "hana@example.com");
      CHECK(hana.tls);
      CHECK(hana.auth_user == sink.options().user);
      CHECK(testing::header_field(hana.raw, "Auto-Submitted") == "auto-generated");
      CHECK(testing::header_field(hana.raw, "Subject").find(fmt::format("Escalation {} (sla_breach, level 1)", escalation_id)) !=
            std::string::npos);
      // A reply to a notification must not land on the customer's thread.
      CHECK(testing::header_field(hana.raw, "Reply-To").empty());
      CHECK(hana.raw.find(ack) != std::string::npos);
      CHECK(to(received[1]) == "vic@example.com");
      CHECK(received[1].raw.find("reached level 2") != std::string::npos);

      // The events name the people reached; the webhook got its event as before.
      std::vector<json::object> notified;
      const auto page = testing::json_of(ce.get(fmt::format("/v1/requests/{}/events?limit=200", id)));
      for (const auto& e : page.at("events").as_array())
        if (e.at("type") == "escalation.notified") notified.push_back(e.at("data").as_object());
      REQUIRE(notified.size() == 2);
      CHECK(notified[0].at("people") == json::array{json::value(testing::person_for(role::head_of_cs))});
      CHECK(notified[1].at("people") == json::array{json::value(testing::person_for(role::vp_technical_success))});
      REQUIRE(eventually([&] {
        for (const auto& call : slack.calls())
          if (call.method == "hook" && call.body.contains("type") && call.body.at("type") == "escalation.notified")
            return true;
        return false;
      }));

      // The delivery log shows the notices as notifications on their channels.
      const auto deliveries =
          testing::json_of(ce.get(fmt::format("/v1/requests/{}/deliveries", id))).at("deliveries").as_array();
      int dms = 0, emails = 0;
      for (const auto& d : deliveries) {
        if (d.at("channel") == "slack_dm") ++dms;
        if (d.at("channel") == "email") ++emails;
      }
      CHECK(dms == 1);
      CHECK(emails == 2);
    });
  }
}
