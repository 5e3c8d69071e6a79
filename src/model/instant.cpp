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
