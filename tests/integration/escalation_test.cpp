// Escalation ladders through the real server: the scheduler notifies "at once" levels at the
// trigger instant even when it is a closing instant, the capacity ladder fires once per crossing,
// and GET /v1/escalations (and switchboard-cli escalations) page with a cursor; on both store
// adapters (support/server_backends.hpp).
#include "http/client.hpp"
#include "codec/json.hpp"
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/server_backends.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

using namespace switchboard;
using namespace std::chrono_literals;
namespace json = boost::json;
using model::role;

namespace {

constexpr std::string_view troubleshooting =
    R"({"kind":"troubleshooting","customer":{"id":"acme","name":"Acme","stage":"trial"},"title":"Search is down"})";

// Polls `done` until it holds or 60 s pass; the server's clock runs on its own.
bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

// (type, roles notified, instant) of a request's escalation events.
std::vector<std::tuple<std::string, std::string, std::string>> escalation_events(http::client& client, std::int64_t id) {
  std::vector<std::tuple<std::string, std::string, std::string>> out;
  const auto body = testing::json_of(client.get(fmt::format("/v1/requests/{}/events", id)));
  for (const auto& e : body.at("events").as_array()) {
    const std::string type(e.at("type").as_string());
    if (!type.starts_with("escalation.")) continue;
    std::string roles;
    if (const auto* notified = e.at("data").as_object().if_contains("notified"))
      for (const auto& r : notified->as_array()) roles += (roles.empty() ? "" : ",") + std::string(r.as_string());
    out.emplace_back(type, roles, std::string(e.at("at").as_string()));
  }
  return out;
}

testing::run_result cli(std::vector<std::string> args) {
  args.insert(args.begin(), SWITCHBOARD_CLI_PATH);
  return testing::run_program(args);
}

// Business time one minute at 10:00 and one at 12:00 UTC every day, so business instants come
// within moments on a simulated clock; `holidays` is the content of its holidays list.

}  // namespace

TEST_SUITE("integration::escalation") {
  TEST_CASE("the scheduler notifies an at-once level at a closing instant, and a later level in business time") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      // Business time is one minute at 10:00 and one at 12:00 UTC each day. A request filed before
      // 10:00 breaches its 1-minute first response at 10:01:00, the closing instant: Head of CS is
      // told then (not at the next opening, 12:00), VP Technical Success 30 business seconds
      // later, at 12:00:30. On PostgreSQL at twice the speed from 03:00, for time (3.5 s to file
      // before 10:00, 4.75 s in all instead of 7).
      testing::temp_dir dir;
      const auto config = testing::config_on_always_calendar(dir, testing::short_calendar_toml() + R"(

[[escalation.ladder]]
name = "sla_breach"
calendar = "short"
levels = [
  { after = "0s", notify = ["head_of_cs"] },
  { after = "30s", notify = ["vp_technical_success"] },
]
)");
      const auto start = backend.postgres() ? "2026-11-20T03:00:00Z" : "2026-11-20T05:00:00Z";
      const auto speed = backend.postgres() ? "7200" : "3600";
      testing::server_process server(backend.args(config, {"--clock-start", start, "--clock-speed", speed}));
      auto ce = server.client(role::ce);
      const auto filed = testing::json_of(ce.post_json("/v1/requests", std::string(troubleshooting)));
      const auto id = filed.at("id").as_int64();
      REQUIRE(std::string(filed.at("created_at").as_string()) < "2026-11-20T10:00:00Z");
      CHECK(filed.at("clocks").at(0).at("deadline") == "2026-11-20T10:01:00Z");

      REQUIRE(eventually([&] { return escalation_events(ce, id).size() >= 3; }));
      CHECK(escalation_events(ce, id) == std::vector<std::tuple<std::string, std::string, std::string>>{
                                             {"escalation.triggered", "", "2026-11-20T10:01:00Z"},
                                             {"escalation.notified", "head_of_cs", "2026-11-20T10:01:00Z"},
                                             {"escalation.notified", "vp_technical_success", "2026-11-20T12:00:30Z"},
                                         });
      // The notified events carry the change, not the escalation's history.
      const auto events = testing::json_of(ce.get(fmt::format("/v1/requests/{}/events", id))).at("events").as_array();
      for (const auto& e : events)
        if (e.at("type") == "escalation.notified")
          CHECK_FALSE(e.at("data").at("escalation").as_object().contains("notifications"));
      const auto request = testing::json_of(ce.get(fmt::format("/v1/requests/{}", id)));
      CHECK(request.at("escalations").at(0).at("notifications").as_array().size() == 2);
    });
  }

  TEST_CASE("a restart with a holiday added re-plans the next level, and the scheduler follows") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      backend.set_lease_seconds(2);  // PostgreSQL: the restarted server takes the killed one's timers
      // Business time is 10:00-10:01 and 12:00-12:01 UTC daily. The breach at 10:01:00 tells Head
      // of CS then; VP Technical Success is planned 30 business seconds on, at 12:00:30. Restarted
      // with that day a holiday, the level moves to the next day's 10:00:30.
      testing::temp_dir dir;
      auto config_with = [&](std::string_view holidays) {
        return testing::config_on_always_calendar(dir, testing::short_calendar_toml(holidays) + fmt::format(R"(

[[escalation.ladder]]
name = "sla_breach"
calendar = "short"
levels = [
  {{ after = "0s", notify = ["head_of_cs"] }},
  {{ after = "30s", notify = ["vp_technical_success"] }},
]
)"));
      };
      std::int64_t id = 0;
      {
        // Three simulated minutes (3 s) before 10:00: the filing must come before it, and a
        // server's start (PostgreSQL's migrates a new schema) is on the simulated clock.
        testing::server_process server(
            backend.args(config_with(""),
                         {"--clock-start", "2026-11-20T09:57:00Z", "--clock-speed", "60"}));
        auto ce = server.client(role::ce);
        const auto filed = testing::json_of(ce.post_json("/v1/requests", std::string(troubleshooting)));
        id = filed.at("id").as_int64();
        REQUIRE(std::string(filed.at("created_at").as_string()) < "2026-11-20T10:00:00Z");
        REQUIRE_MESSAGE(eventually([&] { return escalation_events(ce, id).size() >= 2; }),
                        ce.get(fmt::format("/v1/requests/{}/events", id)).body << "\n" << server.stderr_text());
        const auto request = testing::json_of(ce.get(fmt::format("/v1/requests/{}", id)));
        REQUIRE(request.at("escalations").at(0).at("next_at") == "2026-11-20T12:00:30Z");
        server.kill();
      }
      testing::server_process server(
          backend.args(config_with("\"2026-11-20\""),
                       {"--clock-start", "2026-11-20T10:30:00Z", "--clock-speed", "20000"}));
      auto ce = server.client(role::ce);
      REQUIRE(eventually([&] { return escalation_events(ce, id).size() >= 4; }));
      auto events = escalation_events(ce, id);
      REQUIRE(events.size() == 4);
      CHECK(std::get<0>(events[2]) == "escalation.retimed");
      CHECK(std::get<2>(events[2]) >= "2026-11-20T10:30:00Z");
      events.erase(events.begin() + 2);
      CHECK(events == std::vector<std::tuple<std::string, std::string, std::string>>{
                          {"escalation.triggered", "", "2026-11-20T10:01:00Z"},
                          {"escalation.notified", "head_of_cs", "2026-11-20T10:01:00Z"},
                          {"escalation.notified", "vp_technical_success", "2026-11-21T10:00:30Z"},
                      });
      const auto body = testing::json_of(ce.get(fmt::format("/v1/requests/{}/events", id)));
      for (const auto& e : body.at("events").as_array())
        if (e.at("type") == "escalation.retimed") {
          CHECK(e.at("data").at("before").at("next_at") == "2026-11-20T12:00:30Z");
          CHECK(e.at("data").at("escalation").at("next_at") == "2026-11-21T10:00:30Z");
        }
    });
  }

  TEST_CASE("a restart with an open escalation's ladder gone: other timers still fire, and whoever it told may close it") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      // Business time is 10:00-10:01 and 12:00-12:01 UTC daily. Request A breaches at 10:01:00:
      // Head of CS then, VP Technical Success planned for 12:00:30. Request B, filed after 10:01,
      // is due at 12:01:00. Restarted at 10:30 with sla_breach gone (the one ladder in the file is
      // now capacity), A's escalation climbs no further, and B still breaches at 12:01:00: before
      // this was handled the scheduler failed on A's level at every turn and nothing else fired.
      testing::temp_dir dir;
      auto config_with = [&](std::string_view ladder) {
        return testing::config_on_always_calendar(dir, testing::short_calendar_toml() + fmt::format(R"(

{}
)",
                                                                   ladder));
      };
      const auto three_levels = R"([[escalation.ladder]]
name = "sla_breach"
calendar = "short"
levels = [
  { after = "0s", notify = ["head_of_cs"] },
  { after = "30s", notify = ["vp_technical_success"] },
  { after = "45s", notify = ["vp_sales"] },
])";
      const auto capacity_only = R"([[escalation.ladder]]
name = "capacity"
calendar = "short"
thresholds = { se = 100 }
levels = [{ after = "0s", notify = ["head_of_cs"] }])";
      std::int64_t a = 0;
      std::int64_t b = 0;
      std::string escalation;
      {
        // As above: the filing before 10:00, with room for the server's start.
        testing::server_process server(
            backend.args(config_with(three_levels),
                         {"--clock-start", "2026-11-20T09:57:00Z", "--clock-speed", "60"}));
        auto ce = server.client(role::ce);
        const auto filed_a = testing::json_of(ce.post_json("/v1/requests", std::string(troubleshooting)));
        a = filed_a.at("id").as_int64();
        REQUIRE(std::string(filed_a.at("created_at").as_string()) < "2026-11-20T10:00:00Z");
        REQUIRE_MESSAGE(eventually([&] { return escalation_events(ce, a).size() >= 2; }),
                        ce.get(fmt::format("/v1/requests/{}/events", a)).body << "\n" << server.stderr_text());
        const auto filed_b = testing::json_of(ce.post_json("/v1/requests", std::string(troubleshooting)));
        b = filed_b.at("id").as_int64();
        REQUIRE(filed_b.at("clocks").at(0).at("deadline") == "2026-11-20T12:01:00Z");
        const auto request = testing::json_of(ce.get(fmt::format("/v1/requests/{}", a)));
        REQUIRE(request.at("escalations").at(0).at("next_at") == "2026-11-20T12:00:30Z");
        escalation = std::string(request.at("escalations").at(0).at("id").as_string());
        REQUIRE(server.terminate() == 0);
      }

      // rules check --db says what start-up will do, and does not say ok.
      const auto renamed = config_with(capacity_only);
      std::ifstream in(renamed);
      int ladder_line = 0;
      std::string line;
      for (int number = 1; std::getline(in, line); ++number)
        if (line.starts_with("[[escalation.ladder]]")) ladder_line = number;
      REQUIRE(ladder_line > 0);
      const auto warning = fmt::format(
          "{}:{}:1: ladder \"sla_breach\" is used by 1 open escalation but is not in the config: it stays open and "
          "climbs no further",
          renamed, ladder_line);
      const auto checked = cli({"--config", renamed, "rules", "check", "--db", backend.database()});
      CHECK(checked.exit_code == 0);
      CHECK_MESSAGE(checked.err.find("warning: " + warning) != std::string::npos, checked.err);
      CHECK_MESSAGE(checked.out.starts_with("accepted with 1 warning: "), checked.out);
      CHECK_FALSE(checked.out.starts_with("ok"));

      testing::server_process server(
          backend.args(renamed,
                       {"--clock-start", "2026-11-20T10:30:00Z", "--clock-speed", "20000"}));
      auto ce = server.client(role::ce);
      // B's breach fires at its instant, after A's dropped 12:00:30 level would have.
      REQUIRE(eventually([&] {
        const auto events = testing::json_of(ce.get(fmt::format("/v1/requests/{}/events", b))).at("events").as_array();
        return std::any_of(events.begin(), events.end(), [](const json::value& e) { return e.at("type") == "sla.breached"; });
      }));
      const auto b_events = testing::json_of(ce.get(fmt::format("/v1/requests/{}/events", b)));
      for (const auto& e : b_events.at("events").as_array())
        if (e.at("type") == "sla.breached") CHECK(e.at("at") == "2026-11-20T12:01:00Z");
      CHECK(escalation_events(ce, b).empty());  // no sla_breach ladder to start
      auto events = escalation_events(ce, a);
      REQUIRE(events.size() == 3);
      CHECK(std::get<0>(events[2]) == "escalation.retimed");
      CHECK(std::get<2>(events[2]) >= "2026-11-20T10:30:00Z");
      events.pop_back();
      CHECK(events == std::vector<std::tuple<std::string, std::string, std::string>>{
                          {"escalation.triggered", "", "2026-11-20T10:01:00Z"},
                          {"escalation.notified", "head_of_cs", "2026-11-20T10:01:00Z"},
                      });
      // The start-up log: the counts apart, and the same warning.
      const auto log = server.stderr_text();
      CHECK_MESSAGE(log.find("re-timed to the changed config: 0 open SLA clock(s) (sla.retimed), 1 open escalation(s) "
                             "(escalation.retimed), 0 concern deadline(s)") != std::string::npos,
                    log);
      CHECK_MESSAGE(log.find("warning: " + warning) != std::string::npos, log);

      // It reads, lists, and the role it notified closes it; a role neither on a ladder nor told may not.
      const auto request = testing::json_of(ce.get(fmt::format("/v1/requests/{}", a)));
      CHECK(request.at("escalations").at(0).at("state") == "open");
      CHECK(request.at("escalations").at(0).at("next_at").is_null());
      const auto listed = testing::json_of(ce.get("/v1/escalations?state=open")).at("escalations").as_array();
      REQUIRE(listed.size() == 1);
      CHECK(listed[0].at("id").as_string() == escalation);
      const auto target = fmt::format("/v1/escalations/{}/events", escalation);
      CHECK(server.client(role::vp_technical_success).post_json(target, R"({"type":"acknowledge_escalation"})").status == 403);
      auto head = server.client(role::head_of_cs);
      const auto acknowledged = head.post_json(target, R"({"type":"acknowledge_escalation","message":"seen"})");
      CHECK_MESSAGE(acknowledged.status == 200, acknowledged.body);
      const auto resolved = head.post_json(target, R"({"type":"resolve_escalation","message":"done"})");
      CHECK_MESSAGE(resolved.status == 200, resolved.body);
      CHECK(testing::json_of(ce.get(fmt::format("/v1/requests/{}", a))).at("escalations").at(0).at("state") == "resolved");
    });
  }

  TEST_CASE("a restart with a holiday added moves an open concern's deadline, and the scheduler follows") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      backend.set_lease_seconds(2);  // PostgreSQL: the restarted server takes the killed one's timers
      // Business time is 10:00-10:01 and 12:00-12:01 UTC daily. A concern raised before 10:00
      // escalates after 90 business seconds: 12:00:30. Restarted with that day a holiday, it
      // escalates the next day at 12:00:30.
      testing::temp_dir dir;
      auto config_with = [&](std::string_view holidays) {
        return testing::config_on_always_calendar(dir, testing::short_calendar_toml(holidays) + fmt::format(R"(
[[escalation.ladder]]
name = "concern"
calendar = "short"
trigger_after = "90s"
levels = [{{ after = "0s", notify = ["vp_technical_success"] }}]
)"));
      };
      std::int64_t concern = 0;
      {
        testing::server_process server(
            backend.args(config_with(""),
                         {"--clock-start", "2026-11-20T09:00:00Z", "--clock-speed", "60"}));
        auto ce = server.client(role::ce);
        const auto filed = testing::json_of(ce.post_json("/v1/requests", std::string(troubleshooting)));
        const auto about = filed.at("id").as_int64();
        const auto raised = ce.post_json(fmt::format("/v1/requests/{}/events", about),
                                         R"({"type":"raise_concern","message":"not in the customer's interest"})");
        CAPTURE(raised.body.substr(0, 500));
        REQUIRE(raised.status == 200);
        concern = testing::json_of(raised).at("created").at("id").as_int64();
        const auto request = testing::json_of(ce.get(fmt::format("/v1/requests/{}", concern)));
        REQUIRE(std::string(request.at("created_at").as_string()) < "2026-11-20T10:00:00Z");
        REQUIRE(request.at("concern_escalates_at") == "2026-11-20T12:00:30Z");
        server.kill();
      }
      testing::server_process server(
          backend.args(config_with("\"2026-11-20\""),
                       {"--clock-start", "2026-11-20T10:30:00Z", "--clock-speed", "20000"}));
      auto ce = server.client(role::ce);
      REQUIRE(eventually([&] { return escalation_events(ce, concern).size() >= 2; }));
      CHECK(escalation_events(ce, concern) == std::vector<std::tuple<std::string, std::string, std::string>>{
                                                  {"escalation.triggered", "", "2026-11-21T12:00:30Z"},
                                                  {"escalation.notified", "vp_technical_success", "2026-11-21T12:00:30Z"},
                                              });
      const auto body = testing::json_of(ce.get(fmt::format("/v1/requests/{}/events", concern)));
      int retimed = 0;
      for (const auto& e : body.at("events").as_array())
        if (e.at("type") == "request.concern_deadline_retimed") {
          ++retimed;
          CHECK(std::string(e.at("at").as_string()) >= "2026-11-20T10:30:00Z");
          CHECK(e.at("data").at("before").at("concern_escalates_at") == "2026-11-20T12:00:30Z");
          CHECK(e.at("data").at("concern_escalates_at") == "2026-11-21T12:00:30Z");
        }
      CHECK(retimed == 1);
      const auto request = testing::json_of(ce.get(fmt::format("/v1/requests/{}", concern)));
      CHECK(request.at("concern_escalates_at").is_null());
    });
  }

  TEST_CASE("capacity through the server: filing, reopen and route_to_product take a team over, once per crossing") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      const auto config = testing::config_on_always_calendar(dir, R"(
[[escalation.ladder]]
name = "capacity"
calendar = "always"
thresholds = { se = 1, product = 1 }
levels = [{ after = "0s", notify = ["head_of_cs"] }]
)");
      testing::server_process server(backend.args(config));
      auto ce = server.client(role::ce);
      auto se = server.client(role::se);
      auto head = server.client(role::head_of_cs);
      auto capacity_escalations = [&] {
        std::vector<std::pair<std::int64_t, std::string>> out;  // (request, team), newest first
        const auto page = testing::json_of(head.get("/v1/escalations?limit=200"));
        for (const auto& e : page.at("escalations").as_array())
          if (e.at("ladder") == "capacity")
            out.emplace_back(e.at("request_id").as_int64(), std::string(e.at("team").as_string()));
        return out;
      };
      auto post = [](http::client& client, const std::string& target, std::string_view body) {
        const auto answer = client.post_json(target, std::string(body));
        CAPTURE(answer.body);
        REQUIRE(answer.status / 100 == 2);
        return testing::json_of(answer);
      };

      const auto first = post(ce, "/v1/requests", troubleshooting).at("id").as_int64();
      CHECK(capacity_escalations().empty());
      const auto second = post(ce, "/v1/requests", troubleshooting);
      CHECK(second.at("status") == "escalated");
      const auto notified = second.at("escalations").at(0).at("notifications").at(0);
      CHECK(notified.at("roles") == json::array{"head_of_cs"});
      CHECK(notified.at("at") == second.at("created_at"));  // at once: the filing instant
      using list = std::vector<std::pair<std::int64_t, std::string>>;
      CHECK(capacity_escalations() == list{{second.at("id").as_int64(), "se"}});
      post(ce, "/v1/requests", troubleshooting);  // still over, and unresolved: no second one
      CHECK(capacity_escalations().size() == 1);

      // Resolved; SE works the load down to 1 and a reopen takes it over again.
      const auto escalation = std::string(second.at("escalations").at(0).at("id").as_string());
      post(head, fmt::format("/v1/escalations/{}/events", escalation), R"({"type":"resolve_escalation"})");
      post(se, fmt::format("/v1/requests/{}/events", second.at("id").as_int64()), R"({"type":"resolve"})");
      post(se, "/v1/requests/3/events", R"({"type":"resolve"})");
      post(se, "/v1/requests/3/events", R"({"type":"reopen"})");
      CHECK(capacity_escalations() == list{{3, "se"}, {second.at("id").as_int64(), "se"}});

      // Product: a feature request, then a how-to CE routes there.
      post(ce, "/v1/requests", R"({"kind":"feature_request","customer":{"id":"acme","name":"Acme","stage":"trial"},"title":"SSO"})");
      const auto how_to = post(ce, "/v1/requests",
                               R"({"kind":"how_to","customer":{"id":"acme","name":"Acme","stage":"trial"},"title":"SAML?"})")
                              .at("id")
                              .as_int64();
      post(ce, fmt::format("/v1/requests/{}/events", how_to), R"({"type":"route_to_product"})");
      CHECK(capacity_escalations().front() == std::pair<std::int64_t, std::string>{how_to, "product"});
      CHECK(first == 1);
    });
  }

  TEST_CASE("switchboard-cli escalation ack and resolve print the escalation acted on, with its request") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      const auto config = testing::config_on_always_calendar(dir, R"(
[[escalation.ladder]]
name = "capacity"
calendar = "always"
thresholds = { se = 1 }
levels = [{ after = "0s", notify = ["head_of_cs"] }]
)");
      testing::server_process server(backend.args(config));
      auto ce = server.client(role::ce);
      auto se = server.client(role::se);
      auto head = server.client(role::head_of_cs);
      auto post = [](http::client& client, const std::string& target, std::string_view body) {
        const auto answer = client.post_json(target, std::string(body));
        CAPTURE(answer.body);
        REQUIRE(answer.status / 100 == 2);
      };
      // Request 2 takes SE over its threshold (2-1); once that is resolved, a reopen does again (2-2).
      post(ce, "/v1/requests", troubleshooting);
      post(ce, "/v1/requests", troubleshooting);
      post(head, "/v1/escalations/2-1/events", R"({"type":"resolve_escalation"})");
      post(se, "/v1/requests/2/events", R"({"type":"resolve"})");
      post(ce, "/v1/requests/2/events", R"({"type":"reopen"})");
      const auto token = testing::token_for(role::head_of_cs);

      const auto acked = cli({"--server", server.url(), "--token", token, "escalation", "ack", "2-2"});
      CAPTURE(acked.out);
      CAPTURE(acked.err);
      REQUIRE(acked.exit_code == 0);
      CHECK(acked.out.find("2-2 ") != std::string::npos);
      CHECK(acked.out.find("acknowledged") != std::string::npos);
      CHECK(acked.out.find("2-1 ") == std::string::npos);
      CHECK(acked.out.find("      2  capacity") != std::string::npos);  // the REQUEST column

      const auto resolved = cli({"--server", server.url(), "--token", token, "escalation", "resolve", "2-2"});
      CAPTURE(resolved.out);
      REQUIRE(resolved.exit_code == 0);
      CHECK(resolved.out.find("2-2 ") != std::string::npos);
      CHECK(resolved.out.find("resolved") != std::string::npos);
      CHECK(resolved.out.find("2-1 ") == std::string::npos);
    });
  }

  TEST_CASE("GET /v1/escalations pages with a cursor, and switchboard-cli escalations follows it") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      // Every troubleshooting request breaches its 4-second first response; on a clock running 50
      // times faster they all breach within moments.
      testing::server_process server(
          backend.args(testing::fast_config(dir),
                       {"--clock-start", "2026-11-20T05:00:00Z", "--clock-speed", "50"}));
      auto ce = server.client(role::ce);
      for (int i = 0; i < 5; ++i) REQUIRE(ce.post_json("/v1/requests", std::string(troubleshooting)).status == 201);
      REQUIRE(eventually([&] {
        return testing::json_of(ce.get("/v1/escalations?limit=200")).at("escalations").as_array().size() == 5;
      }));

      std::vector<std::string> paged;
      std::string target = "/v1/escalations?limit=2";
      int pages = 0;
      for (; pages < 10; ++pages) {
        const auto page = testing::json_of(ce.get(target));
        CHECK(page.at("escalations").as_array().size() <= 2);
        for (const auto& e : page.at("escalations").as_array()) paged.emplace_back(e.at("id").as_string());
        if (page.at("next_cursor").is_null()) break;
        target = "/v1/escalations?limit=2&cursor=" + std::string(page.at("next_cursor").as_string());
      }
      CHECK(pages == 2);  // three pages: 2, 2, 1
      CHECK(paged.size() == 5);
      CHECK(std::set<std::string>(paged.begin(), paged.end()).size() == 5);
      CHECK(paged.front() == "5-1");

      const auto bad = ce.get("/v1/escalations?cursor=nonsense");
      CHECK(bad.status == 422);
      // Near misses of "<seconds>.<request>-<n>" name no page either: each is 422, not a page.
      for (const std::string cursor : {"1796752805.x-1", "1796752805.31", "1796752805.31-1-1", "1796752805.31-1%00",
                                       "1796752805.31-99999999999999999999", "-1.31-1", "1796752805.031-1",
                                       "1796752805.31-0", "+1796752805.31-1", "1796752805.-1", ".31-1"}) {
        CAPTURE(cursor);
        const auto near = ce.get("/v1/escalations?cursor=" + cursor);
        CHECK(near.status == 422);
        CHECK(testing::json_of(near).at("error").at("code").as_string() == "invalid_fields");
      }
      CHECK(ce.get("/v1/escalations?limit=0").status == 422);

      const auto listed = cli({"--server", server.url(), "--token", testing::token_for(role::head_of_cs), "escalations",
                               "--page-size", "2"});
      CAPTURE(listed.err);
      REQUIRE(listed.exit_code == 0);
      for (const auto& id : paged) CHECK(listed.out.find(id + " ") != std::string::npos);
    });
  }
}
