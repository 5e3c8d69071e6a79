#pragma once
// `switchboard-cli import FILE.jsonl`: sends an import file (README "Importing tickets") to
// POST /v1/import in batches and prints what became of each line.

#include "http/client.hpp"

#include <cstddef>
#include <string>

namespace cli {

struct import_options {
  std::size_t batch_lines = 500;               // at most this many lines per request
  std::size_t batch_bytes = 4 * 1024 * 1024;   // and at most this many bytes (a longer line goes alone)
  bool json = false;                           // print each batch's answer as JSON instead of a summary
};

// Streams `path` to the server in batches, each with an Idempotency-Key made from the file's
// absolute path, the batch's number and its bytes (so a batch sent again after a timeout answers
// the results it had). Prints a summary (imported, exists, refused) and each refused line with
// its line number in the file and the reason, on stderr. Returns the exit code: 0 when every
// line was imported or existed, 1 when a line was refused or a batch was answered with an error
// (the batches after it are not sent). Throws std::runtime_error when the file cannot be read
// or the server cannot be reached.
int import_file(switchboard::http::client& client, const std::string& path, const import_options& options);

}  // namespace cli
