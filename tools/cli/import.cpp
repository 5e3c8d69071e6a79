// switchboard-cli import: an import file to POST /v1/import, batch by batch.
#include "cli/import.hpp"

#include "codec/import_json.hpp"
#include "config/tokens.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <fstream>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace cli {
namespace json = boost::json;

namespace {

struct batch {
  std::string bytes;
  std::size_t lines = 0;
  std::size_t actions = 0;     // history entries, as the server counts them (max_import_actions)
  std::size_t first_line = 1;  // the file's line number of the batch's first line
};

// A line's history entries as POST /v1/import counts them against its body's limit: a line that is
// not JSON, or whose history is over a ticket's limit (refused alone, replayed never), counts none.
std::size_t actions_of(std::string_view line) {
  json::error_code ec;
  const auto value = json::parse(line, ec);
  if (ec || !value.is_object()) return 0;
  const auto* history = value.as_object().if_contains("history");
  if (!history || !history->is_array()) return 0;
  const auto size = history->as_array().size();
  return size <= switchboard::codec::max_import_history ? size : 0;
}

std::string text_of(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : json::serialize(v); }

}  // namespace

int import_file(switchboard::http::client& client, const std::string& path, const import_options& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot read {}", path));
  // Each run is keyed afresh: a batch delivered twice within this run (a proxy retrying it) is
  // imported once and answered as before, but running the file again (after fixing a customer,
  // say) imports what was refused and answers "exists" for what was imported, instead of
  // replaying the first run's answers.
  const auto run = switchboard::config::sha256_hex(switchboard::config::new_token()).substr(0, 32);
  std::size_t imported = 0, exists = 0, refused = 0, batches = 0;
  bool failed = false;

  auto send = [&](const batch& b) {
    const auto key = fmt::format("import-{}-{}", run, batches);
    ++batches;
    const auto res = client.request("POST", "/v1/import", b.bytes, "application/x-ndjson", {{"Idempotency-Key", key}});
    json::error_code ec;
    const auto body = json::parse(res.body, ec);
    if (res.status != 200 || ec || !body.is_object()) {
      if (!ec && body.is_object() && body.as_object().contains("error"))
        fmt::print(stderr, "error ({} {}): {}\n", res.status, text_of(body.at("error").at("code")),
                   text_of(body.at("error").at("message")));
      else
        fmt::print(stderr, "error: HTTP {}\n", res.status);
      failed = true;
      return;
    }
    if (options.json) fmt::print("{}\n", json::serialize(body));
    for (const auto& item : body.at("results").as_array()) {
      const auto& r = item.as_object();
      const auto outcome = text_of(r.at("outcome"));
      if (outcome == "imported") {
        ++imported;
      } else if (outcome == "exists") {
        ++exists;
      } else {
        ++refused;
        // The server counts lines within the batch; the file's number is what a person looks up.
        const auto line = b.first_line + static_cast<std::size_t>(r.at("line").to_number<std::int64_t>()) - 1;
        const auto& error = r.at("error").as_object();
        std::string detail;
        for (const auto& f : error.at("fields").as_array())
          detail += fmt::format("\n    {}: {}", text_of(f.at("field")), text_of(f.at("message")));
        fmt::print(stderr, "line {} ({}): refused: {}{}\n", line,
                   r.at("external_id").is_null() ? std::string("no external_id") : text_of(r.at("external_id")),
                   text_of(error.at("message")), detail);
      }
    }
  };

  batch current;
  std::string line;
  std::size_t number = 0;
  while (!failed && std::getline(in, line)) {
    ++number;
    // A UTF-8 byte order mark (as some editors and exports write) is not part of the first line.
    if (number == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
    const auto actions = actions_of(line);
    if (current.lines > 0 &&
        (current.lines >= options.batch_lines || current.bytes.size() + line.size() + 1 > options.batch_bytes ||
         current.actions + actions > options.batch_actions)) {
      send(current);
      current = batch{};
      current.first_line = number;
    }
    if (current.lines == 0) current.first_line = number;
    current.bytes += line;
    current.bytes += '\n';
    ++current.lines;
    current.actions += actions;
  }
  if (!failed && current.lines > 0) send(current);
  if (!options.json)
    fmt::print("{}: {} imported, {} already imported, {} refused ({} lines, {} batches)\n", path, imported, exists,
               refused, number, batches);
  return failed || refused > 0 ? 1 : 0;
}

}  // namespace cli
