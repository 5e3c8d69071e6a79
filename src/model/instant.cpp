// ISO-8601 instants through Abseil's time library (CCTZ's strptime-like parser).
#include "model/instant.hpp"

#include <absl/time/time.h>

#include <array>
#include <chrono>
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

// The form format_instant writes, and so every stored instant, "YYYY-MM-DDTHH:MM:SSZ", read
// directly: the general grammar through absl::ParseTime was a sixth of the CPU of a timers page
// (issue 11), which reads a few hundred stored instants. nullopt for anything else (other
// forms, out-of-range fields, year 0), which the general path then reads or refuses as before.
std::optional<instant> parse_stored_form(std::string_view text) {
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != 'Z')
    return std::nullopt;
  bool ok = true;
  const auto number = [&](std::size_t at, std::size_t count) {
    int value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      ok = ok && text[i] >= '0' && text[i] <= '9';
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const int year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const int hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (!ok || year == 0 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days{date} + std::chrono::hours{hour} + std::chrono::minutes{minute} +
         std::chrono::seconds{second};
}

// ISO 8601 also writes instants in its basic format, without separators
// (`20261121T013000Z`, as iCalendar does), and a decimal comma before a fraction of a second
// (`…01:30:00,5Z`). Both are rewritten to the extended form the formats read, digits untouched;
// anything else is returned as it came. `first` is the first character that is not white space.
std::string to_extended(std::string text, std::size_t first) {
  auto digits = [&](std::size_t at, std::size_t count) {
    if (text.size() < at + count) return false;
    for (std::size_t i = at; i < at + count; ++i)
      if (text[i] < '0' || text[i] > '9') return false;
    return true;
  };
  // YYYYMMDDTHHMM[SS], followed by a fraction, an offset or nothing digit-like.
  if (digits(first, 8) && text.size() > first + 8 && (text[first + 8] == 'T' || text[first + 8] == 't') &&
      digits(first + 9, 4) && !(text.size() > first + 13 && text[first + 13] == ':')) {
    const bool seconds = digits(first + 13, 2);
    if (digits(first + 13 + (seconds ? 2 : 0), 1)) return text;  // more digits than a basic time has
    std::string extended = text.substr(0, first);
    extended += text.substr(first, 4) + "-" + text.substr(first + 4, 2) + "-" + text.substr(first + 6, 2);
    extended += text.substr(first + 8, 1) + text.substr(first + 9, 2) + ":" + text.substr(first + 11, 2);
    if (seconds) extended += ":" + text.substr(first + 13, 2);
    extended += text.substr(first + 13 + (seconds ? 2 : 0));
    text = std::move(extended);
  }
  // YYYY-MM-DDTHH:MM:SS,fff: the decimal comma ISO 8601 prefers.
  if (text.size() > first + 20 && text[first + 19] == ',' && digits(first + 20, 1)) text[first + 19] = '.';
  return text;
}

}  // namespace

std::string format_instant(instant at) {
  // Years 1 to 9999 written directly (absl::FormatTime was a twentieth of a timers page, which
  // writes a few hundred instants); the rest as before.
  const auto days = std::chrono::floor<std::chrono::days>(at);
  const std::chrono::year_month_day date{days};
  if (const int year = static_cast<int>(date.year()); year >= 1 && year <= 9999) {
    const auto seconds = (at - days).count();
    std::string out = "0000-00-00T00:00:00Z";
    const auto put = [&out](std::size_t where, long long value, std::size_t width) {
      for (std::size_t i = width; i-- > 0; value /= 10) out[where + i] = static_cast<char>('0' + value % 10);
    };
    put(0, year, 4);
    put(5, static_cast<unsigned>(date.month()), 2);
    put(8, static_cast<unsigned>(date.day()), 2);
    put(11, seconds / 3600, 2);
    put(14, seconds / 60 % 60, 2);
    put(17, seconds % 60, 2);
    return out;
  }
  return absl::FormatTime("%E4Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(at.time_since_epoch().count()),
                          absl::UTCTimeZone());
}

std::optional<instant> parse_instant(std::string_view text) {
  if (auto stored = parse_stored_form(text)) return stored;
  // RFC 3339 allows a space for the T; in a format a space matches any run of white space,
  // even none, so it is replaced here rather than written into the formats.
  std::string normalized(text);
  const auto first = normalized.find_first_not_of(" \t\n\r\f\v");
  if (first != std::string::npos) normalized = to_extended(std::move(normalized), first);
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
