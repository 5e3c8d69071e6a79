// The one compiled copy of toml++, and positioned errors about its nodes.
#define TOML_IMPLEMENTATION
#include "config/toml.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace switchboard::config {

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

toml::table parse_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(position{path, 0, 0}, "cannot read the file");
  std::stringstream content;
  content << in.rdbuf();
  try {
    return toml::parse(content.str(), path);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    throw error(position{path, static_cast<int>(begin.line), static_cast<int>(begin.column)},
                std::string(e.description()));
  }
}

}  // namespace switchboard::config
