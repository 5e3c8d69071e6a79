#pragma once
// Whether an inbound mail's sender is who the From: header says: the SPF (RFC 7208), DKIM
// (RFC 6376) and DMARC (RFC 7489) verdicts that a trusted party reported, judged against the
// From domain. Nothing here checks a signature or asks DNS: it reads what Mailgun, Postmark or
// the MTA named by [integrations] trusted_authserv_id already decided, and only from places
// the sender cannot write (see each collector).
//
// A sender is authenticated when one of these holds, in this order:
//   1. DMARC pass for the From domain (header.from equal to it);
//   2. DKIM pass with a signing domain (d=) aligned with the From domain;
//   3. SPF pass for an envelope sender (MAIL FROM) domain aligned with the From domain.
// Aligned is DMARC's relaxed alignment approximated without the Public Suffix List: the two
// domains are equal or one is a subdomain of the other.
//
// Thread-safety: pure functions.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::http::webhooks {

using header_fields = std::vector<std::pair<std::string, std::string>>;  // (name, unfolded value), top first

// One method's result from a trusted report, e.g. {"dkim", "pass", "acme.example"}.
struct auth_check {
  std::string method;  // "dmarc", "dkim" or "spf"
  std::string result;  // RFC 8601 result keyword, lower case: pass, fail, softfail, neutral, none, temperror, ...
  std::string domain;  // dmarc: header.from; dkim: the signing domain (d=); spf: the MAIL FROM domain.
                       // Empty when the report did not say (then it cannot be aligned).
};

struct auth_evidence {
  std::string source;  // who reported, e.g. "Mailgun", "Postmark", "Authentication-Results from mx.example.com"
  std::vector<auth_check> checks;
};

struct sender_verdict {
  std::string verdict;  // "pass" (authenticated), "fail" (a check failed or passed for another
                        // domain) or "none" (no trusted report at all)
  std::string method;   // when pass: "dmarc", "dkim" or "spf"
  std::string detail;   // what was reported, for people: "dkim=pass d=acme.example (Mailgun); spf=fail ..."
  bool authenticated() const { return verdict == "pass"; }
};

// Judges `evidence` against the From address's domain (lower case).
sender_verdict judge_sender(const std::vector<auth_evidence>& evidence, std::string_view from_domain);

// Whether `a` and `b` (lower-case domains) are equal or one is a subdomain of the other.
bool domains_aligned(std::string_view a, std::string_view b);

// The lower-case domain of an address ("Alice <a@X.org>" is not expected: pass the address).
std::string domain_of(std::string_view address);

// One RFC 8601 Authentication-Results value: the authserv-id and each method's result with its
// properties (comments removed, quoted strings unquoted). Nothing when it does not parse.
struct authentication_results {
  std::string authserv_id;  // lower case
  struct result {
    std::string method;                                       // lower case, without /version
    std::string result;                                       // lower case
    std::vector<std::pair<std::string, std::string>> properties;  // "header.d" -> "acme.example" (keys lower case)
  };
  std::vector<result> results;
};
bool parse_authentication_results(std::string_view value, authentication_results& out);

// Evidence from the topmost Authentication-Results field whose authserv-id is `trusted_id`
// (case-insensitive); RFC 8601 §5 has that MTA remove any such field the sender wrote, so
// fields below it or with other ids are ignored. Empty evidence when `trusted_id` is empty or no
// field carries it.
auth_evidence evidence_from_authentication_results(const header_fields& headers, std::string_view trusted_id);

// Mailgun's verdicts: X-Mailgun-Spf (SPF of `envelope_sender`, Mailgun's "sender" field) and
// X-Mailgun-Dkim-Check-Result ("Pass"/"Fail", no signing domain: the d= is taken from the
// message's DKIM-Signature fields only when every one of them names the same domain). Each
// verdict field must occur exactly once in `headers` (the message as Mailgun posts it, its own
// fields included), else a sender-written copy could be the one read, and it is ignored.
auth_evidence evidence_from_mailgun(const header_fields& headers, std::string_view envelope_sender);

// Postmark's verdicts, from the topmost Received-SPF (RFC 7208 §9.1; envelope-from, else the
// topmost Return-Path, for the domain) and the topmost X-Spam-Tests of Postmark's SpamAssassin
// (DKIM_VALID_AU: a valid DKIM signature from the author's domain; DKIM_INVALID, SPF_FAIL,
// SPF_SOFTFAIL: failures). Postmark prepends these to the message, above any the sender wrote.
auth_evidence evidence_from_postmark(const header_fields& headers, std::string_view from_domain);

}  // namespace switchboard::http::webhooks
