// Business calendars compiled to sorted UTC intervals with prefix sums: between() is a
// difference of two prefix values and add() inverts the prefix, both binary searches.
#include "calendar/calendar.hpp"

#include <absl/time/civil_time.h>
#include <absl/time/time.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

namespace switchboard::calendar {

namespace {

using std::int64_t;

constexpr int64_t day_seconds = 86'400;
constexpr int64_t week_seconds = 7 * day_seconds;
constexpr int64_t first_monday = 4;       // 1970-01-05, in days since 1970-01-01
constexpr int64_t block_weeks = 26;       // weeks compiled at a time outside the precomputed table
constexpr int64_t table_first_day = 10'957;  // 2000-01-01
constexpr int64_t table_last_day = 29'220;   // 2050-01-01
constexpr int64_t min_day = -719'162;     // 0001-01-01
constexpr int64_t max_day = 2'932'896;    // 9999-12-31

int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// The local week (Monday 00:00 to Monday 00:00) holding a local day.
int64_t week_of_day(int64_t day) { return floor_div(day - first_monday, 7); }
int64_t monday_of_week(int64_t week) { return first_monday + 7 * week; }

int64_t day_number(std::chrono::year_month_day date) {
  return std::chrono::sys_days(date).time_since_epoch().count();
}

// One weekly shift as wall-clock offsets from local Monday 00:00: open in [0, 1 week),
// close in (open, open + 1 week].
struct rule {
  int64_t open;
  int64_t close;
};

// Business intervals compiled for the UTC range [lo, hi), with prefix sums:
// cum_end[i] = business seconds in [lo, ends[i]).
struct table {
  int64_t lo = 0;
  int64_t hi = 0;
  std::vector<int64_t> starts;
  std::vector<int64_t> ends;
  std::vector<int64_t> cum_end;

  int64_t total() const { return cum_end.empty() ? 0 : cum_end.back(); }
};

// Business seconds in [lo, x), for x in [lo, hi].
int64_t prefix(const table& t, int64_t x) {
  const auto it = std::upper_bound(t.starts.begin(), t.starts.end(), x);
  if (it == t.starts.begin()) return 0;
  const auto i = static_cast<std::size_t>(it - t.starts.begin() - 1);
  const int64_t length = t.ends[i] - t.starts[i];
  return t.cum_end[i] - length + std::min(x - t.starts[i], length);
}

// The earliest instant x with prefix(x) == target, for 0 < target <= total().
int64_t locate(const table& t, int64_t target) {
  const auto i = static_cast<std::size_t>(
      std::lower_bound(t.cum_end.begin(), t.cum_end.end(), target) - t.cum_end.begin());
  return t.ends[i] - (t.cum_end[i] - target);
}

// The first business instant at or after x within the table, if any.
std::optional<int64_t> first_open(const table& t, int64_t x) {
  const auto it = std::upper_bound(t.starts.begin(), t.starts.end(), x);
  if (it != t.starts.begin() && x < t.ends[static_cast<std::size_t>(it - t.starts.begin() - 1)]) return x;
  if (it != t.starts.end()) return *it;
  return std::nullopt;
}

// Sorted, joined intervals minus sorted, disjoint holes.
std::vector<std::pair<int64_t, int64_t>> subtract(const std::vector<std::pair<int64_t, int64_t>>& spans,
                                                  const std::vector<std::pair<int64_t, int64_t>>& holes) {
  std::vector<std::pair<int64_t, int64_t>> out;
  out.reserve(spans.size());
  std::size_t first_hole = 0;
  for (const auto& [start, end] : spans) {
    while (first_hole < holes.size() && holes[first_hole].second <= start) ++first_hole;
    int64_t cursor = start;
    for (std::size_t h = first_hole; h < holes.size() && holes[h].first < end; ++h) {
      if (holes[h].first > cursor) out.emplace_back(cursor, holes[h].first);
      cursor = std::max(cursor, holes[h].second);
    }
    if (cursor < end) out.emplace_back(cursor, end);
  }
  return out;
}

std::string clock_text(std::chrono::seconds time) {
  const auto total = time.count();
  std::string text;
  if (total / 3600 < 10) text += '0';
  text += std::to_string(total / 3600);
  text += ':';
  const auto minutes = total / 60 % 60;
  if (minutes < 10) text += '0';
  text += std::to_string(minutes);
  if (total % 60 != 0) {
    text += ':';
    if (total % 60 < 10) text += '0';
    text += std::to_string(total % 60);
  }
  return text;
}

std::string shift_text(const weekly_shift& shift) {
  static constexpr const char* names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  const auto day_name = [](std::chrono::weekday day) { return day.ok() ? names[day.c_encoding()] : "?"; };
  return std::string(day_name(shift.open_day)) + ' ' + clock_text(shift.open_time) + " - " +
         day_name(shift.close_day) + ' ' + clock_text(shift.close_time);
}

// An answer as an instant; the last week compiled runs past 9999-12-31, and an answer there
// is past what an instant can be (and what format_instant can write).
model::instant within_years(int64_t answer) {
  if (answer >= (max_day + 1) * day_seconds)
    throw std::out_of_range(
        "business calendar: the answer falls after 9999-12-31T23:59:59Z, past the years 0001-9999 instants have");
  return model::instant{std::chrono::seconds{answer}};
}

}  // namespace

struct business_calendar::compiled {
  absl::TimeZone zone;
  std::vector<rule> rules;       // sorted by open
  std::vector<int64_t> holidays;  // local day numbers, sorted, unique
  int64_t first_week = 0;         // the precomputed table covers local weeks [first_week, last_week)
  int64_t last_week = 0;
  table main;

  // Local wall time (seconds since 1970-01-01 00:00 local) to UTC: a time in a gap moves
  // forward by the gap, an ambiguous time is its earlier occurrence. Both are "wall time
  // minus the offset in force just before it", which is what CCTZ's TimeInfo::pre is for
  // every kind (UNIQUE: the only answer, SKIPPED: pre >= trans, REPEATED: pre < trans).
  int64_t to_utc(int64_t local) const {
    return absl::ToUnixSeconds(zone.At(absl::CivilSecond(1970, 1, 1) + local).pre);
  }

  int64_t week_start(int64_t week) const { return to_utc(monday_of_week(week) * day_seconds); }

  // A local week whose start is at or before the UTC instant t and whose next week starts after it.
  int64_t week_of(int64_t t) const {
    const int64_t offset = zone.At(absl::FromUnixSeconds(t)).offset;
    int64_t week = week_of_day(floor_div(t + offset, day_seconds));
    while (week_start(week) > t) --week;
    return week;
  }

  // The business intervals of local weeks [from, to), clipped to [week_start(from), week_start(to)).
  table compile(int64_t from, int64_t to) const {
    table result;
    result.lo = week_start(from);
    result.hi = week_start(to);

    // A shift lasts at most a week, so shifts opening in the week before `from` may reach into it.
    std::vector<std::pair<int64_t, int64_t>> spans;
    spans.reserve(static_cast<std::size_t>(to - from + 1) * rules.size());
    for (int64_t week = from - 1; week < to; ++week) {
      const int64_t monday = monday_of_week(week) * day_seconds;
      for (const auto& r : rules) {
        const int64_t open = to_utc(monday + r.open);
        const int64_t close = to_utc(monday + r.close);
        if (close > open) spans.emplace_back(open, close);
      }
    }
    std::sort(spans.begin(), spans.end());
    std::vector<std::pair<int64_t, int64_t>> joined;
    joined.reserve(spans.size());
    for (const auto& span : spans) {
      if (!joined.empty() && span.first <= joined.back().second)
        joined.back().second = std::max(joined.back().second, span.second);
      else
        joined.push_back(span);
    }

    std::vector<std::pair<int64_t, int64_t>> closed;
    const auto first = std::lower_bound(holidays.begin(), holidays.end(), monday_of_week(from) - 1);
    const auto last = std::upper_bound(holidays.begin(), holidays.end(), monday_of_week(to));
    for (auto day = first; day != last; ++day)
      closed.emplace_back(to_utc(*day * day_seconds), to_utc((*day + 1) * day_seconds));

    int64_t sum = 0;
    for (const auto& [start, end] : subtract(joined, closed)) {
      const int64_t open = std::max(start, result.lo);
      const int64_t close = std::min(end, result.hi);
      if (close <= open) continue;
      sum += close - open;
      result.starts.push_back(open);
      result.ends.push_back(close);
      result.cum_end.push_back(sum);
    }
    return result;
  }

  // Calls visit(t) on consecutive tables covering [from, infinity), starting with the one that
  // holds `from`, until visit returns true.
  template <class Visit>
  void walk(int64_t from, Visit&& visit) const {
    int64_t week = 0;
    if (from >= main.lo && from < main.hi) {
      if (visit(main)) return;
      week = last_week;
    } else {
      // The last instant is 9999-12-31T23:59:59Z, the end of max_day, not its start.
      if (from < min_day * day_seconds || from >= (max_day + 1) * day_seconds)
        throw std::out_of_range("business calendar: instant outside the years 0001-9999");
      week = week_of(from);
      if (from < main.lo) {
        while (week < first_week) {
          const int64_t next = std::min(week + block_weeks, first_week);
          if (visit(compile(week, next))) return;
          week = next;
        }
        if (visit(main)) return;
        week = last_week;
      }
    }
    for (;; week += block_weeks) {
      if (week > week_of_day(max_day)) throw std::out_of_range(
          "business calendar: the answer falls after 9999-12-31T23:59:59Z, past the years 0001-9999 instants have");
      if (visit(compile(week, week + block_weeks))) return;
    }
  }
};

invalid_calendar::invalid_calendar(problem kind, std::size_t index, std::size_t other, const std::string& message)
    : std::invalid_argument(message), kind_(kind), index_(index), other_(other) {}

weekly_shift daily_shift(std::chrono::weekday day, std::chrono::seconds open, std::chrono::seconds close) {
  return weekly_shift{day, open, close <= open ? day + std::chrono::days{1} : day, close};
}

business_calendar business_calendar::make(calendar_spec spec) {
  using problem = invalid_calendar::problem;
  auto compiled_calendar = std::make_shared<compiled>();

  // CCTZ reads the TZif file's POSIX TZ footer, so rules after the last listed transition
  // (2037 in Debian's files) still apply. It would also open a file path or the machine's
  // "localtime"; a calendar names a zone of the tz database, the same on every machine.
  const bool iana_shaped = !spec.zone.empty() && spec.zone.front() != '/' &&
                           spec.zone.find("..") == std::string::npos && spec.zone != "localtime";
  if (!iana_shaped || !absl::LoadTimeZone(spec.zone, &compiled_calendar->zone)) {
    throw invalid_calendar(problem::unknown_zone, 0, 0,
                           "unknown time zone \"" + spec.zone + "\"; expected an IANA name like \"America/Los_Angeles\"");
  }
  if (spec.shifts.empty()) throw invalid_calendar(problem::no_shifts, 0, 0, "a calendar needs at least one shift");

  std::vector<std::pair<rule, std::size_t>> rules;
  for (std::size_t i = 0; i < spec.shifts.size(); ++i) {
    const auto& shift = spec.shifts[i];
    using std::chrono::hours;
    if (!shift.open_day.ok() || !shift.close_day.ok() || shift.open_time < hours{0} || shift.open_time >= hours{24} ||
        shift.close_time < hours{0} || shift.close_time > hours{24})
      throw invalid_calendar(problem::bad_time, i, i,
                             "shift " + shift_text(shift) +
                                 ": expected weekdays, an opening time from 00:00 to 23:59:59 and a closing time "
                                 "from 00:00 to 24:00");
    // ISO encoding: Monday 1 .. Sunday 7; offsets count from Monday 00:00.
    const int64_t open = (shift.open_day.iso_encoding() - 1) * day_seconds + shift.open_time.count();
    const int64_t close_mark = (shift.close_day.iso_encoding() - 1) * day_seconds + shift.close_time.count();
    int64_t length = ((close_mark - open) % week_seconds + week_seconds) % week_seconds;
    if (length == 0) length = week_seconds;
    rules.push_back({rule{open, open + length}, i});
  }
  std::sort(rules.begin(), rules.end(), [](const auto& a, const auto& b) { return a.first.open < b.first.open; });
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const auto& current = rules[i];
    const bool wraps = i + 1 == rules.size();
    const auto& next = rules[wraps ? 0 : i + 1];
    const int64_t next_open = next.first.open + (wraps ? week_seconds : 0);
    if (current.first.close > next_open) {
      const auto later = std::max(current.second, next.second);
      const auto earlier = std::min(current.second, next.second);
      throw invalid_calendar(problem::overlapping_shifts, later, earlier,
                             "shift " + shift_text(spec.shifts[later]) + " overlaps shift " +
                                 shift_text(spec.shifts[earlier]) + "; expected shifts that do not overlap");
    }
  }
  for (const auto& [r, index] : rules) compiled_calendar->rules.push_back(r);

  for (std::size_t i = 0; i < spec.holidays.size(); ++i) {
    if (!spec.holidays[i].ok())
      throw invalid_calendar(problem::bad_holiday, i, i, "holiday is not a valid date; expected YYYY-MM-DD");
    compiled_calendar->holidays.push_back(day_number(spec.holidays[i]));
  }
  auto& days = compiled_calendar->holidays;
  std::sort(days.begin(), days.end());
  days.erase(std::unique(days.begin(), days.end()), days.end());

  compiled_calendar->first_week = week_of_day(table_first_day);
  compiled_calendar->last_week = week_of_day(table_last_day);
  if (!days.empty()) {
    compiled_calendar->first_week = std::min(compiled_calendar->first_week, week_of_day(days.front()) - 1);
    compiled_calendar->last_week = std::max(compiled_calendar->last_week, week_of_day(days.back()) + 2);
  }
  compiled_calendar->main = compiled_calendar->compile(compiled_calendar->first_week, compiled_calendar->last_week);

  business_calendar result;
  result.name_ = std::move(spec.name);
  result.zone_name_ = std::move(spec.zone);
  result.shifts_ = std::move(spec.shifts);
  result.holidays_ = std::move(spec.holidays);
  result.compiled_ = std::move(compiled_calendar);
  return result;
}

model::instant business_calendar::add(model::instant start, std::chrono::seconds business) const {
  if (business.count() < 0) throw std::invalid_argument("business calendar: negative duration");
  if (business.count() == 0) return next_open(start);
  const int64_t from = start.time_since_epoch().count();
  int64_t remaining = business.count();
  int64_t deadline = 0;
  compiled_->walk(from, [&](const table& t) {
    const int64_t before = prefix(t, std::max(from, t.lo));
    const int64_t available = t.total() - before;
    if (remaining <= available) {
      deadline = locate(t, before + remaining);
      return true;
    }
    remaining -= available;
    return false;
  });
  return within_years(deadline);
}

std::chrono::seconds business_calendar::between(model::instant from, model::instant to) const {
  const int64_t a = from.time_since_epoch().count();
  const int64_t b = to.time_since_epoch().count();
  if (b <= a) return std::chrono::seconds{0};
  int64_t sum = 0;
  compiled_->walk(a, [&](const table& t) {
    const int64_t x = std::max(a, t.lo);
    const int64_t y = std::min(b, t.hi);
    if (y > x) sum += prefix(t, y) - prefix(t, x);
    return b <= t.hi;
  });
  return std::chrono::seconds{sum};
}

std::vector<interval> business_calendar::open_intervals(model::instant from, model::instant to) const {
  const int64_t a = from.time_since_epoch().count();
  const int64_t b = to.time_since_epoch().count();
  std::vector<interval> result;
  if (b <= a) return result;
  const auto as_instant = [](int64_t t) { return model::instant{std::chrono::seconds{t}}; };
  compiled_->walk(a, [&](const table& t) {
    const int64_t x = std::max(a, t.lo);
    const int64_t y = std::min(b, t.hi);
    auto i = static_cast<std::size_t>(std::upper_bound(t.ends.begin(), t.ends.end(), x) - t.ends.begin());
    for (; i < t.starts.size() && t.starts[i] < y; ++i) {
      const auto open = as_instant(std::max(t.starts[i], x));
      const auto close = as_instant(std::min(t.ends[i], y));
      if (!result.empty() && result.back().close == open)
        result.back().close = close;
      else
        result.push_back(interval{open, close});
    }
    return b <= t.hi;
  });
  return result;
}

bool business_calendar::is_open(model::instant t) const {
  const int64_t x = t.time_since_epoch().count();
  bool open = false;
  compiled_->walk(x, [&](const table& tb) {
    const auto first = first_open(tb, x);
    open = first && *first == x;
    return true;
  });
  return open;
}

model::instant business_calendar::next_open(model::instant t) const {
  const int64_t from = t.time_since_epoch().count();
  int64_t found = 0;
  compiled_->walk(from, [&](const table& tb) {
    const auto first = first_open(tb, std::max(from, tb.lo));
    if (first) found = *first;
    return first.has_value();
  });
  return within_years(found);
}

model::instant business_calendar::close_of_business_days(model::instant from, int days) const {
  if (days < 1) throw std::invalid_argument("a number of business days is at least 1");
  const auto& c = *compiled_;
  const auto as_instant = [](int64_t t) { return model::instant{std::chrono::seconds{t}}; };
  const auto local_day = [&c](int64_t t) {
    return floor_div(t + c.zone.At(absl::FromUnixSeconds(t)).offset, day_seconds);
  };
  int64_t day = local_day(from.time_since_epoch().count());
  int counted = 0;
  for (;;) {
    const auto start = as_instant(c.to_utc(day * day_seconds));
    const auto end = as_instant(c.to_utc((day + 1) * day_seconds));
    const auto open = open_intervals(start, end);
    if (open.empty()) {
      // A closed day (a weekend, a holiday, a long closure): go straight to the day of the next
      // opening, so a closure of any length costs one lookup.
      day = std::max(day + 1, local_day(next_open(end).time_since_epoch().count()));
      continue;
    }
    if (from <= open.front().open && ++counted == days) return within_years(open.back().close.time_since_epoch().count());
    ++day;
  }
}

}  // namespace switchboard::calendar
