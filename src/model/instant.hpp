#pragma once
// Instants as text: the one parser and the one formatter of ISO-8601 / RFC 3339 date-times.
//
// Thread safety: both functions are pure; call them from any thread.

#include "model/request.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::model {

// ISO-8601 UTC with a Z suffix and whole seconds, e.g. "2026-11-23T10:30:00Z" (RFC 3339 §5.6).
std::string format_instant(instant at);

// An RFC 3339 date-time (ISO-8601 extended format) with an explicit offset, in every form people
// and programs write one:
//   "2026-11-20T17:30:00-08:00"      RFC 3339
//   "2026-11-21T01:30:00.000Z"        fractional seconds (JavaScript's toISOString, any digits)
//   "2026-11-20T17:30-08:00"          minutes without seconds
//   "2026-11-21 01:30:00Z"            a space instead of T (RFC 3339 §5.6 note, SQL)
//   "2026-11-21t01:30:00z"            lower-case t and z (RFC 3339 §5.6)
//   offsets Z, ±HH:MM, ±HHMM or ±HH
// Instants are whole seconds: a fraction is truncated toward the earlier second
// ("…17:30:59.999Z" is 17:30:59Z). Surrounding white space is ignored.
// Every field has its RFC 3339 digits: a four-digit year, two-digit month, day, hour, minute and
// second ("2026-1-23T9:5:5Z", which Abseil's parser alone would read, is refused).
// Returns nothing for a local time without an offset (its instant would depend on a zone),
// an impossible date or time, a year outside 0001-9999, or any other text. Impossible means a
// day the month does not have ("2026-02-30"), minute 60, hour 24 (ISO 8601 allows "24:00:00"
// as the end of a day; RFC 3339 §5.6 does not, and one instant should have one spelling), and
// second 60: leap seconds are not modelled (instants are POSIX seconds), and CCTZ's reading of
// "17:00:60" as 17:01:00 would silently move what was typed. Parsing is Abseil's absl::ParseTime with the RFC 3339 format; no hand-written grammar.
std::optional<instant> parse_instant(std::string_view text);

}  // namespace switchboard::model
