#pragma once
// Errors in rule and configuration files, positioned as file:line:col.

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

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
// Several errors found at once (each missing name of a config change) are one error: the
// first is where() and message(); `further` are the others, each at its own place, and what()
// lists them all, one located line each.
class error : public std::runtime_error {
 public:
  struct entry {
    position where;
    std::string message;
  };

  error(position where, std::string message, std::vector<entry> further = {});

  const position& where() const noexcept { return where_; }
  const std::string& message() const noexcept { return message_; }
  const std::vector<entry>& further() const noexcept { return further_; }

 private:
  position where_;
  std::string message_;
  std::vector<entry> further_;
};

}  // namespace switchboard::config
