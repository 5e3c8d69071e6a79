#pragma once
// Errors in rule and configuration files, positioned as file:line:col.

#include <stdexcept>
#include <string>
#include <string_view>

namespace switchboard::config {

struct position {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
};

// "file:line:col: message", or "file: message" when the line is unknown (0): how every
// positioned error reads, for messages that list several places.
std::string located(const position& where, const std::string& message);

// Thrown while loading a file. what() reads "file:line:col: message", where message says
// what was found and what was expected; "file: message" when the line is unknown (0).
class error : public std::runtime_error {
 public:
  error(position where, std::string message);

  const position& where() const noexcept { return where_; }
  const std::string& message() const noexcept { return message_; }

 private:
  position where_;
  std::string message_;
};

}  // namespace switchboard::config
