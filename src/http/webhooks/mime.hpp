#pragma once
// Inbound e-mail as the router needs it, from any provider, and the MIME parsing behind it
// (GMime 3): RFC 5322 messages, multipart/form-data bodies, RFC 2047 encoded words and
// non-UTF-8 charsets, all turned into UTF-8.
//
// Thread-safety: GMime is initialised once, on first use; the functions may then run on any
// thread, each on its own data.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::http::webhooks {

// At most this many distinct recipients are kept per header and per message; the rest are
// ignored. Threading needs only the support address among them, and a mail addressed to
// 200,000 people must not cost more than one addressed to a thousand.
constexpr std::size_t max_recipients = 1000;

struct inbound_email {
  std::string message_id;               // without angle brackets; empty when the message had none
  std::vector<std::string> in_reply_to;  // Message-IDs without angle brackets
  std::vector<std::string> references;   // oldest first
  std::string from_address;              // lower case
  std::string from_name;
  std::vector<std::string> recipients;  // lower case, distinct, at most max_recipients; the envelope recipient first when known
  std::string subject;                  // UTF-8, encoded words decoded
  std::string text;                     // UTF-8: the reply text when the provider stripped it, else the body
  bool automatic = false;               // an auto-reply, bounce or bulk mail: never recorded
};

// Parses a raw RFC 5322 message; nullopt when it is not one (no header at all).
std::optional<inbound_email> parse_rfc822(std::string_view raw);

// Message-IDs in an In-Reply-To or References header, without angle brackets, in order.
std::vector<std::string> parse_message_ids(std::string_view header);

// The first mailbox of an address header ("Name <addr>"): lower-case address and name.
std::pair<std::string, std::string> parse_mailbox(std::string_view header);

// The distinct addresses of an address header, lower case, in order, at most max_recipients.
std::vector<std::string> parse_addresses(std::string_view header);

// Whether the Auto-Submitted, Precedence and X-Autoreply values mark an automatic message
// (RFC 3834: Auto-Submitted other than "no"; Precedence bulk, junk, list or auto_reply).
bool is_automatic(std::string_view auto_submitted, std::string_view precedence, std::string_view x_autoreply);

// The fields of a multipart/form-data body, in order (name, decoded content); nullopt when it
// does not parse as one.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_form_data(std::string_view content_type,
                                                                                std::string_view body);

// `text` as valid UTF-8: unchanged when it is, else read as Windows-1252.
std::string ensure_utf8(std::string_view text);

}  // namespace switchboard::http::webhooks
