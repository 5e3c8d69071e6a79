// Sender authentication: RFC 8601 Authentication-Results, Mailgun's and Postmark's verdicts,
// alignment with the From domain.
#include "http/webhooks/sender_auth.hpp"

#include <doctest/doctest.h>

using namespace switchboard::http::webhooks;

namespace {

std::string property(const authentication_results::result& r, const std::string& key) {
  for (const auto& [k, v] : r.properties)
    if (k == key) return v;
  return "(none)";
}

}  // namespace

TEST_SUITE("webhooks::sender_auth") {
  TEST_CASE("an RFC 8601 Authentication-Results value parses, comments and quotes included") {
    authentication_results parsed;
    REQUIRE(parse_authentication_results(
        "MX.Example.COM 1; (checked (twice)) dkim=pass (good signature) header.d=acme.example header.s=s1;\r\n"
        " spf=pass smtp.mailfrom=\"alice@acme.example\"; dmarc/1=fail reason=\"p=reject; quoted\" header.from = acme.example",
        parsed));
    CHECK(parsed.authserv_id == "mx.example.com");
    REQUIRE(parsed.results.size() == 3);
    CHECK(parsed.results[0].method == "dkim");
    CHECK(parsed.results[0].result == "pass");
    CHECK(property(parsed.results[0], "header.d") == "acme.example");
    CHECK(property(parsed.results[1], "smtp.mailfrom") == "alice@acme.example");
    CHECK(parsed.results[2].method == "dmarc");
    CHECK(parsed.results[2].result == "fail");
    CHECK(property(parsed.results[2], "reason") == "p=reject; quoted");
    CHECK(property(parsed.results[2], "header.from") == "acme.example");

    REQUIRE(parse_authentication_results("mx.example.com; none", parsed));
    CHECK(parsed.results.empty());
    CHECK(!parse_authentication_results("", parsed));
  }

  TEST_CASE("only the topmost Authentication-Results of the trusted authserv-id counts") {
    const header_fields headers{
        {"Authentication-Results", "mx.other.example; dmarc=pass header.from=acme.example"},
        {"authentication-results", "mx.trusted.example; dkim=fail header.d=acme.example; spf=softfail smtp.mailfrom=acme.example"},
        {"Authentication-Results", "mx.trusted.example; dmarc=pass header.from=acme.example"},
    };
    const auto evidence = evidence_from_authentication_results(headers, "MX.trusted.example");
    CHECK(evidence.source == "Authentication-Results from mx.trusted.example");
    REQUIRE(evidence.checks.size() == 2);
    const auto verdict = judge_sender({evidence}, "acme.example");
    CHECK(verdict.verdict == "fail");
    CHECK(!verdict.authenticated());
    CHECK(evidence_from_authentication_results(headers, "").checks.empty());
    CHECK(judge_sender({evidence_from_authentication_results(headers, "mx.absent.example")}, "acme.example").verdict ==
          "none");
  }

  TEST_CASE("DMARC pass, aligned DKIM pass or aligned SPF pass authenticate, in that order") {
    auto judged = [](std::vector<auth_check> checks, std::string from = "acme.example") {
      return judge_sender({auth_evidence{"test", std::move(checks)}}, from);
    };
    CHECK(judged({{"dmarc", "pass", "acme.example"}, {"dkim", "pass", "acme.example"}}).method == "dmarc");
    CHECK(judged({{"dmarc", "pass", "evil.example"}}).verdict == "fail");
    CHECK(judged({{"dkim", "pass", "acme.example"}}).method == "dkim");
    CHECK(judged({{"dkim", "pass", "mail.acme.example"}}).method == "dkim");
    CHECK(judged({{"dkim", "pass", "acme.example"}}, "eu.acme.example").method == "dkim");
    CHECK(judged({{"dkim", "pass", "evil.example"}}).verdict == "fail");
    CHECK(judged({{"dkim", "pass", "notacme.example"}}).verdict == "fail");
    CHECK(judged({{"dkim", "pass", "example"}}).verdict == "fail");
    CHECK(judged({{"dkim", "pass", ""}}).verdict == "fail");
    CHECK(judged({{"spf", "pass", "acme.example"}}).method == "spf");
    CHECK(judged({{"spf", "pass", "bounces.esp.example"}}).verdict == "fail");
    CHECK(judged({{"spf", "softfail", "acme.example"}, {"dkim", "none", ""}}).verdict == "fail");
    CHECK(judged({}).verdict == "none");
    CHECK(judged({{"spf", "pass", "acme.example"}}, "").verdict == "fail");
    const auto detailed = judged({{"spf", "fail", "acme.example"}, {"dkim", "pass", "acme.example"}});
    CHECK(detailed.detail == "test: spf=fail smtp.mailfrom=acme.example dkim=pass d=acme.example");
  }

  TEST_CASE("Mailgun verdicts count once, with the envelope sender and the only DKIM signer") {
    header_fields headers{{"From", "Alice <alice@acme.example>"},
                          {"DKIM-Signature", "v=1; a=rsa-sha256; d=Acme.Example; s=s1; bh=x; b=y"},
                          {"X-Mailgun-Spf", "Pass"},
                          {"X-Mailgun-Dkim-Check-Result", "Pass"}};
    auto evidence = evidence_from_mailgun(headers, "bounce@esp.example");
    REQUIRE(evidence.checks.size() == 2);
    CHECK(evidence.checks[0].domain == "esp.example");
    CHECK(evidence.checks[1].domain == "acme.example");
    CHECK(judge_sender({evidence}, "acme.example").method == "dkim");

    // A second signer: which one passed is unknown, so DKIM cannot be aligned.
    headers.insert(headers.begin() + 1, {"DKIM-Signature", "v=1; d=esp.example; s=s2"});
    CHECK(judge_sender({evidence_from_mailgun(headers, "bounce@esp.example")}, "acme.example").verdict == "fail");
    CHECK(judge_sender({evidence_from_mailgun(headers, "alice@acme.example")}, "acme.example").method == "spf");

    // A sender-written copy of a verdict field makes it unreadable.
    headers.emplace_back("X-Mailgun-Spf", "Pass");
    headers.emplace_back("X-Mailgun-Dkim-Check-Result", "Pass");
    CHECK(evidence_from_mailgun(headers, "alice@acme.example").checks.empty());
  }

  TEST_CASE("Postmark verdicts come from the topmost Received-SPF and X-Spam-Tests") {
    const header_fields passing{
        {"Return-Path", "<alice@customer.test>"},
        {"X-Spam-Tests", "DKIM_SIGNED,DKIM_VALID,DKIM_VALID_AU,SPF_PASS"},
        {"Received-SPF",
         "pass (customer.test: 209.85.128.170 is authorized to use 'alice@customer.test' in 'mfrom' identity) "
         "receiver=p-pm-inboundg02a-aws-useast1a; identity=mailfrom; envelope-from=\"alice@customer.test\"; "
         "client-ip=209.85.128.170"},
    };
    const auto evidence = evidence_from_postmark(passing, "customer.test");
    REQUIRE(evidence.checks.size() == 2);
    CHECK(evidence.checks[0].method == "spf");
    CHECK(evidence.checks[0].result == "pass");
    CHECK(evidence.checks[0].domain == "customer.test");
    CHECK(judge_sender({evidence}, "customer.test").method == "dkim");

    const header_fields failing{
        {"X-Spam-Tests", "DKIM_INVALID, SPF_FAIL"},
        {"Received-SPF", "fail (not permitted) envelope-from=alice@customer.test"},
        {"Received-SPF", "pass (written by the sender) envelope-from=alice@customer.test"},
        {"X-Spam-Tests", "DKIM_VALID_AU"},
    };
    const auto failed = judge_sender({evidence_from_postmark(failing, "customer.test")}, "customer.test");
    CHECK(failed.verdict == "fail");
    // No envelope-from: the Return-Path names the SPF domain.
    const header_fields by_path{{"Return-Path", "<bounce@customer.test>"}, {"Received-SPF", "Pass"}};
    CHECK(judge_sender({evidence_from_postmark(by_path, "customer.test")}, "customer.test").method == "spf");
  }
}
