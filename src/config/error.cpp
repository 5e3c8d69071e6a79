// Positioned configuration errors.
#include "config/error.hpp"

#include <fmt/format.h>

namespace switchboard::config {

error::error(position where, std::string message)
    : std::runtime_error(fmt::format("{}:{}:{}: {}", where.file, where.line, where.column, message)),
      where_(std::move(where)),
      message_(std::move(message)) {}

}  // namespace switchboard::config
