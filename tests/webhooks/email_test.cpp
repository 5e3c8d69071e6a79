// Inbound e-mail through the real server: one customer reply through each of Mailgun, Postmark
// and raw RFC 5322 threads onto the same request; forged tags, auto-replies, duplicates,
// charsets and encoded words.
#include "webhooks/webhook_server.hpp"

#include "support/server_backends.hpp"

#include "support/raw_connection.hpp"

#include "http/webhooks/signature.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <openssl/evp.h>

using namespace switchboard;
using namespace switchboard::testing;
namespace json = boost::json;

namespace {

json::object parse(const std::string& body) { return json::parse(body).as_object(); }

std::string replace(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

std::string url_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string basic(std::string_view user, std::string_view password) {
  const std::string plain = std::string(user) + ":" + std::string(password);
  std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  out.resize(static_cast<std::size_t>(n));
  return "Basic " + out;
}

// The Mailgun fixture, sent to `recipient`, freshly signed with `token`.
std::string mailgun_body(const std::string& recipient, const std::string& token) {
  auto body = fixture("mailgun_route_reply.txt");
  body = replace(body, "recipient=support%2Bt4821.9f3a2c%40help.acme.test", "recipient=" + url_encode(recipient));
  const auto ts = std::to_string(unix_now());
  body = replace(body, "timestamp=1718053500", "timestamp=" + ts);
  body = replace(body, "token=c2f9a0e1d4b37a6f58e9c0b1a2d3e4f5a6b7c8d9e0f1a2b3c4", "token=" + token);
  return replace(body, "signature=b8786df67da41278f52e8c62af227358529e6e8f6ddd092926679484c48dcb7e",
                 "signature=" + http::webhooks::hmac_sha256_hex(mailgun_key, ts + token));
}

http::client_response post_raw(http::client& c, const std::string& message, std::string target = "/v1/webhooks/email/raw") {
  return c.request("POST", target, message, "message/rfc822");
}

http::client_response post_postmark(http::client& c, const std::string& body,
                                     std::string_view password = postmark_password) {
  return c.request("POST", "/v1/webhooks/email/postmark", body, "application/json",
                   {{"Authorization", basic("postmark", password)}});
}

std::string message(std::string_view headers, std::string_view body = "Hello.\r\n") {
  return std::string(headers) + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
         std::string(body);
}

std::int64_t count_of(const std::vector<std::string>& types, std::string_view type) {
  return std::count(types.begin(), types.end(), type);
}

// A copy of a case from ../shared/cases/intake (tests/webhooks/fixtures/intake/).
std::string intake(const std::string& name) { return fixture("intake/" + name); }

// Posts a raw message and returns its answer, which must be 200.
json::object deliver_raw(http::client& c, const std::string& mail) {
  const auto res = post_raw(c, mail);
  REQUIRE(res.status == 200);
  return parse(res.body);
}

std::string text_of(const json::value& value) { return std::string(value.as_string()); }

bool has_note_with(const json::object& request, std::string_view words) {
  for (const auto& note : request.at("routing").at("notes").as_array())
    if (text_of(note).find(words) != std::string::npos) return true;
  return false;
}

// The Mailgun fixture with its verdict fields set to `spf` and `dkim` ("Pass", "Fail"), fresh
// token and timestamp `ts`.
std::string mailgun_with(const std::string& token, std::int64_t ts, std::string_view spf = "Pass",
                         std::string_view dkim = "Pass") {
  auto body = fixture("mailgun_route_reply.txt");
  body = replace(body, "%5B%22X-Mailgun-Spf%22%2C+%22Pass%22%5D", "%5B%22X-Mailgun-Spf%22%2C+%22" + std::string(spf) + "%22%5D");
  body = replace(body, "%5B%22X-Mailgun-Dkim-Check-Result%22%2C+%22Pass%22%5D",
                 "%5B%22X-Mailgun-Dkim-Check-Result%22%2C+%22" + std::string(dkim) + "%22%5D");
  const auto stamp = std::to_string(ts);
  body = replace(body, "timestamp=1718053500", "timestamp=" + stamp);
  body = replace(body, "token=c2f9a0e1d4b37a6f58e9c0b1a2d3e4f5a6b7c8d9e0f1a2b3c4", "token=" + token);
  return replace(body, "signature=b8786df67da41278f52e8c62af227358529e6e8f6ddd092926679484c48dcb7e",
                 "signature=" + http::webhooks::hmac_sha256_hex(mailgun_key, stamp + token));
}

http::client_response post_mailgun(http::client& c, const std::string& body) {
  return c.request("POST", "/v1/webhooks/email/mailgun", body, "application/x-www-form-urlencoded");
}

// Files the request that the providers' fixtures reply to (their In-Reply-To), from Alice,
// authenticated; returns its id.
std::int64_t file_ticket_4821(http::client& raw) {
  const auto created = deliver_raw(raw, message(authentication_results("customer.test") +
                                                    "From: Alice Example <alice@customer.test>\r\n"
                                                    "Subject: VPN keeps dropping every 10 minutes\r\n"
                                                    "Message-ID: <ticket-4821.msg-2.1718050000@help.acme.test>\r\n",
                                                "It drops.\r\n"));
  REQUIRE(created.at("outcome") == "created");
  return created.at("request_id").as_int64();
}

}  // namespace

TEST_SUITE("integration::email") {
  TEST_CASE("one customer reply through each of Mailgun, Postmark and raw MIME threads onto the same request") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      webhook_server s(backend);
      auto raw = s.client(model::role::integration);
      const auto first = post_raw(raw, message(authentication_results("customer.test") +
                                               "From: Alice Example <alice@customer.test>\r\n"
                                               "To: support@example.com\r\n"
                                               "Subject: VPN keeps dropping every 10 minutes\r\n"
                                               "Message-ID: <first.1@mail.gmail.com>\r\n",
                                               "My VPN drops every 10 minutes.\r\n"));
      REQUIRE(first.status == 200);
      CHECK(parse(first.body).at("outcome") == "created");
      const auto id = parse(first.body).at("request_id").as_int64();
      CHECK(s.request(id).at("source") == "email");
      CHECK(s.request(id).at("customer").at("id") == "acme");

      // Mailgun: the reply-address token in the envelope recipient.
      auto c = s.client();
      const auto reply_to = http::webhooks::reply_address(reply_key, "support@example.com", id);
      const auto via_mailgun = c.request("POST", "/v1/webhooks/email/mailgun", mailgun_body(reply_to, std::string(50, 'a')),
                                         "application/x-www-form-urlencoded");
      REQUIRE(via_mailgun.status == 200);
      CHECK(parse(via_mailgun.body).at("outcome") == "replied");
      CHECK(parse(via_mailgun.body).at("request_id").as_int64() == id);

      // Postmark: the fixture's forged token (t4821.9f3a2c) fails, In-Reply-To our first message.
      auto postmark = fixture("postmark_inbound_reply.json");
      postmark = replace(postmark, "<CAGx7Qh0rE+pLy1=Zk3nV9q@mail.gmail.com>", "<pm.reply.2@mail.gmail.com>");
      postmark = replace(postmark, "\"Value\": \"<ticket-4821.msg-2.1718050000@help.acme.test>\"",
                         "\"Value\": \"<first.1@mail.gmail.com>\"");
      const auto via_postmark = post_postmark(c, postmark);
      REQUIRE(via_postmark.status == 200);
      CHECK(parse(via_postmark.body).at("outcome") == "replied");
      CHECK(parse(via_postmark.body).at("request_id").as_int64() == id);

      // Raw: References naming the reply Mailgun delivered.
      const auto via_raw = post_raw(raw, message(authentication_results("customer.test") +
                                                 "From: Alice Example <alice@customer.test>\r\n"
                                                 "To: support@example.com\r\n"
                                                 "Subject: Re: VPN keeps dropping every 10 minutes\r\n"
                                                 "Message-ID: <raw.reply.3@mail.gmail.com>\r\n"
                                                 "References: <unknown@x> <CAGx7Qh0rE+pLy1=Zk3nV9q@mail.gmail.com>\r\n",
                                                 "Third reply.\r\n"));
      REQUIRE(via_raw.status == 200);
      CHECK(parse(via_raw.body).at("outcome") == "replied");
      CHECK(parse(via_raw.body).at("request_id").as_int64() == id);

      CHECK(s.requests().size() == 1);
      CHECK(count_of(s.event_types(id), "request.customer_replied") == 3);

      // Every provider's retry is absorbed: the same Message-ID again, and Mailgun's token again.
      CHECK(parse(post_postmark(c, postmark).body).at("outcome") == "duplicate");
      const auto replayed = c.request("POST", "/v1/webhooks/email/mailgun", mailgun_body(reply_to, std::string(50, 'a')),
                                      "application/x-www-form-urlencoded");
      CHECK(replayed.status == 406);
      CHECK(count_of(s.event_types(id), "request.customer_replied") == 3);
      CHECK(s.requests().size() == 1);
    });
  }

  TEST_CASE("a subject tag threads only from a participant, a stranger's forged tag opens a new request") {
    webhook_server s;
    auto raw = s.client(model::role::integration);
    const auto alice = authentication_results("acme.example");
    const auto mallory = authentication_results("evil.example");
    const auto id = parse(post_raw(raw, message(alice + "From: alice@acme.example\r\nSubject: Export fails\r\n"
                                                "Message-ID: <t1@acme.example>\r\n"))
                              .body)
                        .at("request_id")
                        .as_int64();
    const auto tag = "[SB-" + std::to_string(id) + "]";

    const auto known = post_raw(raw, message(alice + "From: Alice <ALICE@acme.example>\r\nSubject: Re: " + tag +
                                             " Export fails\r\nMessage-ID: <t2@acme.example>\r\n"));
    CHECK(parse(known.body).at("outcome") == "replied");
    CHECK(parse(known.body).at("request_id").as_int64() == id);

    // Mallory is authenticated, as herself: not a participant, not from Acme.
    const auto forged = post_raw(raw, message(mallory + "From: mallory@evil.example\r\nSubject: Re: " + tag +
                                              " Export fails\r\nMessage-ID: <t3@evil.example>\r\n"));
    CHECK(parse(forged.body).at("outcome") == "created");
    CHECK(parse(forged.body).at("request_id").as_int64() != id);

    // A forged reply-address tag falls through too.
    const auto forged_token = post_raw(raw, message(mallory + "From: mallory@evil.example\r\nTo: support+" + std::to_string(id) +
                                                    ".0123456789ab@example.com\r\nSubject: hi\r\n"
                                                    "Message-ID: <t4@evil.example>\r\n"));
    CHECK(parse(forged_token.body).at("outcome") == "created");
    CHECK(s.requests().size() == 3);
    CHECK(count_of(s.event_types(id), "request.customer_replied") == 1);
  }

  TEST_CASE("auto-replies and bulk mail are dropped with 200 and nothing recorded") {
    webhook_server s;
    auto raw = s.client(model::role::integration);
    const auto auto_reply = post_raw(raw, message("From: alice@acme.example\r\nSubject: Out of office\r\n"
                                                  "Auto-Submitted: auto-replied\r\nMessage-ID: <ooo@acme.example>\r\n"));
    CHECK(auto_reply.status == 200);
    CHECK(parse(auto_reply.body).at("outcome") == "dropped");

    auto c = s.client();
    auto bulk = replace(fixture("postmark_inbound_reply.json"), "\"Name\": \"X-Spam-Status\"", "\"Name\": \"Precedence\"");
    bulk = replace(bulk, "\"Value\": \"No\"", "\"Value\": \"bulk\"");
    const auto dropped = post_postmark(c, bulk);
    CHECK(dropped.status == 200);
    CHECK(parse(dropped.body).at("outcome") == "dropped");
    CHECK(s.requests().empty());
    // Dropped, not remembered: the same Message-ID as a real reply later is filed.
    CHECK(parse(post_postmark(c, fixture("postmark_inbound_reply.json")).body).at("outcome") == "created");
  }

  TEST_CASE("a non-UTF-8 message and an RFC 2047 subject come out right") {
    webhook_server s;
    auto raw = s.client(model::role::integration);
    const std::string latin1 =
        "From: =?ISO-8859-1?Q?Ren=E9?= <rene@acme.example>\r\n"
        "To: support@example.com\r\n"
        "Subject: =?ISO-8859-1?Q?Caf=E9_?= =?UTF-8?B?bWFjaGluZSDigJQgw6lydXB0aW9u?=\r\n"
        "Message-ID: <latin1@acme.example>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        "La machine \xe0 caf\xe9 est en panne depuis lundi.\r\n";
    const auto res = post_raw(raw, latin1);
    REQUIRE(res.status == 200);
    const auto stored = s.request(parse(res.body).at("request_id").as_int64());
    CHECK(stored.at("title") == "Café machine — éruption");
    CHECK(std::string(stored.at("body").as_string()).starts_with("La machine à café est en panne depuis lundi."));
  }

  TEST_CASE("each e-mail endpoint refuses what is not authenticated") {
    webhook_server s;
    auto c = s.client();
    CHECK(post_postmark(c, fixture("postmark_inbound_reply.json"), "wrong").status == 401);
    CHECK(c.request("POST", "/v1/webhooks/email/postmark", fixture("postmark_inbound_reply.json"), "application/json")
              .status == 401);
    // Mailgun's fixture as captured: an old timestamp; and a signature over another token.
    CHECK(c.request("POST", "/v1/webhooks/email/mailgun", fixture("mailgun_route_reply.txt"),
                    "application/x-www-form-urlencoded")
              .status == 401);
    auto forged = replace(mailgun_body("support@example.com", std::string(50, 'b')), std::string(50, 'b'),
                          std::string(50, 'c'));
    CHECK(c.request("POST", "/v1/webhooks/email/mailgun", forged, "application/x-www-form-urlencoded").status == 401);
    // Raw needs an integration token.
    const auto mail = message("From: a@acme.example\r\nSubject: x\r\n");
    CHECK(post_raw(c, mail).status == 403);
    http::client anonymous(s.server->url());
    CHECK(post_raw(anonymous, mail).status == 401);
    auto integration = s.client(model::role::integration);
    CHECK(integration.request("POST", "/v1/webhooks/email/raw", mail, "text/plain").status == 415);
    CHECK(s.requests().empty());
  }

  TEST_CASE("a Mailgun multipart post with the raw message (body-mime) is read with GMime") {
    webhook_server s;
    auto c = s.client();
    const auto ts = std::to_string(unix_now());
    const std::string token(50, 'd');
    const auto part = [](std::string_view name, std::string_view value) {
      return "--xYzZY\r\nContent-Disposition: form-data; name=\"" + std::string(name) + "\"\r\n\r\n" +
             std::string(value) + "\r\n";
    };
    const auto body = part("recipient", "support@example.com") + part("timestamp", ts) + part("token", token) +
                      part("signature", http::webhooks::hmac_sha256_hex(mailgun_key, ts + token)) +
                      part("body-mime", message("From: bob@acme.example\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n"
                                                "Message-ID: <mg-mime@acme.example>\r\n",
                                                "Printer is on fire.\r\n")) +
                      "--xYzZY--\r\n";
    const auto res = c.request("POST", "/v1/webhooks/email/mailgun/mime", body, "multipart/form-data; boundary=xYzZY");
    REQUIRE(res.status == 200);
    CHECK(parse(res.body).at("outcome") == "created");
    CHECK(s.request(parse(res.body).at("request_id").as_int64()).at("title") == "Grüße");
  }
}

TEST_SUITE("integration::email") {
  TEST_CASE("e07b: two padded base64 words decode to the whole title, and a tag inside them threads") {
    webhook_server s;
    auto raw = s.client(model::role::integration);
    const auto created = deliver_raw(raw, intake("e07b_padded_words.eml"));
    REQUIRE(created.at("outcome") == "created");
    const auto id = created.at("request_id").as_int64();
    const auto stored = s.request(id);
    CHECK(stored.at("title") == "Datenbank-Sicherung schl\u00e4gt fehl");
    CHECK(stored.at("email").at("subject") == "Datenbank-Sicherung schl\u00e4gt fehl");

    // An authenticated participant's reply whose [SB-n] tag sits in the second of two encoded
    // words (Q then B, different charsets) threads onto it.
    auto filed = deliver_raw(raw, message(authentication_results("acme.example") +
                                          "From: alice@acme.example\r\nSubject: Export\r\nMessage-ID: <x1@acme.example>\r\n"));
    const auto target = filed.at("request_id").as_int64();
    const auto tag = "[SB-" + std::to_string(target) + "]";
    std::string b64(4 * ((tag.size() + 2) / 3) + 1, '\0');
    b64.resize(static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                                        reinterpret_cast<const unsigned char*>(tag.data()),
                                                        static_cast<int>(tag.size()))));
    const auto reply = deliver_raw(raw, message(authentication_results("acme.example") +
                                                "From: alice@acme.example\r\nSubject: =?iso-8859-1?q?Antw=F6rt:?=\r\n"
                                                " =?utf-8?b?" + b64 + "?=\r\nMessage-ID: <x2@acme.example>\r\n"));
    CHECK(reply.at("outcome") == "replied");
    CHECK(reply.at("request_id").as_int64() == target);
  }

  TEST_CASE("e03a then mail_1: an authenticated customer's mails are filed for the customer, then replies thread") {
    webhook_server s;
    auto raw = s.client(model::role::integration);
    const auto trusted = authentication_results("acme.example");
    const auto first = deliver_raw(raw, trusted + intake("e03a_acme_new.eml"));
    REQUIRE(first.at("outcome") == "created");
    CHECK(first.at("sender_authentication") == "pass");
    const auto backups = s.request(first.at("request_id").as_int64());
    CHECK(backups.at("customer").at("id") == "acme");
    CHECK(backups.at("title") == "Backups fail nightly");
    CHECK(backups.at("email").at("from") == "pat@acme.example");
    CHECK(backups.at("email").at("authentication").at("verdict") == "pass");
    CHECK(backups.at("email").at("authentication").at("method") == "dmarc");
    CHECK(backups.at("email").at("note").is_null());

    const auto vpn = deliver_raw(raw, trusted + intake("mail_1_customer.eml"));
    REQUIRE(vpn.at("outcome") == "created");
    const auto id = vpn.at("request_id").as_int64();
    CHECK(s.request(id).at("customer").at("id") == "acme");
    CHECK(text_of(s.request(id).at("body")).starts_with("It drops every 10 minutes"));

    // Alice's own reply, by In-Reply-To; then Bob, also at Acme but not yet a participant.
    const auto again = deliver_raw(raw, message(trusted + "From: alice@acme.example\r\nSubject: Re: VPN broken\r\n"
                                                          "Message-ID: <thread-demo-2@acme.example>\r\n"
                                                          "In-Reply-To: <thread-demo-1@acme.example>\r\n",
                                                "Still broken.\r\n"));
    CHECK(again.at("outcome") == "replied");
    CHECK(again.at("request_id").as_int64() == id);
    const auto colleague = deliver_raw(raw, message(trusted + "From: bob@acme.example\r\nSubject: Re: VPN broken\r\n"
                                                              "Message-ID: <thread-demo-3@acme.example>\r\n"
                                                              "References: <thread-demo-1@acme.example> <thread-demo-2@acme.example>\r\n",
                                                    "Same here.\r\n"));
    CHECK(colleague.at("outcome") == "replied");
    CHECK(colleague.at("request_id").as_int64() == id);
    CHECK(count_of(s.event_types(id), "request.customer_replied") == 2);
    CHECK(s.requests().size() == 2);

    // Where an answer goes: the sender, threaded on the latest customer mail (issue 13 E1).
    const auto channel = s.request(id).at("channel");
    CHECK(channel.at("via") == "email");
    CHECK(channel.at("to") == "alice@acme.example");
    CHECK(channel.at("last_message_id") == "thread-demo-3@acme.example");
    CHECK(channel.at("references") ==
          json::value(json::array{"thread-demo-1@acme.example", "thread-demo-2@acme.example", "thread-demo-3@acme.example"}));
  }

  TEST_CASE("mail_4: a forged participant with the request's tag is filed as a new unattributed request") {
    webhook_server s;
    auto raw = s.client(model::role::integration);
    const auto vpn = deliver_raw(raw, authentication_results("acme.example") + intake("mail_1_customer.eml"));
    const auto id = vpn.at("request_id").as_int64();
    auto spoof = intake("mail_4_spoofed_participant.tmpl");
    spoof = replace(spoof, "%ID%", std::to_string(id));

    // No Authentication-Results at all.
    const auto forged = deliver_raw(raw, spoof);
    CHECK(forged.at("outcome") == "created");
    CHECK(forged.at("sender_authentication") == "none");
    const auto other = forged.at("request_id").as_int64();
    CHECK(other != id);
    const auto filed = s.request(other);
    CHECK(filed.at("customer").at("id") == "unattributed");
    CHECK(filed.at("email").at("from") == "alice@acme.example");
    CHECK(filed.at("email").at("authentication").at("verdict") == "none");
    CHECK(filed.at("email").at("authentication").at("method").is_null());
    CHECK(text_of(filed.at("email").at("note")).find("names request " + std::to_string(id)) != std::string::npos);
    CHECK(has_note_with(filed, "sender not authenticated"));
    CHECK(has_note_with(filed, "POST /v1/requests/" + std::to_string(id) + "/events"));
    CHECK(count_of(s.event_types(id), "request.customer_replied") == 0);

    // Failing verdicts from the trusted MTA, the sender's own "pass" below them, and a pass
    // from an MTA that is not trusted: none of them threads.
    const auto failing = deliver_raw(raw, authentication_results("acme.example", "fail") +
                                              replace(spoof, "<thread-demo-4@evil.example>", "<thread-demo-4b@evil.example>"));
    CHECK(failing.at("outcome") == "created");
    CHECK(failing.at("sender_authentication") == "fail");
    const auto buried = deliver_raw(raw, authentication_results("acme.example", "fail") +
                                             authentication_results("acme.example") +
                                             replace(spoof, "<thread-demo-4@evil.example>", "<thread-demo-4c@evil.example>"));
    CHECK(buried.at("outcome") == "created");
    CHECK(buried.at("sender_authentication") == "fail");
    const auto untrusted = deliver_raw(raw, "Authentication-Results: mx.evil.example; dmarc=pass header.from=acme.example\r\n" +
                                                replace(spoof, "<thread-demo-4@evil.example>", "<thread-demo-4d@evil.example>"));
    CHECK(untrusted.at("outcome") == "created");
    CHECK(untrusted.at("sender_authentication") == "none");
    // In-Reply-To naming the customer's message does not thread an unauthenticated sender either.
    const auto by_reference = deliver_raw(raw, message("From: alice@acme.example\r\nSubject: close it\r\n"
                                                       "Message-ID: <thread-demo-4e@evil.example>\r\n"
                                                       "In-Reply-To: <thread-demo-1@acme.example>\r\n"));
    CHECK(by_reference.at("outcome") == "created");
    CHECK(s.request(by_reference.at("request_id").as_int64()).at("customer").at("id") == "unattributed");
    CHECK(count_of(s.event_types(id), "request.customer_replied") == 0);
    CHECK(s.requests().size() == 6);
  }

  TEST_CASE("mail_5 then mail_6: a stranger's squatted Message-ID does not suppress the customer's real mail") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      webhook_server s(backend);
      auto raw = s.client(model::role::integration);
      const auto squat = deliver_raw(raw, intake("mail_5_squat.eml"));
      CHECK(squat.at("outcome") == "created");
      const auto real = deliver_raw(raw, authentication_results("acme.example") + intake("mail_6_real_after_squat.eml"));
      REQUIRE(real.at("outcome") == "created");
      const auto id = real.at("request_id").as_int64();
      CHECK(id != squat.at("request_id").as_int64());
      const auto stored = s.request(id);
      CHECK(text_of(stored.at("body")).starts_with("REAL customer content"));
      CHECK(stored.at("customer").at("id") == "acme");
      // The same authenticated sender's retry is a duplicate; a reply to the real mail threads.
      CHECK(deliver_raw(raw, authentication_results("acme.example") + intake("mail_6_real_after_squat.eml")).at("outcome") ==
            "duplicate");
      // And after a SIGKILL and a restart (the Message-ID is the database's, not the process's).
      s.restart();
      raw = s.client(model::role::integration);
      CHECK(deliver_raw(raw, authentication_results("acme.example") + intake("mail_6_real_after_squat.eml")).at("outcome") ==
            "duplicate");
      const auto reply = deliver_raw(raw, message(authentication_results("acme.example") +
                                                  "From: alice@acme.example\r\nSubject: Re: real follow-up\r\n"
                                                  "Message-ID: <thread-demo-next-2@acme.example>\r\n"
                                                  "In-Reply-To: <thread-demo-next@acme.example>\r\n"));
      CHECK(reply.at("outcome") == "replied");
      CHECK(reply.at("request_id").as_int64() == id);

      // An authenticated stranger reusing someone's Message-ID suppresses nothing either.
      const auto id_again = "Message-ID: <shared-id@acme.example>\r\n";
      const auto first = deliver_raw(raw, message(authentication_results("evil.example") +
                                                  "From: eve@evil.example\r\nSubject: squat 2\r\n" + id_again));
      const auto second = deliver_raw(raw, message(authentication_results("acme.example") +
                                                   "From: alice@acme.example\r\nSubject: real 2\r\n" + id_again));
      CHECK(first.at("outcome") == "created");
      CHECK(second.at("outcome") == "created");
      CHECK(s.requests().size() == 4);
    });
  }

  TEST_CASE("Mailgun and Postmark failing verdicts file a new unattributed request, passing ones thread") {
    webhook_server s;
    auto raw = s.client(model::role::integration);
    const auto id = file_ticket_4821(raw);
    auto c = s.client();

    const auto failed = post_mailgun(c, mailgun_with(std::string(50, 'e'), unix_now(), "Fail", "Fail"));
    REQUIRE(failed.status == 200);
    CHECK(parse(failed.body).at("outcome") == "created");
    const auto mailgun_request = s.request(parse(failed.body).at("request_id").as_int64());
    CHECK(mailgun_request.at("customer").at("id") == "unattributed");
    CHECK(mailgun_request.at("email").at("authentication").at("verdict") == "fail");
    CHECK(text_of(mailgun_request.at("email").at("authentication").at("detail")).find("Mailgun: spf=fail") !=
          std::string::npos);

    auto postmark = fixture("postmark_inbound_reply.json");
    postmark = replace(postmark, "\"Value\": \"pass (customer.test", "\"Value\": \"fail (customer.test");
    postmark = replace(postmark, "DKIM_SIGNED,DKIM_VALID,DKIM_VALID_AU,SPF_PASS", "DKIM_SIGNED,DKIM_INVALID,SPF_FAIL");
    const auto pm_failed = post_postmark(c, postmark);
    REQUIRE(pm_failed.status == 200);
    CHECK(parse(pm_failed.body).at("outcome") == "created");
    const auto postmark_request = s.request(parse(pm_failed.body).at("request_id").as_int64());
    CHECK(postmark_request.at("customer").at("id") == "unattributed");
    CHECK(postmark_request.at("email").at("authentication").at("verdict") == "fail");
    CHECK(has_note_with(postmark_request, "names request " + std::to_string(id)));
    CHECK(count_of(s.event_types(id), "request.customer_replied") == 0);

    // A sender-written second X-Mailgun-Spf makes Mailgun's verdict unreadable: not trusted.
    auto doubled = mailgun_with(std::string(50, 'g'), unix_now());
    doubled = replace(doubled, "%5B%22X-Mailgun-Sflag%22", "%5B%22X-Mailgun-Spf%22%2C+%22Pass%22%5D%2C+%5B%22X-Mailgun-Sflag%22");
    doubled = replace(doubled, "%5B%22X-Mailgun-Dkim-Check-Result%22%2C+%22Pass%22%5D%2C+", "");
    doubled = replace(doubled, "CAGx7Qh0rE", "CAGx7Qh0rX");  // not the same mail as the failed one
    const auto ambiguous = post_mailgun(c, doubled);
    CHECK(parse(ambiguous.body).at("outcome") == "created");
    CHECK(parse(ambiguous.body).at("sender_authentication") == "none");

    // The fixtures as captured pass (SPF aligned; DKIM_VALID_AU) and thread by In-Reply-To.
    const auto passed = post_mailgun(c, mailgun_with(std::string(50, 'f'), unix_now()));
    CHECK(parse(passed.body).at("outcome") == "replied");
    CHECK(parse(passed.body).at("request_id").as_int64() == id);
    auto pm_pass = fixture("postmark_inbound_reply.json");
    pm_pass = replace(pm_pass, "5d8e3b1c-2f4a-4c6e-9b0d-7a1e3f5c9d21", "5d8e3b1c-0000-4c6e-9b0d-7a1e3f5c9d21");
    pm_pass = replace(pm_pass, "<CAGx7Qh0rE+pLy1=Zk3nV9q@mail.gmail.com>", "<pm.pass@mail.gmail.com>");
    const auto pm_passed = post_postmark(c, pm_pass);
    CHECK(parse(pm_passed.body).at("outcome") == "replied");
    CHECK(parse(pm_passed.body).at("request_id").as_int64() == id);
    CHECK(count_of(s.event_types(id), "request.customer_replied") == 2);
    CHECK(s.requests().size() == 4);
  }

  TEST_CASE("Mailgun refuses a timestamp more than 5 minutes away either way") {
    webhook_server s;
    auto c = s.client();
    const auto future = post_mailgun(c, mailgun_with(std::string(50, 'h'), unix_now() + 600));
    CHECK(future.status == 401);
    CHECK(parse(future.body).at("error").at("code") == "invalid_signature");
    CHECK(post_mailgun(c, mailgun_with(std::string(50, 'i'), unix_now() - 600)).status == 401);
    CHECK(s.requests().empty());
    const auto near = post_mailgun(c, mailgun_with(std::string(50, 'j'), unix_now() + 60));
    CHECK(near.status == 200);
    CHECK(s.requests().size() == 1);
  }

  TEST_CASE("a Mailgun token is spent even by a post dropped as an auto-reply") {
    webhook_server s;
    auto c = s.client();
    const std::string token(50, 'k');
    const auto ts = unix_now();
    auto auto_reply = mailgun_with(token, ts);
    auto_reply = replace(auto_reply, "&X-Mailgun-Incoming=Yes", "&X-Mailgun-Incoming=Yes&Auto-Submitted=auto-replied");
    const auto dropped = post_mailgun(c, auto_reply);
    REQUIRE(dropped.status == 200);
    CHECK(parse(dropped.body).at("outcome") == "dropped");
    // The same signed token and timestamp with other content: refused, nothing filed.
    const auto replay = post_mailgun(c, mailgun_with(token, ts));
    CHECK(replay.status == 406);
    CHECK(parse(replay.body).at("error").at("code") == "token_reused");
    CHECK(s.requests().empty());
  }

  TEST_CASE("a subject over 200 bytes is kept whole at the start of the body, the title and email.subject cut on a UTF-8 boundary") {
    webhook_server s;
    auto raw = s.client(model::role::integration);
    std::string subject;
    while (subject.size() < 500) subject += "St\u00f6rung \u00fcberall ";
    subject += "Ende";
    // From a sender domain over 100 characters, too.
    const auto domain = std::string(60, 'a') + "." + std::string(60, 'b') + ".example";
    const auto created = deliver_raw(raw, message("From: lee@" + domain + "\r\nSubject: " + subject +
                                                  "\r\nMessage-ID: <long@globex.example>\r\n"));
    REQUIRE(created.at("outcome") == "created");
    const auto stored = s.request(created.at("request_id").as_int64());
    CHECK(text_of(stored.at("email").at("from")) == "lee@" + domain);
    const auto title = text_of(stored.at("title"));
    CHECK(title.size() <= 200);
    CHECK(title.ends_with("\u2026"));
    CHECK(subject.starts_with(title.substr(0, title.size() - 3)));
    CHECK(text_of(stored.at("email").at("subject")) == title);
    CHECK(text_of(stored.at("body")).starts_with("Subject: " + subject + "\n\n"));
  }

  TEST_CASE("a [SB-n] tag anywhere in the subject counts, after a malformed one") {
    webhook_server s;
    auto raw = s.client(model::role::integration);
    const auto trusted = authentication_results("acme.example");
    const auto id = deliver_raw(raw, message(trusted + "From: alice@acme.example\r\nSubject: Export fails\r\n"
                                                       "Message-ID: <tag1@acme.example>\r\n"))
                        .at("request_id")
                        .as_int64();
    const auto reply = deliver_raw(raw, message(trusted + "From: alice@acme.example\r\nSubject: Fwd: [SB-x] old [sb-" +
                                                std::to_string(id) + "] Export fails\r\nMessage-ID: <tag2@acme.example>\r\n"));
    CHECK(reply.at("outcome") == "replied");
    CHECK(reply.at("request_id").as_int64() == id);
  }
}

TEST_SUITE("integration::email") {
  TEST_CASE("an authenticated mail from a domain over 100 characters with a body over 64 KiB is stored whole") {
    webhook_server s;
    auto raw = s.client(model::role::integration);
    const auto domain = std::string(60, 'c') + "." + std::string(60, 'd') + ".example";
    std::string body;
    while (body.size() < 100 * 1024) body += "Zeile mit \u00c4rger und Logs, immer wieder.\r\n";
    const auto created = deliver_raw(raw, message(authentication_results(domain) + "From: ops@" + domain +
                                                      "\r\nSubject: big\r\nMessage-ID: <big@" + domain + ">\r\n",
                                                  body));
    REQUIRE(created.at("outcome") == "created");
    const auto stored = s.request(created.at("request_id").as_int64());
    CHECK(text_of(stored.at("customer").at("id")) == domain);
    CHECK(text_of(stored.at("body")).size() >= 100 * 1024);
    CHECK(text_of(stored.at("body")).starts_with("Zeile mit \u00c4rger"));
    CHECK(stored.at("email").at("authentication").at("verdict") == "pass");
  }
}

namespace {

// A raw message from Alice (authenticated) whose multipart/mixed body has `parts` text parts.
std::string many_parts(std::size_t parts) {
  std::string raw = authentication_results("customer.test") +
                    "From: alice@customer.test\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
                    "Content-Type: multipart/mixed; boundary=p\r\n\r\n";
  for (std::size_t i = 0; i < parts; ++i) raw += "--p\r\n\r\n.\r\n";
  return raw + "--p--\r\n";
}

// A raw message from Alice (authenticated) with `levels` nested multiparts around `innermost`.
std::string nested_parts(std::size_t levels, std::string_view innermost) {
  std::string raw = authentication_results("customer.test") +
                    "From: alice@customer.test\r\nSubject: nested\r\nMIME-Version: 1.0\r\n";
  for (std::size_t i = 0; i < levels; ++i)
    raw += "Content-Type: multipart/mixed; boundary=n" + std::to_string(i) + "\r\n\r\n--n" + std::to_string(i) + "\r\n";
  raw += innermost;
  for (std::size_t i = levels; i-- > 0;) raw += "--n" + std::to_string(i) + "--\r\n";
  return raw;
}

std::string error_code(const http::client_response& res) {
  return std::string(parse(res.body).at("error").at("code").as_string());
}

}  // namespace

TEST_SUITE("integration::email") {
  TEST_CASE("Mailgun: the signature is checked before the form is parsed, and what is over the limits gets 406") {
    webhook_server s;
    auto c = s.client();
    const auto ts = std::to_string(unix_now());
    const auto part = [](std::string_view name, std::string_view value) {
      return "--f\r\nContent-Disposition: form-data; name=\"" + std::string(name) + "\"\r\n\r\n" + std::string(value) +
             "\r\n";
    };
    std::string bomb;
    for (int i = 0; i < 5000; ++i) bomb += part("x", "v");
    const auto signed_by = [&](const std::string& token, const std::string& key) {
      return part("timestamp", ts) + part("token", token) +
             part("signature", http::webhooks::hmac_sha256_hex(key, ts + token));
    };
    const auto post = [&](const std::string& form) {
      return c.request("POST", "/v1/webhooks/email/mailgun", form + "--f--\r\n", "multipart/form-data; boundary=f");
    };
    // Unsigned and forged: 401 before any part is parsed, even a form over the MIME limits (it
    // got 413 too_many_mime_parts when the whole form was parsed first). The signature fields
    // may come after the attachments.
    const auto unsigned_bomb = post(bomb);
    CHECK(unsigned_bomb.status == 401);
    CHECK(error_code(unsigned_bomb) == "invalid_signature");
    const auto forged_bomb = post(bomb + signed_by(std::string(50, 'a'), "not-the-key"));
    CHECK(forged_bomb.status == 401);
    CHECK(error_code(forged_bomb) == "invalid_signature");
    // Signed and over the limits: 406, which Mailgun does not retry.
    const auto signed_bomb = post(signed_by(std::string(50, 'b'), mailgun_key) + bomb);
    CHECK(signed_bomb.status == 406);
    CHECK(error_code(signed_bomb) == "too_many_mime_parts");
    std::string deep_mime = "From: bob@acme.example\r\nSubject: deep\r\nMIME-Version: 1.0\r\n";
    for (int i = 0; i < 100; ++i)
      deep_mime += "Content-Type: multipart/mixed; boundary=n" + std::to_string(i) + "\r\n\r\n--n" + std::to_string(i) + "\r\n";
    const auto deep = c.request("POST", "/v1/webhooks/email/mailgun/mime",
                                signed_by(std::string(50, 'c'), mailgun_key) + part("body-mime", deep_mime) + "--f--\r\n",
                                "multipart/form-data; boundary=f");
    CHECK(deep.status == 406);
    CHECK(error_code(deep) == "mime_nesting_too_deep");
    CHECK(s.requests().empty());

    // A body over the e-mail limit (40 MiB): 406 on the Mailgun routes, before the body is
    // read; the other e-mail routes keep 413.
    const auto port = static_cast<unsigned short>(std::stoi(s.server->url().substr(s.server->url().rfind(':') + 1)));
    const auto too_large = [&](std::string_view target, std::string_view type, std::string_view credentials) {
      testing::raw_connection over(port);
      REQUIRE(over.send_all(fmt::format("POST {} HTTP/1.1\r\nHost: test\r\n{}Content-Type: {}\r\n"
                                        "Expect: 100-continue\r\nContent-Length: {}\r\n\r\n",
                                        target, credentials, type, 64u * 1024 * 1024)));
      const auto answer = over.read_response(std::chrono::seconds{10});
      return std::make_pair(answer.status, std::string(parse(answer.body).at("error").at("code").as_string()));
    };
    CHECK(too_large("/v1/webhooks/email/mailgun", "multipart/form-data; boundary=f", "") ==
          std::make_pair(406u, std::string("payload_too_large")));
    CHECK(too_large("/v1/webhooks/email/mailgun/mime", "application/x-www-form-urlencoded", "") ==
          std::make_pair(406u, std::string("payload_too_large")));
    CHECK(too_large("/v1/webhooks/email/raw", "message/rfc822",
                    "Authorization: Bearer " + testing::token_for(model::role::integration) + "\r\n") ==
          std::make_pair(413u, std::string("payload_too_large")));

    // Signed and within the limits, the form is parsed as before: the post is filed.
    const auto good = c.request("POST", "/v1/webhooks/email/mailgun",
                                part("recipient", "support@example.com") + signed_by(std::string(50, 'e'), mailgun_key) +
                                    part("from", "Bob <bob@acme.example>") + part("subject", "Signed first") +
                                    part("body-plain", "Hello.") + "--f--\r\n",
                                "multipart/form-data; boundary=f");
    CHECK_MESSAGE(good.status == 200, good.body);
  }

  TEST_CASE("MIME bombs, too many parts or too deep, are refused with 413 before parsing and nothing is stored") {
    webhook_server s;
    auto raw = s.client(model::role::integration);
    // 2.4 M parts took the server to 3.3 GB; the cap answers at the first part over it.
    const auto bomb = post_raw(raw, many_parts(1'000'000));
    CHECK(bomb.status == 413);
    CHECK(error_code(bomb) == "too_many_mime_parts");
    const auto deep = post_raw(raw, nested_parts(5000, "Content-Type: text/plain\r\n\r\ndeep\r\n"));
    CHECK(deep.status == 413);
    CHECK(error_code(deep) == "mime_nesting_too_deep");
    CHECK(s.requests().empty());
    // At the limits, the same shapes are filed.
    CHECK(deliver_raw(raw, many_parts(1000)).at("outcome") == "created");
    const auto deepest = deliver_raw(raw, nested_parts(20, "Content-Type: text/plain\r\n\r\ntwenty levels down\r\n"));
    REQUIRE(deepest.at("outcome") == "created");
    CHECK(text_of(s.request(deepest.at("request_id").as_int64()).at("body")) == "twenty levels down");
  }

  TEST_CASE("a mail with no text part is filed with a note saying its body is empty, never silently") {
    webhook_server s;
    auto raw = s.client(model::role::integration);
    const auto filed = deliver_raw(
        raw, nested_parts(3, "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"));
    REQUIRE(filed.at("outcome") == "created");
    const auto stored = s.request(filed.at("request_id").as_int64());
    CHECK(text_of(stored.at("body")).empty());
    CHECK(has_note_with(stored, "no text/plain or text/html part"));
    CHECK(stored.at("customer").at("id") == "acme");
    // A message with a text part gets no such note.
    const auto plain = deliver_raw(raw, nested_parts(3, "Content-Type: text/plain\r\n\r\nhere\r\n"));
    CHECK_FALSE(has_note_with(s.request(plain.at("request_id").as_int64()), "no text/plain"));
  }

  TEST_CASE("a From with two mailboxes under DMARC pass is unauthenticated, filed unattributed and not threaded") {
    webhook_server s;
    auto raw = s.client(model::role::integration);
    const auto ticket = file_ticket_4821(raw);
    const auto two = deliver_raw(raw, message(authentication_results("customer.test") +
                                              "From: alice@customer.test, mallory@evil.example\r\n"
                                              "Subject: Re: VPN keeps dropping every 10 minutes [SB-" +
                                              std::to_string(ticket) +
                                              "]\r\nMessage-ID: <two-from@customer.test>\r\n"
                                              "In-Reply-To: <ticket-4821.msg-2.1718050000@help.acme.test>\r\n",
                                              "Please send the admin password to mallory.\r\n"));
    CHECK(two.at("outcome") == "created");
    CHECK(two.at("sender_authentication") == "fail");
    const auto stored = s.request(two.at("request_id").as_int64());
    CHECK(stored.at("customer").at("id") == "unattributed");
    CHECK(has_note_with(stored, "From names 2 mailboxes"));
    CHECK(count_of(s.event_types(ticket), "request.customer_replied") == 0);
    // Its Message-ID threads nothing: a reply to it from Alice is a new request, not a reply.
    const auto follow = deliver_raw(raw, message(authentication_results("customer.test") +
                                                 "From: alice@customer.test\r\nSubject: follow\r\n"
                                                 "In-Reply-To: <two-from@customer.test>\r\n"));
    CHECK(follow.at("outcome") == "created");
  }

  TEST_CASE("an authenticated stranger's Message-ID squat does not take the thread of the customer's mail with that id") {
    webhook_server s;
    auto raw = s.client(model::role::integration);
    const auto id = "Message-ID: <outage-report@customer.test>\r\n";
    const auto squat = deliver_raw(raw, message(authentication_results("evil.example") +
                                                "From: eve@evil.example\r\nSubject: squat\r\n" + id));
    REQUIRE(squat.at("outcome") == "created");
    const auto real = deliver_raw(raw, message(authentication_results("customer.test") +
                                               "From: alice@customer.test\r\nSubject: Outage\r\n" + id));
    REQUIRE(real.at("outcome") == "created");
    // Alice's colleague answers Alice's mail: it threads onto Alice's request, not Eve's.
    const auto reply = deliver_raw(raw, message(authentication_results("customer.test") +
                                                "From: bob@customer.test\r\nSubject: Re: Outage\r\n"
                                                "Message-ID: <outage-reply@customer.test>\r\n"
                                                "In-Reply-To: <outage-report@customer.test>\r\n",
                                                "Still down here too.\r\n"));
    CHECK(reply.at("outcome") == "replied");
    CHECK(reply.at("request_id") == real.at("request_id"));
    CHECK(count_of(s.event_types(squat.at("request_id").as_int64()), "request.customer_replied") == 0);
    // Eve answering her own squat still reaches only her own request.
    const auto eve = deliver_raw(raw, message(authentication_results("evil.example") +
                                              "From: eve@evil.example\r\nSubject: Re: squat\r\n"
                                              "In-Reply-To: <outage-report@customer.test>\r\n"));
    CHECK(eve.at("outcome") == "replied");
    CHECK(eve.at("request_id") == squat.at("request_id"));
  }
}
