#pragma once
// The server's settings from config/switchboard.toml: where to listen, where the database and
// the rules are, limits, and the vocabularies rules and policies are checked against.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace switchboard::config {

struct listen_address {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
};

struct settings {
  std::string file;  // the config file these came from
  listen_address listen;
  std::string database_path;  // relative paths in the file are resolved against its folder
  std::string rules_path;
  std::size_t max_body_bytes = 1024 * 1024;
  std::vector<std::string> tiers{"standard", "premium", "enterprise"};
  std::string tokens_file;  // [auth] tokens_file: hashed API tokens; empty when none
};

// Reads the config file; throws config::error with file:line:col on anything unknown or malformed.
settings load_settings(const std::string& path);

// Parses "HOST:PORT" (port 0 picks a free one); nullopt-like failure as std::invalid_argument.
listen_address parse_listen_address(const std::string& text);

}  // namespace switchboard::config
