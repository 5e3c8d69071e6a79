// Positioned configuration errors.
#include "config/error.hpp"

#include <fmt/format.h>

namespace switchboard::config {

// A position without a line (what the error is about has no table in the file: nothing to
// point at) names the file alone, never a line 0 an editor cannot go to.
std::string located(const position& where, const std::string& message) {
  if (where.line == 0) return fmt::format("{}: {}", where.file, message);
  return fmt::format("{}:{}:{}: {}", where.file, where.line, where.column, message);
}

namespace {

std::string all_located(const position& where, const std::string& message, const std::vector<error::entry>& further) {
  auto text = located(where, message);
  for (const auto& each : further) text += "\n" + located(each.where, each.message);
  return text;
}

}  // namespace

error::error(position where, std::string message, std::vector<entry> further)
    : std::runtime_error(all_located(where, message, further)),
      where_(std::move(where)),
      message_(std::move(message)),
      further_(std::move(further)) {}

}  // namespace switchboard::config
