#pragma once
// HTTP message types and the JSON response shapes every endpoint uses.
//
// Every 4xx/5xx carries {"error": {"code": "...", "message": "..."}} (plus "fields" for 422).

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <boost/system/error_code.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::http {

namespace beast_http = boost::beast::http;
using request = beast_http::request<beast_http::string_body>;
using response = beast_http::response<beast_http::string_body>;
using status = beast_http::status;

response json_response(status code, const boost::json::value& body);

// A JSON response whose body text is already made (`body`, a JSON text without the final
// newline every JSON response ends with).
response json_text_response(status code, std::string body);

// Appends boost::json::serialize(value) to `out`, without a temporary string.
void append_json(std::string& out, const boost::json::value& value);

response error_response(status code, std::string_view error_code, std::string_view message,
                        boost::json::array fields = {});

// Message framing (RFC 9112 §6): the only transfer coding this server decodes is "chunked",
// alone. nullopt when the request has no Transfer-Encoding or exactly that; otherwise the 501
// (RFC 9112 §6.1: a transfer coding the server does not understand) to send before closing the
// connection, since the body's end cannot be found.
std::optional<response> refuse_transfer_coding(const beast_http::request_header<>& header);

// The Host header (RFC 9112 §3.2): nullopt when the request has exactly one with a valid value
// (is_valid_host, http/host_check.hpp), or none and is HTTP/1.0; otherwise the 400 to send
// before closing the connection: `missing_host` for an HTTP/1.1 request without one,
// `duplicate_host` for any request with two or more (which one names the target would be a
// guess, and proxies and caches may guess differently), `invalid_host` for a value that is no
// `host[:port]` (spaces, userinfo, an unclosed bracket, a port over 65535, bytes outside ASCII).
std::optional<response> refuse_host(const beast_http::request_header<>& header);

// Whether a body read failed because the body itself is malformed (a bad chunk size, extension
// or trailer, ...), as opposed to the client going away or a timeout: such a request gets 400.
bool is_malformed_body(const boost::system::error_code& ec);

// The request target as it may be written to a log, with "REDACTED" in place of:
// - the value of every query parameter whose name looks like a credential (token,
//   access_token, key, api_key, apikey, signature, sig, password, secret, auth, and names
//   ending in _token, _key or _secret, alone or as "name[]" or "x[name]"; compared
//   case-insensitively after percent-decoding);
// - every path segment, query name or query value that, percent-decoded, holds something that
//   looks like a credential wherever it appears: an API token ("sb_..."), a Slack token
//   ("xoxb-...", "xoxp-", ...), a Standard Webhooks secret ("whsec_..."), "Bearer <token>", or a
//   run of 32 or more hex digits, or of letters and digits (hex, base64url, or standard base64
//   with both cases; at most one separator in eight characters).
// Ordinary values (?q=vpn, ?limit=50, request ids, slugs) are kept. Redaction is by shape: a
// secret shorter than these, under an ordinary name, is not recognised.
std::string redacted_target(std::string_view target);

// Proactive negotiation on Accept (RFC 9110 §12.5.1): the index in `offered` (media types such
// as "application/json", lower case, in the server's order of preference) of the one the
// client prefers, or nullopt when it accepts none of them (answer 406). Each offered type takes
// the q of the most specific range that matches it (type/subtype over type/* over */*; media
// type parameters are not compared); q=0 means "not acceptable"; the highest q wins and a tie
// goes to the type offered first. Type names compare case-insensitively. An absent or empty
// Accept, or one with no well-formed element, accepts anything (the first offered); a
// malformed element (no '/', a q outside 0 to 1 or with more than three decimals) is skipped.
// Thread-safe (pure).
std::optional<std::size_t> negotiate_media_type(std::string_view accept,
                                                std::initializer_list<std::string_view> offered);

}  // namespace switchboard::http
