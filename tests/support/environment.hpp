#pragma once
// Environment variables a test's server processes inherit, set for one scope: each is set on
// construction and unset on destruction (so a later test's servers do not see it).
//
// Thread-safety: setenv/unsetenv are not; construct and destroy on the test's own thread, with no
// other thread reading the environment meanwhile (server processes get a copy when started).

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::testing {

class scoped_environment {
 public:
  explicit scoped_environment(std::vector<std::pair<std::string, std::string>> values) : values_(std::move(values)) {
    for (const auto& value : values_) ::setenv(value.first.c_str(), value.second.c_str(), 1);
  }
  ~scoped_environment() {
    for (const auto& value : values_) ::unsetenv(value.first.c_str());
  }
  scoped_environment(const scoped_environment&) = delete;
  scoped_environment& operator=(const scoped_environment&) = delete;

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

}  // namespace switchboard::testing
