#include "cli/token.hpp"

#include "config/tokens.hpp"
#include "config/toml.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace cli {

namespace {

namespace config = switchboard::config;

bool is_filler(const std::string& line) {
  const auto first = line.find_first_not_of(" \t\r");
  return first == std::string::npos || line[first] == '#';
}

// The 1-based lines where a table header ([name] or [[name]]) stands: every table in the
// document but the root and inline ones, as toml++ places them.
void header_lines(const toml::node& node, std::set<std::size_t>& out) {
  if (const auto* table = node.as_table()) {
    if (!table->is_inline() && table->source().begin.line > 0) out.insert(table->source().begin.line);
    for (const auto& [key, value] : *table) header_lines(value, out);
  } else if (const auto* array = node.as_array()) {
    for (const auto& item : *array) header_lines(item, out);
  }
}

bool same(const config::token_entry& a, const config::token_entry& b) {
  return a.person == b.person && a.role == b.role && a.sha256 == b.sha256;
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
  // The entries as the server loads them (a file it would refuse is refused here, at its
  // file:line:col), then where each stands in the text: toml++'s positions, so that any
  // spelling the server accepts ([[ token ]], 'literal' strings, keys in any order) is found.
  const auto entries = config::load_token_file(path);
  const auto root = config::parse_file(path);
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

  std::set<std::size_t> headers;
  header_lines(root, headers);
  const auto* array = root.get_as<toml::array>("token");
  std::vector<bool> drop(lines.size(), false);
  std::vector<config::token_entry> kept;
  std::size_t removed = 0;
  for (std::size_t k = 0; array != nullptr && k < array->size(); ++k) {
    const auto& entry = entries.at(k);
    const bool hit = (!match.sha256.empty() && entry.sha256 == match.sha256) ||
                     (!match.person.empty() && entry.person == match.person);
    if (!hit) {
      kept.push_back(entry);
      continue;
    }
    const auto* table = array->get(k)->as_table();
    if (table->is_inline())
      throw std::runtime_error(fmt::format(
          "{}:{}: this token is an inline table; revoke removes [[token]] tables: edit the file by hand", path,
          table->source().begin.line));
    // The block: its header line and what follows up to the next header; comment and blank
    // lines that end it stay, since they may introduce the entry after it.
    const std::size_t first = table->source().begin.line - 1;
    const auto next = headers.upper_bound(table->source().begin.line);
    std::size_t last = next == headers.end() ? lines.size() : *next - 1;
    while (last > first + 1 && is_filler(lines[last - 1])) --last;
    for (std::size_t j = first; j < last; ++j) drop[j] = true;
    ++removed;
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
  // The new file must load as exactly the entries kept: a layout the line-wise edit cannot
  // follow (a key of one entry on another's lines) leaves the file as it was.
  bool as_expected = false;
  try {
    const auto after = config::load_token_file(name.data());
    as_expected = after.size() == kept.size() && std::equal(after.begin(), after.end(), kept.begin(), same);
  } catch (const std::exception&) {
  }
  if (!as_expected) {
    std::remove(name.data());
    throw std::runtime_error(fmt::format(
        "{}: removing the entries line by line would not leave the other tokens as they are; nothing was "
        "changed: edit the file by hand",
        path));
  }
  if (std::rename(name.data(), path.c_str()) != 0) {
    std::remove(name.data());
    throw std::runtime_error(fmt::format("cannot replace {}", path));
  }
  return removed;
}

}  // namespace cli
