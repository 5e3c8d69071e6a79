#pragma once
// The server's log on stderr, in one of two formats chosen at start-up (`--log-format`,
// `[server] log_format`):
// - text: the lines as they have always been, for people and for the tests that read them;
// - json: one JSON object a line, for journald and log shippers: {"ts","level","msg"} and, for
//   each answered HTTP request, {"ts","level","msg":"request","request_id","method","route",
//   "target","status","duration_ms","actor"}. "ts" is UTC to the millisecond.
// Access lines go through a batched writer thread (one write(2) per batch, not per request:
// issue 11); every other line is written at once, as fmt::print(stderr) did.
//
// Thread-safety: set_log_format before other threads log; everything else from any thread.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::observe {

enum class log_format { text, json };
enum class log_level { info, warning, error };

// "text" or "json"; nullopt for anything else.
std::optional<log_format> parse_log_format(std::string_view name);
std::string_view to_string(log_format format);
std::string_view to_string(log_level level);

// The format of every later line (default text). Call at start-up, before other threads log.
void set_log_format(log_format format);
log_format current_log_format();

// Writes one line at once. In text format the line is `text_prefix` then `message` (the
// prefix carries what the text line has always begun with: "switchboard: ", "scheduler: ",
// "switchboard: warning: "); in json format it is {"ts","level","msg": message}. `message`
// holds no newline (one is added). Never throws: a line that cannot be written is lost.
void log(log_level level, std::string_view message, std::string_view text_prefix = "switchboard: ");

// The text prefix of warnings that have always said so.
inline constexpr std::string_view warning_prefix = "switchboard: warning: ";

// One answered HTTP request.
struct access_record {
  std::string_view request_id;
  std::string_view method;               // "-" when the request could not be parsed
  std::string_view route;                // the route's pattern ("/v1/requests/{id}"), or "unmatched"
  std::string_view target;               // already redacted (http::redacted_target)
  unsigned status = 0;                   // 0 when the answer could not be written
  std::chrono::microseconds duration{};  // from the request's first byte to the answer's last
  std::string_view actor;                // the person; empty when not authenticated
};

// The access line in `format`, newline included: text "<time> <method> <target> <status>
// <ms>.<µs>ms" (as before: the id, route and actor are in the json format only, so that text
// readers see what they always did); json as above, duration_ms a number with three decimals and
// actor null when empty. `now` stamps it.
std::string format_access(const access_record& record, log_format format, std::chrono::system_clock::time_point now);

// Queues the access line in the current format on the batched writer. Blocks only when 4 MiB
// of lines wait for a blocked stderr. Thread-safe.
void log_access(const access_record& record);

// Appends `text` as a JSON string (quotes included) to `out`: `"` and `\` escaped, control
// characters as \u00XX, valid UTF-8 copied, and each byte of an invalid sequence as U+FFFD
// (so that every line parses, whatever a client put in its target).
void append_json_string(std::string& out, std::string_view text);

}  // namespace switchboard::observe
