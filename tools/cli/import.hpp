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
  std::size_t batch_actions = 5000;            // and history entries (the server's max_import_actions)
  bool json = false;                           // print each batch's answer as JSON instead of a summary
};

// Streams `path` to the server in batches (a UTF-8 byte order mark before the first line is
// skipped), each with an Idempotency-Key made from a random value drawn once per call and the
// batch's number: the same batch delivered twice within this call (a proxy retrying it) answers
// the results it had, and a later call imports afresh (what was imported before answers "exists").
// A batch also ends before its history entries (as the server counts them) would pass
// batch_actions. Prints a summary (imported, exists, refused) and each refused line with
// its line number in the file and the reason, on stderr. Returns the exit code: 0 when every
// line was imported or existed, 1 when a line was refused or a batch was answered with an error
// (the batches after it are not sent). Throws std::runtime_error when the file cannot be read
// or the server cannot be reached.
int import_file(switchboard::http::client& client, const std::string& path, const import_options& options);

}  // namespace cli
