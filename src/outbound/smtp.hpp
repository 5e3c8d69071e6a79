#pragma once
// SMTP submission (RFC 5321, RFC 6409) of a composed message through libcurl.
//
// - TLS: `smtp://` upgrades with STARTTLS (RFC 3207) and refuses to go on in clear when the server
//   does not offer it; `smtps://` is TLS from the first byte (RFC 8314). The server's certificate
//   is verified against the system store or `ca_file`, host name included. Only a loopback server
//   may be used without TLS, and only when `starttls` is false (the config loader enforces it).
// - AUTH (RFC 4954) with `username` and `password` when a username is set, after TLS.
// - `timeout` bounds the whole exchange: connect, TLS, AUTH, envelope and data.
//
// Thread-safety: submit blocks for up to `timeout`; it may run on any thread, several at once,
// each call with its own libcurl handle. Run it off the I/O threads (outbound/smtp_pool.hpp).
// libcurl's global state is initialised on first use (call smtp_global_init from main before
// other threads start, as libcurl asks).

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::outbound {

struct smtp_settings {
  std::string url;       // "smtp://host:port" (STARTTLS) or "smtps://host:port"; parse_smtp_url's `url`
  std::string username;  // empty: no AUTH
  std::string password;  // SWITCHBOARD_SMTP_PASSWORD; never from a file
  std::string ca_file;   // PEM bundle of trusted CAs; empty: the system's store
  std::chrono::seconds timeout{30};
  bool starttls = true;  // false: plain SMTP, for a loopback host only
};

enum class smtp_outcome {
  delivered,  // the server took the message (250 after DATA)
  retry,      // maybe later: a 4xx reply, no connection, a timeout, no STARTTLS offered
  dead,       // never as it is: a 5xx reply (550 no such mailbox, 535 wrong password)
};

struct smtp_verdict {
  smtp_outcome outcome = smtp_outcome::retry;
  int code = 0;      // the server's last SMTP reply code; 0 when none came
  std::string text;  // why, for the delivery log: the server's reply line or libcurl's error
};

struct smtp_url {
  std::string url;   // normalised: scheme, host and port, nothing else
  std::string host;  // without brackets
  int port = 587;
  bool implicit_tls = false;  // smtps://
  bool loopback = false;      // localhost, 127.0.0.0/8 or ::1
};

// Reads "smtp://host[:port]" (port 587, submission, RFC 6409 §3.1) or "smtps://host[:port]" (465,
// RFC 8314 §3.3) with libcurl's URL parser; throws std::invalid_argument with the reason for any
// other scheme, user:password@ (the password comes from the environment), a path, query or
// fragment, or a missing host.
smtp_url parse_smtp_url(const std::string& text);

// Submits `message` (RFC 5322 bytes, CRLF line ends) from `envelope_from` to `recipients` (bare
// addresses, outbound/email_message.hpp address_of). Never throws for a network or SMTP failure:
// that is the verdict. Dot-stuffing (RFC 5321 §4.5.2) is libcurl's.
smtp_verdict submit(const smtp_settings& settings, const std::string& envelope_from,
                    const std::vector<std::string>& recipients, std::string_view message);

// curl_global_init, once per process; submit calls it too.
void smtp_global_init();

std::string_view to_string(smtp_outcome outcome);

}  // namespace switchboard::outbound
