#pragma once
// The real server with integrations configured, for the webhook tests: a fast-SLA config with
// an [integrations] section, the secrets in the environment (the server inherits it), the
// research fixtures' exact bytes, and Slack signing with OpenSSL HMAC.

#include "http/client.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::testing {

class server_backend;

inline constexpr const char* slack_secret = "4f8a1c2e9b7d3a6f0e5c8b2d1a9f7e63";  // the fixtures' secret
inline constexpr const char* mailgun_key = "mg-signing-key-5f2c9a1e7b3d4f60a8e1c2b3d4e5f6a7";
inline constexpr const char* postmark_password = "pm-secret-7c1d";
inline constexpr const char* reply_key = "reply-key-3e9a";
inline constexpr const char* trusted_authserv_id = "mx.switchboard.test";  // [integrations] in the test config

// An Authentication-Results header field (CRLF-terminated) from the trusted MTA: `result` for
// DMARC, DKIM (d=`domain`) and SPF (smtp.mailfrom at `domain`).
inline std::string authentication_results(const std::string& domain, const std::string& result = "pass") {
  return std::string("Authentication-Results: ") + trusted_authserv_id + "; dkim=" + result + " header.d=" + domain +
         "; spf=" + result + " smtp.mailfrom=" + domain + "; dmarc=" + result + " header.from=" + domain + "\r\n";
}

// Sets every integration secret in the environment (or clears them all).
void set_integration_secrets(bool on);

// A fixture's exact bytes (tests/webhooks/fixtures/<name>).
std::string fixture(const std::string& name);

using headers = std::vector<std::pair<std::string, std::string>>;

// Slack's headers for `body` signed with `secret` at `timestamp` (Unix seconds).
headers slack_headers(const std::string& body, std::int64_t timestamp, const std::string& secret = slack_secret);

std::int64_t unix_now();

// The Slack side of webhook_server's config: C0SUPPORT01 (acme) files every message, C0LOBBY0001
// (acme) only mentions; U0CEDANA01 is a CE ("ce-person"), U0SESAM001 an SE ("se-person"); the
// fixtures' bot users are U0BOTUSER1 and U0BOT00001, their customers U04ALICE01 and U0CUST0001.
struct webhook_server {
  webhook_server();  // sets the secrets, writes the config and starts the server (on SQLite)
  // The same on `backend`'s database (support/server_backends.hpp), which must outlive this.
  explicit webhook_server(const server_backend& backend);
  temp_dir dir;
  server_args args;  // what the server was started with, for restart()
  std::unique_ptr<server_process> server;

  // SIGKILLs the server and starts it again on the same database and config.
  void restart();

  http::client client(model::role role = model::role::ce) const { return server->client(role); }
  // Every stored request, newest first.
  std::vector<boost::json::object> requests() const;
  boost::json::object request(std::int64_t id) const;
  std::vector<std::string> event_types(std::int64_t id) const;
};

}  // namespace switchboard::testing
