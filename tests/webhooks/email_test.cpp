// Inbound e-mail through the real server: one customer reply through each of Mailgun, Postmark
// and raw RFC 5322 threads onto the same request; forged tags, auto-replies, duplicates,
// charsets and encoded words.
#include "webhooks/webhook_server.hpp"

#include "http/webhooks/signature.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
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

}  // namespace

TEST_SUITE("integration::email") {
  TEST_CASE("one customer reply through each of Mailgun, Postmark and raw MIME threads onto the same request") {
    webhook_server s;
    auto raw = s.client(model::role::integration);
    const auto first = post_raw(raw, message("From: Alice Example <alice@customer.test>\r\n"
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
    const auto via_raw = post_raw(raw, message("From: Alice Example <alice@customer.test>\r\n"
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
  }

  TEST_CASE("a subject tag threads only from a participant, a stranger's forged tag opens a new request") {
    webhook_server s;
    auto raw = s.client(model::role::integration);
    const auto id = parse(post_raw(raw, message("From: alice@acme.example\r\nSubject: Export fails\r\n"
                                                "Message-ID: <t1@acme.example>\r\n"))
                              .body)
                        .at("request_id")
                        .as_int64();
    const auto tag = "[SB-" + std::to_string(id) + "]";

    const auto known = post_raw(raw, message("From: Alice <ALICE@acme.example>\r\nSubject: Re: " + tag +
                                             " Export fails\r\nMessage-ID: <t2@acme.example>\r\n"));
    CHECK(parse(known.body).at("outcome") == "replied");
    CHECK(parse(known.body).at("request_id").as_int64() == id);

    const auto forged = post_raw(raw, message("From: mallory@evil.example\r\nSubject: Re: " + tag +
                                              " Export fails\r\nMessage-ID: <t3@evil.example>\r\n"));
    CHECK(parse(forged.body).at("outcome") == "created");
    CHECK(parse(forged.body).at("request_id").as_int64() != id);

    // A forged reply-address tag falls through too.
    const auto forged_token = post_raw(raw, message("From: mallory@evil.example\r\nTo: support+" + std::to_string(id) +
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
