#pragma once
// `switchboard-cli token revoke`: removes [[token]] entries from a tokens file by text, keeping
// every other line (comments, other entries) as it was.

#include <cstddef>
#include <string>

namespace cli {

// Which entries to remove: those whose sha256 is `sha256` (lower-case hex), or whose person is
// `person`; one of the two is set.
struct token_match {
  std::string sha256;
  std::string person;
};

// Removes the matching [[token]] blocks from the tokens file at `path` and returns how many. A
// block is its `[[token]]` header and the key lines after it, up to the next table header;
// comment and blank lines that end a block stay, since they may introduce the entry after it.
// The new text goes to a temporary file beside it (made 0600, then given the old file's mode,
// owner and group, so that an installed 0644 root file the service's own user reads stays
// readable to it), is fsynced and renamed over the file, so a reader sees the old file or the
// new one. Nothing is written when nothing matches.
// Throws std::runtime_error when the file cannot be read or written.
std::size_t revoke_tokens(const std::string& path, const token_match& match);

}  // namespace cli
