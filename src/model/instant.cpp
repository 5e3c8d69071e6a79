// ISO-8601 instants through Abseil's time library (CCTZ's strptime-like parser).
#include "model/instant.hpp"

#include <absl/time/time.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchboard::model {
namespace {

// %E4Y: exactly four digits of year; %ET: "T" or "t"; %E*S: seconds with any fraction;
// %Ez: "Z", "z", ±HH:MM, ±HHMM or ±HH.
constexpr std::array formats{"%E4Y-%m-%d%ET%H:%M:%E*S%Ez", "%E4Y-%m-%d%ET%H:%M%Ez"};

// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the years a calendar answers for.
constexpr std::int64_t earliest = -62'135'596'800;
constexpr std::int64_t latest = 253'402'300'799;

// Whether `text`, which parsed with formats[0], has second 60. CCTZ's %S reads 00-60 and rolls
// 60 over into the next minute (its leap-second convention); we do not model leap seconds, and
// reading "17:00:60" as 17:01:00 would silently move what someone typed, so it is refused. The
// seconds field is the digits after the second ':' following the date-time separator (the
// first 'T' or 't'; a space was made a 'T' above): with formats[0] the time part is H:M:S.
bool leap_second(std::string_view text) {
  const auto separator = text.find_first_of("Tt");
  if (separator == std::string_view::npos) return false;
  const auto first = text.find(':', separator);
  const auto second = first == std::string_view::npos ? first : text.find(':', first + 1);
  if (second == std::string_view::npos) return false;
  return text.substr(second + 1, 2) == "60";
}

// Whether the date and time fields have the digits RFC 3339 §5.6 gives them (date-fullyear
// four, date-month, date-mday, time-hour, time-minute and time-second two each). CCTZ's %m, %d,
// %H, %M and %S also read a single digit, so "2026-1-23T9:5:5Z" would pass the formats; this
// checks only the digit counts of what they then read, the grammar stays the library's.
bool padded(std::string_view text) {
  auto digits = [&](std::size_t at, std::size_t count) {
    if (text.size() < at + count) return false;
    for (std::size_t i = at; i < at + count; ++i)
      if (text[i] < '0' || text[i] > '9') return false;
    return true;
  };
  // YYYY-MM-DDTHH:MM, then :SS when seconds are given.
  if (!digits(0, 4) || text.size() < 16 || text[4] != '-' || !digits(5, 2) || text[7] != '-' || !digits(8, 2) ||
      !digits(11, 2) || text[13] != ':' || !digits(14, 2))
    return false;
  return text.size() == 16 || text[16] != ':' || digits(17, 2);
}

}  // namespace

std::string format_instant(instant at) {
  return absl::FormatTime("%E4Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(at.time_since_epoch().count()),
                          absl::UTCTimeZone());
}

std::optional<instant> parse_instant(std::string_view text) {
  // RFC 3339 allows a space for the T; in a format a space matches any run of white space,
  // even none, so it is replaced here rather than written into the formats.
  std::string normalized(text);
  const auto first = normalized.find_first_not_of(" \t\n\r\f\v");
  if (first != std::string::npos && first + 10 < normalized.size() && normalized[first + 10] == ' ')
    normalized[first + 10] = 'T';
  if (first == std::string::npos || !padded(std::string_view(normalized).substr(first))) return std::nullopt;
  for (const char* format : formats) {
    absl::Time parsed;
    std::string error;
    if (!absl::ParseTime(format, normalized, &parsed, &error)) continue;
    if (format == formats[0] && leap_second(normalized)) return std::nullopt;
    // absl::ParseTime also accepts "infinite-past" and "infinite-future"; the range check
    // refuses them. ToUnixSeconds rounds toward the past: the earlier whole second.
    const std::int64_t seconds = absl::ToUnixSeconds(parsed);
    if (seconds < earliest || seconds > latest) return std::nullopt;
    return instant{std::chrono::seconds{seconds}};
  }
  return std::nullopt;
}

}  // namespace switchboard::model
