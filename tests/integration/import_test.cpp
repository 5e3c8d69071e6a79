// Importing tickets through the real server (POST /v1/import and switchboard-cli import), on
// both store adapters: the past is recorded with its instants and breaches, nothing is sent
// about it, re-importing answers "exists", and an open imported clock goes on live.
#include "http/client.hpp"
#include "model/instant.hpp"
#include "model/request.hpp"
#include "store/postgres/test_database.hpp"
#include "support/api.hpp"
#include "support/at_once.hpp"
#include "support/configs.hpp"
#include "support/server_backends.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/webhook_receiver.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace switchboard;
using namespace std::chrono_literals;
namespace json = boost::json;
using model::role;

namespace {

// Polls `done` until it holds or 60 s pass; the server's clock runs on its own.
bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

// Three tickets of last week (one breached its 30 s first response), a line with bad fields
// and one that is not JSON.
const std::string past_tickets = std::string(
    R"({"external_id":"zd:1","kind":"troubleshooting","customer":{"id":"acme"},"title":"VPN drops","body":"Since Monday.","source":"email","requester":"ann@acme.example","created_at":"2026-11-18T09:00:00Z","owner":"se","history":[{"at":"2026-11-18T09:02:00Z","type":"respond","actor":{"person":"sam","role":"se"},"message":"Looking."},{"at":"2026-11-18T09:30:00Z","type":"resolve"}]})"
    "\n"
    R"({"external_id":"zd:2","kind":"troubleshooting","customer":{"id":"acme"},"title":"Login slow","created_at":"2026-11-18T10:00:00Z","history":[{"at":"2026-11-18T10:00:10Z","type":"respond"},{"at":"2026-11-18T10:20:00Z","type":"resolve"}]})"
    "\n"
    R"({"external_id":"zd:3","kind":"troubleshooting","customer":{"id":"acme"},"title":"Export fails","created_at":"2026-11-19T08:00:00Z","owner":"se","history":[{"at":"2026-11-19T08:00:05Z","type":"respond"},{"at":"2026-11-19T08:00:06Z","type":"pend"}]})"
    "\n"
    R"({"external_id":"zd:4","kind":"troubleshooting","customer":{"id":"acme"},"title":"Bad","created_at":"2026-11-19T08:00:00Z","owner":"sales","history":[{"at":"2026-11-19T08:00:05Z","type":"explode"}]})"
    "\n"
    "{not json\n");

std::vector<std::pair<std::string, std::int64_t>> hooks_seen(const testing::webhook_receiver& hooks) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& hit : hooks.hits()) {
    const auto body = json::parse(hit.body).as_object();
    out.emplace_back(std::string(body.at("type").as_string()), body.at("data").at("request_id").as_int64());
  }
  return out;
}

std::vector<json::object> events_of(http::client& client, std::int64_t id) {
  std::vector<json::object> out;
  const auto page = testing::json_of(client.get(fmt::format("/v1/requests/{}/events", id)));
  for (const auto& e : page.at("events").as_array()) out.push_back(e.as_object());
  return out;
}

http::client_response send_import(http::client& client, std::string body,
                             std::vector<std::pair<std::string, std::string>> headers = {}) {
  return client.request("POST", "/v1/import", std::move(body), "application/x-ndjson", headers);
}

}  // namespace

TEST_SUITE("integration::import") {
  TEST_CASE("tickets imported with their history send nothing for the past and their open clocks go on") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::webhook_receiver hooks;
      testing::temp_dir dir;
      const auto config = testing::config_on_always_calendar(
          dir, testing::test_people("always") + testing::outbound_notify_and_acme_toml() + fmt::format(R"(
[[notify.subscription]]
name = "all"
url = "http://127.0.0.1:{}/hook"
events = ["*"]
secret_env = "SWITCHBOARD_TEST_IMPORT_WEBHOOK_SECRET"
allow_private = true

[[sla.policy]]
name = "quick"
kinds = ["troubleshooting"]
calendar = "always"
metrics = [
  {{ metric = "first_response", target = "30s" }},
  {{ metric = "resolution", target = "1h", pause_on = ["pending_customer"] }},
]

[[escalation.ladder]]
name = "sla_breach"
calendar = "always"
levels = [{{ after = "0s", notify = ["head_of_cs"] }}]
)",
                                                                                                       hooks.port()));
      auto args = backend.args(config, {"--clock-start", "2026-11-20T10:00:00Z", "--clock-speed", "10"});
      args.environment.emplace_back("SWITCHBOARD_TEST_IMPORT_WEBHOOK_SECRET", "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=");
      testing::server_process server(args);
      auto admin = server.client(role::admin);
      auto ce = server.client(role::ce);

      // Only an admin imports, and only JSON lines.
      CHECK(send_import(ce, past_tickets).status == 403);
      CHECK(admin.request("POST", "/v1/import", past_tickets, "application/json").status == 415);

      const auto first = send_import(admin, past_tickets);
      REQUIRE(first.status == 200);
      const auto answer = testing::json_of(first);
      CHECK(answer.at("imported") == 3);
      CHECK(answer.at("exists") == 0);
      CHECK(answer.at("refused") == 2);
      const auto& results = answer.at("results").as_array();
      REQUIRE(results.size() == 5);
      std::vector<std::int64_t> ids;
      for (std::size_t i = 0; i < 3; ++i) {
        CHECK(results[i].at("line") == static_cast<std::int64_t>(i + 1));
        CHECK(results[i].at("outcome") == "imported");
        CHECK(std::string(results[i].at("external_id").as_string()) == fmt::format("zd:{}", i + 1));
        ids.push_back(results[i].at("id").as_int64());
      }
      // The bad line is refused naming every bad field, and the others went on.
      CHECK(results[3].at("line") == 4);
      CHECK(results[3].at("outcome") == "refused");
      CHECK(results[3].at("external_id") == "zd:4");
      CHECK(results[3].at("id").is_null());
      std::vector<std::string> fields;
      for (const auto& f : results[3].at("error").at("fields").as_array())
        fields.emplace_back(f.at("field").as_string());
      CHECK(fields == std::vector<std::string>{"owner", "history[0].type"});
      CHECK(results[4].at("line") == 5);
      CHECK(results[4].at("error").at("code") == "malformed_json");

      // Read back: its external id, its instants, its breach at the true instant, no ladder.
      const auto one = testing::json_of(admin.get(fmt::format("/v1/requests/{}", ids[0])));
      CHECK(one.at("external_id") == "zd:1");
      CHECK(one.at("status") == "resolved");
      CHECK(one.at("created_at") == "2026-11-18T09:00:00Z");
      CHECK(one.at("requester") == "ann@acme.example");
      CHECK(one.at("routing").at("rule") == "imported");
      CHECK(one.at("escalations").as_array().empty());
      const auto events = events_of(admin, ids[0]);
      REQUIRE(!events.empty());
      CHECK(events.front().at("type") == "request.created");
      CHECK(events.front().at("at") == "2026-11-18T09:00:00Z");
      std::vector<std::string> breaches;
      for (const auto& e : events) {
        if (e.at("type") == "sla.breached") breaches.emplace_back(e.at("at").as_string());
        CHECK_FALSE(std::string(e.at("type").as_string()).starts_with("escalation."));
      }
      CHECK(breaches == std::vector<std::string>{"2026-11-18T09:00:30Z"});
      const auto responded = std::find_if(events.begin(), events.end(),
                                          [](const json::object& e) { return e.at("type") == "request.responded"; });
      REQUIRE(responded != events.end());
      CHECK(responded->at("actor") == "se:sam");
      CHECK(responded->at("at") == "2026-11-18T09:02:00Z");
      const auto two = testing::json_of(admin.get(fmt::format("/v1/requests/{}", ids[1])));
      CHECK(two.at("status") == "resolved");
      CHECK(two.at("clocks").at(0).at("breached") == false);
      CHECK(testing::json_of(admin.get(fmt::format("/v1/requests/{}", ids[2]))).at("status") == "pending_customer");
      CHECK(testing::json_of(admin.get("/v1/escalations")).at("escalations").as_array().empty());

      // Again: every ticket exists, with the id it was given.
      const auto again = testing::json_of(send_import(admin, past_tickets));
      CHECK(again.at("imported") == 0);
      CHECK(again.at("exists") == 3);
      for (std::size_t i = 0; i < 3; ++i) {
        CHECK(again.at("results").at(i).at("outcome") == "exists");
        CHECK(again.at("results").at(i).at("id") == ids[i]);
      }

      // A request filed live now is delivered; nothing before it was (the outbox is in order).
      const auto marker = testing::json_of(ce.post_json(
          "/v1/requests", R"({"kind":"how_to","customer":{"id":"acme"},"title":"Where are the docs?"})"));
      const auto marker_id = marker.at("id").as_int64();
      REQUIRE(eventually([&] {
        const auto seen = hooks_seen(hooks);
        return std::any_of(seen.begin(), seen.end(), [&](const auto& s) { return s.second == marker_id; });
      }));
      for (const auto& seen : hooks_seen(hooks)) CHECK(seen.second == marker_id);

      // A ticket still open, filed at the server's now: its first response breaches 30 simulated
      // seconds (3 s) after the import, live, with its escalation and webhooks.
      const auto now = model::parse_instant(testing::json_of(admin.get("/v1/use_cases")).at("now").as_string());
      REQUIRE(now);
      const auto open_line = fmt::format(
          R"({{"external_id":"zd:open","kind":"troubleshooting","customer":{{"id":"acme"}},"title":"Still down","created_at":"{}","owner":"se"}})",
          model::format_instant(*now));
      const auto opened = testing::json_of(send_import(admin, open_line + "\n"));
      REQUIRE(opened.at("imported") == 1);
      const auto open_id = opened.at("results").at(0).at("id").as_int64();
      CHECK(testing::json_of(admin.get(fmt::format("/v1/requests/{}", open_id))).at("status") == "open");
      auto count = [&](std::string_view type) {
        const auto seen = hooks_seen(hooks);
        return std::count_if(seen.begin(), seen.end(),
                             [&](const auto& s) { return s.first == type && s.second == open_id; });
      };
      const bool breached_live = eventually([&] { return count("sla.breached") >= 1 && count("escalation.notified") >= 1; });
      if (!breached_live) {
        for (const auto& e : events_of(admin, open_id)) MESSAGE(json::serialize(e));
        for (const auto& h : hooks_seen(hooks)) MESSAGE(h.first << " " << h.second);
        MESSAGE(admin.get(fmt::format("/v1/requests/{}/deliveries", open_id)).body);
        MESSAGE(admin.get("/v1/webhooks/deliveries").body);
      }
      REQUIRE(breached_live);
      CHECK(count("sla.breached") == 1);
      CHECK(count("escalation.triggered") == 1);
      CHECK(count("request.created") == 0);  // the import itself sent nothing
      const auto escalations = testing::json_of(admin.get("/v1/escalations")).at("escalations").as_array();
      REQUIRE(escalations.size() == 1);
      CHECK(escalations[0].at("request_id") == open_id);

      // The CLI: batches, a summary, every refused line with its number, exit 1.
      const auto file = dir.file("tickets.jsonl");
      std::ofstream(file) << past_tickets
                          << R"({"external_id":"zd:cli","kind":"how_to","customer":{"id":"acme"},"title":"From the CLI","created_at":"2026-11-19T09:00:00Z"})"
                          << "\n";
      const auto cli = testing::run_program({SWITCHBOARD_CLI_PATH, "--server", server.url(), "--token",
                                             testing::token_for(role::admin), "import", file, "--batch", "2"});
      CHECK(cli.exit_code == 1);
      CHECK(cli.out.find("1 imported, 3 already imported, 2 refused (6 lines, 3 batches)") != std::string::npos);
      CHECK(cli.err.find("line 4 (zd:4): refused") != std::string::npos);
      CHECK(cli.err.find("history[0].type") != std::string::npos);
      CHECK(cli.err.find("line 5 (no external_id): refused") != std::string::npos);
      const auto clean = dir.file("clean.jsonl");
      std::ofstream(clean)
          << R"({"external_id":"zd:cli","kind":"how_to","customer":{"id":"acme"},"title":"From the CLI","created_at":"2026-11-19T09:00:00Z"})"
          << "\n";
      const auto rerun = testing::run_program({SWITCHBOARD_CLI_PATH, "--server", server.url(), "--token",
                                               testing::token_for(role::admin), "import", clean});
      CHECK(rerun.exit_code == 0);
      CHECK(rerun.out.find("0 imported, 1 already imported, 0 refused") != std::string::npos);
    });
  }

  TEST_CASE("a retried import body with its Idempotency-Key is answered as before, and a body of too many lines is refused") {
    testing::temp_dir dir;
    testing::server_process server(testing::server_args{testing::fast_config(dir), dir.file("switchboard.db"), {}});
    auto admin = server.client(role::admin);
    const std::string line =
        R"({"external_id":"jira:OPS-1","kind":"how_to","customer":{"id":"acme","name":"Acme","stage":"trial"},"title":"Docs","created_at":"2026-11-02T10:00:00Z"})"
        "\n";
    const auto first = send_import(admin, line, {{"Idempotency-Key", "batch-1"}});
    const auto second = send_import(admin, line, {{"Idempotency-Key", "batch-1"}});
    REQUIRE(first.status == 200);
    CHECK(second.status == 200);
    CHECK(second.body == first.body);
    CHECK(second.header("Idempotent-Replayed") == "true");
    CHECK(testing::json_of(second).at("results").at(0).at("outcome") == "imported");
    // More lines than a request may hold are refused before any is read.
    std::string many;
    for (int i = 0; i < 1001; ++i) many += "{}\n";
    const auto refused = send_import(admin, many);
    CHECK(refused.status == 413);
    CHECK(testing::json_of(refused).at("error").at("code") == "too_many_lines");
  }

  TEST_CASE("the lines the Zendesk and Jira mappings give import cleanly") {
    testing::temp_dir dir;
    const auto config = testing::config_on_always_calendar(
        dir, testing::test_people("always") + testing::outbound_notify_and_acme_toml());
    testing::server_process server(testing::server_args{config, dir.file("switchboard.db"), {}});
    auto admin = server.client(role::admin);
    for (const auto* name : {"tests/import/zendesk_tickets.jsonl", "tests/import/jira_issues.jsonl"}) {
      CAPTURE(name);
      std::ifstream in(testing::source_path(name));
      const std::string lines((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      REQUIRE(!lines.empty());
      const auto answer = testing::json_of(send_import(admin, lines));
      CHECK(answer.at("refused") == 0);
      for (const auto& r : answer.at("results").as_array()) CHECK(r.at("outcome") == "imported");
    }
    const auto requests = testing::all_requests(admin);
    const auto vpn = std::find_if(requests.begin(), requests.end(),
                                  [](const json::object& r) { return r.at("title") == "VPN drops every hour"; });
    REQUIRE(vpn != requests.end());
    CHECK(vpn->at("status") == "resolved");
    CHECK(vpn->at("created_at") == "2026-11-02T17:04:00Z");
  }
}

namespace {

// The sample lines of /metrics' families that count what happens live: SLA warnings and
// breaches, escalation notifications.
std::vector<std::string> live_counters(http::client& client) {
  const auto res = client.get("/metrics");
  REQUIRE(res.status == 200);
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < res.body.size()) {
    auto end = res.body.find('\n', start);
    if (end == std::string::npos) end = res.body.size();
    const std::string line = res.body.substr(start, end - start);
    start = end + 1;
    for (const auto* family : {"switchboard_sla_warnings_total", "switchboard_sla_breaches_total",
                               "switchboard_escalation_notifications_total"})
      if (line.starts_with(family)) out.push_back(line);
  }
  return out;
}

std::string import_line(std::string_view external_id, std::string_view customer, std::string_view created_at) {
  return fmt::format(
      R"({{"external_id":"{}","kind":"troubleshooting","customer":{},"title":"Ticket {}","created_at":"{}","owner":"se","history":[{{"at":"{}","type":"respond"}}]}})",
      external_id, customer, external_id, created_at, created_at);
}

// A body of `lines` tickets, `entries` history entries each a minute apart: a response, then the
// customer pended and replying in turn.
std::string body_of(int lines, int entries, std::string_view prefix) {
  std::string out;
  for (int i = 0; i < lines; ++i) {
    std::string history;
    for (int e = 0; e < entries; ++e) {
      const auto at = model::format_instant(*model::parse_instant("2026-11-02T10:00:00Z") + std::chrono::minutes(e));
      const auto* type = e == 0 ? "respond" : e % 2 == 1 ? "pend" : "customer_reply";
      history += fmt::format(R"({}{{"at":"{}","type":"{}"}})", e == 0 ? "" : ",", at, type);
    }
    out += fmt::format(
        R"({{"external_id":"{}:{}","kind":"troubleshooting","customer":{{"id":"acme"}},"title":"Bulk {}","created_at":"2026-11-02T10:00:00Z","owner":"se","history":[{}]}})",
        prefix, i, i, history);
    out += '\n';
  }
  return out;
}

}  // namespace

TEST_SUITE("integration::import") {
  TEST_CASE("switchboard-cli import run again after a customer is fixed imports the refused line and then says exists") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      const auto config = testing::config_on_always_calendar(
          dir, testing::test_people("always") + testing::outbound_notify_and_acme_toml());
      testing::server_process server(backend.args(config));
      auto admin = server.client(role::admin);
      // The file opens with a UTF-8 byte order mark, as some exports write it.
      const auto file = dir.file("tickets.jsonl");
      std::ofstream(file) << "\xEF\xBB\xBF" << import_line("zd:r1", R"({"id":"acme"})", "2026-11-18T09:00:00Z") << "\n"
                          << import_line("zd:r2", R"({"id":"nobody"})", "2026-11-18T10:00:00Z") << "\n";
      const auto run = [&] {
        return testing::run_program(
            {SWITCHBOARD_CLI_PATH, "--server", server.url(), "--token", testing::token_for(role::admin), "import", file});
      };
      const auto first = run();
      CAPTURE(first.err);
      CHECK(first.exit_code == 1);
      CHECK(first.out.find("1 imported, 0 already imported, 1 refused") != std::string::npos);
      CHECK(first.err.find("line 2 (zd:r2): refused") != std::string::npos);

      const auto fixed = admin.request("PUT", "/v1/customers/nobody", R"({"name":"Nobody Ltd","stage":"trial"})");
      REQUIRE(fixed.status / 100 == 2);
      const auto second = run();
      CAPTURE(second.err);
      CHECK(second.exit_code == 0);
      CHECK(second.out.find("1 imported, 1 already imported, 0 refused") != std::string::npos);
      const auto third = run();
      CHECK(third.exit_code == 0);
      CHECK(third.out.find("0 imported, 2 already imported, 0 refused") != std::string::npos);

      // Found by the external id it was imported under, and by nothing else.
      const auto found = testing::json_of(admin.get("/v1/requests?external_id=zd%3Ar2"));
      REQUIRE(found.at("requests").as_array().size() == 1);
      CHECK(found.at("requests").at(0).at("title") == "Ticket zd:r2");
      CHECK(found.at("requests").at(0).at("customer").at("id") == "nobody");
      CHECK(found.at("next_cursor").is_null());
      const auto id = found.at("requests").at(0).at("id").as_int64();
      CHECK(testing::json_of(admin.get(fmt::format("/v1/requests/{}", id))).at("external_id") == "zd:r2");
      CHECK(testing::json_of(admin.get("/v1/requests?external_id=zd:r2&status=resolved")).at("requests").as_array().empty());
      CHECK(testing::json_of(admin.get("/v1/requests?external_id=zd:none")).at("requests").as_array().empty());
      const auto filed = testing::json_of(admin.post_json(
          "/v1/requests", R"({"kind":"how_to","customer":{"id":"acme"},"title":"Filed here, after the import"})"));
      CHECK(testing::json_of(admin.get("/v1/requests?external_id=zd:r1")).at("requests").at(0).at("id") !=
            filed.at("id"));
      const auto empty = admin.get("/v1/requests?external_id=");
      CHECK(empty.status == 422);
      CHECK(testing::json_of(empty).at("error").at("fields").at(0).at("field") == "external_id");
    });
  }

  TEST_CASE("importing tickets whose history breached moves no live counter in metrics") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::temp_dir dir;
      const auto config = testing::config_on_always_calendar(dir, testing::test_people("always") +
                                                                      testing::outbound_notify_and_acme_toml() + R"(
[[sla.policy]]
name = "quick"
kinds = ["troubleshooting"]
calendar = "always"
metrics = [
  { metric = "first_response", target = "30s", warning = 0.5 },
  { metric = "resolution", target = "1h" },
]

[[escalation.ladder]]
name = "sla_breach"
calendar = "always"
levels = [{ after = "0s", notify = ["head_of_cs"] }]
)");
      testing::server_process server(backend.args(config, {"--clock-start", "2026-11-20T10:00:00Z", "--clock-speed", "1e-6"}));
      auto admin = server.client(role::admin);
      const auto before = live_counters(admin);
      std::string body;
      // Each first response an hour late: a warning and a breach each, and a resolution breached.
      for (int i = 0; i < 5; ++i)
        body += fmt::format(
            R"({{"external_id":"old:{}","kind":"troubleshooting","customer":{{"id":"acme"}},"title":"Old {}","created_at":"2026-11-1{}T09:00:00Z","owner":"se","history":[{{"at":"2026-11-1{}T10:00:00Z","type":"respond"}},{{"at":"2026-11-1{}T12:00:00Z","type":"resolve"}}]}})"
            "\n",
            i, i, i, i, i);
      const auto answer = testing::json_of(send_import(admin, body));
      REQUIRE(answer.at("imported") == 5);
      // The past is recorded at its instants...
      const auto id = answer.at("results").at(0).at("id").as_int64();
      std::vector<std::string> breached;
      for (const auto& e : events_of(admin, id))
        if (e.at("type") == "sla.breached") breached.emplace_back(e.at("at").as_string());
      CHECK(breached == std::vector<std::string>{"2026-11-10T09:00:30Z", "2026-11-10T10:00:00Z"});
      // ...and is not live: the counters an alert reads did not move.
      CHECK(live_counters(admin) == before);
    });
  }

  TEST_CASE("a body's history entries are limited, a byte order mark is skipped, and instants before 2000 are refused") {
    testing::temp_dir dir;
    const auto config = testing::config_on_always_calendar(
        dir, testing::test_people("always") + testing::outbound_notify_and_acme_toml());
    testing::server_process server(testing::server_args{config, dir.file("switchboard.db"), {}});
    auto admin = server.client(role::admin);

    // 5001 entries in all: refused whole, before any is replayed.
    const auto over = send_import(admin, body_of(5, 1000, "big") + body_of(1, 1, "one"));
    CHECK(over.status == 413);
    CHECK(testing::json_of(over).at("error").at("code") == "too_many_actions");
    CHECK(std::string(testing::json_of(over).at("error").at("message").as_string()).find("at most 5000") !=
          std::string::npos);
    CHECK(testing::all_requests(admin).empty());

    const auto answer = testing::json_of(send_import(
        admin, "\xEF\xBB\xBF" + import_line("bom:1", R"({"id":"acme"})", "2026-11-18T09:00:00Z") + "\n" +
                   import_line("old:1900", R"({"id":"acme"})", "1900-01-01T00:00:00Z") + "\n" +
                   import_line("late:2100", R"({"id":"acme"})", "2100-01-01T00:00:00Z") + "\n"));
    CHECK(answer.at("results").at(0).at("outcome") == "imported");
    const auto& old = answer.at("results").at(1);
    CHECK(old.at("outcome") == "refused");
    CHECK(old.at("error").at("fields").at(0).at("field") == "created_at");
    CHECK(std::string(old.at("error").at("message").as_string()).find("before 2000-01-01T00:00:00Z") !=
          std::string::npos);
    const auto& late = answer.at("results").at(2);
    CHECK(late.at("outcome") == "refused");
    CHECK(std::string(late.at("error").at("message").as_string()).find("is in the future") != std::string::npos);

    // The largest body allowed: 5000 entries, imported.
    const auto largest = testing::json_of(send_import(admin, body_of(5, 1000, "max")));
    CHECK(largest.at("imported") == 5);
  }

  TEST_CASE("on PostgreSQL the same import sent to two instances at once imports each ticket once") {
    SWITCHBOARD_POSTGRES_SERVERS_OR_SKIP(url);
    testing::server_backend backend(url);
    testing::temp_dir dir;
    const auto config = testing::config_on_always_calendar(
        dir, testing::test_people("always") + testing::outbound_notify_and_acme_toml());
    const auto args = backend.args(config);
    testing::server_process a(args);
    testing::server_process b(args);
    auto admin_a = a.client(role::admin);
    auto admin_b = b.client(role::admin);
    constexpr int tickets = 40;
    const auto body = body_of(tickets, 3, "twice");
    for (int round = 0; round < 2; ++round) {
      CAPTURE(round);
      const auto both = testing::at_once([&](http::client& c) { return send_import(c, body); }, admin_a, admin_b);
      const auto& first = both.first;
      const auto& second = both.second;
      CAPTURE(first.body);
      CAPTURE(second.body);
      REQUIRE(first.status == 200);
      REQUIRE(second.status == 200);
      const auto one = testing::json_of(first);
      const auto other = testing::json_of(second);
      for (int i = 0; i < tickets; ++i) {
        CAPTURE(i);
        const auto& x = one.at("results").at(static_cast<std::size_t>(i));
        const auto& y = other.at("results").at(static_cast<std::size_t>(i));
        CHECK(x.at("id") == y.at("id"));
        if (round == 0)
          CHECK(((x.at("outcome") == "imported" && y.at("outcome") == "exists") ||
                 (x.at("outcome") == "exists" && y.at("outcome") == "imported")));
        else
          CHECK((x.at("outcome") == "exists" && y.at("outcome") == "exists"));
      }
    }
    CHECK(testing::all_requests(admin_a).size() == static_cast<std::size_t>(tickets));
  }
}
