#pragma once
// Inbound e-mail as the router needs it, from any provider, and the MIME parsing behind it
// (GMime 3): RFC 5322 messages, multipart/form-data bodies, RFC 2047 encoded words and
// non-UTF-8 charsets, all turned into UTF-8.
//
// Thread-safety: GMime is initialised once, on first use; the functions may then run on any
// thread, each on its own data.

#include <cstddef>
#include <initializer_list>
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

// MIME shape limits, checked by a linear scan of the bytes before GMime builds its tree (GMime
// allocates an object per part and per header field and recurses per level, so 37 MB of tiny
// parts took 2.8 GB and 30 s). Real mail stays far below them: a reply with a long quoted thread
// and a dozen attachments has a few dozen parts, three or four levels and a hundred header fields.
constexpr std::size_t max_mime_parts = 1000;          // body parts of every multipart, at every level
constexpr std::size_t max_mime_depth = 20;            // nested multiparts and message/rfc822 parts
constexpr std::size_t max_mime_header_fields = 10000;  // header fields of the message and all its parts

// A header field of the message (name, value and folded lines) longer than this keeps only its
// first max_header_field_bytes, an address field (To, Cc, From, ...) up to its last whole
// address before that: Postfix's header_size_limit (postconf(5), default 102400) discards the
// excess the same way. GMime parses every address of To and Cc into an object as it builds the
// message, so a 20 MB To field (1.5 million addresses) took 489 MiB before any cap applied, and
// a 32 MiB Subject 384 MiB.
constexpr std::size_t max_header_field_bytes = 102400;
// And the whole top-level header keeps at most max_header_bytes, its address fields together at
// most max_address_header_bytes (about 10,000 addresses): a field past either budget is left
// out. Without them, 400 To fields of 100 KB each (40 MB, 10 million addresses) took 2.3 GiB.
// Real mail stays far below: a long Received chain and DKIM signatures are tens of KB.
constexpr std::size_t max_header_bytes = 1024 * 1024;
constexpr std::size_t max_address_header_bytes = 256 * 1024;

// `message` with every top-level header field over max_header_field_bytes cut, and the fields
// past the budgets left out, as above; nothing (no copy) when nothing is over. Linear in the
// header's size; the body is not read.
std::optional<std::string> cap_header_fields(std::string_view message);

enum class mime_shape { ok, too_many_parts, too_deep, too_many_header_fields };

// Whether `entity` (a whole RFC 5322 message, or a body whose Content-Type is given apart as
// `content_type`, as with multipart/form-data) stays within the limits above. It reads each line
// once: header fields (unfolded, RFC 5322 §2.2.3), each multipart's boundary parameter (RFC 2046
// §5.1.1), delimiter lines of every open boundary (an outer delimiter closes the inner
// multiparts, as GMime does) and message/rfc822 bodies, whose header starts a level. Cost: one
// pass, at most max_mime_depth comparisons per line that starts with "--".
mime_shape check_mime_shape(std::string_view entity, std::string_view content_type = {});

// The error code and message for a refused shape (code: too_many_mime_parts,
// mime_nesting_too_deep, too_many_header_fields); empty for ok.
std::pair<std::string, std::string> describe(mime_shape shape);

struct inbound_email {
  std::string message_id;               // without angle brackets; empty when the message had none
  std::vector<std::string> in_reply_to;  // Message-IDs without angle brackets
  std::vector<std::string> references;   // oldest first
  std::string from_address;              // lower case
  std::string from_name;
  std::vector<std::string> recipients;  // lower case, distinct, at most max_recipients; the envelope recipient first when known
  std::string subject;                  // UTF-8, every encoded word decoded (decode_header_text); from at most max_header_field_bytes
  std::string text;                     // UTF-8: the reply text when the provider stripped it, else the body
  // False when a parsed message had no text/plain or text/html part outside its attachments
  // (`text` is then empty): the request is filed with a note saying so, never silently empty.
  bool text_found = true;
  // The number of mailboxes in From (RFC 5322 §3.6.2 allows several only with a Sender field).
  // More than one makes the sender unauthenticated: a verdict is about one domain.
  std::size_t from_count = 1;
  bool automatic = false;               // an auto-reply, bounce or bulk mail: never recorded
  // The header fields that carry SPF/DKIM/DMARC verdicts (sender_auth.hpp: Authentication-Results,
  // Received-SPF, DKIM-Signature, Return-Path, X-Spam-Tests, X-Mailgun-*) and From, top first,
  // as (name, unfolded value). Empty when the provider sent fields rather than the message.
  std::vector<std::pair<std::string, std::string>> headers;
};

// RFC 2047 §6: the UTF-8 text of an unstructured header value (Subject, Comments; folded or
// not). Each encoded-word ("=?charset?B|Q?text?=") is transfer-decoded on its own, so base64
// padding in one word never ends the next; words in the same charset that follow each other are
// joined as bytes before the charset conversion (GLib's iconv, names through GMime's charset
// map), so a character split across two words survives. Linear whitespace between two
// encoded-words is dropped (§6.2); whitespace between an encoded-word and plain text is kept. A
// word that is malformed (bad base64 or Q), or whose bytes are not in its charset, is left as
// written. Plain text that is not UTF-8 is read as Windows-1252.
std::string decode_header_text(std::string_view raw);

// Parses a raw RFC 5322 message; nullopt when it is not one (no header at all) or when its shape
// is over the limits (check_mime_shape first to tell which).
std::optional<inbound_email> parse_rfc822(std::string_view raw);

// Message-IDs in an In-Reply-To or References header, without angle brackets, in order.
std::vector<std::string> parse_message_ids(std::string_view header);

// The first mailbox of an address header ("Name <addr>"): lower-case address and name.
std::pair<std::string, std::string> parse_mailbox(std::string_view header);

// How many mailboxes an address header names (group members count one each).
std::size_t count_mailboxes(std::string_view header);

// The distinct addresses of an address header, lower case, in order, at most max_recipients.
std::vector<std::string> parse_addresses(std::string_view header);

// Whether the Auto-Submitted, Precedence and X-Autoreply values mark an automatic message
// (RFC 3834: Auto-Submitted other than "no"; Precedence bulk, junk, list or auto_reply).
bool is_automatic(std::string_view auto_submitted, std::string_view precedence, std::string_view x_autoreply);

// The fields of a multipart/form-data body, in order (name, decoded content); nullopt when it
// does not parse as one or its shape is over the limits (check_mime_shape first to tell which).
std::optional<std::vector<std::pair<std::string, std::string>>> parse_form_data(std::string_view content_type,
                                                                                std::string_view body);

// The fields named in `wanted` of a multipart/form-data body (RFC 7578), found by one scan for
// its boundary lines that reads only the parts' header fields: no part is decoded or parsed as
// MIME, and only the wanted fields' contents are copied, so it costs one pass over the body
// whatever its attachments (Mailgun's signature fields are checked with it before the form is
// parsed). The first part of each name counts; a wanted field absent from the body is absent
// from the result; contents are as sent (a part with a Content-Transfer-Encoding is not
// decoded). nullopt when the content type names no boundary or the body has no first boundary.
std::optional<std::vector<std::pair<std::string, std::string>>> scan_form_fields(
    std::string_view content_type, std::string_view body, std::initializer_list<std::string_view> wanted);

// `text` as valid UTF-8: unchanged when it is, else read as Windows-1252.
std::string ensure_utf8(std::string_view text);

}  // namespace switchboard::http::webhooks
