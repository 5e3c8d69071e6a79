// GMime parsing: encoded words, charsets, references, auto-replies and form-data.
#include "http/webhooks/mime.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace switchboard::http::webhooks;

TEST_SUITE("webhooks::mime") {
  TEST_CASE("an ISO-8859-1 body and RFC 2047 subject come out in UTF-8") {
    const std::string raw =
        "From: =?ISO-8859-1?Q?Ren=E9_Dupr=E9?= <Rene@Acme.Example>\r\n"
        "To: Support <support@example.com>\r\n"
        "Subject: =?ISO-8859-1?Q?Caf=E9_machine?= =?UTF-8?B?4oCUIGVuIHBhbm5l?=\r\n"
        "Message-ID: <m1@acme.example>\r\n"
        "In-Reply-To: <a@x>\r\n"
        "References: <r1@x>\r\n <r2@x>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "La machine \xe0 caf\xe9 ne marche plus.\r\n";
    const auto mail = parse_rfc822(raw);
    REQUIRE(mail);
    // RFC 2047: the space between two adjacent encoded words is not part of the text.
    CHECK(mail->subject == "Café machine— en panne");
    CHECK(mail->from_address == "rene@acme.example");
    CHECK(mail->from_name == "René Dupré");
    CHECK(mail->text.starts_with("La machine à café ne marche plus."));
    CHECK(mail->message_id == "m1@acme.example");
    CHECK(mail->in_reply_to == std::vector<std::string>{"a@x"});
    CHECK(mail->references == std::vector<std::string>{"r1@x", "r2@x"});
    CHECK(mail->recipients == std::vector<std::string>{"support@example.com"});
    CHECK(!mail->automatic);
  }

  TEST_CASE("undeclared 8-bit header text is read as Windows-1252, multipart picks text/plain") {
    const std::string raw =
        "From: a@b.example\r\nSubject: Gr\xfc\xdf" "e\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/alternative; boundary=XX\r\n\r\n"
        "--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html</p>\r\n"
        "--XX\r\nContent-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        "=80 5 f=FCr Kaffee\r\n--XX--\r\n";
    const auto mail = parse_rfc822(raw);
    REQUIRE(mail);
    CHECK(mail->subject == "Grüße");
    CHECK(mail->text.starts_with("€ 5 für Kaffee"));
  }

  TEST_CASE("auto-replies and bulk mail are automatic") {
    CHECK(is_automatic("auto-replied", "", ""));
    CHECK(is_automatic("auto-generated; type=x", "", ""));
    CHECK(!is_automatic("no", "", ""));
    CHECK(is_automatic("", "bulk", ""));
    CHECK(is_automatic("", "List", ""));
    CHECK(is_automatic("", "auto_reply", ""));
    CHECK(!is_automatic("", "", ""));
  }

  TEST_CASE("multipart/form-data fields") {
    const std::string body =
        "--xYzZY\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\none\r\n"
        "--xYzZY\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\ntwo\r\nlines\r\n--xYzZY--\r\n";
    const auto fields = parse_form_data("multipart/form-data; boundary=xYzZY", body);
    REQUIRE(fields);
    REQUIRE(fields->size() == 2);
    CHECK((*fields)[0] == std::pair<std::string, std::string>{"a", "one"});
    CHECK((*fields)[1] == std::pair<std::string, std::string>{"b", "two\r\nlines"});
  }
}

TEST_SUITE("webhooks::mime") {
  TEST_CASE("a mail to 200000 recipients keeps the first max_recipients distinct ones") {
    std::string to = "To: support@example.com";
    for (int i = 0; i < 200000; ++i) to += ", user" + std::to_string(i % 150000) + "@example.org";
    const std::string raw = "From: a@acme.example\r\n" + to + "\r\nSubject: many\r\n\r\nhello\r\n";
    const auto mail = parse_rfc822(raw);
    REQUIRE(mail);
    CHECK(mail->recipients.size() == max_recipients);
    CHECK(mail->recipients.front() == "support@example.com");
    const std::set<std::string> distinct(mail->recipients.begin(), mail->recipients.end());
    CHECK(distinct.size() == mail->recipients.size());
    CHECK(parse_addresses("A <x@y.z>, x@y.z, B <w@y.z>") == std::vector<std::string>{"x@y.z", "w@y.z"});
  }
}
