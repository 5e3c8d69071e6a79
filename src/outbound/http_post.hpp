#pragma once
// One HTTP(S) POST to a receiver outside: resolve, check every resolved address against the SSRF
// guard (notify/address.hpp), connect only to those that passed, TLS with SNI and the host name
// verified against the certificate (RFC 6125 via OpenSSL), send, read the answer. Redirects are
// not followed. Shared by the webhook notifier and the Slack Web API client.
//
// Errors never throw: a failure before an HTTP status is read comes back in `error`.
// Thread-safety: a coroutine on `executor`; `tls` must outlive it and is not modified.

#include "notify/config.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace switchboard::outbound {

struct post_result {
  std::optional<int> status;  // the HTTP status; nullopt when none was read
  std::string retry_after;    // the Retry-After header, verbatim ("" when absent)
  std::string body;           // the answer's body, at most body_limit bytes (cut, not an error)
  std::string error;          // without a status: "dns: ...", "refused: ...", "connect: ...", "tls: ...",
                              // "timeout during <step>", "send: ...", "read: ...", "error: ..."
};

struct post_options {
  std::chrono::seconds timeout{15};  // one budget for connect, TLS, send and read (not DNS)
  bool allow_private = false;        // true: loopback and private addresses pass the guard
  std::uint64_t body_limit = 64 * 1024;  // bytes of the answer's body kept
};

// Sends `req` to `url` (req's target and headers are the caller's; Host is not set here).
boost::asio::awaitable<post_result> http_post(boost::asio::any_io_executor executor, boost::asio::ssl::context& tls,
                                              const notify::url_parts& url, const post_options& options,
                                              boost::beast::http::request<boost::beast::http::string_body>& req);

// The Host header for `url`: the port only when it is not the scheme's default, IPv6 in brackets.
std::string host_header(const notify::url_parts& url);

}  // namespace switchboard::outbound
