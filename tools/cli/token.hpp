#pragma once
// `switchboard-cli token revoke`: removes [[token]] entries from a tokens file, keeping every
// other line (comments, other entries) as it was.

#include <cstddef>
#include <string>

namespace cli {

// Which entries to remove: those whose sha256 is `sha256` (lower-case hex), or whose person is
// `person`; one of the two is set.
struct token_match {
  std::string sha256;
  std::string person;
};

// Removes the matching [[token]] blocks from the tokens file at `path` and returns how many. The
// file is read as the server reads it (config::load_token_file), and each entry is found in the
// text where TOML places it (toml++'s source positions), so every spelling the server accepts
// is matched: `[[ token ]]`, literal 'strings', keys in any order. A block is its header line and
// the lines after it up to the next table header; comment and blank lines that end a block stay,
// since they may introduce the entry after it. The new text goes to a temporary file beside it
// (made 0600, then given the old file's mode, owner and group, so that an installed 0644 root
// file the service's own user reads stays readable to it), is fsynced, loaded again and compared
// with the entries that should remain, and only then renamed over the file, so a reader sees the
// old file or the new one. Nothing is written when nothing matches.
// Throws config::error (file:line:col) on a file the server would refuse, and std::runtime_error
// when the file cannot be read or written, when a matching entry is an inline table, or when the
// edit would not leave exactly the other entries (the file is then unchanged).
std::size_t revoke_tokens(const std::string& path, const token_match& match);

}  // namespace cli
