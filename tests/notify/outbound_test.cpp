// Outbound webhooks end to end: the real server, a local receiver that fails the first attempts,
// a SIGKILL between attempts, and signatures checked independently of src/notify. The SIGKILL
// case and the 410/max_age case run on both store adapters (support/server_backends.hpp): the
#include "http/client.hpp"
#include "support/configs.hpp"
#include "support/eventually.hpp"
#include "support/server_backends.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/webhook_receiver.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

using namespace switchboard;
namespace json = boost::json;
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using std::chrono::steady_clock;

namespace {

constexpr const char* secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* secret_env = "SWITCHBOARD_TEST_OUTBOUND_SECRET";
// During a rotation the variable holds the new secret and the old one: both sign every attempt.
constexpr const char* rotating_secrets = "whsec_cm90YXRpb24tc2VjcmV0LTI0LWJ5dGVz whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

using hit = testing::webhook_hit;

// A Standard Webhooks receiver on 127.0.0.1:0. /gone answers 410 and /slack 200; elsewhere, per
// webhook-id: the 1st attempt gets 500, the 2nd 503 with Retry-After: 3, every later one 204.
class receiver : public testing::webhook_receiver {
 public:
  receiver()
      : webhook_receiver(false, [](const hit& h, int attempt) -> testing::webhook_answer {
          if (h.target == "/gone") return {410, {}};
          if (h.target == "/slack") return {200, {}};
          if (attempt == 1) return {500, {}};
          if (attempt == 2) return {503, "3"};
          return {204, {}};
        }) {}

  // Waits until `done` holds for the hits so far; false after `limit`.
  template <class Predicate>
  bool wait_for(Predicate done, std::chrono::seconds limit) const {
    return testing::eventually([&] { return done(hits()); }, limit) || done(hits());
  }
};

// Standard Webhooks verification written from the spec with OpenSSL, independent of src/notify.
bool standard_webhooks_verify(const hit& h) {
  std::string key_b64 = std::string(secret).substr(6);
  std::string key(key_b64.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(key.data()),
                                reinterpret_cast<const unsigned char*>(key_b64.data()), static_cast<int>(key_b64.size()));
  key.resize(static_cast<std::size_t>(n) - (key_b64.ends_with("==") ? 2 : key_b64.ends_with("=") ? 1 : 0));
  const auto content = h.id + "." + h.timestamp + "." + h.body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(content.data()),
       content.size(), mac, &length);
  std::string expected(4 * ((length + 2) / 3), '\0');
  expected.resize(static_cast<std::size_t>(
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(expected.data()), mac, static_cast<int>(length))));
  expected = "v1," + expected;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  const auto ts = std::stoll(h.timestamp);
  if (ts < now - 300 || ts > now + 300) return false;
  std::istringstream entries(h.signature);
  for (std::string entry; entries >> entry;)
    if (entry.size() == expected.size() && CRYPTO_memcmp(entry.data(), expected.data(), entry.size()) == 0) return true;
  return false;
}

std::string config_with_receiver(const testing::temp_dir& dir, std::uint16_t port) {
  const auto path = testing::fast_config(dir);
  std::ofstream(path, std::ios::app) << fmt::format(R"(
[notify]
initial_backoff = "1s"
max_backoff = "10s"
max_age = "24h"
timeout = "5s"
poll_interval = "1s"
# On PostgreSQL a killed instance's claimed rows wait out their lease (at least twice the timeout):
# the shortest, so that the restarted server sends them within the test's wait.
lease = "10s"

[[notify.subscription]]
name = "receiver"
url = "http://127.0.0.1:{}/hooks/switchboard"
events = ["request.routed"]
secret_env = "{}"
allow_private = true

[[notify.subscription]]
name = "guarded"
url = "http://127.0.0.1:{}/hooks/guarded"
events = ["request.routed"]
secret_env = "{}"
)",
                                                    port, secret_env, port, secret_env);
  return path;
}

std::int64_t file_request(http::client& client, int n) {
  const auto res = client.post_json(
      "/v1/requests",
      json::serialize(json::object{
          {"kind", "troubleshooting"},
          {"customer", json::object{{"id", "acme"}, {"name", "Acme"}, {"stage", "trial"}}},
          {"title", fmt::format("VPN drops #{}", n)}}));
  REQUIRE(res.status == 201);
  return json::parse(res.body).at("id").as_int64();
}

std::set<std::string> ids_answered(const std::vector<hit>& hits, unsigned status_class) {
  std::set<std::string> ids;
  for (const auto& h : hits)
    if (h.answered / 100 == status_class) ids.insert(h.id);
  return ids;
}

}  // namespace

TEST_SUITE("integration::outbound") {
  TEST_CASE("every event is delivered once, signed, through failures, Retry-After and a SIGKILL") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      ::setenv(secret_env, rotating_secrets, 1);
      testing::temp_dir dir;
      receiver hooks;
      const auto config = config_with_receiver(dir, hooks.port());
      std::set<std::int64_t> filed;

      {
        testing::server_process server(backend.args(config));
        auto client = server.client(model::role::ce);
        for (int i = 1; i <= 3; ++i) filed.insert(file_request(client, i));
        // Each delivery's first attempt fails with 500; kill the server before the next one.
        REQUIRE(hooks.wait_for([](const auto& hits) { return ids_answered(hits, 5).size() >= 3; }, std::chrono::seconds{20}));
        server.kill();
      }
      CHECK(ids_answered(hooks.hits(), 2).empty());

      testing::server_process server(backend.args(config));
      REQUIRE(hooks.wait_for([](const auto& hits) { return ids_answered(hits, 2).size() >= 3; }, std::chrono::seconds{30}));

      // One delivery per event: three webhook-ids, each answered 2xx exactly once.
      const auto hits = hooks.hits();
      std::map<std::string, std::vector<hit>> by_id;
      for (const auto& h : hits) by_id[h.id].push_back(h);
      REQUIRE(by_id.size() == 3);
      std::set<std::int64_t> delivered_requests;
      std::set<std::int64_t> event_ids;
      for (const auto& [id, attempts] : by_id) {
        const auto id_text = id;  // named: clang 14 cannot capture a structured binding
        CAPTURE(id_text);
        CHECK(id.starts_with("msg_"));
        REQUIRE(attempts.size() >= 3);
        CHECK(std::count_if(attempts.begin(), attempts.end(), [](const hit& h) { return h.answered / 100 == 2; }) == 1);
        for (const auto& h : attempts) {
          CHECK(h.signature.find(' ') != std::string::npos);  // two v1 entries: the rotation
          CHECK(h.body == attempts.front().body);  // the same bytes on every retry
          CHECK(h.content_type == "application/json");
          CHECK(standard_webhooks_verify(h));
        }
        // Retry-After: 3 from the 503 was honoured (the backoff alone would be ~2 s).
        for (std::size_t i = 0; i + 1 < attempts.size(); ++i)
          if (attempts[i].answered == 503)
            CHECK(attempts[i + 1].at - attempts[i].at >= std::chrono::milliseconds(2900));
        const auto envelope = json::parse(attempts.front().body).as_object();
        CHECK(envelope.at("type") == "request.routed");
        delivered_requests.insert(envelope.at("data").at("request_id").as_int64());
        event_ids.insert(envelope.at("data").at("event_id").as_int64());
      }
      CHECK(delivered_requests == filed);
      CHECK(event_ids.size() == 3);

      // A tampered body fails the same verifier.
      auto tampered = hits.back();
      tampered.body[tampered.body.size() / 2] ^= 1;
      CHECK_FALSE(standard_webhooks_verify(tampered));

      // Cross-check with the reference library when it is installed (npm i standardwebhooks@1.1.1 in
      // the folder SWITCHBOARD_STANDARDWEBHOOKS_NODE_PATH names).
      if (const char* node_path = std::getenv("SWITCHBOARD_STANDARDWEBHOOKS_NODE_PATH")) {
        const auto& sample = by_id.begin()->second.back();
        const auto body_file = testing::write_file(dir.file("body.json"), sample.body);
        const auto script = testing::write_file(dir.file("verify.js"), fmt::format(R"(
  const {{ Webhook }} = require('standardwebhooks');
  const body = require('fs').readFileSync({}, 'utf8');
  new Webhook({}).verify(body, {{ 'webhook-id': {}, 'webhook-timestamp': {}, 'webhook-signature': {} }});
  console.log('ACCEPT');
  )",
                                                                                   json::serialize(json::string(body_file)),
                                                                                   json::serialize(json::string(secret)),
                                                                                   json::serialize(json::string(sample.id)),
                                                                                   json::serialize(json::string(sample.timestamp)),
                                                                                   json::serialize(json::string(sample.signature))));
        ::setenv("NODE_PATH", node_path, 1);
        const auto result = testing::run_program({"/usr/bin/env", "node", script});
        CAPTURE(result.err);
        CHECK(result.exit_code == 0);
        CHECK(result.out == "ACCEPT\n");
      } else {
        MESSAGE("standardwebhooks (npm) not found: set SWITCHBOARD_STANDARDWEBHOOKS_NODE_PATH to cross-check with it");
      }

      // The delivery log shows it all; the guarded subscription never reached 127.0.0.1.
      auto reader = server.client(model::role::viewer);
      json::value log;
      REQUIRE(hooks.wait_for(  // the receiver answers before the server has recorded the answer
          [&](const auto&) {
            log = json::parse(reader.get("/v1/webhooks/deliveries?subscription=receiver&state=delivered").body);
            return log.at("deliveries").as_array().size() == 3;
          },
          std::chrono::seconds{10}));
      const auto& deliveries = log.at("deliveries").as_array();
      REQUIRE(deliveries.size() == 3);
      for (const auto& d : deliveries) {
        CHECK(d.at("last_status") == 204);
        const auto& attempts = d.at("attempt_log").as_array();
        REQUIRE(attempts.size() >= 2);
        CHECK(attempts.back().at("status") == 204);
        CHECK(attempts[attempts.size() - 2].at("status") == 503);
      }
      const auto guarded = json::parse(reader.get("/v1/webhooks/deliveries?subscription=guarded").body);
      REQUIRE(guarded.at("deliveries").as_array().size() == 3);
      REQUIRE(hooks.wait_for(
          [&](const auto&) {
            const auto page = json::parse(reader.get("/v1/webhooks/deliveries?subscription=guarded").body);
            const auto& first = page.at("deliveries").as_array().front().at("attempt_log").as_array();
            return !first.empty();
          },
          std::chrono::seconds{10}));
      const auto refused = json::parse(reader.get("/v1/webhooks/deliveries?subscription=guarded").body);
      const auto error = std::string(
          refused.at("deliveries").as_array().front().at("attempt_log").as_array().front().at("error").as_string());
      CHECK(error.find("refused") != std::string::npos);
      CHECK(reader.get("/v1/webhooks/deliveries?state=lost").status == 422);
      CHECK(reader.get("/v1/webhooks/deliveries/99999").status == 404);

      // Redeliver: only admin or head_of_cs; the same webhook-id goes out again.
      const auto target = deliveries.front();
      const auto path = fmt::format("/v1/webhooks/deliveries/{}/redeliver", target.at("id").as_int64());
      CHECK(server.client(model::role::ce).post_json(path, "").status == 403);
      const auto before = hooks.hits().size();
      const auto redelivered = server.client(model::role::head_of_cs).post_json(path, "");
      CHECK(redelivered.status == 202);
      const auto webhook_id = std::string(target.at("webhook_id").as_string());
      REQUIRE(hooks.wait_for([&](const auto& now) { return now.size() > before && now.back().id == webhook_id; },
                             std::chrono::seconds{10}));
      CHECK(hooks.hits().back().answered == 204);
    });
  }
}

TEST_SUITE("integration::outbound") {
  TEST_CASE("410 disables a subscription, max_age dead-letters, and the Slack formatter goes out") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      ::setenv(secret_env, secret, 1);
      testing::temp_dir dir;
      receiver hooks;
      std::uint16_t closed_port = 0;
      {
        asio::io_context io;
        tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        closed_port = probe.local_endpoint().port();
      }
      const auto config = testing::fast_config(dir);
      std::ofstream(config, std::ios::app) << fmt::format(R"(
[notify]
initial_backoff = "1s"
max_backoff = "1s"
max_age = "3s"
poll_interval = "1s"

[[notify.subscription]]
name = "gone"
url = "http://127.0.0.1:{0}/gone"
events = ["request.routed"]
secret_env = "{1}"
allow_private = true

[[notify.subscription]]
name = "down"
url = "http://127.0.0.1:{2}/"
events = ["request.routed"]
secret_env = "{1}"
allow_private = true

[[notify.subscription]]
name = "slack"
url = "http://127.0.0.1:{0}/slack"
events = ["escalation.notified"]
format = "slack"
allow_private = true
)",
                                                          hooks.port(), secret_env, closed_port);
      testing::server_process server(backend.args(config));
      auto client = server.client(model::role::ce);
      const auto first = file_request(client, 1);
      auto reader = server.client(model::role::viewer);
      auto page = [&](const std::string& query) {
        return json::parse(reader.get("/v1/webhooks/deliveries?" + query).body).as_object();
      };

      // 410: dead at once, and the subscription is disabled; later events for it are dead-lettered
      // without a call.
      REQUIRE(hooks.wait_for([&](const auto&) { return page("subscription=gone&state=dead").at("deliveries").as_array().size() == 1; },
                             std::chrono::seconds{10}));
      const auto disabled = page("").at("disabled_subscriptions").as_array();
      REQUIRE(disabled.size() == 1);
      CHECK(disabled.front().at("subscription") == "gone");
      file_request(client, 2);
      REQUIRE(hooks.wait_for([&](const auto&) { return page("subscription=gone&state=dead").at("deliveries").as_array().size() == 2; },
                             std::chrono::seconds{10}));
      const auto so_far = hooks.hits();
      CHECK(std::count_if(so_far.begin(), so_far.end(), [](const hit& h) { return h.target == "/gone"; }) == 1);

      // Nobody listening: retried until max_age, then dead-lettered and visible.
      REQUIRE(hooks.wait_for([&](const auto&) { return page("subscription=down&state=dead").at("deliveries").as_array().size() == 2; },
                             std::chrono::seconds{15}));
      const auto dead = page("subscription=down&state=dead&request=" + std::to_string(first)).at("deliveries").as_array();
      REQUIRE(dead.size() == 1);
      CHECK(dead.front().at("attempts").as_int64() >= 2);
      CHECK(std::string(dead.front().at("last_error").as_string()).find("gave up") != std::string::npos);
      CHECK(dead.front().at("attempt_log").as_array().front().at("status").is_null());

      // The troubleshooting request breaches its 4 s first response: escalation.notified goes to Slack.
      REQUIRE(hooks.wait_for([](const auto& hits) {
        return std::any_of(hits.begin(), hits.end(), [](const hit& h) { return h.target == "/slack"; });
      }, std::chrono::seconds{20}));
      const auto hits = hooks.hits();
      const auto slack = *std::find_if(hits.begin(), hits.end(), [](const hit& h) { return h.target == "/slack"; });
      CHECK(slack.signature.empty());  // no secret configured: Slack checks nothing
      const auto message = json::parse(slack.body).as_object();
      CHECK(std::string(message.at("text").as_string()).find("Escalation") != std::string::npos);
      CHECK(std::string(message.at("text").as_string()).find("head_of_cs notified") != std::string::npos);
      // The fourth block says how to acknowledge by the API, the fifth holds the buttons (no
      // public_url configured: Acknowledge and Resolve only).
      REQUIRE(message.at("blocks").as_array().size() == 5);
      CHECK(message.at("blocks").as_array()[4].at("type") == "actions");
      CHECK(message.at("blocks").as_array()[4].at("elements").as_array().size() == 2);
    });
  }
}
