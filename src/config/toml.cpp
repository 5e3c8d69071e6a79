// The one compiled copy of toml++, and positioned errors about its nodes.
#define TOML_IMPLEMENTATION
#include "config/toml.hpp"

#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>

namespace switchboard::config {
namespace {

bool is_bare_key_character(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// `text[at]` is the '[' opening a table header at line:column: what follows the brackets and
// any blanks must start a key (or be a bracket or the end, which toml++ reports by itself).
void check_table_header(std::string_view text, std::size_t at, const std::string& file, int line, int column) {
  std::size_t next = at + 1;
  const bool array_of_tables = next < text.size() && text[next] == '[';
  if (array_of_tables) ++next;
  while (next < text.size() && (text[next] == ' ' || text[next] == '\t')) ++next;
  if (next == text.size()) return;
  const char c = text[next];
  if (is_bare_key_character(c) || c == '"' || c == '\'' || c == ']' || (c == '[' && !array_of_tables) ||
      static_cast<unsigned char>(c) >= 0x80)
    return;
  const std::string found = c == '\n' || c == '\r' ? std::string("the end of the line")
                            : c >= 0x20 && c < 0x7F  ? fmt::format("'{}'", c)
                                                     : fmt::format("U+{:04X}", static_cast<unsigned>(c));
  throw error(position{file, line, column + static_cast<int>(next - at)},
              fmt::format("expected a key (bare, or in quotes) as the {} name; found {}",
                          array_of_tables ? "array of tables'" : "table's", found));
}

// Refuses, at its file:line:col, bytes that are not UTF-8, non-ASCII outside strings and
// comments, and a table header that does not start with a key. TOML 1.0 allows non-ASCII only
// inside strings and comments, so refusing it elsewhere loses no valid file and names the code
// point at its position. (This check was first written because toml++ 3.3's whitespace
// classifier had undefined behaviour on such code points; config/toml.hpp now makes that
// classifier answer false, so toml++ is safe on them too: fuzz_rules reached the same code
// through a non-ASCII string run into a value, `0"\u0441"`, which passes this check.) toml++
// assumes a table header starts with a key (`[)` fails its TOML_ASSERT_ASSUME in parse_key,
// a toml_check_error with toml.hpp's definitions): refusing it here names the position.
// Strings, comments and bracket depth are followed only as far as needed for these checks;
// toml++ itself reports every other syntax error.
void check_toml_text(std::string_view text, const std::string& file) {
  enum class in { code, comment, basic, literal, multi_basic, multi_literal };
  in state = in::code;
  bool escaped = false;         // the previous code point was a backslash in a basic string
  bool line_start = true;       // only spaces and tabs so far on this line, outside strings
  int depth = 0;                // open arrays and inline tables
  int line = 1;
  int column = 0;               // of the code point being looked at, counted in code points
  auto fail = [&](std::string message) { throw error(position{file, line, column}, std::move(message)); };
  auto quotes_at = [&](std::size_t at, char quote) {
    std::size_t n = 0;
    while (at + n < text.size() && text[at + n] == quote) ++n;
    return n;
  };

  // A byte order mark opens the text, not a key: toml++ skips it, and so does this.
  const std::size_t start = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  for (std::size_t at = start; at < text.size();) {
    const auto decoded = util::decode_utf8(text, at);
    ++column;
    if (decoded.length == 0) fail("expected UTF-8 text; found a byte that does not start a well-formed sequence");
    const char32_t c = decoded.value;
    std::size_t step = decoded.length;
    if (c >= 0x80 && state == in::code)
      fail(fmt::format("expected ASCII outside strings and comments (TOML 1.0 keys, values and whitespace "
                       "are ASCII); found U+{:04X}",
                       static_cast<std::uint32_t>(c)));
    switch (state) {
      case in::code:
        if (c == '[' && line_start && depth == 0) check_table_header(text, at, file, line, column);
        if (c == '[' || c == '{') {
          ++depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
          --depth;
        } else if (c == '#') {
          state = in::comment;
        } else if (c == '"' || c == '\'') {
          const char quote = static_cast<char>(c);
          const bool multi = quotes_at(at, quote) >= 3;
          state = quote == '"' ? (multi ? in::multi_basic : in::basic) : (multi ? in::multi_literal : in::literal);
          if (multi) step = 3;
        }
        break;
      case in::comment:
        if (c == '\n') state = in::code;
        break;
      case in::basic:
      case in::literal:
        if (c == '\n') {
          state = in::code;  // an unterminated string, which toml++ reports
          escaped = false;
        } else if (state == in::basic && escaped) {
          escaped = false;
        } else if ((c == '"' && state == in::basic) || (c == '\'' && state == in::literal)) {
          state = in::code;
        } else if (c == '\\' && state == in::basic) {
          escaped = true;
        }
        break;
      case in::multi_basic:
      case in::multi_literal: {
        const bool basic = state == in::multi_basic;
        if (escaped) {
          escaped = false;
          break;
        }
        if (basic && c == '\\') {
          escaped = true;
        } else if (c == (basic ? '"' : '\'')) {
          // Up to two quotes may sit just before the closing three: a run of three or more ends
          // the string, and shorter runs are content.
          const auto run = quotes_at(at, static_cast<char>(c));
          if (run >= 3) state = in::code;
          step = run;
        }
        break;
      }
    }
    line_start = state == in::code && (c == '\n' || ((c == ' ' || c == '\t') && line_start));
    if (c == '\n') {
      ++line;
      column = 0;
    } else if (step > decoded.length) {
      column += static_cast<int>(step - decoded.length);
    }
    at += step;
  }
}

}  // namespace

void toml_check_failed(const char* check) {
  throw toml_check_error(fmt::format("toml++ cannot read this text (its check `{}` failed)", check));
}

position position_of(const toml::node& node, std::string_view file) {
  const auto& begin = node.source().begin;
  return position{std::string(file), static_cast<int>(begin.line), static_cast<int>(begin.column)};
}

void fail_at(const toml::node& node, std::string_view file, std::string message) {
  throw error(position_of(node, file), std::move(message));
}

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

std::string non_empty_string(const toml::node& node, std::string_view file, std::string_view what) {
  const auto* text = node.as_string();
  if (text == nullptr || text->get().empty())
    fail_at(node, file, fmt::format("{} must be a non-empty string, found {}", what, type_name(node)));
  return text->get();
}

void fail_at(const toml::key& key, std::string_view file, std::string message) {
  const auto& begin = key.source().begin;
  throw error(position{std::string(file), static_cast<int>(begin.line), static_cast<int>(begin.column)},
              std::move(message));
}

void reject_unknown_keys(const toml::table& table, std::string_view file,
                         std::initializer_list<std::string_view> allowed, std::string_view where) {
  for (const auto& [key, value] : table) {
    if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
    fail_at(key, file,
            fmt::format("unknown key \"{}\" in {}; expected {}{}", key.str(), where, allowed.size() > 1 ? "one of " : "",
                        fmt::join(allowed, ", ")));
  }
}

toml::table parse_text(std::string_view text, const std::string& file) {
  check_toml_text(text, file);
  try {
    return toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    throw error(position{file, static_cast<int>(begin.line), static_cast<int>(begin.column)},
                std::string(e.description()));
  } catch (const toml_check_error& e) {
    // toml++ does not say where it was; the text is malformed somewhere (a valid one never gets
    // here: fuzz_rules and fuzz_config look for one).
    throw error(position{file, 1, 1}, e.what());
  }
}

toml::table parse_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(position{path, 0, 0}, "cannot read the file");
  std::stringstream content;
  content << in.rdbuf();
  return parse_text(content.str(), path);
}

}  // namespace switchboard::config
