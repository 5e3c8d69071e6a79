#pragma once
// API tokens: the config keeps only the SHA-256 of each token, with the person and role it
// stands for. Tokens themselves are shown once, by `switchboard-cli token new`.

#include "model/request.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::config {

struct token_entry {
  std::string person;
  model::role role = model::role::viewer;
  std::string sha256;  // lower-case hex of the token's SHA-256
};

// Lower-case hex SHA-256 of `text`.
std::string sha256_hex(std::string_view text);

// A new random token ("sb_" and 43 URL-safe characters, 256 bits).
std::string new_token();

// Looks tokens up by their hash. Immutable once built; safe to share between threads.
class token_table {
 public:
  token_table() = default;
  explicit token_table(const std::vector<token_entry>& entries);

  std::optional<model::actor> find(std::string_view token) const;
  std::size_t size() const { return by_hash_.size(); }

 private:
  std::map<std::string, model::actor, std::less<>> by_hash_;
};

// Reads a tokens file: [[token]] tables with person, role and sha256. config::error with
// file:line:col on anything unknown or malformed; a missing file or a directory is an error too.
std::vector<token_entry> load_token_file(const std::string& path);

}  // namespace switchboard::config
