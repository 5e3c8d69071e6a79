#include "notify/slack.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

using namespace switchboard;
namespace json = boost::json;

TEST_SUITE("notify::slack") {
  TEST_CASE("escalation.notified becomes a Slack message with text and blocks") {
    const auto envelope = json::parse(R"json({
      "type": "escalation.notified",
      "timestamp": "2026-11-23T10:00:00Z",
      "data": {
        "event_id": 17, "request_id": 12, "actor": "system",
        "request": {"id": 12, "kind": "troubleshooting", "title": "VPN <drops> & reconnects",
                    "customer_id": "acme", "customer_name": "Acme", "priority": "high", "status": "escalated",
                    "owner": "se"},
        "escalation": {"id": "12-1", "ladder": "sla_breach", "reason": "first_response breached (SLA policy fast)"},
        "notified": ["vp_technical_success", "vp_sales"], "level": 2, "why": "2h of business time since the breach"
      }})json").as_object();
    const auto message = notify::slack_message(envelope);
    const auto text = std::string(message.at("text").as_string());
    CHECK(text.find("Escalation 12-1 (sla_breach) level 2") != std::string::npos);
    CHECK(text.find("vp_technical_success, vp_sales notified") != std::string::npos);
    CHECK(text.find("#12 “VPN &lt;drops&gt; &amp; reconnects” (Acme, troubleshooting, high, owner se)") != std::string::npos);
    const auto& blocks = message.at("blocks").as_array();
    REQUIRE(blocks.size() == 5);
    CHECK(blocks[0].at("type") == "header");
    CHECK(blocks[2].at("fields").as_array().size() == 4);
    const auto serialized = json::serialize(message);
    CHECK(serialized.find("first_response breached") != std::string::npos);
    CHECK(serialized.find("2h of business time since the breach") != std::string::npos);
    CHECK(serialized.find("<drops>") == std::string::npos);  // escaped everywhere
  }

  TEST_CASE("an escalation message carries Acknowledge, Resolve and Open in dashboard buttons") {
    const auto envelope = json::parse(R"json({"type": "escalation.notified", "timestamp": "2026-11-23T10:00:00Z",
      "data": {"request_id": 12, "request": {"title": "Ping <!channel> now", "kind": "troubleshooting"},
               "escalation": {"id": "12-1", "ladder": "sla_breach"}, "notified": ["head_of_cs"], "level": 1}})json")
                              .as_object();
    const auto message = notify::slack_message(envelope, "https://support.example.com");
    const auto& blocks = message.at("blocks").as_array();
    const auto& actions = blocks.back().as_object();
    CHECK(actions.at("type") == "actions");
    CHECK(actions.at("block_id") == "sb:12-1");
    const auto& buttons = actions.at("elements").as_array();
    REQUIRE(buttons.size() == 3);
    CHECK(buttons[0].at("action_id") == "sb_ack");
    CHECK(buttons[0].at("value") == "12-1");
    CHECK(buttons[0].at("style") == "primary");
    CHECK(buttons[0].at("text").at("text") == "Acknowledge");
    CHECK(buttons[1].at("action_id") == "sb_resolve");
    CHECK(buttons[1].at("value") == "12-1");
    CHECK(buttons[1].as_object().contains("confirm"));
    CHECK(buttons[2].at("url") == "https://support.example.com/dashboard?request=12");
    CHECK(buttons[2].at("text").at("text") == "Open in dashboard");
    // The title stays escaped: no @channel reaches Slack.
    CHECK(json::serialize(message).find("<!channel>") == std::string::npos);
    CHECK(json::serialize(message).find("&lt;!channel&gt;") != std::string::npos);

    // Without a public URL: two buttons. Acknowledged: Resolve alone.
    CHECK(notify::slack_message(envelope).at("blocks").as_array().back().at("elements").as_array().size() == 2);
    const auto resolve_only = notify::escalation_actions("12-1", "12", "", true);
    REQUIRE(resolve_only.at("elements").as_array().size() == 1);
    CHECK(resolve_only.at("elements").as_array()[0].at("action_id") == "sb_resolve");
  }

  TEST_CASE("the buttons stay within Block Kit's limits at the longest ids and URL the server sends") {
    // https://api.slack.com/reference/block-kit/block-elements#button and blocks#actions.
    const std::string long_id = std::string(100, '9') + "-" + std::string(99, '9');  // 200 bytes
    const std::string public_url = "https://" + std::string(1992, 'x');               // 2000 bytes
    const auto block = notify::escalation_actions(long_id, std::string(100, '9'), public_url);
    CHECK(block.at("block_id").as_string().size() <= 255);
    const auto& elements = block.at("elements").as_array();
    CHECK(elements.size() <= 25);
    for (const auto& element : elements) {
      CAPTURE(json::serialize(element.at("text")));
      CHECK(element.at("text").at("text").as_string().size() <= 75);
      if (const auto* action = element.as_object().if_contains("action_id")) CHECK(action->as_string().size() <= 255);
      if (const auto* value = element.as_object().if_contains("value")) CHECK(value->as_string().size() <= 2000);
      if (const auto* url = element.as_object().if_contains("url")) CHECK(url->as_string().size() <= 3000);
      if (const auto* confirm = element.as_object().if_contains("confirm")) {
        CHECK(confirm->at("title").at("text").as_string().size() <= 100);
        CHECK(confirm->at("text").at("text").as_string().size() <= 300);
        CHECK(confirm->at("confirm").at("text").as_string().size() <= 30);
        CHECK(confirm->at("deny").at("text").as_string().size() <= 30);
      }
    }
  }

  TEST_CASE("a skipped level is one line that notifies nobody") {
    // The engine records a level skipped for its condition as escalation.skipped, never as a
    // notification of nobody.
    const auto envelope = json::parse(R"json({"type":"escalation.skipped","data":{"request_id":3,
      "request":{"title":"Export fails","kind":"troubleshooting"},
      "escalation":{"id":"3-1","ladder":"sla_breach"},"level":3,
      "why":"level skipped: its condition does not hold"}})json").as_object();
    const auto message = notify::slack_message(envelope);
    CHECK(message.at("text") == "escalation.skipped on request #3 “Export fails” (troubleshooting)");
    CHECK(message.at("blocks").as_array().size() == 1);
  }

  TEST_CASE("other events get one line") {
    const auto envelope = json::parse(R"json({"type":"sla.breached","data":{"request_id":5,
      "request":{"title":"Export fails","kind":"troubleshooting"}}})json").as_object();
    const auto message = notify::slack_message(envelope);
    CHECK(message.at("text") == "sla.breached on request #5 “Export fails” (troubleshooting)");
    CHECK(message.at("blocks").as_array().size() == 1);
  }
}
