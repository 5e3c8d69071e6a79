// SLA clocks on the real server: the API's view of clocks, actions, the timer list, and
// warnings and breaches recorded by the scheduler, including across kill -9, on both store
// adapters (support/server_backends.hpp).
#include "http/client.hpp"
#include "codec/json.hpp"
#include "support/configs.hpp"
#include "support/eventually.hpp"
#include "support/server_backends.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <thread>

using namespace switchboard;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

using testing::fast_config;

constexpr std::string_view troubleshooting =
    R"({"kind":"troubleshooting","customer":{"id":"acme","name":"Acme","stage":"trial"},"title":"Builds fail"})";

json::object get_object(http::client& client, const std::string& target) {
  const auto res = client.get(target);
  REQUIRE(res.status == 200);
  return json::parse(res.body).as_object();
}

const json::object& clock_of(const json::object& request, std::string_view metric) {
  for (const auto& clock : request.at("clocks").as_array())
    if (clock.at("metric").as_string() == metric) return clock.as_object();
  FAIL("no clock " << metric);
  throw std::logic_error("unreachable");
}

std::vector<std::pair<std::string, std::string>> clock_events(http::client& client, std::int64_t id) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto events = get_object(client, "/v1/requests/" + std::to_string(id) + "/events");
  for (const auto& e : events.at("events").as_array())
    if (e.at("type").as_string().starts_with("sla.w") || e.at("type").as_string().starts_with("sla.b"))
      out.emplace_back(std::string(e.at("type").as_string()), std::string(e.at("at").as_string()));
  return out;
}

std::string plus_seconds(const std::string& iso, int seconds) {
  return model::format_instant(*model::parse_instant(iso) + std::chrono::seconds{seconds});
}

// A config with an "office" calendar (weekdays 09:00-17:00 UTC, named `calendar`, with
// `calendar_extra` lines such as holidays or replaces) and a "standard" policy on it for
// troubleshooting: resolution in `target`, warning at half of it. No escalation ladders.
std::string office_config(const testing::temp_dir& dir, std::string_view calendar, std::string_view calendar_extra,
                          std::string_view target = "1h") {
  return testing::config_on_always_calendar(dir, fmt::format(R"(
[calendars.{0}]
zone = "UTC"
shifts = [{{ days = ["mon", "tue", "wed", "thu", "fri"], open = "09:00", close = "17:00" }}]
{1}

[[sla.policy]]
name = "standard"
kinds = ["troubleshooting"]
calendar = "{0}"
metrics = [{{ metric = "resolution", target = "{2}", warning = 0.5 }}]
)",
                                                             calendar, calendar_extra, target));
}

std::string describe(const std::vector<std::pair<std::string, std::string>>& events) {
  std::string out;
  for (const auto& [type, at] : events) out += type + " at " + at + ", ";
  return out;
}

using testing::eventually;

// The 1-based line of the first line of `file` that starts with `text`.
int line_of(const std::string& file, std::string_view text) {
  std::ifstream in(file);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number)
    if (line.starts_with(text)) return number;
  return 0;
}

// An "office" calendar under the name `calendar` (weekdays 09:00-17:00 UTC) and one policy
// `policy` on it for requests of `kind`, with `policy_extra` lines (such as `replaces`) and
// `metrics` (the inside of its metrics list).
std::string named_config(const testing::temp_dir& dir, std::string_view calendar, std::string_view policy,
                         std::string_view policy_extra, std::string_view metrics,
                         std::string_view kind = "troubleshooting") {
  return testing::config_on_always_calendar(dir, fmt::format(R"(
[calendars.{0}]
zone = "UTC"
shifts = [{{ days = ["mon", "tue", "wed", "thu", "fri"], open = "09:00", close = "17:00" }}]

[[sla.policy]]
name = "{1}"
kinds = ["{4}"]
calendar = "{0}"
{2}
metrics = [{3}]
)",
                                                             calendar, policy, policy_extra, metrics, kind));
}

}  // namespace

TEST_SUITE("integration::sla") {
  TEST_CASE("a restart with Christmas Eve added as a holiday re-times the open clock and the scheduler follows") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      backend.set_lease_seconds(2);  // PostgreSQL: the restarted server takes the killed one's timers
      testing::temp_dir dir;
      std::int64_t id = 0;
      std::chrono::seconds late{0};  // how far past 16:40:00 the simulated clock had moved at filing
      {
        const auto config = office_config(dir, "office", "");
        testing::server_process server(backend.args(config, {"--clock-start", "2026-12-23T16:40:00Z"}));
        auto client = server.client(model::role::se);
        const auto created = json::parse(client.post_json("/v1/requests", std::string(troubleshooting)).body).as_object();
        id = created.at("id").as_int64();
        late = *model::parse_instant(created.at("created_at").as_string()) - *model::parse_instant("2026-12-23T16:40:00Z");
        REQUIRE(late < 20min);  // Wednesday: 20 min used by closing, 40 more on Thursday the 24th
        CHECK(clock_of(created, "resolution").at("deadline").as_string() ==
              model::format_instant(*model::parse_instant("2026-12-24T09:40:00Z") + late));
        server.kill();
      }
      auto expected_at = [&](std::string_view iso) { return model::format_instant(*model::parse_instant(iso) + late); };

      // Restarted in the evening of the 24th: under the old calendar the breach (09:40 on the
      // holiday) would be recorded at once. With the holiday it is due Friday the 25th.
      const auto config = office_config(dir, "office", "holidays = [\"2026-12-24\"]");
      testing::server_process server(
          backend.args(config, {"--clock-start", "2026-12-24T20:00:00Z", "--clock-speed", "20000"}));
      auto client = server.client(model::role::se);
      const auto request = get_object(client, "/v1/requests/" + std::to_string(id));
      CHECK(clock_of(request, "resolution").at("deadline").as_string() == expected_at("2026-12-25T09:40:00Z"));
      const auto events = get_object(client, "/v1/requests/" + std::to_string(id) + "/events").at("events").as_array();
      const auto retimed = std::find_if(events.begin(), events.end(),
                                        [](const json::value& e) { return e.at("type").as_string() == "sla.retimed"; });
      REQUIRE(retimed != events.end());
      // At start-up (the simulated clock has run on a little by then), before the new warning.
      const std::string retimed_at(retimed->at("at").as_string());
      CHECK(retimed_at >= "2026-12-24T20:00:00Z");
      CHECK(retimed_at < expected_at("2026-12-25T09:10:00Z"));
      CHECK(retimed->at("data").at("before").at("deadline").as_string() == expected_at("2026-12-24T09:40:00Z"));

      CHECK(eventually([&] { return clock_events(client, id).size() >= 2; }));
      const auto recorded = clock_events(client, id);
      CAPTURE(describe(recorded));
      CHECK(recorded == std::vector<std::pair<std::string, std::string>>{
                            {"sla.warning", expected_at("2026-12-25T09:10:00Z")},
                            {"sla.breached", expected_at("2026-12-25T09:40:00Z")}});
      const auto breached = get_object(client, "/v1/requests/" + std::to_string(id));
      CHECK(clock_of(breached, "resolution").at("state").as_string() == "breached");
    });
  }

  TEST_CASE("a restart with a longer policy target re-times the open clock") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      backend.set_lease_seconds(2);  // PostgreSQL: the restarted server takes the killed one's timers
      testing::temp_dir dir;
      std::int64_t id = 0;
      std::chrono::seconds late{0};
      {
        testing::server_process server(
            backend.args(office_config(dir, "office", ""), {"--clock-start", "2026-12-01T09:00:00Z"}));
        auto client = server.client(model::role::se);
        const auto created = json::parse(client.post_json("/v1/requests", std::string(troubleshooting)).body).as_object();
        id = created.at("id").as_int64();
        late = *model::parse_instant(created.at("created_at").as_string()) - *model::parse_instant("2026-12-01T09:00:00Z");
        server.kill();
      }
      testing::server_process server(backend.args(office_config(dir, "office", "", "3h"),
                                                  {"--clock-start", "2026-12-01T09:30:00Z", "--clock-speed", "20000"}));
      auto client = server.client(model::role::se);
      const auto request = get_object(client, "/v1/requests/" + std::to_string(id));
      CHECK(clock_of(request, "resolution").at("target_seconds").as_int64() == 3 * 3600);
      CHECK(clock_of(request, "resolution").at("deadline").as_string() ==
            model::format_instant(*model::parse_instant("2026-12-01T12:00:00Z") + late));
      // Under the old 1 h target the warning was due at 09:30 and the breach at 10:00.
      CHECK(eventually([&] { return clock_events(client, id).size() >= 2; }));
      const auto recorded = clock_events(client, id);
      CAPTURE(describe(recorded));
      CHECK(recorded == std::vector<std::pair<std::string, std::string>>{
                                            {"sla.warning", model::format_instant(*model::parse_instant("2026-12-01T10:30:00Z") + late)},
                                            {"sla.breached", model::format_instant(*model::parse_instant("2026-12-01T12:00:00Z") + late)}});
    });
  }

  TEST_CASE("a restart with a lowered target breaches a paused clock at once, at the true instant before its pause") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      backend.set_lease_seconds(2);  // PostgreSQL: the restarted server takes the killed one's timers
      testing::temp_dir dir;
      std::int64_t id = 0;
      std::string created_at, paused_at;
      {
        // Wednesday 10:00 UTC, office hours, at 60x: a business minute a second.
        testing::server_process server(backend.args(office_config(dir, "office", "", "1h"),
                                                    {"--clock-start", "2026-12-02T10:00:00Z", "--clock-speed", "60"}));
        auto client = server.client(model::role::se);
        const auto created = json::parse(client.post_json("/v1/requests", std::string(troubleshooting)).body).as_object();
        id = created.at("id").as_int64();
        created_at = std::string(created.at("created_at").as_string());
        const auto path = "/v1/requests/" + std::to_string(id);
        // Over two business minutes used, then pending on the customer.
        REQUIRE(eventually([&] { return clock_of(get_object(client, path), "resolution").at("used_seconds").as_int64() > 120; }));
        const auto pended = client.post_json(path + "/events", R"({"type":"pend","message":"Could you send the logs?"})");
        REQUIRE(pended.status == 200);
        const auto after_pend = json::parse(pended.body).as_object();
        REQUIRE(clock_of(after_pend, "resolution").at("state").as_string() == "paused");
        const auto history = get_object(client, path + "/events");
        for (const auto& e : history.at("events").as_array())
          if (e.at("type").as_string() == "sla.paused") paused_at = std::string(e.at("at").as_string());
        REQUIRE(!paused_at.empty());
        REQUIRE(clock_events(client, id).empty());  // 1 h: neither warned nor breached
        server.kill();
      }
      REQUIRE(*model::parse_instant(paused_at) - *model::parse_instant(created_at) > std::chrono::seconds{120});

      // Thursday, the target lowered to 1 minute (warning at 30 s): both were passed on Wednesday,
      // 30 s and 60 s after filing, before the pause. Recorded at start-up, at those instants.
      testing::server_process server(
          backend.args(office_config(dir, "office", "", "1m"), {"--clock-start", "2026-12-03T10:00:00Z"}));
      auto client = server.client(model::role::se);
      // The late warning and breach are not counted as re-timings.
      CHECK_MESSAGE(server.stderr_text().find("re-timed to the changed config: 1 open SLA clock(s) (sla.retimed), 0 open "
                                              "escalation(s) (escalation.retimed), 0 concern deadline(s)") != std::string::npos,
                    server.stderr_text());
      const auto recorded = clock_events(client, id);
      CAPTURE(describe(recorded));
      CHECK(recorded == std::vector<std::pair<std::string, std::string>>{{"sla.warning", plus_seconds(created_at, 30)},
                                                                         {"sla.breached", plus_seconds(created_at, 60)}});
      CHECK(plus_seconds(created_at, 60) < paused_at);
      const auto events = get_object(client, "/v1/requests/" + std::to_string(id) + "/events").at("events").as_array();
      const auto breached = std::find_if(events.begin(), events.end(),
                                         [](const json::value& e) { return e.at("type").as_string() == "sla.breached"; });
      REQUIRE(breached != events.end());
      CHECK(breached->at("data").at("used_seconds").as_int64() == 60);
      // Still paused (time used stays what it was at the pause), now breached; pending on the customer.
      const auto request = get_object(client, "/v1/requests/" + std::to_string(id));
      CHECK(request.at("status").as_string() == "pending_customer");
      const auto& clock = clock_of(request, "resolution");
      CHECK(clock.at("state").as_string() == "paused");
      CHECK(clock.at("breached").as_bool());
      CHECK(clock.at("used_seconds").as_int64() ==
            (*model::parse_instant(paused_at) - *model::parse_instant(created_at)).count());
    });
  }

  TEST_CASE("a calendar open clocks use cannot be renamed away: start-up and rules check --db refuse, replaces maps it") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      std::int64_t id = 0;
      {
        testing::server_process server(backend.args(office_config(dir, "office", "")));
        auto client = server.client(model::role::se);
        id = json::parse(client.post_json("/v1/requests", std::string(troubleshooting)).body).at("id").as_int64();
        REQUIRE(server.terminate() == 0);
      }

      // Renamed without saying so: one open clock would lose its calendar.
      const auto renamed = office_config(dir, "office_hours", "");
      const auto where = fmt::format("{}:{}:1: calendar \"office\" is used by 1 open SLA clock but is not configured",
                                     renamed, line_of(renamed, "[calendars."));
      const auto refused = backend.refused_start(renamed);
      CHECK(refused.exit_code == 1);
      CHECK_MESSAGE(refused.err.find(where) != std::string::npos, refused.err);
      CHECK(refused.err.find("replaces = [\"office\"]") != std::string::npos);
      const auto checked = testing::run_program({SWITCHBOARD_CLI_PATH, "--config", renamed, "rules", "check", "--db", backend.database()});
      CHECK(checked.exit_code == 1);
      CHECK_MESSAGE(checked.err.find(where) != std::string::npos, checked.err);
      // Without --db the config alone is fine.
      CHECK(testing::run_program({SWITCHBOARD_CLI_PATH, "--config", renamed, "rules", "check"}).exit_code == 0);

      // Renamed, saying so: the clock follows the new name and everything reads and acts.
      const auto mapped = office_config(dir, "office_hours", "replaces = [\"office\"]");
      CHECK(testing::run_program({SWITCHBOARD_CLI_PATH, "--config", mapped, "rules", "check", "--db", backend.database()}).exit_code ==
            0);
      testing::server_process server(backend.args(mapped));
      auto client = server.client(model::role::se);
      const auto path = "/v1/requests/" + std::to_string(id);
      CHECK(clock_of(get_object(client, path), "resolution").at("calendar").as_string() == "office_hours");
      CHECK(client.get("/v1/sla/timers").status == 200);
      CHECK(client.post_json(path + "/events", R"({"type":"respond","message":"on it"})").status == 200);
      CHECK(client.post_json(path + "/events", R"({"type":"resolve","message":"done"})").status == 200);
    });
  }

  // SQLite only, for time: where the refusal points is the config's; the open clocks' policies are
  // read as in the calendar case, which runs on both store adapters.
  TEST_CASE("a renamed SLA policy open clocks use is refused at the policy that took its place, else at the first policy") {
    const testing::server_backend backend;  // SQLite
    testing::temp_dir dir;
    // Two policies; the one troubleshooting uses is the second, so the first [[sla.policy]] is the
    // wrong place to point at.
    auto config_with = [&](std::string_view name, std::string_view kind) {
      return testing::config_on_always_calendar(dir, fmt::format(R"(
[calendars.office]
zone = "UTC"
shifts = [{{ days = ["mon", "tue", "wed", "thu", "fri"], open = "09:00", close = "17:00" }}]

[[sla.policy]]
name = "product"
kinds = ["feature_request"]
calendar = "office"
metrics = [{{ metric = "first_response", target = "8h" }}]

[[sla.policy]]
name = "{}"
kinds = ["{}"]
calendar = "office"
metrics = [{{ metric = "resolution", target = "1h", warning = 0.5 }}]
)",
                                                                 name, kind));
    };
    {
      testing::server_process server(backend.args(config_with("standard", "troubleshooting")));
      auto client = server.client(model::role::se);
      REQUIRE(client.post_json("/v1/requests", std::string(troubleshooting)).status == 201);
      REQUIRE(server.terminate() == 0);
    }

    // Renamed: the policy that now applies to the clock's request is where `replaces` goes.
    const auto renamed = config_with("standard-2027", "troubleshooting");
    const auto at_successor = fmt::format(
        "{}:{}:8: SLA policy \"standard\" is used by 1 open SLA clock but is not configured; SLA policy "
        "\"standard-2027\" (here) now applies to their requests: if it is \"standard\" renamed, add `replaces = "
        "[\"standard\"]` to it",
        renamed, line_of(renamed, "name = \"standard-2027\""));
    REQUIRE(line_of(renamed, "name = \"standard-2027\"") > line_of(renamed, "[[sla.policy]]"));
    const auto refused = backend.refused_start(renamed);
    CHECK(refused.exit_code == 1);
    CHECK_MESSAGE(refused.err.find(at_successor) != std::string::npos, refused.err);
    const auto checked = testing::run_program({SWITCHBOARD_CLI_PATH, "--config", renamed, "rules", "check", "--db", backend.database()});
    CHECK(checked.exit_code == 1);
    CHECK_MESSAGE(checked.err.find(at_successor) != std::string::npos, checked.err);

    // Gone, with nothing applying to troubleshooting any more: the first [[sla.policy]], saying so.
    const auto gone = config_with("how-to", "how_to");
    const auto at_start = fmt::format(
        "{}:{}:1: SLA policy \"standard\" is used by 1 open SLA clock but is not configured, and no configured "
        "policy applies to their requests now",
        gone, line_of(gone, "[[sla.policy]]"));
    const auto refused_gone = testing::run_program({SWITCHBOARD_CLI_PATH, "--config", gone, "rules", "check", "--db", backend.database()});
    CHECK(refused_gone.exit_code == 1);
    CHECK_MESSAGE(refused_gone.err.find(at_start) != std::string::npos, refused_gone.err);
  }

  // SQLite only, for time (four starts): the renamed names are the engine's; the store's part, the
  // open clocks' calendars and policies checked at start and by rules check --db, runs on PostgreSQL
  // in the calendar and replaces-without-a-metric cases.
  TEST_CASE("a request reopened after its policy and calendar were renamed without replaces runs on the new names, and the next start accepts it") {
    const testing::server_backend backend;  // SQLite
    testing::temp_dir dir;
    constexpr std::string_view resolution = R"({ metric = "resolution", target = "4h", warning = 0.5 })";
    std::int64_t id = 0;
    std::string path;
    {
      testing::server_process server(backend.args(named_config(dir, "office", "standard", "", resolution),
                                                  {"--clock-start", "2026-12-02T10:00:00Z"}));
      auto client = server.client(model::role::se);
      id = json::parse(client.post_json("/v1/requests", std::string(troubleshooting)).body).at("id").as_int64();
      path = "/v1/requests/" + std::to_string(id);
      REQUIRE(client.post_json(path + "/events", R"({"type":"resolve","message":"done"})").status == 200);
      REQUIRE(server.terminate() == 0);
    }

    // Both renamed without `replaces`: allowed, since no open clock uses the old names.
    const auto renamed = named_config(dir, "office_hours", "standard-2027", "",
                                      R"({ metric = "resolution", target = "8h", warning = 0.5 })");
    const auto check = [&] {
      return testing::run_program({SWITCHBOARD_CLI_PATH, "--config", renamed, "rules", "check", "--db", backend.database()});
    };
    REQUIRE(check().exit_code == 0);
    // Each start later than the last run's events (a simulated clock never runs history backwards).
    for (const auto& [type, start] : {std::pair{"reopen", "2026-12-02T11:00:00Z"}, std::pair{"customer_reply", "2026-12-02T11:30:00Z"}}) {
      const std::string action = type;
      CAPTURE(action);
      {
        testing::server_process server(backend.args(renamed, {"--clock-start", start}));
        auto client = server.client(model::role::se);
        const auto reopened = client.post_json(path + "/events", fmt::format(R"({{"type":"{}","message":"again"}})", action));
        REQUIRE_MESSAGE(reopened.status == 200, reopened.body);
        const auto clock = clock_of(get_object(client, path), "resolution");
        CHECK(clock.at("open").as_bool());
        CHECK(clock.at("policy").as_string() == "standard-2027");
        CHECK(clock.at("calendar").as_string() == "office_hours");
        CHECK(clock.at("target_seconds").as_int64() == 8 * 3600);
        REQUIRE(client.post_json(path + "/events", R"({"type":"resolve","message":"done again"})").status == 200);
        REQUIRE(server.terminate() == 0);
      }
      // The reopened clock named nothing the config lacks: the offline check (and a start) accept it.
      const auto checked = check();
      CHECK_MESSAGE(checked.exit_code == 0, checked.err);
    }

    // Nothing applies to troubleshooting any more: the request still reopens (a customer's reply
    // is never turned away for want of an SLA), without a running resolution clock.
    const auto none = named_config(dir, "office_hours", "how-to", "", R"({ metric = "resolution", target = "8h" })", "how_to");
    testing::server_process server(backend.args(none, {"--clock-start", "2026-12-02T12:00:00Z"}));
    auto client = server.client(model::role::se);
    const auto reopened = client.post_json(path + "/events", R"({"type":"reopen","message":"again"})");
    REQUIRE_MESSAGE(reopened.status == 200, reopened.body);
    const auto request = get_object(client, path);
    CHECK(request.at("status").as_string() == "open");
    const auto clock = clock_of(request, "resolution");
    CHECK_FALSE(clock.at("open").as_bool());
    CHECK(clock.at("state").as_string() == "met");
    CHECK(client.get("/v1/sla/timers").body.find("\"request_id\":1,") == std::string::npos);
  }

  TEST_CASE("a policy that replaces another without a metric its open clocks count is refused at its replaces entry") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      {
        testing::server_process server(backend.args(named_config(dir, "office", "standard", "",
                                                     R"({ metric = "resolution", target = "4h", warning = 0.5 })")));
        auto client = server.client(model::role::se);
        REQUIRE(client.post_json("/v1/requests", std::string(troubleshooting)).status == 201);
        REQUIRE(server.terminate() == 0);
      }

      const auto without = named_config(dir, "office", "standard-2027", "replaces = [\"standard\"]",
                                        R"({ metric = "first_response", target = "1h" })");
      const auto line = line_of(without, "replaces = [");
      REQUIRE(line > 0);
      const auto where = fmt::format(
          "{}:{}:13: SLA policy \"standard-2027\" replaces \"standard\", whose 1 open SLA clock counts resolution, but has "
          "no resolution metric",
          without, line);
      const auto refused = backend.refused_start(without);
      CHECK(refused.exit_code == 1);
      CHECK_MESSAGE(refused.err.find(where) != std::string::npos, refused.err);
      const auto checked = testing::run_program({SWITCHBOARD_CLI_PATH, "--config", without, "rules", "check", "--db", backend.database()});
      CHECK(checked.exit_code == 1);
      CHECK_MESSAGE(checked.err.find(where) != std::string::npos, checked.err);

      // --json lists every error at its own place: with the calendar gone too, there are two.
      const auto both = named_config(dir, "office2", "standard-2027", "replaces = [\"standard\"]",
                                     R"({ metric = "first_response", target = "1h" })");
      const auto as_json =
          testing::run_program({SWITCHBOARD_CLI_PATH, "--config", both, "--json", "rules", "check", "--db", backend.database()});
      CHECK(as_json.exit_code == 1);
      const auto errors = boost::json::parse(as_json.out).at("errors").as_array();
      REQUIRE_MESSAGE(errors.size() == 2, as_json.out);
      CHECK(std::string(errors[0].at("message").as_string()).starts_with("calendar \"office\" is used by 1 open SLA clock"));
      CHECK(errors[1].at("line").as_int64() == line_of(both, "replaces = ["));
      CHECK(errors[1].at("column").as_int64() == 13);
      CHECK(std::string(errors[1].at("message").as_string()).starts_with("SLA policy \"standard-2027\" replaces \"standard\""));

      // With the metric, the rename is accepted.
      const auto with = named_config(dir, "office", "standard-2027", "replaces = [\"standard\"]",
                                     R"({ metric = "resolution", target = "6h" })");
      const auto accepted = testing::run_program({SWITCHBOARD_CLI_PATH, "--config", with, "rules", "check", "--db", backend.database()});
      CHECK_MESSAGE(accepted.exit_code == 0, accepted.err);
    });
  }

  // SQLite only, for time: the clock's state is the stored document's, read back the same on
  // PostgreSQL by the two breached-then-paused cases below.
  TEST_CASE("a clock met after it breached reads breached, not open, with the instant it was met") {
    const testing::server_backend backend;  // SQLite
    testing::temp_dir dir;
    // Wednesday 10:00 UTC, office hours; a 2-minute resolution target at 60x breaches in about 2 s.
    testing::server_process server(backend.args(office_config(dir, "office", "", "2m"),
                                                {"--clock-start", "2026-12-02T10:00:00Z", "--clock-speed", "60"}));
    auto client = server.client(model::role::se);
    const auto id = json::parse(client.post_json("/v1/requests", std::string(troubleshooting)).body).at("id").as_int64();
    const auto path = "/v1/requests/" + std::to_string(id);
    REQUIRE(eventually([&] {
      const auto events = clock_events(client, id);
      return std::any_of(events.begin(), events.end(), [](const auto& e) { return e.first == "sla.breached"; });
    }));
    REQUIRE(client.post_json(path + "/events", R"({"type":"resolve","message":"done, late"})").status == 200);

    std::string met_at;
    const auto events = get_object(client, path + "/events");
    for (const auto& e : events.at("events").as_array())
      if (e.at("type").as_string() == "sla.met") met_at = std::string(e.at("at").as_string());
    REQUIRE(!met_at.empty());
    const auto clock = clock_of(get_object(client, path), "resolution");
    CHECK(clock.at("state").as_string() == "breached");
    CHECK(clock.at("breached").as_bool());
    CHECK_FALSE(clock.at("open").as_bool());
    CHECK(clock.at("completed_at").as_string() == met_at);
    CHECK(clock.at("deadline").is_null());
  }

  TEST_CASE("a clock paused after it breached still says breached in the API, the timers and the dashboard") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      // Wednesday 10:00 UTC, inside office hours; a 2-minute resolution target at 60x breaches
      // about two seconds in.
      testing::server_process server(backend.args(office_config(dir, "office", "", "2m"),
                                                  {"--clock-start", "2026-12-02T10:00:00Z", "--clock-speed", "60"}));
      auto client = server.client(model::role::se);
      const auto created = json::parse(client.post_json("/v1/requests", std::string(troubleshooting)).body).as_object();
      const auto id = created.at("id").as_int64();
      const auto path = "/v1/requests/" + std::to_string(id);
      REQUIRE(eventually([&] {
        const auto events = clock_events(client, id);
        return std::any_of(events.begin(), events.end(), [](const auto& e) { return e.first == "sla.breached"; });
      }));

      const auto pended = client.post_json(path + "/events", R"({"type":"pend","message":"Could you send the logs?"})");
      REQUIRE(pended.status == 200);
      auto check_paused_and_breached = [](const json::object& clock) {
        CHECK(clock.at("state").as_string() == "paused");
        CHECK(clock.at("breached").as_bool());
        CHECK(clock.at("deadline").is_null());
        CHECK(clock.at("remaining_seconds").as_int64() <= 0);
      };
      check_paused_and_breached(clock_of(json::parse(pended.body).as_object(), "resolution"));
      check_paused_and_breached(clock_of(get_object(client, path), "resolution"));

      const auto timers = get_object(client, "/v1/sla/timers").at("timers").as_array();
      REQUIRE(timers.size() == 1);
      check_paused_and_breached(timers[0].as_object());

      // What the dashboard page reads: the same two facts, so it can say "Breached, paused".
      const auto rows = get_object(client, "/v1/dashboard/clocks").at("requests").as_array();
      REQUIRE(rows.size() == 1);
      const auto& row_clock = rows[0].at("clocks").at(0).as_object();
      CHECK(row_clock.at("metric").as_string() == "resolution");
      CHECK(row_clock.at("state").as_string() == "paused");
      CHECK(row_clock.at("breached").as_bool());

      // /metrics tells it from a plain paused clock, read from the counters the clock rows keep.
      const auto metrics = client.get("/metrics");
      REQUIRE(metrics.status == 200);
      CHECK_MESSAGE(metrics.body.find("switchboard_open_clocks{state=\"paused\",breached=\"true\"} 1\n") != std::string::npos,
                    metrics.body);
      CHECK(metrics.body.find("breached=\"false\"") == std::string::npos);

      // The customer replies: running again, and still breached.
      const auto replied = client.post_json(path + "/events", R"({"type":"customer_reply","message":"Here they are"})");
      REQUIRE(replied.status == 200);
      const auto after_reply = json::parse(replied.body).as_object();
      const auto& resumed = clock_of(after_reply, "resolution");
      CHECK(resumed.at("state").as_string() == "breached");
      CHECK(resumed.at("breached").as_bool());
      CHECK(client.get("/metrics").body.find("switchboard_open_clocks{state=\"breached\",breached=\"true\"} 1\n") !=
            std::string::npos);
    });
  }

  TEST_CASE("the dashboard snapshot's counts tell breached-then-paused clocks apart when the snapshot holds only some rows") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      // Wednesday 10:00 UTC, office hours; 2-minute resolution targets at 60x breach in about 2 s.
      testing::server_process server(backend.args(office_config(dir, "office", "", "2m"),
                                                  {"--clock-start", "2026-12-02T10:00:00Z", "--clock-speed", "60"}));
      auto client = server.client(model::role::se);
      std::vector<std::int64_t> ids;
      for (int i = 0; i < 3; ++i)
        ids.push_back(json::parse(client.post_json("/v1/requests", std::string(troubleshooting)).body).at("id").as_int64());
      for (const auto id : ids)
        REQUIRE(eventually([&] {
          const auto events = clock_events(client, id);
          return std::any_of(events.begin(), events.end(), [](const auto& e) { return e.first == "sla.breached"; });
        }));
      // One of the three waits on the customer: breached, then paused.
      REQUIRE(client.post_json(fmt::format("/v1/requests/{}/events", ids[1]), R"({"type":"pend","message":"Logs?"})").status ==
              200);

      // Two rows of three: the page must use the server's counts, which must say what the rows say.
      const auto snapshot = get_object(client, "/v1/dashboard/clocks?limit=2");
      REQUIRE_FALSE(snapshot.at("next_cursor").is_null());
      CHECK(snapshot.at("open_clocks").as_int64() == 3);
      std::map<std::pair<std::string, bool>, std::int64_t> counts;
      for (const auto& c : snapshot.at("counts").as_array()) {
        CHECK(c.at("team").as_string() == "se");
        counts[{std::string(c.at("state").as_string()), c.at("breached").as_bool()}] += c.at("clocks").as_int64();
      }
      CHECK(counts == std::map<std::pair<std::string, bool>, std::int64_t>{{{"breached", true}, 2}, {{"paused", true}, 1}});
      // The whole snapshot agrees row by row.
      const auto all = get_object(client, "/v1/dashboard/clocks");
      REQUIRE(all.at("next_cursor").is_null());
      int breached_paused = 0;
      for (const auto& row : all.at("requests").as_array())
        for (const auto& clock : row.at("clocks").as_array())
          if (clock.at("state") == "paused" && clock.at("breached").as_bool()) ++breached_paused;
      CHECK(breached_paused == 1);

      // The customer replies: back to breached, and the counts follow.
      REQUIRE(client.post_json(fmt::format("/v1/requests/{}/events", ids[1]), R"({"type":"customer_reply","message":"Here"})")
                  .status == 200);
      counts.clear();
      const auto reply_snapshot = get_object(client, "/v1/dashboard/clocks?limit=2");
      for (const auto& c : reply_snapshot.at("counts").as_array())
        counts[{std::string(c.at("state").as_string()), c.at("breached").as_bool()}] += c.at("clocks").as_int64();
      CHECK(counts == std::map<std::pair<std::string, bool>, std::int64_t>{{{"breached", true}, 3}});
    });
  }

  TEST_CASE("a request shows its clocks, pend pauses them, a reply resumes, respond meets") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      testing::server_process server(backend.args(fast_config(dir)));
      auto client = server.client(model::role::se);

      const auto created = json::parse(client.post_json("/v1/requests", std::string(troubleshooting)).body).as_object();
      const auto id = created.at("id").as_int64();
      const auto path = "/v1/requests/" + std::to_string(id);
      const auto& first = clock_of(created, "first_response");
      CHECK(first.at("state").as_string() == "running");
      CHECK(first.at("target_seconds").as_int64() == 4);
      CHECK(first.at("deadline").as_string() == plus_seconds(std::string(created.at("created_at").as_string()), 4));
      CHECK(clock_of(created, "resolution").at("remaining_seconds").as_int64() <= 3600);

      auto act = [&](std::string_view type) {
        return client.post_json(path + "/events", fmt::format(R"({{"type":"{}","message":"..."}})", type));
      };
      const auto pended = act("pend");
      REQUIRE(pended.status == 200);
      const auto after_pend = json::parse(pended.body).as_object();
      CHECK(after_pend.at("status").as_string() == "pending_customer");
      CHECK(clock_of(after_pend, "first_response").at("state").as_string() == "met");
      CHECK(clock_of(after_pend, "resolution").at("state").as_string() == "paused");
      CHECK(clock_of(after_pend, "resolution").at("deadline").is_null());

      // While paused, used time does not grow.
      const auto used_before = clock_of(after_pend, "resolution").at("used_seconds").as_int64();
      std::this_thread::sleep_for(1100ms);
      CHECK(clock_of(get_object(client, path), "resolution").at("used_seconds").as_int64() == used_before);

      const auto replied = json::parse(act("customer_reply").body).as_object();
      CHECK(replied.at("status").as_string() == "open");
      CHECK(clock_of(replied, "resolution").at("state").as_string() == "running");
      CHECK(clock_of(replied, "next_response").at("state").as_string() == "running");

      const auto responded = json::parse(act("respond").body).as_object();
      CHECK(clock_of(responded, "next_response").at("state").as_string() == "met");

      const auto resolved = json::parse(act("resolve").body).as_object();
      CHECK(resolved.at("status").as_string() == "resolved");
      CHECK(clock_of(resolved, "resolution").at("state").as_string() == "met");

      const auto again = act("resolve");
      CHECK(again.status == 409);
      CHECK(json::parse(again.body).at("error").at("code").as_string() == "invalid_transition");
      CHECK(act("teleport").status == 422);
      CHECK(client.post_json("/v1/requests/999/events", R"({"type":"respond"})").status == 404);
      CHECK(act("reopen").status == 200);
    });
  }

  // SQLite only, for time (it waits out a 4 s breach): on PostgreSQL the same firings at their
  // instants are checked by the kill -9 case below, /v1/sla/timers by the paused-after-breach
  // case, and the team filter by store::pages' cases on both adapters.
  TEST_CASE("the scheduler records the warning and the breach at their instants, timers list by time to breach") {
    testing::temp_dir dir;
    testing::server_process server({fast_config(dir), dir.file("switchboard.db"), {}});
    auto client = server.client(model::role::se);

    const auto slow = json::parse(client.post_json("/v1/requests", std::string(troubleshooting)).body).as_object();
    const auto id = slow.at("id").as_int64();
    const std::string created_at(slow.at("created_at").as_string());
    const auto how_to = client.post_json(
        "/v1/requests", R"({"kind":"how_to","customer":{"id":"acme","name":"Acme","stage":"trial"},"title":"How?"})");
    REQUIRE(how_to.status == 201);

    const auto timers = get_object(client, "/v1/sla/timers?team=se").at("timers").as_array();
    REQUIRE(timers.size() == 2);  // first_response, then resolution: by deadline
    CHECK(timers[0].at("metric").as_string() == "first_response");
    CHECK(timers[0].at("request_id").as_int64() == id);
    CHECK(timers[1].at("metric").as_string() == "resolution");
    CHECK(get_object(client, "/v1/sla/timers?team=product").at("timers").as_array().empty());
    CHECK(client.get("/v1/sla/timers?team=sales").status == 422);

    CHECK(eventually([&] { return clock_events(client, id).size() >= 2; }));
    CHECK(clock_events(client, id) == std::vector<std::pair<std::string, std::string>>{
                                          {"sla.warning", plus_seconds(created_at, 2)},
                                          {"sla.breached", plus_seconds(created_at, 4)}});
    const auto breached = get_object(client, "/v1/requests/" + std::to_string(id));
    CHECK(clock_of(breached, "first_response").at("state").as_string() == "breached");
    // 0 at the breach's instant, below once the server's clock has moved past it.
    CHECK(eventually([&] {
      const auto now = get_object(client, "/v1/requests/" + std::to_string(id));
      return clock_of(now, "first_response").at("remaining_seconds").as_int64() < 0;
    }));
  }

  TEST_CASE("after kill -9 the clocks are back, and a breach that fell due while down is recorded once") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      backend.set_lease_seconds(2);  // PostgreSQL: the restarted server takes the killed one's timers
      testing::temp_dir dir;
      const auto config = fast_config(dir);
      std::int64_t id = 0;
      std::string created_at;
      {
        testing::server_process server(backend.args(config));
        auto client = server.client(model::role::se);
        const auto created = json::parse(client.post_json("/v1/requests", std::string(troubleshooting)).body).as_object();
        id = created.at("id").as_int64();
        created_at = std::string(created.at("created_at").as_string());
        server.kill();
      }
      std::this_thread::sleep_for(5s);  // the warning (2 s) and the breach (4 s) fall due while down

      const std::vector<std::pair<std::string, std::string>> expected{{"sla.warning", plus_seconds(created_at, 2)},
                                                                      {"sla.breached", plus_seconds(created_at, 4)}};
      {
        testing::server_process server(backend.args(config));
        auto client = server.client(model::role::se);
        CHECK(eventually([&] { return clock_events(client, id).size() >= 2; }));
        CHECK(clock_events(client, id) == expected);
        const auto request = get_object(client, "/v1/requests/" + std::to_string(id));
        CHECK(clock_of(request, "first_response").at("state").as_string() == "breached");
        const auto& resolution = clock_of(request, "resolution");
        CHECK(resolution.at("state").as_string() == "running");
        CHECK(resolution.at("deadline").as_string() == plus_seconds(created_at, 3600));
        server.kill();
      }
      testing::server_process again(backend.args(config));
      auto client = again.client(model::role::se);
      // Once this server fires timers (a new request's warning, 2 s after filing, is recorded),
      // it has loaded the first request's clocks too, and recorded nothing of them again.
      const auto marker = json::parse(client.post_json("/v1/requests", std::string(troubleshooting)).body).at("id").as_int64();
      CHECK(eventually([&] { return !clock_events(client, marker).empty(); }));
      CHECK(clock_events(client, id) == expected);
    });
  }
}
