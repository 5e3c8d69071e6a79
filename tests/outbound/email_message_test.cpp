#include "outbound/email_message.hpp"

#include "http/webhooks/mime.hpp"
#include "support/smtp_sink.hpp"

#include <algorithm>

#include <doctest/doctest.h>

using namespace switchboard;

namespace {

outbound::email_spec reply_spec() {
  outbound::email_spec spec;
  spec.from = "Acme Support <support@example.com>";
  spec.to = {"Zoë Customer <zoe@customer.example>"};
  spec.reply_to = "support+7.abc123@example.com";
  spec.subject = "Re: Ärger mit der Suche [SB-7]";
  spec.message_id = "sb.7.3.0123456789abcdef@example.com";
  spec.in_reply_to = "customer-2@customer.example";
  spec.references = {"customer-1@customer.example", "customer-2@customer.example"};
  spec.text = "Hello Zoë,\nthe index is rebuilt.\n\nReply to this e-mail to continue request 7.\n";
  return spec;
}

const auto date = std::chrono::system_clock::time_point{std::chrono::seconds{1'795'000'000}};

}  // namespace

TEST_SUITE("outbound::email_message") {
  TEST_CASE("a reply reads back through our own parser with every threading field") {
    const auto raw = outbound::compose(reply_spec(), date);
    CHECK(raw.find("\r\n\r\n") != std::string::npos);
    // Nothing but ASCII on the wire: the subject is RFC 2047, the body quoted-printable.
    CHECK(std::all_of(raw.begin(), raw.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }));
    CHECK(testing::header_field(raw, "Subject").find("=?") != std::string::npos);
    const auto parsed = http::webhooks::parse_rfc822(raw);
    REQUIRE(parsed);
    CHECK(parsed->subject == "Re: Ärger mit der Suche [SB-7]");
    CHECK(parsed->message_id == "sb.7.3.0123456789abcdef@example.com");
    CHECK(parsed->in_reply_to == std::vector<std::string>{"customer-2@customer.example"});
    CHECK(parsed->references == std::vector<std::string>{"customer-1@customer.example", "customer-2@customer.example"});
    CHECK(parsed->from_address == "support@example.com");
    CHECK(parsed->from_name == "Acme Support");
    CHECK(parsed->recipients == std::vector<std::string>{"zoe@customer.example"});
    CHECK(parsed->text.find("Hello Zoë,\r\nthe index is rebuilt.") != std::string::npos);
    CHECK(testing::header_field(raw, "Content-Type") == "text/plain; charset=utf-8");
    CHECK_FALSE(parsed->automatic);
    CHECK(http::webhooks::parse_mailbox(testing::header_field(raw, "Reply-To")).first == "support+7.abc123@example.com");
    CHECK(testing::header_field(raw, "Date").find("2026") != std::string::npos);
    CHECK(testing::header_field(raw, "Auto-Submitted").empty());
  }

  TEST_CASE("a notification is Auto-Submitted, so an intake that honours RFC 3834 drops it") {
    auto spec = reply_spec();
    spec.kind = outbound::email_kind::notification;
    const auto parsed = http::webhooks::parse_rfc822(outbound::compose(spec, date));
    REQUIRE(parsed);
    CHECK(parsed->automatic);
  }

  TEST_CASE("header lines fold at 78 characters with a long subject and many references") {
    auto spec = reply_spec();
    spec.subject = "Re:";
    for (int i = 0; i < 12; ++i) spec.subject += " Grüße aus Köln, die Suche ist wieder langsam";
    for (int i = 0; i < 30; ++i) spec.references.push_back("ref-" + std::to_string(i) + "-abcdefghijklmnop@customer.example");
    const auto raw = outbound::compose(spec, date);
    const auto header = raw.substr(0, raw.find("\r\n\r\n"));
    std::size_t start = 0;
    while (start < header.size()) {
      const auto end = std::min(header.find("\r\n", start), header.size());
      CHECK_MESSAGE(end - start <= 78, header.substr(start, end - start));
      start = end + 2;
    }
    const auto parsed = http::webhooks::parse_rfc822(raw);
    REQUIRE(parsed);
    CHECK(parsed->subject == spec.subject);
    REQUIRE(parsed->references.size() == outbound::max_references);
    CHECK(parsed->references.front() == "customer-1@customer.example");
    CHECK(parsed->references.back() == "ref-29-abcdefghijklmnop@customer.example");
  }

  TEST_CASE("References keeps the root and the newest ids, drops duplicates and ids it cannot write") {
    std::vector<std::string> ids{"root@x", "bad id@x", "a@x", "a@x", "no-at-sign"};
    for (int i = 0; i < 25; ++i) ids.push_back(std::to_string(i) + "@x");
    const auto kept = outbound::cap_references(ids);
    REQUIRE(kept.size() == 20);
    CHECK(kept[0] == "root@x");
    CHECK(kept[1] == "6@x");
    CHECK(kept[19] == "24@x");
    CHECK(outbound::cap_references({"a@x", "b@x", "a@x"}) == std::vector<std::string>{"a@x", "b@x"});
  }

  TEST_CASE("a subject with a line break cannot add a header field") {
    auto spec = reply_spec();
    spec.subject = "hello\r\nBcc: victim@example.net";
    const auto raw = outbound::compose(spec, date);
    CHECK(testing::header_field(raw, "Bcc").empty());
    const auto parsed = http::webhooks::parse_rfc822(raw);
    REQUIRE(parsed);
    CHECK(parsed->recipients == std::vector<std::string>{"zoe@customer.example"});
  }

  TEST_CASE("a bare CR in an answer is a line break and a NUL is dropped, so no smuggled end of data leaves") {
    auto spec = reply_spec();
    // SMTP smuggling's shape: a bare CR, a dot, CRLF. Every CR on the wire must start a CRLF.
    spec.text = std::string("first line\r.\r\nMAIL FROM:<x@evil.example>\rlast\0 line", 51);
    const auto raw = outbound::compose(spec, date);
    for (std::size_t at = raw.find('\r'); at != std::string::npos; at = raw.find('\r', at + 1)) {
      INFO("at byte " << at);
      REQUIRE(at + 1 < raw.size());
      CHECK(raw[at + 1] == '\n');
    }
    CHECK(raw.find('\0') == std::string::npos);
    const auto parsed = http::webhooks::parse_rfc822(raw);
    REQUIRE(parsed);
    CHECK(parsed->text.find("first line\r\n.\r\nMAIL FROM:<x@evil.example>\r\nlast line") != std::string::npos);
  }

  TEST_CASE("a spec that cannot be a message is refused, naming the field") {
    auto spec = reply_spec();
    spec.message_id = "no brackets <here>";
    CHECK_THROWS_WITH_AS(outbound::compose(spec, date), doctest::Contains("Message-ID"), outbound::invalid_email);
    spec = reply_spec();
    spec.to.clear();
    CHECK_THROWS_WITH_AS(outbound::compose(spec, date), doctest::Contains("To"), outbound::invalid_email);
    spec = reply_spec();
    spec.from = "a@x.example, b@x.example";
    CHECK_THROWS_WITH_AS(outbound::compose(spec, date), doctest::Contains("From"), outbound::invalid_email);
    spec = reply_spec();
    spec.reply_to = "not an address";
    CHECK_THROWS_WITH_AS(outbound::compose(spec, date), doctest::Contains("Reply-To"), outbound::invalid_email);
    spec = reply_spec();
    spec.text = "\xff\xfe";
    CHECK_THROWS_AS(outbound::compose(spec, date), outbound::invalid_email);
    CHECK(outbound::address_of("Acme Support <support@example.com>") == "support@example.com");
    CHECK_THROWS_AS(outbound::address_of("support@example.com\r\nBcc: x@y"), outbound::invalid_email);
  }
}
