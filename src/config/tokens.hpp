#pragma once
// API tokens: the config keeps only the SHA-256 of each token, with the person and role it
// stands for. Tokens themselves are shown once, by `switchboard-cli token new`.

#include "model/request.hpp"

#include <atomic>
#include <map>
#include <memory>
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

// Looks tokens up by their hash. Safe to share between threads: find() and size() read one
// immutable snapshot, which replace() swaps atomically (SIGHUP's reload of the tokens file), so
// a lookup sees the old entries or the new ones, never a mix.
class token_table {
 public:
  token_table();
  explicit token_table(const std::vector<token_entry>& entries);
  token_table(const token_table&) = delete;
  token_table& operator=(const token_table&) = delete;

  std::optional<model::actor> find(std::string_view token) const;
  std::size_t size() const;

  struct replaced {
    std::size_t before = 0;     // distinct tokens in force before
    std::size_t withdrawn = 0;  // of those, how many are gone or now stand for another person or role
  };
  // Puts `entries` in force for every later find(). What was authorised with a withdrawn token
  // and lasts (an open dashboard stream) is the caller's to end.
  replaced replace(const std::vector<token_entry>& entries);

 private:
  using map = std::map<std::string, model::actor, std::less<>>;
  std::atomic<std::shared_ptr<const map>> by_hash_;
};

// Reads a tokens file: [[token]] tables with person, role and sha256. config::error with
// file:line:col on anything unknown or malformed; a missing file or a directory is an error too.
std::vector<token_entry> load_token_file(const std::string& path);

}  // namespace switchboard::config
