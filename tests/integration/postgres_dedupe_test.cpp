// Two real servers on one PostgreSQL schema (issue 12 plan D2 and D4): the same Idempotency-Key,
// Slack event, Mailgun token and e-mail Message-ID sent to both at once make one effect and one
// replay each, through the unique constraints alone; and both notifiers drain the one outbox,
// each webhook delivered once. PostgreSQL only (SWITCHBOARD_TEST_DATABASE_URL; "postgres skipped"
// without it).
#include "codec/json.hpp"
#include "http/client.hpp"
#include "http/webhooks/signature.hpp"
#include "store/postgres/test_database.hpp"
#include "support/at_once.hpp"
#include "support/configs.hpp"
#include "support/eventually.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/webhook_receiver.hpp"
#include "webhooks/webhook_server.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

using namespace switchboard;
using namespace std::chrono_literals;
namespace json = boost::json;
using model::role;

namespace {

constexpr const char* hook_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* hook_secret_env = "SWITCHBOARD_TEST_INSTANCES_SECRET";

// Two servers, A and B, on one schema of the test cluster, with webhook_server's integrations
// and, when `hooks_port` is set, a subscription to request.routed at that receiver.
struct two_instances {
  two_instances(const std::string& url, std::optional<std::uint16_t> hooks_port, std::string_view timeout = "5s",
                std::string_view lease = "30s")
      : schema(url) {
    testing::set_integration_secrets(true);
    ::setenv(hook_secret_env, hook_secret, 1);
    const auto config = testing::fast_config(dir);
    std::ofstream out(config, std::ios::app);
    out << R"(
[storage]
backend = "postgres"
readers = 2

[integrations]
support_address = "support@example.com"
postmark_user = "postmark"
trusted_authserv_id = "mx.switchboard.test"

[integrations.customers.acme]
name = "Acme Corp"
stage = "production"
tier = "premium"
domains = ["acme.example", "customer.test"]

[integrations.slack.channels.C0SUPPORT01]
customer = "acme"
kind = "troubleshooting"
file = "all"
)";
    if (hooks_port)
      out << fmt::format(R"(
[notify]
initial_backoff = "1s"
timeout = "{2}"
poll_interval = "1s"
lease = "{3}"

[[notify.subscription]]
name = "receiver"
url = "http://127.0.0.1:{0}/hooks"
events = ["request.routed"]
secret_env = "{1}"
allow_private = true
)",
                         *hooks_port, hook_secret_env, timeout, lease);
    out.close();
    ::setenv("SWITCHBOARD_DATABASE_URL",
             testing::postgres::url_in_schema(url, schema.name(), "sb_" + schema.name()).c_str(), 1);
    a = std::make_unique<testing::server_process>(testing::server_args{config, "", {}});
    b = std::make_unique<testing::server_process>(testing::server_args{config, "", {}});
    ::unsetenv("SWITCHBOARD_DATABASE_URL");
  }
  std::int64_t count(const std::string& sql) { return schema.db().exec(sql).integer(0, 0); }

  testing::postgres::test_schema schema;
  testing::temp_dir dir;
  std::unique_ptr<testing::server_process> a;
  std::unique_ptr<testing::server_process> b;
};

std::string outcome_of(const http::client_response& res) {
  return std::string(json::parse(res.body).at("outcome").as_string());
}

std::string replaced(std::string text, std::string_view from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_SUITE("integration::postgres_dedupe") {
  TEST_CASE("two instances on one schema: the same key, event, token or Message-ID sent to both runs once") {
    SWITCHBOARD_POSTGRES_SERVERS_OR_SKIP(url);
    two_instances cluster(url, std::nullopt);
    auto ce_a = cluster.a->client(role::ce);
    auto ce_b = cluster.b->client(role::ce);
    constexpr int rounds = 8;

    // Idempotency-Key: one filing and one replay of it per key.
    for (int i = 0; i < rounds; ++i) {
      CAPTURE(i);
      const auto key = fmt::format("same-key-{}", i);
      const auto body = fmt::format(
          R"({{"kind":"troubleshooting","customer":{{"id":"acme","name":"Acme","stage":"trial"}},"title":"Twice {}"}})", i);
      const auto [first, second] = testing::at_once(
          [&](http::client& c) {
            return c.request("POST", "/v1/requests", body, "application/json", {{"Idempotency-Key", key}});
          },
          ce_a, ce_b);
      REQUIRE(first.status == 201);
      REQUIRE(second.status == 201);
      CHECK((first.header("Idempotent-Replayed") == "true") + (second.header("Idempotent-Replayed") == "true") == 1);
      CHECK(json::parse(first.body).at("id") == json::parse(second.body).at("id"));
    }
    CHECK(cluster.count("SELECT COUNT(*) FROM requests") == rounds);

    // The same Slack event (and message): one filed, one duplicate.
    const auto mention = testing::fixture("slack_app_mention.json");
    for (int i = 0; i < rounds; ++i) {
      CAPTURE(i);
      auto event = replaced(mention, "Ev07ABCD1234", fmt::format("Ev07SAME{:04}", i));
      event = replaced(event, "\"ts\":\"1718049598.123459\"", fmt::format("\"ts\":\"1718049598.{:06}\"", i));
      const auto [first, second] = testing::at_once(
          [&](http::client& c) {
            return c.request("POST", "/v1/webhooks/slack/events", event, "application/json",
                             testing::slack_headers(event, testing::unix_now()));
          },
          ce_a, ce_b);
      REQUIRE(first.status == 200);
      REQUIRE(second.status == 200);
      std::multiset<std::string> outcomes{outcome_of(first), outcome_of(second)};
      CHECK(outcomes == std::multiset<std::string>{"created", "duplicate"});
    }
    CHECK(cluster.count("SELECT COUNT(*) FROM requests") == 2 * rounds);

    // The same e-mail (an authenticated sender's Message-ID) through the raw route: one filed,
    // one duplicate.
    auto mail_a = cluster.a->client(role::integration);
    auto mail_b = cluster.b->client(role::integration);
    for (int i = 0; i < rounds; ++i) {
      CAPTURE(i);
      const auto mail = testing::authentication_results("acme.example") +
                        fmt::format("From: Alice <alice@acme.example>\r\nTo: support@example.com\r\n"
                                    "Subject: Export fails {0}\r\nMessage-ID: <same-{0}@acme.example>\r\n"
                                    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHelp.\r\n",
                                    i);
      const auto [first, second] = testing::at_once(
          [&](http::client& c) { return c.request("POST", "/v1/webhooks/email/raw", mail, "message/rfc822"); },
          mail_a, mail_b);
      REQUIRE(first.status == 200);
      REQUIRE(second.status == 200);
      std::multiset<std::string> outcomes{outcome_of(first), outcome_of(second)};
      CHECK(outcomes == std::multiset<std::string>{"created", "duplicate"});
    }
    CHECK(cluster.count("SELECT COUNT(*) FROM requests") == 3 * rounds);
    CHECK(cluster.count("SELECT COUNT(*) FROM email_messages") == rounds);

    // The same Mailgun token (each round a new mail): one taken, one 406 token_reused.
    const auto fixture = testing::fixture("mailgun_route_reply.txt");
    for (int i = 0; i < rounds; ++i) {
      CAPTURE(i);
      const auto token = fmt::format("{:050}", i);
      const auto ts = std::to_string(testing::unix_now());
      auto body = replaced(fixture, "timestamp=1718053500", "timestamp=" + ts);
      body = replaced(body, "token=c2f9a0e1d4b37a6f58e9c0b1a2d3e4f5a6b7c8d9e0f1a2b3c4", "token=" + token);
      body = replaced(body, "signature=b8786df67da41278f52e8c62af227358529e6e8f6ddd092926679484c48dcb7e",
                      "signature=" + http::webhooks::hmac_sha256_hex(testing::mailgun_key, ts + token));
      const auto [first, second] = testing::at_once(
          [&](http::client& c) {
            return c.request("POST", "/v1/webhooks/email/mailgun", body, "application/x-www-form-urlencoded");
          },
          ce_a, ce_b);
      CHECK(std::multiset<unsigned>{first.status, second.status} == std::multiset<unsigned>{200, 406});
    }
    CHECK(cluster.count("SELECT COUNT(*) FROM inbound_receipts WHERE source = 'mailgun_token'") == rounds);
    // The fixture's Message-ID is the same in every round: filed once, a duplicate after.
    CHECK(cluster.count("SELECT COUNT(*) FROM requests") == 3 * rounds + 1);
    CHECK(cluster.count("SELECT COUNT(*) FROM idempotency_keys WHERE status = 0") == 0);  // no claim left pending
  }

  TEST_CASE("two instances drain one outbox: every webhook delivered once") {
    SWITCHBOARD_POSTGRES_SERVERS_OR_SKIP(url);
    testing::webhook_receiver hooks;
    two_instances cluster(url, hooks.port());
    auto ce_a = cluster.a->client(role::ce);
    auto ce_b = cluster.b->client(role::ce);
    constexpr int filings = 30;
    // Half on A and half on B, at the same time: each outcome's outbox rows carry its events'
    // seqs as appended, which interleave between the two instances.
    const auto file_on = [](http::client& client, char name) {
      for (int i = 0; i < filings / 2; ++i) {
        const auto res = client.post_json("/v1/requests", fmt::format(R"({{"kind":"troubleshooting","customer":{{"id":)"
                                                                      R"("acme","name":"Acme","stage":"trial"}},"title":"{} {}"}})",
                                                                      name, i));
        INFO(res.body);
        CHECK(res.status == 201);
      }
    };
    std::thread on_b([&] { file_on(ce_b, 'B'); });
    file_on(ce_a, 'A');
    on_b.join();
    CHECK(cluster.count("SELECT COUNT(*) FROM requests") == filings);
    // Every outbox row names an event of its own request.
    CHECK(cluster.count("SELECT COUNT(*) FROM outbox AS o JOIN events AS e ON e.seq = o.event_seq"
                        " AND e.request_id = o.request_id AND e.type = o.event_type") ==
          cluster.count("SELECT COUNT(*) FROM outbox"));
    const auto rows = cluster.count("SELECT COUNT(*) FROM outbox");
    CHECK(rows >= filings);  // one request.routed each
    CHECK(testing::eventually([&] { return cluster.count("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'") == rows; }));
    // Every row's webhook-id reached the receiver exactly once, with one attempt recorded.
    const auto received = hooks.received();
    CHECK(static_cast<std::int64_t>(received.size()) == rows);
    for (const auto& [id, times] : received) {
      const auto webhook_id = id;  // named: clang 14 cannot capture a structured binding
      const auto count = times;
      CAPTURE(webhook_id);
      CHECK(count == 1);
    }
    CHECK(cluster.count("SELECT COUNT(*) FROM delivery_attempts") == rows);
    CHECK(cluster.count("SELECT COUNT(*) FROM outbox WHERE lease_holder IS NOT NULL") == 0);
    // Each claim adds one to its row's token: a sum above the row count means a row was claimed twice.
    MESSAGE(fmt::format("{} rows, tokens {} (one claim each)", rows,
                        cluster.count("SELECT COALESCE(SUM(lease_token), 0) FROM outbox")));
  }

  TEST_CASE("a row whose sender was killed mid-send is taken over after its lease, with the same webhook-id") {
    SWITCHBOARD_POSTGRES_SERVERS_OR_SKIP(url);
    testing::webhook_receiver hooks(true);  // the first attempt gets no answer: its sender is killed while it waits
    two_instances cluster(url, hooks.port(), "3s", "6s");
    auto ce = cluster.a->client(role::ce);
    REQUIRE(ce.post_json("/v1/requests", R"({"kind":"troubleshooting","customer":{"id":"acme","name":"Acme","stage":"trial"},"title":"Taken over"})")
                .status == 201);
    REQUIRE(testing::eventually([&] { return hooks.received().size() == 1; }));
    const auto webhook_id = hooks.received().begin()->first;
    // The holder names its process ("<host>:<pid>:<random>"): kill that server, before its send's
    // 3 s timeout lets it record anything.
    const auto holder = std::string(
        cluster.schema.db().exec("SELECT lease_holder FROM outbox WHERE webhook_id = $1", {webhook_id}).text(0, 0));
    const auto pid_of = [](const std::string& name) {
      const auto first = name.find(':');
      return std::stoi(name.substr(first + 1, name.find(':', first + 1) - first - 1));
    };
    REQUIRE_FALSE(holder.empty());
    const bool a_holds = pid_of(holder) == cluster.a->pid();
    CHECK((a_holds || pid_of(holder) == cluster.b->pid()));
    auto& killed = a_holds ? *cluster.a : *cluster.b;
    auto& survivor = a_holds ? *cluster.b : *cluster.a;
    killed.kill();
    hooks.release();
    // The survivor claims the row once the 6 s lease has run out and sends it again: the same
    // webhook-id, so a receiver that de-duplicates on it sees the event once.
    const auto killed_at = std::chrono::steady_clock::now();
    CHECK(testing::eventually([&] { return hooks.received()[webhook_id] >= 2; }));
    MESSAGE(fmt::format("sent again {} ms after the kill (lease 6 s, poll 1 s)",
                        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed_at)
                            .count()));
    CHECK(hooks.received()[webhook_id] == 2);
    CHECK(testing::eventually([&] {
      return cluster.count("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'") == 1;
    }));
    CHECK(hooks.received().size() == 1);
    CHECK(cluster.count("SELECT COUNT(*) FROM delivery_attempts") == 1);  // the dead sender recorded nothing
    CHECK(cluster.count("SELECT lease_token FROM outbox") == 2);          // two claims
    CHECK(survivor.client(role::viewer).get("/healthz").status == 200);
  }
}
