// /metrics through the real server (issue 14 §4): the HTTP counters by route pattern, a breach
// by its policy and metric, the escalation it notified, webhook attempts by outcome and the
// group-commit batch sizes, each counted once, with no label holding a request id or a raw path.
// With SWITCHBOARD_TEST_METRICS_BODY set, the /metrics body is written there for promtool.
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/eventually.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/webhook_receiver.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace switchboard;
using namespace std::chrono_literals;
namespace json = boost::json;
using model::role;

namespace {

// The value of the series written exactly as `series` (name and labels), if present.
std::optional<double> sample(const std::string& body, const std::string& series) {
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);)
    if (line.size() > series.size() && line.starts_with(series) && line[series.size()] == ' ')
      return std::stod(line.substr(series.size() + 1));
  return std::nullopt;
}

// Every label (name, value) of every sample line.
std::vector<std::pair<std::string, std::string>> labels_of(const std::string& body) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::regex label(R"re(([a-z_]+)="((?:[^"\\]|\\.)*)")re");
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    for (std::sregex_iterator it(line.begin(), line.end(), label), end; it != end; ++it) out.emplace_back((*it)[1], (*it)[2]);
  }
  return out;
}

}  // namespace

TEST_SUITE("integration::metrics") {
  TEST_CASE("requests, a breach, its escalation, webhook attempts and commit batches are counted") {
    // The first attempt of the first webhook is answered 500, every other 200: one retry.
    std::string failed_once;  // the receiver's thread alone touches it
    testing::webhook_receiver hooks(false, [&failed_once](const testing::webhook_hit& hit, int attempt) {
      if (failed_once.empty() && attempt == 1) {
        failed_once = hit.id;
        return testing::webhook_answer{500, {}};
      }
      return testing::webhook_answer{200, {}};
    });
    testing::temp_dir dir;
    // Business time is one minute at 10:00 and one at 12:00 UTC (integration::escalation_people's
    // short calendar): filed at 05:00 at 3600 times real speed, the troubleshooting request's
    // 1-minute first response breaches at 10:01:00, about 5 s on; the how-to requests have no
    // SLA policy, so exactly one breach.
    const auto config = testing::config_on_always_calendar(
        dir, testing::test_people("always") + testing::outbound_notify_and_acme_toml() + testing::short_calendar_toml() + fmt::format(R"(
[[notify.subscription]]
name = "ops"
url = "http://127.0.0.1:{}/hook"
events = ["request.created"]
secret_env = "SWITCHBOARD_TEST_METRICS_WEBHOOK_SECRET"
allow_private = true


[[escalation.ladder]]
name = "sla_breach"
calendar = "short"
levels = [{{ after = "0s", notify = ["head_of_cs"] }}]
)",
                                                                                                    hooks.port()));
    testing::server_process server(testing::server_args{
        config, dir.file("switchboard.db"), {"--clock-start", "2026-11-20T05:00:00Z", "--clock-speed", "3600"},
        {{"SWITCHBOARD_TEST_METRICS_WEBHOOK_SECRET", "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ="}}});
    auto ce = server.client(role::ce);
    std::vector<std::int64_t> ids;
    for (const auto* kind : {"troubleshooting", "how_to", "how_to"}) {
      const auto filed = ce.post_json("/v1/requests", json::serialize(json::object{{"kind", kind},
                                                                                  {"customer", json::object{{"id", "acme"}}},
                                                                                  {"title", "Search is down"},
                                                                                  {"body", "Every query fails."},
                                                                                  {"source", "api"}}));
      REQUIRE(filed.status == 201);
      ids.push_back(testing::json_of(filed).at("id").as_int64());
    }
    // A read by id, so that its route pattern (never the id) is a label.
    REQUIRE(ce.get(fmt::format("/v1/requests/{}", ids[0])).status == 200);
    REQUIRE(ce.get("/no/such/path/" + std::to_string(ids[1])).status == 404);

    const std::string breaches = R"(switchboard_sla_breaches_total{policy="short",metric="first_response"})";
    const std::string delivered = R"(switchboard_webhook_deliveries_total{subscription="ops",outcome="delivered"})";
    const std::string retried = R"(switchboard_webhook_deliveries_total{subscription="ops",outcome="retry"})";
    std::string body;
    const bool settled = testing::eventually(
        [&] {
          const auto got = ce.get("/metrics");
          if (got.status != 200) return false;
          body = got.body;
          return sample(body, breaches) && sample(body, delivered) == 3.0 && sample(body, retried);
        },
        60s);
    CAPTURE(body);
    REQUIRE(settled);
    CHECK(sample(body, R"(switchboard_http_requests_total{route="/v1/requests",method="POST",status="201"})") == 3.0);
    CHECK(sample(body, R"(switchboard_http_requests_total{route="/v1/requests/{id}",method="GET",status="200"})") == 1.0);
    CHECK(sample(body, R"(switchboard_http_requests_total{route="unmatched",method="GET",status="404"})") == 1.0);
    CHECK(sample(body, R"(switchboard_http_request_duration_seconds_count{route="/v1/requests",method="POST"})") == 3.0);
    CHECK(sample(body, breaches) == 1.0);
    // The policy's default warning comes before its breach, once.
    CHECK(sample(body, R"(switchboard_sla_warnings_total{policy="short",metric="first_response"})") == 1.0);
    CHECK(sample(body, R"(switchboard_escalation_notifications_total{ladder="sla_breach",level="1"})") == 1.0);
    CHECK(sample(body, retried) == 1.0);
    CHECK(!sample(body, R"(switchboard_webhook_deliveries_total{subscription="ops",outcome="dead"})"));
    const auto batches = sample(body, "switchboard_commit_batch_size_count");
    REQUIRE(batches);
    CHECK(*batches >= 1.0);
    // For tests/tools/promtool_metrics.sh (CTest promtool_metrics): `promtool check metrics` on
    // this body, which has samples of every family.
    if (const char* out = std::getenv("SWITCHBOARD_TEST_METRICS_BODY"); out != nullptr && *out != '\0')
      testing::write_file(out, body);
    // The gauges read from the store are still there.
    CHECK(body.find("# TYPE switchboard_open_clocks gauge\n") != std::string::npos);

    // No label holds a request id or a raw path: routes are patterns or "unmatched".
    std::set<std::string> id_texts;
    for (const auto id : ids) id_texts.insert(std::to_string(id));
    // Not a structured binding: clang 14 (the sanitizer build) cannot capture one in doctest's macros.
    for (const auto& label : labels_of(body)) {
      const auto& name = label.first;
      const auto& value = label.second;
      CAPTURE(name);
      CAPTURE(value);
      // Numbers that are not ids: a bucket's bound, an escalation level, an HTTP status.
      if (name != "le" && name != "level" && name != "status") CHECK(!id_texts.contains(value));
      CHECK(value.find("/no/such") == std::string::npos);
      for (const auto& id : id_texts) CHECK(value.find("/" + id) == std::string::npos);
    }
  }
}
