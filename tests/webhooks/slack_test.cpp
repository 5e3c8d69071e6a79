// Slack through the real server: signed fixtures (re-signed at the current time), every way a
// signature fails, retries and duplicates, thread replies and the /support slash command.
#include "webhooks/webhook_server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <doctest/doctest.h>

using namespace switchboard;
using namespace switchboard::testing;
namespace json = boost::json;

namespace {

constexpr std::string_view events = "/v1/webhooks/slack/events";

http::client_response post_event(http::client& c, const std::string& body, std::int64_t ts,
                                 const std::string& secret = slack_secret, headers extra = {}) {
  auto h = slack_headers(body, ts, secret);
  h.insert(h.end(), extra.begin(), extra.end());
  return c.request("POST", events, body, "application/json", h);
}

json::object parse(const std::string& body) { return json::parse(body).as_object(); }

std::string replace(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_SUITE("integration::slack") {
  TEST_CASE("url_verification is answered with its challenge") {
    webhook_server s;
    auto c = s.client();
    const auto res = post_event(c, fixture("slack_url_verification.json"), unix_now());
    CHECK(res.status == 200);
    CHECK(parse(res.body).at("challenge") == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
  }

  TEST_CASE("only a valid, fresh signature over the exact bytes is accepted, failures record nothing") {
    webhook_server s;
    auto c = s.client();
    const auto body = fixture("slack_app_mention.json");
    const auto now = unix_now();

    SUBCASE("wrong secret") { CHECK(post_event(c, body, now, "0000000000000000000000000000000").status == 401); }
    SUBCASE("body changed by one byte") {
      auto h = slack_headers(body, now);
      auto changed = replace(body, "10 minutes", "11 minutes");
      CHECK(c.request("POST", events, changed, "application/json", h).status == 401);
    }
    SUBCASE("timestamp 301 s in the past") { CHECK(post_event(c, body, now - 301).status == 401); }
    SUBCASE("timestamp 301 s in the future") { CHECK(post_event(c, body, now + 301).status == 401); }
    SUBCASE("no signature") {
      CHECK(c.request("POST", events, body, "application/json", {{"X-Slack-Request-Timestamp", std::to_string(now)}})
                .status == 401);
    }
    SUBCASE("signature sent twice") {
      // http::client sets each header once, so this request goes out over a raw socket.
      const auto h = slack_headers(body, now);
      const auto port = s.server->url().substr(s.server->url().rfind(':') + 1);
      boost::asio::io_context io;
      boost::asio::ip::tcp::socket socket(io);
      socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(port))});
      const auto raw = "POST /v1/webhooks/slack/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                       "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
                       h[0].first + ": " + h[0].second + "\r\n" + h[1].first + ": " + h[1].second + "\r\n" +
                       h[1].first + ": " + h[1].second + "\r\n\r\n" + body;
      boost::asio::write(socket, boost::asio::buffer(raw));
      std::string answer;
      boost::system::error_code ec;
      boost::asio::read(socket, boost::asio::dynamic_buffer(answer), ec);
      CHECK(answer.starts_with("HTTP/1.1 401"));
    }
    CHECK(s.requests().empty());

    // The fixture's own signature and timestamp verify once the clock is inside the window: it
    // is stale now, so it is refused too.
    CHECK(c.request("POST", events, body, "application/json",
                    {{"X-Slack-Request-Timestamp", "1718049600"},
                     {"X-Slack-Signature", "v0=0db5947a5054feb39b9598394de3df74a50a7f5a562ad2d5b173d680ba55c732"}})
              .status == 401);
    CHECK(s.requests().empty());

    const auto ok = post_event(c, body, now - 290);
    CHECK(ok.status == 200);
    CHECK(parse(ok.body).at("outcome") == "created");
    REQUIRE(s.requests().size() == 1);
  }

  TEST_CASE("a mention files a request, a retry, a duplicate event_id and the same message as `message` do not") {
    webhook_server s;
    auto c = s.client();
    const auto mention = fixture("slack_app_mention.json");
    const auto first = post_event(c, mention, unix_now());
    REQUIRE(first.status == 200);
    const auto created = parse(first.body);
    CHECK(created.at("outcome") == "created");
    const auto id = created.at("request_id").as_int64();

    const auto stored = s.request(id);
    CHECK(stored.at("source") == "slack");
    CHECK(stored.at("kind") == "troubleshooting");
    CHECK(stored.at("customer").at("id") == "acme");
    CHECK(stored.at("title") == "my VPN keeps dropping every 10 minutes, can someone help?");

    // Slack's retry of the same delivery, then the same event_id again.
    const auto retry = post_event(c, mention, unix_now(), slack_secret,
                                  {{"X-Slack-Retry-Num", "1"}, {"X-Slack-Retry-Reason", "http_timeout"}});
    CHECK(retry.status == 200);
    CHECK(parse(retry.body).at("outcome") == "duplicate");
    CHECK(parse(post_event(c, mention, unix_now()).body).at("outcome") == "duplicate");

    // The same human message delivered as a `message` event with its own event_id.
    auto as_message = replace(mention, "\"type\":\"app_mention\"", "\"type\":\"message\"");
    as_message = replace(as_message, "Ev07ABCD1234", "Ev07ABCD9999");
    const auto second = post_event(c, as_message, unix_now());
    CHECK(second.status == 200);
    CHECK(parse(second.body).at("outcome") == "duplicate");
    CHECK(s.requests().size() == 1);
  }

  TEST_CASE("a message in the request's thread is a customer reply on it") {
    webhook_server s;
    auto c = s.client();
    const auto id = parse(post_event(c, fixture("slack_app_mention.json"), unix_now()).body).at("request_id").as_int64();
    // SE answers and waits on the customer: the clocks pause until the customer writes.
    auto se = s.client(model::role::se);
    const auto pended = se.post_json("/v1/requests/" + std::to_string(id) + "/events",
                                     R"({"type": "pend", "message": "Could you restart the VPN client?"})");
    REQUIRE(pended.status == 200);
    CHECK(s.request(id).at("status") == "pending_customer");
    const auto reply = post_event(c, fixture("slack_thread_message.json"), unix_now());
    REQUIRE(reply.status == 200);
    CHECK(parse(reply.body).at("outcome") == "replied");
    CHECK(parse(reply.body).at("request_id").as_int64() == id);
    CHECK(s.requests().size() == 1);
    CHECK(s.request(id).at("status") == "open");
    const auto types = s.event_types(id);
    CHECK(std::count(types.begin(), types.end(), "request.customer_replied") == 1);
    // Delivered again: nothing twice.
    CHECK(parse(post_event(c, fixture("slack_thread_message.json"), unix_now()).body).at("outcome") == "duplicate");
    const auto again = s.event_types(id);
    CHECK(std::count(again.begin(), again.end(), "request.customer_replied") == 1);
  }

  TEST_CASE("messages from bots, edits and unknown channels file nothing") {
    webhook_server s;
    auto c = s.client();
    const auto mention = fixture("slack_app_mention.json");
    auto bot = replace(mention, "\"user\":\"U04ALICE01\"", "\"user\":\"U0BOTUSER1\"");
    CHECK(parse(post_event(c, bot, unix_now()).body).at("outcome") == "ignored");
    auto elsewhere = replace(mention, "\"channel\":\"C0SUPPORT01\"", "\"channel\":\"C0RANDOM001\"");
    CHECK(parse(post_event(c, elsewhere, unix_now()).body).at("outcome") == "ignored");
    CHECK(s.requests().empty());
  }

  TEST_CASE("the slash command files a request as the mapped CE and answers with id, owner, why and deadline") {
    webhook_server s;
    auto c = s.client();
    auto body = replace(fixture("slack_slash_command.txt"), "command=%2Fticket", "command=%2Fsupport");
    body = replace(body, "text=printer+on+3rd+floor+jams+%26+shows+%22E-52%22",
                   "text=troubleshoot+acme+printer+on+3rd+floor+jams+%26+shows+%22E-52%22");
    const auto res = c.request("POST", "/v1/webhooks/slack/commands", body, "application/x-www-form-urlencoded",
                               slack_headers(body, unix_now()));
    REQUIRE(res.status == 200);
    const auto answer = parse(res.body);
    CHECK(answer.at("response_type") == "ephemeral");
    const std::string text(answer.at("text").as_string());
    CAPTURE(text);
    const auto requests = s.requests();
    REQUIRE(requests.size() == 1);
    const auto id = requests.front().at("id").as_int64();
    CHECK(text.find("Filed request #" + std::to_string(id)) != std::string::npos);
    CHECK(text.find("printer on 3rd floor jams & shows \"E-52\"") != std::string::npos);
    CHECK(text.find("Owner: se") != std::string::npos);
    CHECK(text.find("Why: " + std::string(requests.front().at("routing").at("reason").as_string())) != std::string::npos);
    CHECK(text.find("First SLA deadline: first_response by 20") != std::string::npos);
    CHECK(requests.front().at("kind") == "troubleshooting");

    auto cli = s.client();
    const auto events = json::parse(cli.get("/v1/requests/" + std::to_string(id) + "/events").body);
    CHECK(events.at("events").as_array().front().at("actor") == "ce:ce-person");

    // Bad usage and an unmapped user get an ephemeral explanation, and file nothing.
    auto usage = replace(body, "text=troubleshoot+acme+", "text=acme+");
    const auto bad = c.request("POST", "/v1/webhooks/slack/commands", usage, "application/x-www-form-urlencoded",
                               slack_headers(usage, unix_now()));
    CHECK(std::string(parse(bad.body).at("text").as_string()).starts_with("Usage: /support"));
    auto stranger = replace(body, "user_id=U04ALICE01", "user_id=U0STRANGER");
    const auto unmapped = c.request("POST", "/v1/webhooks/slack/commands", stranger,
                                    "application/x-www-form-urlencoded", slack_headers(stranger, unix_now()));
    CHECK(std::string(parse(unmapped.body).at("text").as_string()).find("not mapped") != std::string::npos);
    // The signature covers the command too.
    CHECK(c.request("POST", "/v1/webhooks/slack/commands", body + "x", "application/x-www-form-urlencoded",
                    slack_headers(body, unix_now()))
              .status == 401);
    CHECK(s.requests().size() == 1);
  }

  TEST_CASE("per-endpoint body limits: Slack 1 MiB, e-mail 40 MiB") {
    webhook_server s;
    auto c = s.client();
    const std::string big(2 * 1024 * 1024, 'x');
    CHECK(c.request("POST", events, big, "application/json", slack_headers(big, unix_now())).status == 413);
    auto c2 = s.client(model::role::ce);
    // Over the server's 1 MiB default but within e-mail's limit: read, then refused for its token.
    CHECK(c2.request("POST", "/v1/webhooks/email/raw", big, "message/rfc822").status == 403);
    auto c3 = s.client();
    CHECK(c3.request("POST", "/v1/requests", big).status == 413);
  }

  TEST_CASE("without a signing secret the Slack endpoints answer 503 and accept nothing") {
    set_integration_secrets(false);
    temp_dir dir;
    server_process server({"", dir.file("switchboard.db"), {}});
    set_integration_secrets(true);
    auto c = server.client(model::role::ce);
    const auto body = fixture("slack_app_mention.json");
    const auto res = c.request("POST", events, body, "application/json", slack_headers(body, unix_now()));
    CHECK(res.status == 503);
    CHECK(json::parse(res.body).at("error").at("code") == "not_configured");
  }
}
