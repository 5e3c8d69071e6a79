#pragma once
// The server's settings from config/switchboard.toml: where to listen, where the database and
// the rules are, limits, and the vocabularies rules and policies are checked against.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::config {

struct listen_address {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
};

// [storage] backend: the store adapter (README "Storage").
enum class storage_backend { sqlite, postgres };

struct settings {
  std::string file;  // the config file these came from
  listen_address listen;
  std::string database_path;  // relative paths in the file are resolved against its folder
  // [storage]: PostgreSQL's URL is never read from the file (SWITCHBOARD_DATABASE_URL).
  storage_backend storage_kind = storage_backend::sqlite;
  std::size_t storage_readers = 0;           // read connections; 0: one per worker thread
  unsigned storage_connect_wait_ms = 2000;   // PostgreSQL: a batch waits this long for a lost database
  // PostgreSQL: how long an instance holds its timer shards without renewing them (renewed every
  // lease/10): a killed instance's timers are taken over within about this long.
  unsigned storage_lease_seconds = 10;
  std::string rules_path;
  std::size_t max_body_bytes = 1024 * 1024;
  // [server] threads, connection limits and deadlines (README "Server settings").
  unsigned io_threads = 0;      // threads serving connections; 0: one per hardware core
  unsigned worker_threads = 0;  // threads for heavy handlers (MIME, large JSON); 0: one per core
  // Inbound e-mail is parsed on a pool of its own, so a burst of heavy mail cannot queue ahead
  // of the API; at most max_intake_jobs mails are handled at once, more get 503 busy (0: no limit).
  unsigned intake_threads = 1;
  std::size_t max_intake_jobs = 16;
  std::size_t max_connections = 1024;
  std::size_t max_large_uploads = 4;  // bodies over 1 MiB read or handled at once
  // Connections one client address may hold open; 0: no limit (behind a proxy, where every
  // client shares the proxy's address).
  std::size_t max_connections_per_client = 64;
  unsigned header_timeout_seconds = 10;
  unsigned body_timeout_seconds = 60;
  unsigned write_timeout_seconds = 30;
  unsigned handler_timeout_seconds = 30;
  unsigned shutdown_timeout_seconds = 10;  // SIGTERM: in-flight requests get this long, then exit
  unsigned health_deadline_ms = 2000;  // /healthz: a heartbeat write must commit (or the writer progress) within this
  // Request bodies: after body_rate_grace_seconds, at least this many bytes a second on
  // average (0: no minimum); a body over large_body_bytes is a large upload (max_large_uploads
  // at once per pool); bodies of senders not yet authenticated hold at most
  // max_unauthenticated_body_bytes at once across all connections.
  std::size_t min_body_bytes_per_second = 8 * 1024;
  unsigned body_rate_grace_seconds = 5;
  std::size_t large_body_bytes = 1024 * 1024;
  std::size_t max_unauthenticated_body_bytes = 64 * 1024 * 1024;
  // Answers over large_body_bytes being written at once hold at most this many bytes (0: no limit).
  std::size_t max_buffered_response_bytes = 128 * 1024 * 1024;
  // Every list page stops before the row that would take it past this many bytes (at least one row).
  std::size_t max_page_bytes = 4 * 1024 * 1024;
  std::vector<std::string> tiers{"standard", "premium", "enterprise"};
  std::string tokens_file;  // [auth] tokens_file: hashed API tokens; empty when none
  // [server] log_format: "text" (lines for people) or "json" (one object a line); the
  // --log-format flag wins (observe/log.hpp).
  std::string log_format = "text";
  // [server] public_url: where people reach this server from outside ("https://support.example.com",
  // no trailing slash), for links in what it sends (Slack's Open in dashboard button); empty:
  // no links.
  std::string public_url;
};

// Reads the config file; throws config::error with file:line:col on anything unknown or malformed.
settings load_settings(const std::string& path);

// Checks a [server] public_url: https://HOST[:PORT][/PATH], or http:// only for localhost,
// 127.0.0.0/8 or [::1] (a test or a proxy on the same machine); no query, fragment or
// user:password; at most 2000 bytes (Slack's button URLs hold 3000, the dashboard's path is
// added). Returns it without a trailing "/"; throws std::invalid_argument with the reason.
std::string parse_public_url(std::string_view url);

// Parses "HOST:PORT" (port 0 picks a free one); nullopt-like failure as std::invalid_argument.
listen_address parse_listen_address(const std::string& text);

}  // namespace switchboard::config
