#pragma once
// Business calendars: an IANA time zone, weekly shifts in local wall time and holidays, with
// business-time arithmetic exact to the second.
//
// Conventions (each one is pinned by a test in tests/calendar/calendar_test.cpp):
//
// - Business time is a set of half-open UTC intervals [open, close). An instant exactly at a
//   close is outside business time; `between` never counts an endpoint twice.
// - `add(start, d)` with d > 0 is the earliest instant at which d business seconds have
//   elapsed since start. A deadline that uses up the last business second of a shift is that
//   shift's closing instant (Friday 18:00, not Monday 02:00).
// - `add(start, 0s)` is the first business instant at or after start (`next_open`).
// - A shift's local open and close times are converted to UTC separately, each from its own
//   local date, so an overnight shift Sat 22:00 -> Sun 06:00 lasts 7 real hours on the
//   spring-forward night and 9 on the fall-back night.
// - A local time that does not exist (spring-forward gap) moves forward by the length of the
//   gap (02:30 -> 03:30 PDT); one that occurs twice (fall-back) is its earlier occurrence. This
//   is java.time's, Temporal's and moment-timezone's rule. Where that makes shifts touch or
//   overlap in UTC, business time is their union.
// - A holiday closes its whole local calendar day [00:00, next 00:00), 23, 24 or 25 hours long,
//   including the part of an overnight shift that falls on it.
// - 24x7 is seven shifts 00:00-24:00 (adjacent shifts join); 24x5 is one shift from
//   Sunday 18:00 to Friday 18:00. A shift may last from one second to a whole week.
// - No horizon: the calendar precomputes UTC intervals with prefix sums for 2000-2050 (and
//   around its holidays), answering there in O(log n). Outside that range it compiles
//   whole weeks on the fly, so cost grows with the number of weeks spanned, never with the
//   number of days, shifts or seconds.
// - Zone rules come from Abseil's CCTZ (absl::TimeZone) over the OS tz database (tzdata). It
//   reads the POSIX TZ string at the end of each TZif file (RFC 8536 section 3.3), so rules
//   after the last listed transition (2037 in Debian's files) keep applying: US daylight saving
//   time in 2038 and later is honoured. Local-to-UTC conversion is absl::TimeZone::At(CivilSecond)
//   taking TimeInfo::pre, which gives both DST conventions above.
//
// Thread safety: a business_calendar is immutable after construction; every const member may
// be called concurrently from any number of threads. Copies share the compiled tables.

#include "model/request.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::calendar {

// A weekly shift in local wall time. It opens every week on `open_day` at `open_time` and
// closes at the first (`close_day`, `close_time`) strictly after that, so the close may fall on
// a later day; if the close equals the open, the shift lasts a whole week.
struct weekly_shift {
  std::chrono::weekday open_day;
  std::chrono::seconds open_time{0};   // since local midnight, in [0, 24h)
  std::chrono::weekday close_day;
  std::chrono::seconds close_time{0};  // since local midnight, in [0, 24h]; 24h is the next 00:00

  friend bool operator==(const weekly_shift&, const weekly_shift&) = default;
};

// A shift that opens on `day` at `open` and closes the same day at `close`, or, when
// close <= open, the next day at `close` (an overnight shift; open == close is 24 hours).
// `close` may be 24h ("24:00").
weekly_shift daily_shift(std::chrono::weekday day, std::chrono::seconds open, std::chrono::seconds close);

// Everything a calendar is made of, as plain values.
struct calendar_spec {
  std::string name;
  std::string zone;  // IANA name, e.g. "America/Los_Angeles"
  std::vector<weekly_shift> shifts;
  std::vector<std::chrono::year_month_day> holidays;  // local dates, whole-day closures
};

// A business interval in UTC, [open, close).
struct interval {
  model::instant open;
  model::instant close;

  friend bool operator==(const interval&, const interval&) = default;
};

// Why a calendar_spec was refused. `index` is the offending shift or holiday (an index into
// calendar_spec::shifts or ::holidays); for overlapping shifts `other` is the earlier shift it
// overlaps.
class invalid_calendar : public std::invalid_argument {
 public:
  enum class problem { unknown_zone, no_shifts, bad_time, overlapping_shifts, bad_holiday };

  invalid_calendar(problem kind, std::size_t index, std::size_t other, const std::string& message);

  problem kind() const noexcept { return kind_; }
  std::size_t index() const noexcept { return index_; }
  std::size_t other() const noexcept { return other_; }

 private:
  problem kind_;
  std::size_t index_;
  std::size_t other_;
};

class business_calendar {
 public:
  // Validates and compiles a calendar. Throws invalid_calendar when the zone is unknown (or not
  // a tz database name: a file path or "localtime" is refused), there
  // are no shifts, a time is outside its range, two shifts overlap in the weekly cycle, or a
  // holiday is not a real date. Compiling costs about a millisecond (one zone lookup per shift
  // boundary for 50 years).
  static business_calendar make(calendar_spec spec);

  const std::string& name() const noexcept { return name_; }
  const std::string& zone_name() const noexcept { return zone_name_; }
  const std::vector<weekly_shift>& shifts() const noexcept { return shifts_; }
  const std::vector<std::chrono::year_month_day>& holidays() const noexcept { return holidays_; }

  // The earliest instant at which `business` business seconds have elapsed since `start`;
  // for a zero duration, the first business instant at or after `start`.
  // Throws std::invalid_argument if `business` is negative, std::out_of_range if the answer
  // would lie beyond the year 9999.
  model::instant add(model::instant start, std::chrono::seconds business) const;

  // Business seconds in [from, to); zero when to <= from.
  std::chrono::seconds between(model::instant from, model::instant to) const;

  // The business intervals that meet [from, to), clipped to it, in order, adjacent ones joined.
  std::vector<interval> open_intervals(model::instant from, model::instant to) const;

  // Whether `t` is a business instant (inside some [open, close)).
  bool is_open(model::instant t) const;

  // The first business instant at or after `t` (t itself when open). Throws std::out_of_range
  // if there is none before the year 9999.
  model::instant next_open(model::instant t) const;

  // The close of the `days`-th full business day after `from`: the end of business time on the
  // local date (in the calendar's zone) of the `days`-th day with business hours none of which
  // lie before `from` (so `from`'s own date counts when `from` is at or before its first
  // opening: a request that arrives Tuesday 10:00 on 02:00-18:00 has its 3rd full business day
  // end Friday 18:00, one that arrives Tuesday 01:00 Thursday 18:00). A day is its local
  // [00:00, next 00:00): a shift crossing midnight gives business time to both dates, and a
  // holiday none. "Within N business days" in the sense of Zendesk's and Jira's business-day
  // targets, counted in whole days rather than hours, as the customer-first policy's review and
  // closing periods are. Throws std::invalid_argument when `days` < 1, std::out_of_range when
  // the answer lies beyond the year 9999.
  model::instant close_of_business_days(model::instant from, int days) const;

  struct compiled;  // the zone and the precomputed UTC table; defined in calendar.cpp

 private:
  business_calendar() = default;

  std::string name_;
  std::string zone_name_;
  std::vector<weekly_shift> shifts_;
  std::vector<std::chrono::year_month_day> holidays_;
  std::shared_ptr<const compiled> compiled_;
};

}  // namespace switchboard::calendar
