// The server's logs through the real binary with --log-format json: every stderr line is one
// JSON object; each answer carries X-Request-Id, the one its access line names; the line has the
// route's pattern, the status, the duration and the person who asked.
#include "http/client.hpp"
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/eventually.hpp"
#include "support/raw_connection.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "webhooks/webhook_server.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace switchboard;
namespace json = boost::json;
using model::role;
using testing::eventually;

namespace {

// Every line of `log`, each parsed as a JSON object; FAILs on a line that is not one.
std::vector<json::object> json_lines(const std::string& log) {
  std::vector<json::object> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    CAPTURE(line);
    boost::system::error_code ec;
    auto value = json::parse(line, ec);
    CHECK_MESSAGE(!ec, "not JSON");
    if (ec) continue;
    CHECK(value.is_object());
    if (!value.is_object()) continue;
    auto& object = value.as_object();
    CHECK(object.contains("ts"));
    CHECK(object.contains("level"));
    CHECK(object.contains("msg"));
    lines.push_back(std::move(object));
  }
  return lines;
}

// The access line with this request id; an empty object when there is none.
json::object access_line(const std::vector<json::object>& lines, std::string_view id) {
  for (const auto& line : lines)
    if (line.contains("request_id") && line.at("request_id") == json::value(id)) return line;
  return {};
}

bool is_generated_id(const std::string& id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

TEST_SUITE("integration::logs") {
  TEST_CASE("json logs: one object a line, request ids on every answer and in the access line") {
    testing::temp_dir dir;
    testing::server_process server(testing::server_args{"", dir.file("switchboard.db"), {"--log-format", "json"}});
    auto se = server.client(role::se);
    const auto filed = se.post_json("/v1/requests", testing::troubleshooting_filing("VPN drops"));
    REQUIRE(filed.status == 201);
    const auto id = testing::json_of(filed).at("id").to_number<std::int64_t>();

    // A GET by an authenticated person: the id it gets back is the one its log line has.
    const auto shown = se.get(fmt::format("/v1/requests/{}", id));
    REQUIRE(shown.status == 200);
    const auto shown_id = shown.header("X-Request-Id");
    CHECK(is_generated_id(shown_id));

    // The client's own id comes back when it is a sane token, and is replaced when it is not.
    const auto echoed =
        se.request("GET", "/v1/requests?limit=5", {}, "application/json", {{"X-Request-Id", "abc-123"}});
    CHECK(echoed.status == 200);
    CHECK(echoed.header("X-Request-Id") == "abc-123");
    const auto replaced =
        se.request("GET", "/v1/requests?limit=5", {}, "application/json", {{"X-Request-Id", "abc def"}});
    CHECK(replaced.status == 200);
    CHECK(is_generated_id(replaced.header("X-Request-Id")));

    // Refusals carry one too: 401 without a token, and 401 before the body is read.
    http::client anonymous(server.url());
    const auto refused = anonymous.get("/v1/requests");
    CHECK(refused.status == 401);
    CHECK(is_generated_id(refused.header("X-Request-Id")));
    testing::raw_connection raw(testing::port_of(server.url()));
    REQUIRE(
        raw.send_all("POST /v1/requests HTTP/1.1\r\nHost: x\r\nX-Request-Id: unread-body-1\r\n"
                     "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"));
    const auto before_body = raw.read_response();
    CHECK(before_body.status == 401);
    CHECK(before_body.head.find("\r\nX-Request-Id: unread-body-1\r\n") != std::string::npos);
    raw.close();  // else the server drains the unread body for a few seconds at SIGTERM
    testing::raw_connection large(testing::port_of(server.url()));
    REQUIRE(
        large.send_all(fmt::format("POST /v1/requests HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n"
                                   "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n",
                                   testing::token_for(role::se))));
    const auto too_large = large.read_response();
    CHECK(too_large.status == 413);
    CHECK(too_large.head.find("\r\nX-Request-Id: ") != std::string::npos);
    large.close();
    const auto missing = se.request("GET", "/v1/no/such/thing?q=sb_Xq3v9K_LmN0pQr-StUvWxYz0123456789abcdefghij", {},
                                    "application/json", {{"X-Request-Id", "missing-1"}});
    CHECK(missing.status == 404);
    CHECK(missing.header("X-Request-Id") == "missing-1");

    // Every line written, the server stopped: the shutdown's own lines are JSON too.
    REQUIRE(eventually([&] { return server.stderr_text().find("missing-1") != std::string::npos; }));
    REQUIRE(server.terminate() == 0);
    const auto log = server.stderr_text();
    CAPTURE(log);
    const auto lines = json_lines(log);
    REQUIRE(lines.size() >= 8);
    const auto started = std::find_if(lines.begin(), lines.end(), [](const json::object& line) {
      return line.at("msg").as_string().find(" as instance ") != json::string::npos;
    });
    REQUIRE(started != lines.end());
    CHECK(started->at("level") == "info");

    const auto get = access_line(lines, shown_id);
    REQUIRE_FALSE(get.empty());
    CHECK(get.at("msg") == "request");
    CHECK(get.at("method") == "GET");
    CHECK(get.at("route") == "/v1/requests/{id}");
    CHECK(get.at("target") == json::value(fmt::format("/v1/requests/{}", id)));
    CHECK(get.at("status") == 200);
    CHECK(get.at("actor") == json::value(testing::person_for(role::se)));
    CHECK(get.at("duration_ms").is_number());
    CHECK(get.at("duration_ms").to_number<double>() >= 0);

    CHECK(access_line(lines, "abc-123").at("route") == "/v1/requests");
    const auto anonymous_line = access_line(lines, refused.header("X-Request-Id"));
    REQUIRE_FALSE(anonymous_line.empty());
    CHECK(anonymous_line.at("status") == 401);
    CHECK(anonymous_line.at("actor").is_null());
    const auto unread = access_line(lines, "unread-body-1");
    REQUIRE_FALSE(unread.empty());
    CHECK(unread.at("status") == 401);
    CHECK(unread.at("route") == "/v1/requests");
    const auto not_found = access_line(lines, "missing-1");
    REQUIRE_FALSE(not_found.empty());
    CHECK(not_found.at("route") == "unmatched");
    CHECK(not_found.at("target") == "/v1/no/such/thing?q=REDACTED");
    CHECK(log.find("sb_Xq3v9K") == std::string::npos);
  }

  TEST_CASE(
      "[server] log_format = \"json\" in the config, and a signed Slack request's actor is its mapped person or "
      "slack:<user>") {
    testing::temp_dir dir;
    const auto config = testing::fast_config(dir);
    std::ofstream(config, std::ios::app) << R"(
[integrations.slack.users]
U0SESAM001 = { person = "se-person", role = "se" }
)";
    // [server] is the config's first table: log_format goes under its header.
    auto text = testing::read_text(config);
    const auto server_table = text.find("[server]\n");
    REQUIRE(server_table != std::string::npos);
    text.insert(server_table + 9, "log_format = \"json\"\n");
    testing::write_file(config, text);
    testing::server_process server(testing::server_args{
        config, dir.file("switchboard.db"), {}, {{"SWITCHBOARD_SLACK_SIGNING_SECRET", testing::slack_secret}}});
    http::client slack(server.url());
    for (const std::string user : {"U0SESAM001", "U0NOBODY01"}) {
      const auto body = "command=%2Fsupport&text=&user_id=" + user;
      auto headers = testing::slack_headers(body, testing::unix_now());
      headers.emplace_back("X-Request-Id", "slack-" + user);
      const auto answer =
          slack.request("POST", "/v1/webhooks/slack/commands", body, "application/x-www-form-urlencoded", headers);
      CHECK(answer.status == 200);
    }
    REQUIRE(eventually([&] { return server.stderr_text().find("slack-U0NOBODY01") != std::string::npos; }));
    const auto log = server.stderr_text();
    CAPTURE(log);
    const auto lines = json_lines(log);
    const auto mapped = access_line(lines, "slack-U0SESAM001");
    REQUIRE_FALSE(mapped.empty());
    CHECK(mapped.at("route") == "/v1/webhooks/slack/commands");
    CHECK(mapped.at("actor") == "se-person");
    CHECK(access_line(lines, "slack-U0NOBODY01").at("actor") == "slack:U0NOBODY01");
  }

  TEST_CASE("the dashboard stream's access line names its route and viewer and it is not timed as a request") {
    testing::temp_dir dir;
    testing::server_process server(testing::server_args{"", dir.file("switchboard.db"), {"--log-format", "json"}});
    testing::raw_connection stream(testing::port_of(server.url()));
    REQUIRE(
        stream.send_all(fmt::format("GET /v1/dashboard/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n"
                                    "X-Request-Id: stream-2\r\n\r\n",
                                    testing::token_for(role::viewer))));
    CHECK(stream.read_response().status == 200);
    stream.close();
    // A stream refused for want of a token: the same route, no actor.
    testing::raw_connection refused(testing::port_of(server.url()));
    REQUIRE(refused.send_all("GET /v1/dashboard/stream HTTP/1.1\r\nHost: x\r\nX-Request-Id: stream-3\r\n\r\n"));
    CHECK(refused.read_response().status == 401);
    refused.close();
    // The breaker's finding 10 through the real log: these names' values never reach it.
    auto viewer = server.client(role::viewer);
    const auto asked = viewer.request("GET", "/v1/requests?pwd=hunter2&passwd=hunter3&api-key=k-4", {},
                                      "application/json", {{"X-Request-Id", "redact-1"}});
    CHECK(asked.header("X-Request-Id") == "redact-1");
    // The server finds the closed stream when a write to it fails: filings give it changes to
    // write (else only the heartbeat, every 15 s, would).
    auto se = server.client(role::se);
    int filings = 0;
    REQUIRE(eventually([&] {
      const auto log = server.stderr_text();
      if (log.find("stream-2") != std::string::npos && log.find("stream-3") != std::string::npos &&
          log.find("redact-1") != std::string::npos)
        return true;
      if (filings < 20 && se.post_json("/v1/requests", testing::troubleshooting_filing("VPN drops")).status == 201)
        ++filings;
      return false;
    }));
    const auto log = server.stderr_text();
    CAPTURE(log);
    const auto lines = json_lines(log);
    const auto streamed = access_line(lines, "stream-2");
    REQUIRE_FALSE(streamed.empty());
    CHECK(streamed.at("route") == "/v1/dashboard/stream");
    CHECK(streamed.at("actor") == json::value(testing::person_for(role::viewer)));
    CHECK(streamed.at("status") == 200);
    const auto unauthenticated = access_line(lines, "stream-3");
    REQUIRE_FALSE(unauthenticated.empty());
    CHECK(unauthenticated.at("route") == "/v1/dashboard/stream");
    CHECK(unauthenticated.at("actor").is_null());
    CHECK(unauthenticated.at("status") == 401);
    const auto redacted = access_line(lines, "redact-1");
    REQUIRE_FALSE(redacted.empty());
    CHECK(redacted.at("target") == "/v1/requests?pwd=REDACTED&passwd=REDACTED&api-key=REDACTED");
    CHECK(log.find("hunter") == std::string::npos);

    // Counted by its route, but only the refusal is in the latency histogram.
    const auto metrics = viewer.get("/metrics");
    REQUIRE(metrics.status == 200);
    CAPTURE(metrics.body);
    CHECK(metrics.body.find(R"(switchboard_http_requests_total{route="/v1/dashboard/stream",method="GET",status="200"} 1)") !=
          std::string::npos);
    CHECK(metrics.body.find(R"(route="takeover")") == std::string::npos);
    CHECK(metrics.body.find(R"(switchboard_http_request_duration_seconds_count{route="/v1/dashboard/stream",method="GET"} 1)") !=
          std::string::npos);
  }

  TEST_CASE("text stays the default: the access line as before, the id on the answer") {
    testing::temp_dir dir;
    testing::server_process server(dir.file("switchboard.db"));
    auto viewer = server.client(role::viewer);
    const auto listed =
        viewer.request("GET", "/v1/requests?limit=5", {}, "application/json", {{"X-Request-Id", "t-1"}});
    CHECK(listed.header("X-Request-Id") == "t-1");
    // The dashboard's stream writes its own header (server::set_takeover): the id is on it too.
    testing::raw_connection stream(testing::port_of(server.url()));
    REQUIRE(
        stream.send_all(fmt::format("GET /v1/dashboard/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n"
                                    "X-Request-Id: stream-1\r\n\r\n",
                                    testing::token_for(role::viewer))));
    const auto streaming = stream.read_response();
    CHECK(streaming.status == 200);
    CHECK(streaming.head.find("\r\nX-Request-Id: stream-1") != std::string::npos);
    stream.close();
    REQUIRE(
        eventually([&] { return server.stderr_text().find(" GET /v1/requests?limit=5 200 ") != std::string::npos; }));
    const auto log = server.stderr_text();
    CAPTURE(log);
    CHECK(log.find("{\"ts\"") == std::string::npos);
    CHECK(log.find("switchboard: ") != std::string::npos);
  }
}
