// GMime parsing: encoded words, charsets, references, auto-replies and form-data.
#include "http/webhooks/mime.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace switchboard::http::webhooks;

TEST_SUITE("webhooks::mime") {
  TEST_CASE("scan_form_fields copies only the wanted fields of a multipart form, first of each name") {
    using fields = std::vector<std::pair<std::string, std::string>>;
    const std::string body =
        "preamble\r\n--b\r\nContent-Disposition: form-data; name=\"attachment-1\"; filename=\"a.txt\"\r\n"
        "Content-Type: text/plain\r\n\r\nname=\"token\"\r\n--b-not-a-delimiter\r\n\r\n"
        "--b\r\ncontent-disposition: form-data; name=token\r\n\r\nt1\r\n"
        "--b\r\nContent-Disposition: form-data;name=\"timestamp\"\r\n\r\n1718053500\r\n"
        "--b\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nsecond\r\n"
        "--b\nContent-Disposition: form-data; name=\"signature\"\n\nabc\n--b--\r\n";
    const auto found = scan_form_fields("multipart/form-data; boundary=\"b\"", body,
                                                        {"timestamp", "token", "signature"});
    REQUIRE(found);
    CHECK(*found == fields{{"token", "t1"}, {"timestamp", "1718053500"}, {"signature", "abc"}});
    const auto absent = scan_form_fields("multipart/form-data; boundary=b", "--b--\r\n", {"token"});
    REQUIRE(absent);
    CHECK(absent->empty());
    CHECK_FALSE(scan_form_fields("multipart/form-data", body, {"token"}));
    CHECK_FALSE(scan_form_fields("multipart/form-data; boundary=zz", body, {"token"}));
  }

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

  TEST_CASE("header fields over max_header_field_bytes are cut, an address field at its last whole address") {
    // A folded To field of 20,000 addresses (about 560 KB), a 300 KB Subject, a field under the limit.
    std::string to = "To: support@example.com";
    for (int i = 0; i < 20000; ++i) to += ",\r\n user" + std::to_string(i) + "@example.org";
    const std::string subject = "Subject: " + std::string(300 * 1024, 's');
    const std::string small = "X-Small: " + std::string(1000, 'x');
    const std::string body = "\r\nTo: not-a-header@example.org, " + std::string(200 * 1024, 'b') + "\r\n";
    const std::string raw = "From: a@acme.example\r\n" + to + "\r\n" + subject + "\r\n" + small + "\r\n" + body;

    const auto capped = cap_header_fields(raw);
    REQUIRE(capped);
    // Each long field is within the limit and ends its line; the short one and the body are as they were.
    const auto to_end = capped->find("\r\nSubject: ");
    REQUIRE(to_end != std::string::npos);
    const auto to_field = capped->substr(std::string("From: a@acme.example\r\n").size(),
                                         to_end - std::string("From: a@acme.example\r\n").size());
    CHECK(to_field.size() <= max_header_field_bytes);
    CHECK(to_field.size() > max_header_field_bytes - 40);
    CHECK(to_field.substr(to_field.size() - 12) == "@example.org");  // a whole address last
    CHECK(capped->find(std::string(max_header_field_bytes - 9, 's') + "\r\n") != std::string::npos);
    CHECK(capped->find(std::string(max_header_field_bytes - 8, 's')) == std::string::npos);
    CHECK(capped->find(small + "\r\n") != std::string::npos);
    CHECK(capped->substr(capped->size() - body.size()) == body);

    const auto mail = parse_rfc822(raw);
    REQUIRE(mail);
    CHECK(mail->recipients.size() == max_recipients);
    CHECK(mail->recipients.front() == "support@example.com");
    CHECK(mail->subject == std::string(max_header_field_bytes - 9, 's'));
    CHECK(mail->text.find(std::string(200 * 1024, 'b')) != std::string::npos);

    // Nothing over the limit: no copy.
    CHECK_FALSE(cap_header_fields("From: a@acme.example\r\nSubject: hi\r\n\r\nhello\r\n"));
    CHECK_FALSE(cap_header_fields("From: a@acme.example\r\n\r\n" + std::string(300 * 1024, 'b')));
  }

  TEST_CASE("past the header budgets fields are left out: 400 To fields of 100 KB keep 256 KiB of addresses") {
    // break11b: 400 To fields of about 100 KB each (40.8 MB) took 2.3 GiB, each field within its own cut.
    std::string to = "To: first@example.org";
    while (to.size() < 100000) to += ", a@b.example";
    std::string raw = "From: a@acme.example\r\nSubject: many\r\n";
    for (int i = 0; i < 400; ++i) raw += to + "\r\n";
    raw += "X-After: kept\r\n\r\nhello\r\n";
    const auto capped = cap_header_fields(raw);
    REQUIRE(capped);
    std::size_t to_fields = 0;
    for (auto at = capped->find("\r\nTo: "); at != std::string::npos; at = capped->find("\r\nTo: ", at + 1)) ++to_fields;
    CHECK(to_fields == max_address_header_bytes / (to.size() + 2));
    CHECK(capped->find("From: a@acme.example\r\nSubject: many\r\n") == 0);
    CHECK(capped->find("\r\nX-After: kept\r\n\r\nhello\r\n") != std::string::npos);
    // A header over the whole budget keeps its first fields only.
    std::string fields = "From: a@acme.example\r\n";
    for (int i = 0; i < 100; ++i) fields += "X-Pad-" + std::to_string(i) + ": " + std::string(20000, 'p') + "\r\n";
    const auto padded = cap_header_fields(fields + "\r\nbody\r\n");
    REQUIRE(padded);
    CHECK(padded->size() <= max_header_bytes + 10);
    CHECK(padded->find("X-Pad-0: ") != std::string::npos);
    CHECK(padded->find("X-Pad-99: ") == std::string::npos);
    const auto mail = parse_rfc822(raw);
    REQUIRE(mail);
    CHECK(mail->recipients.size() == 2);  // first@example.org and a@b.example
  }

  TEST_CASE("RFC 2047 adjacent base64 words with padding each decode on their own") {
    // e07b: GMime 3.2.13 joins the two words into one base64 stream and stops at the first "=".
    CHECK(decode_header_text(" =?utf-8?B?RGF0ZW5iYW5rLVNpY2hlcnVuZyA=?=\r\n =?utf-8?B?c2NobMOkZ3QgZmVobA==?=\r\n") ==
          "Datenbank-Sicherung schl\u00e4gt fehl");
    CHECK(decode_header_text("=?UTF-8?B?YQ==?= =?UTF-8?B?Yg==?=\t=?UTF-8?B?Yw==?=") == "abc");
    // Padding dropped by the sender is tolerated.
    CHECK(decode_header_text("=?utf-8?b?YQ?=") == "a");
    const auto mail = parse_rfc822(
        "From: lee@globex.example\r\nSubject: =?utf-8?B?RGF0ZW5iYW5rLVNpY2hlcnVuZyA=?=\r\n =?utf-8?B?c2NobMOkZ3QgZmVobA==?=\r\n"
        "Message-ID: <e07b.1@mail.globex.example>\r\n\r\nSiehe Betreff.\r\n");
    REQUIRE(mail);
    CHECK(mail->subject == "Datenbank-Sicherung schl\u00e4gt fehl");
  }

  TEST_CASE("RFC 2047 Q words, mixed charsets, and whitespace between words and plain text") {
    CHECK(decode_header_text("=?utf-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=") == "Gr\u00fc\u00dfe aus K\u00f6ln");
    CHECK(decode_header_text("=?iso-8859-1?q?Caf=E9?= =?UTF-8?B?w6lydXB0aW9u?=") == "Caf\u00e9\u00e9ruption");
    CHECK(decode_header_text("Re: =?ISO-8859-1?Q?caf=E9?= ok =?utf-8?q?s=C3=BC=C3=9F?= end") ==
          "Re: caf\u00e9 ok s\u00fc\u00df end");
    CHECK(decode_header_text("=?koi8-r?B?8NLJ18XU?=") == "\u041f\u0440\u0438\u0432\u0435\u0442");
    CHECK(decode_header_text("=?windows-1252?Q?=80_5?=") == "\u20ac 5");
    // RFC 2231 language suffix.
    CHECK(decode_header_text("=?utf-8*de?Q?Stra=C3=9Fe?=") == "Stra\u00dfe");
    // A character split across two words of one charset survives.
    CHECK(decode_header_text("=?utf-8?B?ww==?= =?utf-8?B?qQ==?=") == "\u00e9");
    // Plain text is untouched, spaces included.
    CHECK(decode_header_text("  plain   text  ") == "plain   text");
    CHECK(decode_header_text("[SB-12] =?utf-8?Q?f=C3=BCr?=") == "[SB-12] f\u00fcr");
  }

  TEST_CASE("RFC 2047 padded words in a display name decode whole") {
    CHECK(parse_mailbox("=?utf-8?B?TWFyaWE=?= =?utf-8?B?IE3DvGxsZXI=?= <M@X.example>") ==
          std::pair<std::string, std::string>{"m@x.example", "Maria M\u00fcller"});
    const auto mail = parse_rfc822("From: =?utf-8?B?TWFyaWE=?=\r\n =?utf-8?B?IE3DvGxsZXI=?= <m@x.example>\r\nSubject: x\r\n\r\nhi\r\n");
    REQUIRE(mail);
    CHECK(mail->from_name == "Maria M\u00fcller");
    CHECK(mail->from_address == "m@x.example");
    CHECK(parse_addresses("=?utf-8?B?YQ==?= =?utf-8?B?Yg==?= <a@x.example>, b@y.example") ==
          std::vector<std::string>{"a@x.example", "b@y.example"});
  }

  TEST_CASE("RFC 2047 invalid encoded words are left as written") {
    CHECK(decode_header_text("=?utf-8?B?#not64#?=") == "=?utf-8?B?#not64#?=");
    CHECK(decode_header_text("=?utf-8?Q?bad=ZZ?=") == "=?utf-8?Q?bad=ZZ?=");
    CHECK(decode_header_text("=?utf-8?X?abc?=") == "=?utf-8?X?abc?=");
    CHECK(decode_header_text("=?utf-8?B?YQ") == "=?utf-8?B?YQ");
    CHECK(decode_header_text("=?x-no-such-charset?B?/w==?=") == "=?x-no-such-charset?B?/w==?=");
    // Declared UTF-8 that is not: that word stays (with the space after it), its valid
    // neighbour in another charset decodes.
    CHECK(decode_header_text("=?utf-8?B?/w==?= =?iso-8859-1?Q?=E9?=") == "=?utf-8?B?/w==?= \u00e9");
    CHECK(decode_header_text("a =?utf-8?B?#?= b =?utf-8?Q?c?=") == "a =?utf-8?B?#?= b c");
  }
}

namespace {

// A multipart/mixed message with `parts` text parts.
std::string with_parts(std::size_t parts) {
  std::string raw = "From: a@acme.example\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
                    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n";
  for (std::size_t i = 0; i < parts; ++i) raw += "--b1\r\nContent-Type: text/plain\r\n\r\npart " + std::to_string(i) + "\r\n";
  return raw + "--b1--\r\n";
}

// `levels` multiparts, each inside the last, the innermost holding one text part.
std::string nested(std::size_t levels, std::string_view innermost = "Content-Type: text/plain\r\n\r\ndeep text\r\n") {
  std::string raw = "From: a@acme.example\r\nSubject: deep\r\nMIME-Version: 1.0\r\n";
  for (std::size_t i = 0; i < levels; ++i)
    raw += "Content-Type: multipart/mixed; boundary=level" + std::to_string(i) + "\r\n\r\n--level" + std::to_string(i) +
           "\r\n";
  raw += innermost;
  for (std::size_t i = levels; i-- > 0;) raw += "--level" + std::to_string(i) + "--\r\n";
  return raw;
}

}  // namespace

TEST_SUITE("webhooks::mime") {
  TEST_CASE("the MIME shape check counts parts at every level and refuses one over max_mime_parts") {
    CHECK(check_mime_shape(with_parts(max_mime_parts)) == mime_shape::ok);
    CHECK(check_mime_shape(with_parts(max_mime_parts + 1)) == mime_shape::too_many_parts);
    CHECK_FALSE(parse_rfc822(with_parts(max_mime_parts + 1)));
    const auto at_limit = parse_rfc822(with_parts(max_mime_parts));
    REQUIRE(at_limit);
    CHECK(at_limit->text == "part 0");
    // A boundary given apart (multipart/form-data) is read the same way.
    std::string form;
    for (std::size_t i = 0; i <= max_mime_parts; ++i)
      form += "--f\r\nContent-Disposition: form-data; name=\"x" + std::to_string(i) + "\"\r\n\r\nv\r\n";
    form += "--f--\r\n";
    CHECK(check_mime_shape(form, "multipart/form-data; boundary=f") == mime_shape::too_many_parts);
    CHECK_FALSE(parse_form_data("multipart/form-data; boundary=f", form));
    // Lines that look like delimiters of a boundary nobody declared are text.
    std::string text = "From: a@acme.example\r\nContent-Type: text/plain\r\n\r\n";
    for (std::size_t i = 0; i < 3 * max_mime_parts; ++i) text += "--b1\r\n";
    CHECK(check_mime_shape(text) == mime_shape::ok);
  }

  TEST_CASE("the MIME shape check refuses nesting deeper than max_mime_depth, attached messages included") {
    CHECK(check_mime_shape(nested(max_mime_depth)) == mime_shape::ok);
    const auto deepest = parse_rfc822(nested(max_mime_depth));
    REQUIRE(deepest);
    CHECK(deepest->text == "deep text");
    CHECK(check_mime_shape(nested(max_mime_depth + 1)) == mime_shape::too_deep);
    CHECK(check_mime_shape(nested(5000)) == mime_shape::too_deep);
    CHECK_FALSE(parse_rfc822(nested(5000)));
    // message/rfc822 parts, each holding the next message, count a level each.
    std::string messages = "From: a@acme.example\r\nSubject: fwd\r\n";
    for (std::size_t i = 0; i <= max_mime_depth; ++i) messages += "Content-Type: message/rfc822\r\n\r\nSubject: fwd\r\n";
    messages += "Content-Type: text/plain\r\n\r\ninner\r\n";
    CHECK(check_mime_shape(messages) == mime_shape::too_deep);
    // A quoted boundary, folded Content-Type and RFC 2231 boundary* are all recognised.
    const std::string folded =
        "From: a@acme.example\r\nContent-Type: multipart/mixed;\r\n\tboundary*=us-ascii'en'a%20b\r\n\r\n"
        "--a b\r\nContent-Type: multipart/alternative; boundary=\"q\\\"x\"\r\n\r\n--q\"x\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        "--q\"x--\r\n--a b--\r\n";
    CHECK(check_mime_shape(folded) == mime_shape::ok);
    std::string many = folded.substr(0, folded.find("--a b\r\n"));
    for (std::size_t i = 0; i <= max_mime_parts; ++i) many += "--a b\r\n\r\nx\r\n";
    CHECK(check_mime_shape(many) == mime_shape::too_many_parts);
  }

  TEST_CASE("the MIME shape check refuses more than max_mime_header_fields header fields") {
    std::string raw = "From: a@acme.example\r\n";
    for (std::size_t i = 0; i < max_mime_header_fields; ++i) raw += "X-Filler: " + std::to_string(i) + "\r\n";
    CHECK(check_mime_shape(raw + "\r\nbody\r\n") == mime_shape::too_many_header_fields);
    CHECK(describe(mime_shape::too_many_header_fields).first == "too_many_header_fields");
    CHECK(describe(mime_shape::too_many_parts).first == "too_many_mime_parts");
    CHECK(describe(mime_shape::too_deep).first == "mime_nesting_too_deep");
  }

  TEST_CASE("a message without a text part says so, and From mailboxes are counted") {
    const std::string image_only =
        "From: Alice <alice@customer.test>, Bob <bob@customer.test>\r\nSubject: screenshot\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: image/png\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--x--\r\n";
    const auto mail = parse_rfc822(image_only);
    REQUIRE(mail);
    CHECK_FALSE(mail->text_found);
    CHECK(mail->text.empty());
    CHECK(mail->from_count == 2);
    CHECK(mail->from_address == "alice@customer.test");
    const auto plain = parse_rfc822("From: alice@customer.test\r\nSubject: hi\r\n\r\nhello\r\n");
    REQUIRE(plain);
    CHECK(plain->text_found);
    CHECK(plain->from_count == 1);
    CHECK(count_mailboxes("team: a@x.example, b@x.example;, c@y.example") == 3);
  }
}
