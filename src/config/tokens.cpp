// Token hashing, generation and the tokens file.
#include "config/tokens.hpp"

#include "config/toml.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <filesystem>
#include <stdexcept>

namespace switchboard::config {

std::string sha256_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  // Every API request hashes its token (twice: before its body and in its handler): a format
  // call per byte was half of that (issue 11, by perf).
  constexpr std::string_view digits = "0123456789abcdef";
  std::string hex(2 * length, '0');
  for (unsigned int i = 0; i < length; ++i) {
    hex[2 * i] = digits[digest[i] >> 4];
    hex[2 * i + 1] = digits[digest[i] & 0x0f];
  }
  return hex;
}

std::string new_token() {
  std::array<unsigned char, 32> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1)
    throw std::runtime_error("no randomness for a token");
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  // base64url without padding: 43 characters for 32 bytes.
  std::string token = "sb_";
  unsigned bits = 0;
  int pending = 0;
  for (unsigned char byte : random) {
    bits = (bits << 8) | byte;
    pending += 8;
    while (pending >= 6) {
      pending -= 6;
      token += alphabet[(bits >> pending) & 0x3f];
    }
  }
  if (pending > 0) token += alphabet[(bits << (6 - pending)) & 0x3f];
  return token;
}

namespace {

std::shared_ptr<const std::map<std::string, model::actor, std::less<>>> index_of(const std::vector<token_entry>& entries) {
  auto out = std::make_shared<std::map<std::string, model::actor, std::less<>>>();
  for (const auto& entry : entries) (*out)[entry.sha256] = model::actor{entry.person, entry.role};
  return out;
}

}  // namespace

token_table::token_table() : by_hash_(index_of({})) {}

token_table::token_table(const std::vector<token_entry>& entries) : by_hash_(index_of(entries)) {}

std::optional<model::actor> token_table::find(std::string_view token) const {
  const auto snapshot = by_hash_.load();
  auto found = snapshot->find(sha256_hex(token));
  if (found == snapshot->end()) return std::nullopt;
  return found->second;
}

std::size_t token_table::size() const { return by_hash_.load()->size(); }

token_table::replaced token_table::replace(const std::vector<token_entry>& entries) {
  const auto next = index_of(entries);
  const auto before = by_hash_.exchange(next);
  replaced out{before->size(), 0};
  for (const auto& [hash, actor] : *before) {
    const auto now = next->find(hash);
    if (now == next->end() || now->second.person != actor.person || now->second.role != actor.role) ++out.withdrawn;
  }
  return out;
}

std::vector<token_entry> load_token_file(const std::string& path) {
  // A directory opens and reads as empty: it would pass as a file with no tokens.
  if (std::filesystem::is_directory(path))
    throw error(position{path, 0, 0}, "is a directory; expected a tokens file ([[token]] person, role, sha256)");
  std::error_code missing;
  if (!std::filesystem::exists(path, missing) && !missing)
    throw error(position{path, 0, 0},
                "no such file; expected a tokens file ([[token]] person, role, sha256), which "
                "`switchboard-cli token new --person NAME --role ROLE --append FILE` makes (`tools/dev tokens` "
                "makes the development ones)");
  // A device or a FIFO would be read without end (/dev/zero) or block start-up (a FIFO).
  std::error_code kind_error;
  if (!std::filesystem::is_regular_file(path, kind_error) && !kind_error)
    throw error(position{path, 0, 0}, "is not a regular file; expected a tokens file ([[token]] person, role, sha256)");
  const auto root = parse_file(path);
  std::vector<token_entry> entries;
  reject_unknown_keys(root, path, {"token"}, "a tokens file");
  const auto* tokens = root.get("token");
  if (tokens == nullptr) return entries;
  const auto* array = tokens->as_array();
  if (array == nullptr) fail_at(*tokens, path, "token must be an array of tables: [[token]]");
  std::map<std::string, std::size_t, std::less<>> first_line_of;  // sha256 -> its line
  for (const auto& item : *array) {
    const auto* table = item.as_table();
    if (table == nullptr) fail_at(item, path, "expected a table with person, role and sha256");
    reject_unknown_keys(*table, path, {"person", "role", "sha256"}, "[[token]]");
    token_entry entry;
    bool has_person = false, has_role = false, has_hash = false;
    for (const auto& [key, value] : *table) {
      const auto* text = value.as_string();
      if (text == nullptr) fail_at(value, path, fmt::format("{} must be a string", key.str()));
      const std::string& s = text->get();
      if (key.str() == "person") {
        if (s.empty()) fail_at(value, path, "person must not be empty");
        entry.person = s;
        has_person = true;
      } else if (key.str() == "role") {
        const auto role = model::parse_role(s);
        if (!role) fail_at(value, path, fmt::format("unknown role \"{}\"; expected one of {}", s, model::role_names()));
        entry.role = *role;
        has_role = true;
      } else {
        if (s.size() != 64 || s.find_first_not_of("0123456789abcdef") != std::string::npos)
          fail_at(value, path, "sha256 must be 64 lower-case hex digits (switchboard-cli token new prints it)");
        // A token stands for one person and role: listed twice, the later entry silently won,
        // and a revoked line could leave the token in force under the other.
        if (const auto seen = first_line_of.find(s); seen != first_line_of.end())
          fail_at(value, path,
                  fmt::format("this sha256 is already listed at line {}; a token stands for one person and role",
                              seen->second));
        first_line_of.emplace(s, value.source().begin.line);
        entry.sha256 = s;
        has_hash = true;
      }
    }
    if (!has_person || !has_role || !has_hash) fail_at(item, path, "a token needs person, role and sha256");
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace switchboard::config
