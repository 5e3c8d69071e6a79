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
    REQUIRE(blocks.size() == 4);
    CHECK(blocks[0].at("type") == "header");
    CHECK(blocks[2].at("fields").as_array().size() == 4);
    const auto serialized = json::serialize(message);
    CHECK(serialized.find("first_response breached") != std::string::npos);
    CHECK(serialized.find("2h of business time since the breach") != std::string::npos);
    CHECK(serialized.find("<drops>") == std::string::npos);  // escaped everywhere
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
