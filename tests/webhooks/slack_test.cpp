// Slack through the real server: signed fixtures (re-signed at the current time), every way a
// signature fails, retries and duplicates, thread replies and the /support slash command.
#include "webhooks/webhook_server.hpp"

#include "support/server_backends.hpp"

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

// The intake case s03 (a customer's file_share in C0SUPPORT01), as the base of other messages.
std::string s03() { return fixture("slack_s03_file_share.json"); }

// `base` as another delivery: its own event_id, and `changes` applied to its event (a null
// value removes the field).
std::string variant_of(const std::string& base, std::string_view event_id, const json::object& changes) {
  auto body = json::parse(base).as_object();
  body["event_id"] = event_id;
  auto& event = body["event"].as_object();
  for (const auto& [key, value] : changes) {
    if (value.is_null())
      event.erase(key);
    else
      event[key] = value;
  }
  return json::serialize(body);
}

std::string outcome_of(const http::client_response& res) {
  REQUIRE(res.status == 200);
  return std::string(parse(res.body).at("outcome").as_string());
}

std::int64_t count_of(const std::vector<std::string>& types, std::string_view type) {
  return std::count(types.begin(), types.end(), type);
}

http::client_response post_command(http::client& c, const std::string& body) {
  return c.request("POST", "/v1/webhooks/slack/commands", body, "application/x-www-form-urlencoded",
                   slack_headers(body, unix_now()));
}

std::string support_command() {
  auto body = replace(fixture("slack_slash_command.txt"), "command=%2Fticket", "command=%2Fsupport");
  body = replace(body, "user_id=U04ALICE01", "user_id=U0CEDANA01");
  return replace(body, "text=printer+on+3rd+floor", "text=troubleshoot+acme+printer+on+3rd+floor");
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
    // 30 s past the window: the server reads its clock later than we do, so +301 could arrive inside it.
    SUBCASE("timestamp 330 s in the future") { CHECK(post_event(c, body, unix_now() + 330).status == 401); }
    SUBCASE("no signature") {
      const auto res =
          c.request("POST", events, body, "application/json", {{"X-Slack-Request-Timestamp", std::to_string(now)}});
      CHECK(res.status == 401);
      CHECK(parse(res.body).at("error").at("code") == "invalid_signature");
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

  TEST_CASE("a stale timestamp is reported as stale, a bad signature as a bad signature") {
    webhook_server s;
    auto c = s.client();
    const auto body = fixture("slack_app_mention.json");
    const auto now = unix_now();

    // Correctly signed, but outside Slack's 5-minute window: the clock is the problem, not the secret.
    for (const auto ts : {now - 301, unix_now() + 330}) {
      INFO("offset from now: " << ts - now);
      const auto stale = post_event(c, body, ts);
      CHECK(stale.status == 401);
      const auto error = parse(stale.body).at("error").as_object();
      CHECK(error.at("code") == "stale_timestamp");
      CHECK(error.at("message") == "X-Slack-Request-Timestamp is more than 5 minutes from the server's clock");
    }

    const auto wrong = post_event(c, body, now, "0000000000000000000000000000000");
    CHECK(wrong.status == 401);
    CHECK(parse(wrong.body).at("error").at("code") == "invalid_signature");
    CHECK(parse(wrong.body).at("error").at("message") == "the Slack request signature did not verify");

    const auto garbled = c.request("POST", events, body, "application/json",
                                   {{"X-Slack-Request-Timestamp", "soon"}, {"X-Slack-Signature", "v0=00"}});
    CHECK(garbled.status == 401);
    CHECK(parse(garbled.body).at("error").at("message") == "X-Slack-Request-Timestamp is not a Unix time in seconds");
    CHECK(s.requests().empty());
  }

  TEST_CASE("a signed event with a duplicate key is refused as invalid JSON naming the key") {
    webhook_server s;
    auto c = s.client();
    const auto body = replace(s03(), "{", "{\"type\": \"event_callback\", ");
    const auto res = post_event(c, body, unix_now());
    CHECK(res.status == 400);
    const auto error = parse(res.body).at("error").as_object();
    CHECK(error.at("code") == "malformed_json");
    CHECK(error.at("message") == "the body is not valid JSON: duplicate key \"type\" in an object");
    CHECK(s.requests().empty());

    const auto array = post_event(c, "[1]", unix_now());
    CHECK(array.status == 400);
    CHECK(parse(array.body).at("error").at("message") == "the body is not a JSON object");
  }

  TEST_CASE("a mention files a request, a retry, a duplicate event_id and the same message as `message` do not") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      webhook_server s(backend);
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

      // After a SIGKILL and a restart the event and the message are still known: the database
      // remembers them, not the process.
      s.restart();
      auto after = s.client();
      CHECK(parse(post_event(after, mention, unix_now()).body).at("outcome") == "duplicate");
      CHECK(parse(post_event(after, as_message, unix_now()).body).at("outcome") == "duplicate");
      CHECK(s.requests().size() == 1);
    });
  }

  TEST_CASE("a message in the request's thread is a customer reply on it") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      webhook_server s(backend);
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
    });
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
    body = replace(body, "user_id=U04ALICE01", "user_id=U0CEDANA01");
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
    auto stranger = replace(body, "user_id=U0CEDANA01", "user_id=U0STRANGER");
    const auto unmapped = c.request("POST", "/v1/webhooks/slack/commands", stranger,
                                    "application/x-www-form-urlencoded", slack_headers(stranger, unix_now()));
    CHECK(std::string(parse(unmapped.body).at("text").as_string()).find("not mapped") != std::string::npos);
    // The signature covers the command too.
    CHECK(c.request("POST", "/v1/webhooks/slack/commands", body + "x", "application/x-www-form-urlencoded",
                    slack_headers(body, unix_now()))
              .status == 401);
    CHECK(s.requests().size() == 1);
  }

  TEST_CASE("intake s03: a customer's message with a screenshot (file_share) is filed with its text and the file") {
    webhook_server s;
    auto c = s.client();
    const auto res = post_event(c, s03(), unix_now());
    REQUIRE(res.status == 200);
    const auto answer = parse(res.body);
    REQUIRE(answer.at("outcome") == "created");
    const auto stored = s.request(answer.at("request_id").as_int64());
    CHECK(stored.at("title") == "Uploads fail with HTTP 413 since the upgrade, screenshot attached");
    CHECK(stored.at("body") == "Uploads fail with HTTP 413 since the upgrade, screenshot attached");
    CHECK(stored.at("source") == "slack");
    CHECK(stored.at("customer").at("id") == "acme");
    const auto& files = stored.at("attachments").as_array();
    REQUIRE(files.size() == 1);
    CHECK(files[0].at("name") == "upload-error.png");
    CHECK(files[0].at("type") == "image/png");
    CHECK(files[0].at("id") == "F0FILE0001");
    // Slack's retry of the same delivery files nothing more.
    CHECK(outcome_of(post_event(c, s03(), unix_now())) == "duplicate");
    CHECK(s.requests().size() == 1);
  }

  TEST_CASE("every subtype that carries a person's text is filed or recorded: me_message, thread_broadcast, new ones") {
    webhook_server s;
    auto c = s.client();
    const auto me = post_event(c, variant_of(s03(), "Ev0ME00001", {{"subtype", "me_message"}, {"ts", "1764520400.000100"},
                                                                 {"text", "is locked out of the admin console"},
                                                                 {"files", nullptr}}),
                               unix_now());
    REQUIRE(outcome_of(me) == "created");
    CHECK(s.request(parse(me.body).at("request_id").as_int64()).at("title") == "is locked out of the admin console");
    CHECK(s.request(parse(me.body).at("request_id").as_int64()).at("attachments").as_array().empty());

    // A subtype Slack adds later: a person wrote it, so it is kept.
    const auto future = post_event(c, variant_of(s03(), "Ev0NEW0001", {{"subtype", "message_with_canvas"},
                                                                     {"ts", "1764520401.000100"},
                                                                     {"text", "Our SSO login loops back to the start"}}),
                                   unix_now());
    REQUIRE(outcome_of(future) == "created");
    const auto future_id = parse(future.body).at("request_id").as_int64();
    CHECK(s.request(future_id).at("title") == "Our SSO login loops back to the start");
    CHECK(s.request(future_id).at("attachments").as_array().size() == 1);

    // A thread reply also sent to the channel, in a request's thread: the customer's reply on it.
    const auto filed = post_event(c, s03(), unix_now());
    REQUIRE(outcome_of(filed) == "created");
    const auto id = parse(filed.body).at("request_id").as_int64();
    const auto broadcast =
        post_event(c, variant_of(s03(), "Ev0BCAST01", {{"subtype", "thread_broadcast"}, {"ts", "1764520500.000100"},
                                                      {"thread_ts", "1764520300.000400"},
                                                      {"text", "Any update? This blocks our release"}}),
                   unix_now());
    REQUIRE(outcome_of(broadcast) == "replied");
    CHECK(parse(broadcast.body).at("request_id").as_int64() == id);
    CHECK(count_of(s.event_types(id), "request.customer_replied") == 1);
    const auto events = json::parse(s.client().get("/v1/requests/" + std::to_string(id) + "/events").body);
    const auto& last = events.at("events").as_array().back();
    CHECK(last.at("type") == "request.customer_replied");
    CHECK(last.at("data").at("message") ==
          "Any update? This blocks our release\n\nFiles: upload-error.png (image/png, Slack file F0FILE0001)");

    // In a thread that is no request's, a broadcast reaches the whole channel: filed (this
    // channel files everything); a plain reply there is conversation, not a request.
    const auto elsewhere =
        post_event(c, variant_of(s03(), "Ev0BCAST02", {{"subtype", "thread_broadcast"}, {"ts", "1764520600.000100"},
                                                      {"thread_ts", "1764510000.000100"},
                                                      {"text", "Same here: uploads over 10 MB fail"}}),
                   unix_now());
    CHECK(outcome_of(elsewhere) == "created");
    const auto chatter = post_event(c, variant_of(s03(), "Ev0CHAT001", {{"subtype", nullptr}, {"ts", "1764520700.000100"},
                                                                      {"thread_ts", "1764510000.000100"},
                                                                      {"text", "thanks!"}, {"files", nullptr}}),
                                    unix_now());
    CHECK(outcome_of(chatter) == "ignored");
    CHECK(s.requests().size() == 4);
  }

  TEST_CASE("edits, deletions, joins and leaves and bot messages file nothing") {
    webhook_server s;
    auto c = s.client();
    int n = 0;
    for (const char* subtype : {"message_changed", "message_deleted", "channel_join", "channel_leave", "group_join",
                                "group_leave", "bot_message"}) {
      CAPTURE(subtype);
      ++n;
      const auto body = variant_of(s03(), "Ev0IGN000" + std::to_string(n),
                                   {{"subtype", subtype}, {"ts", "1764520800.00010" + std::to_string(n)},
                                    {"text", "<@U0CUST0001> has joined the channel"}});
      CHECK(outcome_of(post_event(c, body, unix_now())) == "ignored");
    }
    // A bot's post without a subtype, and our own bot's.
    CHECK(outcome_of(post_event(c, variant_of(s03(), "Ev0BOT0001", {{"subtype", nullptr}, {"bot_id", "B0OTHER001"}}),
                                unix_now())) == "ignored");
    CHECK(outcome_of(post_event(c, variant_of(s03(), "Ev0BOT0002", {{"subtype", nullptr}, {"user", "U0BOT00001"}}),
                                unix_now())) == "ignored");
    CHECK(s.requests().empty());
  }

  TEST_CASE("a channel files every message with file = all, and only mentions by default") {
    webhook_server s;
    auto c = s.client();
    const auto lobby = [](std::string_view event_id, std::string_view ts, std::string_view text) {
      return variant_of(s03(), event_id, {{"subtype", nullptr}, {"files", nullptr}, {"channel", "C0LOBBY0001"},
                                          {"ts", ts}, {"text", text}});
    };
    CHECK(outcome_of(post_event(c, lobby("Ev0LOB0001", "1764521000.000100", "Good morning team!"), unix_now())) ==
          "ignored");
    CHECK(s.requests().empty());

    // A mention there files, whether it arrives as `message` or `app_mention` (once).
    const auto mention = lobby("Ev0LOB0002", "1764521100.000100", "<@U0BOT00001> our nightly exports are failing");
    const auto filed = post_event(c, mention, unix_now());
    REQUIRE(outcome_of(filed) == "created");
    CHECK(s.request(parse(filed.body).at("request_id").as_int64()).at("title") == "our nightly exports are failing");
    const auto as_app_mention = variant_of(mention, "Ev0LOB0003", {{"type", "app_mention"}});
    CHECK(outcome_of(post_event(c, as_app_mention, unix_now())) == "duplicate");
    CHECK(s.requests().size() == 1);

    // The channel with file = "all" files the same greeting, but not our own agents' posts.
    const auto support = variant_of(lobby("Ev0SUP0001", "1764521200.000100", "Good morning team!"), "Ev0SUP0001",
                                    {{"channel", "C0SUPPORT01"}});
    CHECK(outcome_of(post_event(c, support, unix_now())) == "created");
    const auto announcement = variant_of(support, "Ev0SUP0002", {{"user", "U0CEDANA01"}, {"ts", "1764521300.000100"},
                                                                 {"text", "Maintenance tonight at 22:00 UTC"}});
    CHECK(outcome_of(post_event(c, announcement, unix_now())) == "ignored");
    CHECK(s.requests().size() == 2);
  }

  TEST_CASE("a thread reply by a mapped SE is that agent's response: it meets first response, no customer reply") {
    webhook_server s;
    auto c = s.client();
    const auto filed = post_event(c, s03(), unix_now());
    REQUIRE(outcome_of(filed) == "created");
    const auto id = parse(filed.body).at("request_id").as_int64();
    const auto first_response = [&] {
      const auto stored = s.request(id);
      for (const auto& clock : stored.at("clocks").as_array())
        if (clock.at("metric") == "first_response") return clock.as_object();
      FAIL("no first_response clock");
      return json::object{};
    };
    REQUIRE(s.request(id).at("owner") == "se");
    CHECK(first_response().at("open") == true);

    const auto in_thread = [](std::string_view event_id, std::string_view user, std::string_view ts, std::string_view text) {
      return variant_of(s03(), event_id, {{"subtype", nullptr}, {"files", nullptr}, {"user", user}, {"ts", ts},
                                          {"thread_ts", "1764520300.000400"}, {"text", text}});
    };
    const auto answer = post_event(c, in_thread("Ev0SE00001", "U0SESAM001", "1764520900.000100",
                                                "Thanks, which client version are you on?"),
                                   unix_now());
    REQUIRE(outcome_of(answer) == "responded");
    CHECK(parse(answer.body).at("request_id").as_int64() == id);
    CHECK(first_response().at("open") == false);
    auto types = s.event_types(id);
    CHECK(count_of(types, "request.responded") == 1);
    CHECK(count_of(types, "request.customer_replied") == 0);
    const auto events = json::parse(s.client().get("/v1/requests/" + std::to_string(id) + "/events").body);
    bool by_se = false;
    for (const auto& e : events.at("events").as_array())
      if (e.at("type") == "request.responded")
        by_se = e.at("actor") == "se:se-person" && e.at("data").at("message") == "Thanks, which client version are you on?";
    CHECK(by_se);

    // A CE is an agent too, but SE owns this request: refused like `respond` through the API,
    // and never taken for the customer.
    const auto ce = post_event(c, in_thread("Ev0CE00001", "U0CEDANA01", "1764520950.000100", "Looping in SE"),
                               unix_now());
    CHECK(outcome_of(ce) == "refused");
    CHECK(std::string(parse(ce.body).at("reason").as_string()).find("se owns this request") != std::string::npos);
    // The customer's answer is the customer's reply.
    CHECK(outcome_of(post_event(c, in_thread("Ev0CU00001", "U0CUST0001", "1764521000.000100", "Version 4.2"),
                                unix_now())) == "replied");
    types = s.event_types(id);
    CHECK(count_of(types, "request.responded") == 1);
    CHECK(count_of(types, "request.customer_replied") == 1);
  }

  TEST_CASE("a Slack request's answer carries its thread as delivery target, a CLI --internal note none, and public on an API request is 422") {
    webhook_server s;
    auto c = s.client();
    const auto filed = post_event(c, s03(), unix_now());
    REQUIRE(outcome_of(filed) == "created");
    const auto id = parse(filed.body).at("request_id").as_int64();
    const json::value thread = json::object{
        {"via", "slack"}, {"team", "T0TEAM0001"}, {"channel", "C0SUPPORT01"}, {"thread_ts", "1764520300.000400"}};
    CHECK(s.request(id).at("channel") == thread);

    const auto note = run_program({SWITCHBOARD_CLI_PATH, "--server", s.server->url(), "--token", token_for(model::role::se),
                                   "act", std::to_string(id), "respond", "--internal", "-m", "Customer is on 4.2"});
    CAPTURE(note.err);
    CHECK(note.exit_code == 0);
    auto se = s.client(model::role::se);
    const auto events_path = "/v1/requests/" + std::to_string(id) + "/events";
    const auto answered = se.post_json(events_path, R"({"type": "respond", "message": "Which client version are you on?"})");
    CAPTURE(answered.body);
    REQUIRE(answered.status == 200);

    std::vector<json::object> responded;
    const auto history = json::parse(se.get(events_path).body);
    for (const auto& e : history.at("events").as_array())
      if (e.at("type") == "request.responded") responded.push_back(e.at("data").as_object());
    REQUIRE(responded.size() == 2);
    CHECK(responded[0].at("message") == "Customer is on 4.2");
    CHECK(responded[0].at("public") == false);
    CHECK(responded[0].at("delivery").is_null());
    CHECK(responded[1].at("public") == true);
    auto target = thread.as_object();
    target["seen"] = false;
    CHECK(responded[1].at("delivery") == json::value(target));

    // Filed through the API: no conversation to answer in, so public is refused and nothing is recorded.
    const auto api = c.post_json(
        "/v1/requests", R"({"kind":"troubleshooting","customer":{"id":"acme"},"title":"Indexing stuck"})");
    REQUIRE(api.status == 201);
    const auto api_events = "/v1/requests/" + std::to_string(parse(api.body).at("id").as_int64()) + "/events";
    const auto count = json::parse(se.get(api_events).body).at("events").as_array().size();
    const auto refused = se.post_json(api_events, R"({"type": "respond", "message": "Fixed", "public": true})");
    CHECK(refused.status == 422);
    CHECK(parse(refused.body).at("error").at("code") == "no_customer_channel");
    CHECK(json::parse(se.get(api_events).body).at("events").as_array().size() == count);
    const auto bad = se.post_json(api_events, R"({"type": "respond", "public": "yes"})");
    CHECK(bad.status == 422);
    CHECK(parse(bad.body).at("error").at("code") == "invalid_fields");
  }

  TEST_CASE("a replayed slash command files once, and a new invocation files again") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      webhook_server s(backend);
      auto c = s.client();
      const auto body = support_command();
      const auto first = post_command(c, body);
      REQUIRE(first.status == 200);
      REQUIRE(s.requests().size() == 1);
      const auto id = s.requests().front().at("id").as_int64();
      // The same signed body again (a replay, or a retry), freshly signed: nothing new.
      const auto replay = post_command(c, body);
      REQUIRE(replay.status == 200);
      CHECK(std::string(parse(replay.body).at("text").as_string()) == "Already filed as request #" + std::to_string(id) + ".");
      CHECK(s.requests().size() == 1);
      const auto again = replace(body, "trigger_id=7263310215009", "trigger_id=7263310215010");
      CHECK(post_command(c, again).status == 200);
      CHECK(s.requests().size() == 2);
    });
  }

  TEST_CASE("a Slack message over 64 KiB is stored whole, its title shortened for display") {
    webhook_server s;
    auto c = s.client();
    std::string text = "Export fails with this trace:";
    while (text.size() < 70 * 1024) text += " at com.acme.export.Writer.flush(Writer.java:42)";
    const auto res = post_event(c, variant_of(s03(), "Ev0LONG001", {{"text", text}}), unix_now());
    REQUIRE(outcome_of(res) == "created");
    const auto stored = s.request(parse(res.body).at("request_id").as_int64());
    const std::string body(stored.at("body").as_string());
    CHECK(body.size() == text.size());
    CHECK((body == text));
    const std::string title(stored.at("title").as_string());
    CHECK(title.size() <= 104);
    CHECK(title.starts_with("Export fails with this trace: at com.acme.export"));
    CHECK(title.ends_with("…"));
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
