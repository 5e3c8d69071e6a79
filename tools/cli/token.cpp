#include "cli/token.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <regex>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace cli {

namespace {

std::string trimmed(const std::string& line) {
  const auto first = line.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
}

bool is_header(const std::string& text) { return !text.empty() && text[0] == '['; }
bool is_filler(const std::string& text) { return text.empty() || text[0] == '#'; }

// The string value of `key = "value"` on a key line, or empty.
std::string value_of(const std::string& text, const std::string& key) {
  static const std::regex key_line(R"re(^([A-Za-z0-9_-]+)\s*=\s*"([^"]*)"\s*(#.*)?$)re");
  std::smatch m;
  if (std::regex_match(text, m, key_line) && m[1] == key) return m[2];
  return {};
}

void write_all(int fd, const std::string& text, const std::string& path) {
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) throw std::runtime_error(fmt::format("cannot write {}", path));
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::size_t revoke_tokens(const std::string& path, const token_match& match) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot read the tokens file {}", path));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  const bool ends_with_newline = [&] {
    in.clear();
    in.seekg(0, std::ios::end);
    if (in.tellg() <= 0) return true;
    in.seekg(-1, std::ios::end);
    return in.get() == '\n';
  }();

  std::vector<bool> drop(lines.size(), false);
  std::size_t removed = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (trimmed(lines[i]) != "[[token]]") continue;
    std::size_t end = i + 1;  // one past the block's last line
    while (end < lines.size() && !is_header(trimmed(lines[end]))) ++end;
    std::size_t last = end;  // one past the last key line: trailing comments and blanks stay
    while (last > i + 1 && is_filler(trimmed(lines[last - 1]))) --last;
    std::string sha, person;
    for (std::size_t j = i + 1; j < last; ++j) {
      const auto text = trimmed(lines[j]);
      if (auto v = value_of(text, "sha256"); !v.empty()) sha = v;
      if (auto v = value_of(text, "person"); !v.empty()) person = v;
    }
    const bool hit = (!match.sha256.empty() && sha == match.sha256) || (!match.person.empty() && person == match.person);
    if (hit) {
      for (std::size_t j = i; j < last; ++j) drop[j] = true;
      ++removed;
    }
    i = end - 1;
  }
  if (removed == 0) return 0;

  std::string text;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (drop[i]) continue;
    text += lines[i];
    if (i + 1 < lines.size() || ends_with_newline) text += '\n';
  }
  // The replacement keeps the file's mode and owner: /etc/switchboard/tokens.toml is root's and
  // 0644 (hashes only) so that the service's dynamic user can read it (README "Deploying").
  struct stat before {};
  if (::stat(path.c_str(), &before) != 0) throw std::runtime_error(fmt::format("cannot read {}", path));
  const std::string temporary = path + ".revoke-XXXXXX";
  std::vector<char> name(temporary.begin(), temporary.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());  // mode 0600
  if (fd < 0) throw std::runtime_error(fmt::format("cannot write beside {}", path));
  try {
    write_all(fd, text, path);
    // fchown first: it may clear set-id bits that fchmod then sets as they were.
    if ((before.st_uid != ::geteuid() || before.st_gid != ::getegid()) &&
        ::fchown(fd, before.st_uid, before.st_gid) != 0)
      throw std::runtime_error(fmt::format("cannot give the new {} its owner", path));
    if (::fchmod(fd, before.st_mode & 07777) != 0 || ::fsync(fd) != 0)
      throw std::runtime_error(fmt::format("cannot write {}", path));
  } catch (...) {
    ::close(fd);
    std::remove(name.data());
    throw;
  }
  ::close(fd);
  if (std::rename(name.data(), path.c_str()) != 0) {
    std::remove(name.data());
    throw std::runtime_error(fmt::format("cannot replace {}", path));
  }
  return removed;
}

}  // namespace cli
