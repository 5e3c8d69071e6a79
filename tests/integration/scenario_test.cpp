// The policy's whole story through the real server, on a simulated clock that starts on a
// Friday afternoon in Pacific time and runs 600 times faster (a second is ten minutes).
//
// SQLite only, for time (18 s of simulated hours): on PostgreSQL its steps run in
// integration::workflow (filing, starting, handing off, engaging Engineering, every role's
// commands) and the breach, the ladder's climb and its acknowledgement in integration::sla,
// escalation and escalation_people, all on both store adapters.
#include "http/client.hpp"
#include "codec/json.hpp"
#include "support/api.hpp"
#include "support/eventually.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace switchboard;
using namespace std::chrono_literals;
namespace json = boost::json;
using model::role;

namespace {

model::instant at(std::string_view iso) { return *model::parse_instant(iso); }

struct recorded {
  std::string type;
  std::string actor;
  model::instant at;
};

std::vector<recorded> events_of(http::client& client, std::int64_t id) {
  std::vector<recorded> out;
  const auto body = testing::json_of(client.get(fmt::format("/v1/requests/{}/events", id)));
  for (const auto& e : body.at("events").as_array())
    out.push_back({std::string(e.at("type").as_string()), std::string(e.at("actor").as_string()),
                   at(e.at("at").as_string())});
  return out;
}

}  // namespace

TEST_SUITE("integration::scenario") {
  TEST_CASE("Friday afternoon: CE files, starts, hands off, SE engages Engineering, the SLA breaches, the ladder "
            "climbs to VP Technical Success, who acknowledges") {
    testing::temp_dir dir;
    testing::server_process server(
        {"", dir.file("switchboard.db"), {"--clock-start", "2026-11-20T14:00:00-08:00", "--clock-speed", "600"}});
    auto ce = server.client(role::ce);
    auto se = server.client(role::se);
    auto vp = server.client(role::vp_technical_success);

    const auto filed = testing::json_of(ce.post_json(
        "/v1/requests",
        R"({"kind":"troubleshooting","source":"cli","customer":{"id":"initech","name":"Initech","stage":"trial"},
            "title":"Code search returns nothing after upgrade","body":"Since 5.2 every query is empty."})"));
    const auto id = filed.at("id").as_int64();
    const auto created = at(filed.at("created_at").as_string());
    CHECK(filed.at("owner").as_string() == "se");
    CHECK(filed.at("clocks").at(0).at("policy").as_string() == "pre-sales");

    REQUIRE(ce.post_json(fmt::format("/v1/requests/{}/events", id), R"({"type":"start"})").status == 200);
    const auto handed = ce.post_json(fmt::format("/v1/requests/{}/events", id), R"({"type":"handoff",
        "customer_impact":"40 engineers cannot search","environment":"Docker Compose, 5.2.0",
        "steps_tried":"Reindexed; checked the zoekt logs","customer_told":"Support will follow up"})");
    REQUIRE(handed.status == 200);
    CHECK(testing::json_of(handed).at("warnings").as_array().empty());
    const auto engaged = testing::json_of(se.post_json(fmt::format("/v1/requests/{}/events", id),
                                            R"({"type":"engage_engineering","message":"zoekt panics on startup"})"));
    const auto interrupt = engaged.at("created").at("id").as_int64();
    CHECK(engaged.at("created").at("owner").as_string() == "engineering");
    CHECK(engaged.at("created").at("parent").as_int64() == id);

    // The 1-hour first response breaches at created + 1 h; Head of CS is told at once and VP
    // Technical Success two business hours later: both before Friday 18:00.
    std::string escalation;
    REQUIRE(testing::eventually([&] {
      const auto open = testing::json_of(vp.get("/v1/escalations?state=open&role=vp_technical_success"));
      if (open.at("escalations").as_array().empty()) return false;
      escalation = std::string(open.at("escalations").at(0).at("id").as_string());
      return true;
    }));
    const auto acknowledged = vp.post_json(fmt::format("/v1/escalations/{}/events", escalation),
                                           R"({"type":"acknowledge_escalation","message":"On it with the customer"})");
    REQUIRE(acknowledged.status == 200);

    const auto events = events_of(se, id);
    std::vector<std::pair<std::string, std::string>> story;
    for (const auto& e : events) story.emplace_back(e.type, e.actor);
    CHECK(story == std::vector<std::pair<std::string, std::string>>{
                       {"request.created", "ce:ce-person"},
                       {"request.routed", "system"},
                       {"sla.started", "system"},
                       {"request.started", "ce:ce-person"},
                       {"request.handed_off", "ce:ce-person"},
                       {"request.engineering_engaged", "se:se-person"},
                       {"sla.warning", "system"},
                       {"sla.breached", "system"},
                       {"escalation.triggered", "system"},
                       {"escalation.notified", "system"},
                       {"escalation.notified", "system"},
                       {"escalation.acknowledged", "vp_technical_success:vp_technical_success-person"},
                   });
    REQUIRE(events.size() == 12);
    // Instants: the commands within moments of filing, the clock's and the ladder's exactly.
    CHECK(events[0].at == created);
    for (std::size_t i = 1; i < events.size(); ++i) CHECK(events[i].at >= events[i - 1].at);
    CHECK(events[5].at < created + 15min);
    CHECK(events[6].at == created + 45min);
    CHECK(events[7].at == created + 1h);
    CHECK(events[8].at == created + 1h);
    CHECK(events[9].at == created + 1h);
    CHECK(events[10].at == created + 3h);
    CHECK(events[11].at >= created + 3h);

    const auto request = testing::json_of(se.get(fmt::format("/v1/requests/{}", id)));
    const auto& ladder = request.at("escalations").at(0);
    CHECK(ladder.at("state").as_string() == "acknowledged");
    CHECK(ladder.at("notifications").at(0).at("roles") == json::array{"head_of_cs"});
    CHECK(ladder.at("notifications").at(1).at("roles") == json::array{"vp_technical_success"});
    CHECK(ladder.at("next_at").is_null());

    const auto interrupt_events = events_of(se, interrupt);
    REQUIRE(interrupt_events.size() == 2);
    CHECK(interrupt_events[0].actor == "se:se-person");
  }
}
