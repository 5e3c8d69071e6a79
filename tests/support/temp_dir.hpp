#pragma once
// A fresh temporary directory per test, removed with everything in it at the end.

#include <filesystem>
#include <string>

namespace switchboard::testing {

class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Writes `content` to `path` and returns the path.
std::string write_file(const std::string& path, const std::string& content);

// The whole content of a file.
std::string read_text(const std::string& path);

// The repository root, for the shipped config and rules.
std::string source_path(const std::string& relative);

}  // namespace switchboard::testing
