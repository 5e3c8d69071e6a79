#pragma once
// toml++ for rule and config files, with positioned errors about parsed nodes.
//
// toml++ is compiled once (config/toml.cpp) rather than in every file that includes it.

#include "config/error.hpp"

#include <toml++/toml.h>

#include <initializer_list>
#include <string>
#include <string_view>

namespace switchboard::config {

// The position of a parsed TOML node in `file`.
position position_of(const toml::node& node, std::string_view file);

// Shorthand for the common case: an error about `node` (or a table's `key`) in `file`.
[[noreturn]] void fail_at(const toml::node& node, std::string_view file, std::string message);
[[noreturn]] void fail_at(const toml::key& key, std::string_view file, std::string message);

// Refuses any key of `table` not in `allowed`, at the key's own position:
// `unknown key "x" in WHERE; expected one of a, b`.
void reject_unknown_keys(const toml::table& table, std::string_view file,
                         std::initializer_list<std::string_view> allowed, std::string_view where);

// "a string", "an integer", ...: what a node is, for "expected X, found Y" messages.
std::string_view type_name(const toml::node& node);

// Errors about the nodes of one file being loaded; loaders derive from it so that every check
// names the file without passing it around.
class file_errors {
 public:
  explicit file_errors(std::string_view file) : file_(file) {}

  [[noreturn]] void fail(const toml::node& node, std::string message) const {
    fail_at(node, file_, std::move(message));
  }
  [[noreturn]] void fail(const toml::key& key, std::string message) const { fail_at(key, file_, std::move(message)); }
  void check_keys(const toml::table& table, std::initializer_list<std::string_view> allowed,
                  std::string_view where) const {
    reject_unknown_keys(table, file_, allowed, where);
  }

 protected:
  std::string_view file_;
};

// Parses TOML 1.0 text named `file` in errors. Syntax errors, bytes that are not UTF-8 (RFC 3629)
// and non-ASCII outside strings and comments become config::error at file:line:col (columns
// count code points, as toml++ does). The last two are refused before toml++ sees the text: its
// 3.3 release has undefined behaviour on them (see check_toml_text in toml.cpp). Reentrant.
toml::table parse_text(std::string_view text, const std::string& file);

// Reads and parses a TOML file as parse_text does; an unreadable file is a config::error too.
toml::table parse_file(const std::string& path);

}  // namespace switchboard::config
