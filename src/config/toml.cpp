// The one compiled copy of toml++, and positioned errors about its nodes.
#define TOML_IMPLEMENTATION
#include "config/toml.hpp"

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
