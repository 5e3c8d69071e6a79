#include "calendar/calendar.hpp"

#include "codec/json.hpp"

#include <date/tz.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace switchboard;
using namespace switchboard::calendar;
using namespace std::chrono_literals;
using std::chrono::seconds;

namespace {

constexpr std::chrono::weekday sun{0}, mon{1}, tue{2}, wed{3}, thu{4}, fri{5}, sat{6};
const std::vector<std::chrono::weekday> all_days{mon, tue, wed, thu, fri, sat, sun};
const std::vector<std::chrono::weekday> weekdays{mon, tue, wed, thu, fri};

// "2026-01-17T01:30:00Z" -> instant, through the one instant parser.
model::instant at(const std::string& text) {
  const auto parsed = model::parse_instant(text);
  REQUIRE_MESSAGE(parsed, text);
  return *parsed;
}

std::string iso(model::instant t) { return model::format_instant(t); }

std::chrono::year_month_day ymd(int y, unsigned m, unsigned d) {
  return std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
}

std::vector<weekly_shift> daily(const std::vector<std::chrono::weekday>& days, seconds open, seconds close) {
  std::vector<weekly_shift> shifts;
  for (auto day : days) shifts.push_back(daily_shift(day, open, close));
  return shifts;
}

// The research table's holidays: Thanksgiving and Christmas 2026.
const std::vector<std::chrono::year_month_day> table_holidays{ymd(2026, 11, 26), ymd(2026, 12, 25)};

business_calendar la(std::string name, std::vector<weekly_shift> shifts,
                     std::vector<std::chrono::year_month_day> holidays = table_holidays) {
  return business_calendar::make(calendar_spec{std::move(name), "America/Los_Angeles", std::move(shifts), std::move(holidays)});
}

// The schedules of business_hours_cases.md, all in America/Los_Angeles.
const business_calendar& schedule(const std::string& id) {
  static const std::map<std::string, business_calendar> schedules = [] {
    std::map<std::string, business_calendar> s;
    s.emplace("S1", la("S1", daily(weekdays, 2h, 18h)));
    s.emplace("S2", la("S2", daily(all_days, 22h, 6h)));
    s.emplace("S3", la("S3", {weekly_shift{sun, 14h, fri, 14h}}));
    auto split = daily(weekdays, 9h, 12h);
    for (auto shift : daily(weekdays, 13h, 17h)) split.push_back(shift);
    s.emplace("S4", la("S4", split));
    s.emplace("S5", la("S5", daily(all_days, 0h, 24h)));
    s.emplace("S6a", la("S6a", {daily_shift(sun, 2h + 30min, 4h)}));
    s.emplace("S6b", la("S6b", {daily_shift(sun, 1h + 30min, 2h + 30min)}));
    return s;
  }();
  return schedules.at(id);
}

struct add_case {
  const char* id;
  const char* sched;
  const char* start;
  long duration;
  const char* expected;
};

struct between_case {
  const char* id;
  const char* sched;
  const char* from;
  const char* to;
  long expected;
};

struct pause_case {
  const char* id;
  const char* start;
  long duration;
  const char* pause_from;
  const char* pause_to;
  const char* expected;
};

// business_hours_cases.md, T01-T45, expected UTC answers copied from the table.
const add_case add_cases[] = {
    {"T01", "S1", "2026-01-17T01:30:00Z", 3600, "2026-01-19T10:30:00Z"},
    {"T02", "S1", "2026-03-07T01:30:00Z", 3600, "2026-03-09T09:30:00Z"},
    {"T03", "S1", "2026-10-31T00:30:00Z", 3600, "2026-11-02T10:30:00Z"},
    {"T04", "S1", "2026-01-17T20:00:00Z", 3600, "2026-01-19T11:00:00Z"},
    {"T05", "S1", "2026-01-14T09:00:00Z", 3600, "2026-01-14T11:00:00Z"},
    {"T06", "S1", "2026-01-14T10:00:00Z", 3600, "2026-01-14T11:00:00Z"},
    {"T07", "S1", "2026-01-15T02:00:00Z", 3600, "2026-01-15T11:00:00Z"},
    {"T08", "S1", "2026-01-15T01:00:00Z", 3600, "2026-01-15T02:00:00Z"},
    {"T09", "S1", "2026-01-14T18:00:00Z", 0, "2026-01-14T18:00:00Z"},
    {"T10", "S1", "2026-01-17T20:00:00Z", 0, "2026-01-19T10:00:00Z"},
    {"T11", "S1", "2026-01-05T10:00:00Z", 576000, "2026-01-17T02:00:00Z"},
    {"T12", "S1", "2026-02-23T18:00:00Z", 864000, "2026-03-16T17:00:00Z"},
    {"T13", "S1", "2026-10-19T17:00:00Z", 1728000, "2026-12-01T18:00:00Z"},
    {"T14", "S1", "2026-11-26T01:00:00Z", 7200, "2026-11-27T11:00:00Z"},
    {"T15", "S1", "2026-12-25T01:30:00Z", 3600, "2026-12-28T10:30:00Z"},
    {"T16", "S1", "2026-11-26T17:00:00Z", 1800, "2026-11-27T10:30:00Z"},
    {"T22", "S2", "2026-03-08T07:00:00Z", 21600, "2026-03-08T13:00:00Z"},
    {"T23", "S2", "2026-03-08T07:00:00Z", 25200, "2026-03-09T06:00:00Z"},
    {"T25", "S2", "2026-01-13T13:30:00Z", 3600, "2026-01-14T06:30:00Z"},
    {"T26", "S2", "2026-11-26T07:00:00Z", 7200, "2026-11-27T09:00:00Z"},
    {"T28", "S3", "2026-01-16T21:00:00Z", 7200, "2026-01-18T23:00:00Z"},
    {"T29", "S3", "2026-03-06T21:00:00Z", 7200, "2026-03-08T22:00:00Z"},
    {"T30", "S3", "2026-10-30T20:30:00Z", 3600, "2026-11-01T22:30:00Z"},
    {"T33", "S4", "2026-01-14T19:30:00Z", 3600, "2026-01-14T21:30:00Z"},
    {"T38", "S5", "2026-03-07T20:00:00Z", 86400, "2026-03-08T20:00:00Z"},
};

const between_case between_cases[] = {
    {"T17", "S1", "2026-01-17T01:00:00Z", "2026-01-19T11:00:00Z", 7200},
    {"T18", "S1", "2026-03-06T20:00:00Z", "2026-03-09T19:00:00Z", 57600},
    {"T19", "S1", "2026-11-23T08:00:00Z", "2026-11-30T08:00:00Z", 230400},
    {"T20", "S1", "2026-01-15T03:00:00Z", "2026-01-15T09:00:00Z", 0},
    {"T21", "S1", "2026-01-14T17:00:00Z", "2026-01-14T18:00:00Z", 3600},
    {"T24", "S2", "2026-11-01T05:00:00Z", "2026-11-01T14:00:00Z", 32400},
    {"T45", "S2", "2026-03-08T06:00:00Z", "2026-03-08T19:00:00Z", 25200},
    {"T27", "S2", "2026-11-26T06:00:00Z", "2026-11-27T14:00:00Z", 28800},
    {"T31", "S3", "2026-01-18T08:00:00Z", "2026-01-25T08:00:00Z", 432000},
    {"T32", "S3", "2026-11-25T20:00:00Z", "2026-11-27T20:00:00Z", 86400},
    {"T34", "S4", "2026-01-14T17:00:00Z", "2026-01-14T18:00:00Z", 3600},
    {"T35", "S4", "2026-01-14T17:00:00Z", "2026-01-14T22:00:00Z", 14400},
    {"T36", "S5", "2026-03-08T08:00:00Z", "2026-03-09T07:00:00Z", 82800},
    {"T37", "S5", "2026-11-01T07:00:00Z", "2026-11-02T08:00:00Z", 90000},
    {"T43", "S6a", "2026-03-08T08:00:00Z", "2026-03-08T19:00:00Z", 1800},
    {"T44", "S6b", "2026-11-01T07:00:00Z", "2026-11-01T20:00:00Z", 7200},
};

// All on S1. A pause [p1, p2) removes its business time from the clock.
const pause_case pause_cases[] = {
    {"T39", "2026-01-12T17:00:00Z", 28800, "2026-01-12T20:00:00Z", "2026-01-13T18:00:00Z", "2026-01-13T23:00:00Z"},
    {"T40", "2026-03-07T00:00:00Z", 14400, "2026-03-07T01:00:00Z", "2026-03-09T12:00:00Z", "2026-03-09T15:00:00Z"},
    {"T41", "2026-01-13T01:00:00Z", 7200, "2026-01-13T04:00:00Z", "2026-01-13T09:00:00Z", "2026-01-13T11:00:00Z"},
    {"T42", "2026-01-13T18:00:00Z", 3600, "2026-01-13T17:00:00Z", "2026-01-13T19:00:00Z", "2026-01-13T20:00:00Z"},
};

// A deadline with one pause, from the calendar's two operations (what an SLA clock does):
// the business time used before the pause, then the rest after it.
model::instant deadline_with_pause(const business_calendar& cal, model::instant start, seconds d, model::instant p1,
                                   model::instant p2) {
  const auto used = cal.between(start, p1);
  if (used >= d) return cal.add(start, d);
  return cal.add(std::max(start, p2), d - used);
}

// Wall-clock membership, the brute-force reference: is local time `t` inside a shift of a
// schedule given as daily [open, close) pairs per weekday (close <= open: overnight), and not
// on a holiday?
struct wall_schedule {
  std::vector<std::chrono::weekday> days;
  seconds open;
  seconds close;
};

// Pacific time's UTC offset by the US rule in force since 2007 (Energy Policy Act of 2005, the
// tz database's "US" rule and the POSIX footer "PST8PDT,M3.2.0,M11.1.0"): PDT (UTC-7) from the
// second Sunday of March 02:00 PST to the first Sunday of November 02:00 PDT, else PST (UTC-8).
// Written out here so the reference shares no code with the calendar's zone library.
seconds pacific_offset(model::instant t) {
  using namespace std::chrono;
  const year y = year_month_day{floor<days>(t)}.year();
  const auto dst_start = sys_days{y / March / Sunday[2]} + 10h;   // 02:00 PST
  const auto dst_end = sys_days{y / November / Sunday[1]} + 9h;   // 02:00 PDT
  return t >= dst_start && t < dst_end ? -7h : -8h;
}

bool wall_clock_open(const std::vector<wall_schedule>& rules, const std::vector<std::chrono::year_month_day>& holidays,
                     model::instant t) {
  const auto local = t + pacific_offset(t);
  const auto as_sys = std::chrono::floor<std::chrono::days>(local);
  const auto since_midnight = std::chrono::duration_cast<seconds>(local - as_sys);
  const std::chrono::year_month_day date{as_sys};
  if (std::find(holidays.begin(), holidays.end(), date) != holidays.end()) return false;
  const std::chrono::weekday today{as_sys};
  const auto yesterday = today - std::chrono::days{1};
  for (const auto& rule : rules) {
    const bool overnight = rule.close <= rule.open;
    const bool today_listed = std::find(rule.days.begin(), rule.days.end(), today) != rule.days.end();
    const bool yesterday_listed = std::find(rule.days.begin(), rule.days.end(), yesterday) != rule.days.end();
    if (!overnight && today_listed && since_midnight >= rule.open && since_midnight < rule.close) return true;
    if (overnight && today_listed && since_midnight >= rule.open) return true;
    if (overnight && yesterday_listed && since_midnight < rule.close) return true;
  }
  return false;
}

}  // namespace

TEST_SUITE("calendar::business_calendar") {
  TEST_CASE("the 45 hard cases of business_hours_cases.md") {
    for (const auto& c : add_cases) {
      INFO(c.id);
      CHECK(iso(schedule(c.sched).add(at(c.start), seconds{c.duration})) == c.expected);
    }
    for (const auto& c : between_cases) {
      INFO(c.id);
      CHECK(schedule(c.sched).between(at(c.from), at(c.to)).count() == c.expected);
    }
    for (const auto& c : pause_cases) {
      INFO(c.id);
      CHECK(iso(deadline_with_pause(schedule("S1"), at(c.start), seconds{c.duration}, at(c.pause_from),
                                    at(c.pause_to))) == c.expected);
    }
    CHECK(std::size(add_cases) + std::size(between_cases) + std::size(pause_cases) == 45);
  }

  TEST_CASE("Friday 17:30 Pacific plus one business hour is Monday 02:30") {
    const auto& support = schedule("S1");
    // 2026-11-20T17:30:00-08:00
    CHECK(iso(support.add(at("2026-11-21T01:30:00Z"), 1h)) == "2026-11-23T10:30:00Z");
    CHECK(support.between(at("2026-11-21T01:30:00Z"), at("2026-11-23T10:30:00Z")) == 1h);
  }

  TEST_CASE("outside hours, exactly at open and exactly at close") {
    const auto& s1 = schedule("S1");
    // Wed 2026-01-14: open 02:00 PST = 10:00Z, close 18:00 PST = 02:00Z next day.
    CHECK(s1.is_open(at("2026-01-14T10:00:00Z")));
    CHECK_FALSE(s1.is_open(at("2026-01-14T09:59:59Z")));
    CHECK(s1.is_open(at("2026-01-15T01:59:59Z")));
    CHECK_FALSE(s1.is_open(at("2026-01-15T02:00:00Z")));
    CHECK(iso(s1.next_open(at("2026-01-15T02:00:00Z"))) == "2026-01-15T10:00:00Z");
    CHECK(iso(s1.next_open(at("2026-01-14T12:00:00Z"))) == "2026-01-14T12:00:00Z");
    // One second before close plus one second is the closing instant, not the next opening.
    CHECK(iso(s1.add(at("2026-01-15T01:59:59Z"), 1s)) == "2026-01-15T02:00:00Z");
    CHECK(iso(s1.add(at("2026-01-15T01:59:59Z"), 2s)) == "2026-01-15T10:00:01Z");
    // Exactly at close: waits for the next opening.
    CHECK(iso(s1.add(at("2026-01-15T02:00:00Z"), 1s)) == "2026-01-15T10:00:01Z");
    // Endpoints are counted once.
    CHECK(s1.between(at("2026-01-14T10:00:00Z"), at("2026-01-15T02:00:00Z")) == 16h);
    CHECK(s1.between(at("2026-01-14T10:00:00Z"), at("2026-01-14T10:00:01Z")) == 1s);
    CHECK(s1.between(at("2026-01-15T02:00:00Z"), at("2026-01-15T10:00:00Z")) == 0s);
    // Empty and reversed ranges count nothing.
    CHECK(s1.between(at("2026-01-14T12:00:00Z"), at("2026-01-14T12:00:00Z")) == 0s);
    CHECK(s1.between(at("2026-01-14T13:00:00Z"), at("2026-01-14T12:00:00Z")) == 0s);
  }

  TEST_CASE("zero duration is the first business instant at or after the start") {
    const auto& s1 = schedule("S1");
    CHECK(iso(s1.add(at("2026-01-14T18:00:00Z"), 0s)) == "2026-01-14T18:00:00Z");  // inside
    CHECK(iso(s1.add(at("2026-01-14T10:00:00Z"), 0s)) == "2026-01-14T10:00:00Z");  // at open
    CHECK(iso(s1.add(at("2026-01-15T02:00:00Z"), 0s)) == "2026-01-15T10:00:00Z");  // at close
    CHECK(iso(s1.add(at("2026-01-17T20:00:00Z"), 0s)) == "2026-01-19T10:00:00Z");  // weekend
    CHECK(iso(s1.add(at("2026-11-26T17:00:00Z"), 0s)) == "2026-11-27T10:00:00Z");  // holiday
    CHECK_THROWS_AS(s1.add(at("2026-01-14T18:00:00Z"), -1s), std::invalid_argument);
  }

  TEST_CASE("both 2026 DST transition days") {
    const auto& s1 = schedule("S1");
    // The Friday before spring-forward closes 18:00 PST, the Monday after opens 02:00 PDT.
    const auto spring = s1.open_intervals(at("2026-03-06T00:00:00Z"), at("2026-03-10T00:00:00Z"));
    REQUIRE(spring.size() == 3);
    CHECK(iso(spring[0].open) == "2026-03-06T00:00:00Z");
    CHECK(iso(spring[0].close) == "2026-03-06T02:00:00Z");
    CHECK(iso(spring[1].open) == "2026-03-06T10:00:00Z");
    CHECK(iso(spring[1].close) == "2026-03-07T02:00:00Z");
    CHECK(iso(spring[2].open) == "2026-03-09T09:00:00Z");
    CHECK(iso(spring[2].close) == "2026-03-10T00:00:00Z");
    const auto fall = s1.open_intervals(at("2026-10-30T00:00:00Z"), at("2026-11-03T00:00:00Z"));
    REQUIRE(fall.size() == 3);
    CHECK(iso(fall[1].open) == "2026-10-30T09:00:00Z");
    CHECK(iso(fall[1].close) == "2026-10-31T01:00:00Z");
    CHECK(iso(fall[2].open) == "2026-11-02T10:00:00Z");
    // 24x7: the local days are 23 and 25 hours long.
    const auto& always = schedule("S5");
    CHECK(always.between(at("2026-03-08T08:00:00Z"), at("2026-03-09T07:00:00Z")) == 23h);
    CHECK(always.between(at("2026-11-01T07:00:00Z"), at("2026-11-02T08:00:00Z")) == 25h);
    CHECK(always.is_open(at("2026-03-08T10:00:00Z")));
    CHECK(always.open_intervals(at("2026-03-01T00:00:00Z"), at("2026-04-01T00:00:00Z")) ==
          std::vector<interval>{{at("2026-03-01T00:00:00Z"), at("2026-04-01T00:00:00Z")}});
  }

  TEST_CASE("an overnight shift has 7 real hours on spring-forward night and 9 on fall-back night") {
    const auto& nightly = schedule("S2");
    const auto spring = nightly.open_intervals(at("2026-03-08T00:00:00Z"), at("2026-03-09T00:00:00Z"));
    REQUIRE(spring.size() == 1);
    CHECK(iso(spring[0].open) == "2026-03-08T06:00:00Z");   // Sat 22:00 PST
    CHECK(iso(spring[0].close) == "2026-03-08T13:00:00Z");  // Sun 06:00 PDT
    const auto fall = nightly.open_intervals(at("2026-11-01T00:00:00Z"), at("2026-11-02T00:00:00Z"));
    REQUIRE(fall.size() == 1);
    CHECK(iso(fall[0].open) == "2026-11-01T05:00:00Z");   // Sat 22:00 PDT
    CHECK(iso(fall[0].close) == "2026-11-01T14:00:00Z");  // Sun 06:00 PST
    CHECK(nightly.between(spring[0].open, spring[0].close) == 7h);
    CHECK(nightly.between(fall[0].open, fall[0].close) == 9h);
    // An ordinary night is 8 hours, and the night's first hour is on the day it starts.
    CHECK(nightly.between(at("2026-01-14T06:00:00Z"), at("2026-01-14T14:00:00Z")) == 8h);
  }

  TEST_CASE("a nonexistent open moves forward by the gap, an ambiguous one is its earlier occurrence") {
    const auto gap = schedule("S6a").open_intervals(at("2026-03-08T00:00:00Z"), at("2026-03-09T00:00:00Z"));
    REQUIRE(gap.size() == 1);
    CHECK(iso(gap[0].open) == "2026-03-08T10:30:00Z");  // 02:30 PST does not exist: 03:30 PDT
    CHECK(iso(gap[0].close) == "2026-03-08T11:00:00Z");
    const auto twice = schedule("S6b").open_intervals(at("2026-11-01T00:00:00Z"), at("2026-11-02T00:00:00Z"));
    REQUIRE(twice.size() == 1);
    CHECK(iso(twice[0].open) == "2026-11-01T08:30:00Z");  // 01:30 PDT, the first 01:30
    CHECK(iso(twice[0].close) == "2026-11-01T10:30:00Z");  // 02:30 PST
    // A close inside the gap moves forward too: Sun 00:00-02:30 is 00:00 PST to 03:30 PDT.
    const auto early = la("early", {daily_shift(sun, 0h, 2h + 30min)}, {});
    CHECK(early.between(at("2026-03-08T00:00:00Z"), at("2026-03-09T00:00:00Z")) == 2h + 30min);
  }

  TEST_CASE("a holiday closes its whole local day, including the part of an overnight shift on it") {
    const auto& s1 = schedule("S1");
    CHECK_FALSE(s1.is_open(at("2026-11-26T17:00:00Z")));
    CHECK(s1.between(at("2026-11-26T08:00:00Z"), at("2026-11-27T08:00:00Z")) == 0s);
    CHECK(iso(s1.add(at("2026-11-25T17:00:00Z"), 10h)) == "2026-11-27T11:00:00Z");  // Wed 09:00 + 9h + 1h
    const auto& nightly = schedule("S2");
    // Wed night 22:00-24:00 counts, Thu 00:00-06:00 and Thu 22:00-24:00 do not, Fri 00:00-06:00 does.
    const auto night = nightly.open_intervals(at("2026-11-26T00:00:00Z"), at("2026-11-28T00:00:00Z"));
    REQUIRE(night.size() == 2);
    CHECK(iso(night[0].open) == "2026-11-26T06:00:00Z");
    CHECK(iso(night[0].close) == "2026-11-26T08:00:00Z");
    CHECK(iso(night[1].open) == "2026-11-27T08:00:00Z");
    CHECK(iso(night[1].close) == "2026-11-27T14:00:00Z");
    // Holidays on 23 and 25 hour days remove 23 and 25 hours.
    const auto always = la("always", daily(all_days, 0h, 24h), {ymd(2026, 3, 8), ymd(2026, 11, 1)});
    CHECK(always.between(at("2026-03-07T08:00:00Z"), at("2026-03-10T07:00:00Z")) == 48h);
    CHECK(always.between(at("2026-03-02T08:00:00Z"), at("2026-03-09T07:00:00Z")) == 6 * 24h);
    CHECK(always.between(at("2026-10-26T07:00:00Z"), at("2026-11-02T08:00:00Z")) == 6 * 24h);
    CHECK(iso(always.next_open(at("2026-11-01T07:00:00Z"))) == "2026-11-02T08:00:00Z");
    // A holiday on a weekend day or listed twice changes nothing more.
    const auto twice = la("twice", daily(weekdays, 2h, 18h), {ymd(2026, 11, 26), ymd(2026, 11, 26), ymd(2026, 11, 28)});
    CHECK(twice.between(at("2026-11-23T08:00:00Z"), at("2026-11-30T08:00:00Z")) == 64h);
  }

  TEST_CASE("24x5 is one shift from Sunday 18:00 to Friday 18:00: 120 hours a week") {
    const auto five = la("24x5", {weekly_shift{sun, 18h, fri, 18h}}, {});
    for (const char* sunday : {"2026-01-04T08:00:00Z", "2026-03-08T08:00:00Z", "2026-11-01T07:00:00Z",
                               "2026-06-14T07:00:00Z"}) {
      INFO(sunday);
      CHECK(five.between(at(sunday), at(sunday) + std::chrono::days{7}) == 120h);
    }
    // Fri 2026-01-16 17:00 PST + 2h: one hour on Friday, one after Sunday 18:00.
    CHECK(iso(five.add(at("2026-01-17T01:00:00Z"), 2h)) == "2026-01-19T03:00:00Z");
    CHECK(five.is_open(at("2026-01-14T10:00:00Z")));  // Wednesday 02:00, in the middle of the week
    CHECK_FALSE(five.is_open(at("2026-01-18T01:00:00Z")));  // Saturday
    const auto week = five.open_intervals(at("2026-01-12T00:00:00Z"), at("2026-01-26T00:00:00Z"));
    REQUIRE(week.size() == 2);
    CHECK(iso(week[0].close) == "2026-01-17T02:00:00Z");
    CHECK(iso(week[1].open) == "2026-01-19T02:00:00Z");
    CHECK(iso(week[1].close) == "2026-01-24T02:00:00Z");
    // The same hours written as daily shifts that touch are the same calendar.
    std::vector<weekly_shift> pieces{daily_shift(sun, 18h, 24h), daily_shift(fri, 0h, 18h)};
    for (auto day : {mon, tue, wed, thu}) pieces.push_back(daily_shift(day, 0h, 24h));
    const auto same = la("24x5 by days", pieces, {});
    CHECK(same.open_intervals(at("2026-01-01T00:00:00Z"), at("2026-04-01T00:00:00Z")) ==
          five.open_intervals(at("2026-01-01T00:00:00Z"), at("2026-04-01T00:00:00Z")));
  }

  TEST_CASE("24x7 by configuration alone, as daily shifts or one week-long shift") {
    const auto week_long = business_calendar::make({"24x7", "UTC", {weekly_shift{mon, 0h, mon, 0h}}, {}});
    const auto& days = schedule("S5");
    CHECK(week_long.between(at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z")) == 365 * 24h);
    CHECK(iso(week_long.add(at("2026-05-05T05:05:05Z"), 1000h)) == "2026-06-15T21:05:05Z");
    CHECK(iso(days.add(at("2026-05-05T05:05:05Z"), 1000h)) == "2026-06-15T21:05:05Z");
  }

  TEST_CASE("several weeks, months and years") {
    const auto& s1 = schedule("S1");
    // 2026 has 261 weekdays; two of them are holidays here.
    CHECK(s1.between(at("2026-01-01T08:00:00Z"), at("2027-01-01T08:00:00Z")) == 259 * 16h);
    // Three business weeks from a Monday open end at the third Friday's close.
    CHECK(iso(s1.add(at("2026-01-05T10:00:00Z"), 3 * 80h)) == "2026-01-24T02:00:00Z");
    // Six months of business time, and back.
    const auto start = at("2026-01-05T10:00:00Z");
    const auto deadline = s1.add(start, 26 * 80h);
    CHECK(iso(deadline) == "2026-07-04T01:00:00Z");  // Fri 2026-07-03 18:00 PDT
    CHECK(s1.between(start, deadline) == 26 * 80h);
  }

  TEST_CASE("no horizon: before, across and after the precomputed years") {
    const auto utc = business_calendar::make({"utc", "UTC", daily(weekdays, 9h, 17h), {ymd(2051, 1, 2)}});
    // 2049-12-27 (Mon) to 2050-01-31 (Mon): 25 weekdays.
    CHECK(utc.between(at("2049-12-27T00:00:00Z"), at("2050-01-31T00:00:00Z")) == 25 * 8h);
    CHECK(utc.between(at("2099-12-28T00:00:00Z"), at("2100-01-04T00:00:00Z")) == 5 * 8h);
    CHECK(utc.between(at("1980-01-07T00:00:00Z"), at("1980-01-14T00:00:00Z")) == 5 * 8h);
    // 1999-12-27 (Mon) + 10 business days = Fri 2000-01-07 17:00.
    CHECK(iso(utc.add(at("1999-12-27T00:00:00Z"), 80h)) == "2000-01-07T17:00:00Z");
    // From 2026 to 2126: a century of business time, then back again.
    const auto start = at("2026-01-05T09:00:00Z");
    const auto far = utc.add(start, 5200 * 40h);
    CHECK(utc.between(start, far) == 5200 * 40h);
    CHECK(iso(far) == "2125-09-03T17:00:00Z");  // 5,200 weeks on, a Monday: 2051-01-02 was a holiday
    CHECK(utc.is_open(at("2200-03-04T10:00:00Z")));  // Tuesday
    CHECK(iso(utc.next_open(at("2200-03-01T10:00:00Z"))) == "2200-03-03T09:00:00Z");
    CHECK(utc.open_intervals(at("2051-01-01T00:00:00Z"), at("2051-01-04T00:00:00Z")) ==
          std::vector<interval>{{at("2051-01-03T09:00:00Z"), at("2051-01-03T17:00:00Z")}});
    // Intervals cut at the edges of precomputed and on-the-fly weeks come back joined.
    const auto always = business_calendar::make({"24x7", "UTC", daily(all_days, 0h, 24h), {}});
    CHECK(always.open_intervals(at("2049-06-01T00:00:00Z"), at("2051-03-01T00:00:00Z")) ==
          std::vector<interval>{{at("2049-06-01T00:00:00Z"), at("2051-03-01T00:00:00Z")}});
    CHECK(always.open_intervals(at("1999-06-01T00:00:00Z"), at("2000-03-01T00:00:00Z")).size() == 1);
    CHECK(iso(always.add(at("2049-12-31T00:00:00Z"), 24h * 400)) == "2051-02-04T00:00:00Z");
    // A holiday far from the default range extends the precomputed table to it.
    const auto old = la("old", daily(weekdays, 2h, 18h), {ymd(1995, 7, 4)});
    CHECK(old.between(at("1995-07-03T08:00:00Z"), at("1995-07-06T08:00:00Z")) == 32h);
  }

  TEST_CASE("other zones: a 30-minute DST shift (Lord Howe) and the southern hemisphere") {
    const auto lord_howe = business_calendar::make({"lh", "Australia/Lord_Howe", daily(all_days, 0h, 24h), {}});
    // 2026-10-04: clocks go from 02:00 to 02:30; the local day is 23.5 hours.
    CHECK(lord_howe.between(at("2026-10-03T13:30:00Z"), at("2026-10-04T13:00:00Z")) == 23h + 30min);
    const auto sydney = business_calendar::make({"syd", "Australia/Sydney", daily(weekdays, 9h, 17h), {}});
    // Mon 2026-01-05 09:00 AEDT (+11) = 2026-01-04T22:00Z; Mon 2026-07-06 09:00 AEST (+10) = 23:00Z.
    CHECK(iso(sydney.next_open(at("2026-01-04T12:00:00Z"))) == "2026-01-04T22:00:00Z");
    CHECK(iso(sydney.next_open(at("2026-07-05T12:00:00Z"))) == "2026-07-05T23:00:00Z");
  }

  TEST_CASE("open_intervals lists the coming days clipped to the range") {
    const auto& s1 = schedule("S1");
    const auto days = s1.open_intervals(at("2026-01-14T12:00:00Z"), at("2026-01-20T00:00:00Z"));
    REQUIRE(days.size() == 4);
    CHECK(days[0] == interval{at("2026-01-14T12:00:00Z"), at("2026-01-15T02:00:00Z")});
    CHECK(days[1] == interval{at("2026-01-15T10:00:00Z"), at("2026-01-16T02:00:00Z")});
    CHECK(days[2] == interval{at("2026-01-16T10:00:00Z"), at("2026-01-17T02:00:00Z")});
    CHECK(days[3] == interval{at("2026-01-19T10:00:00Z"), at("2026-01-20T00:00:00Z")});
    CHECK(s1.open_intervals(at("2026-01-17T12:00:00Z"), at("2026-01-18T12:00:00Z")).empty());
    CHECK(s1.open_intervals(at("2026-01-18T12:00:00Z"), at("2026-01-17T12:00:00Z")).empty());
  }

  TEST_CASE("construction refuses bad specs, saying which shift or holiday") {
    using problem = invalid_calendar::problem;
    const auto refused = [](calendar_spec spec) -> std::optional<invalid_calendar> {
      try {
        business_calendar::make(std::move(spec));
      } catch (const invalid_calendar& e) {
        return e;
      }
      return std::nullopt;
    };
    auto e = refused({"x", "America/Los_Angles", daily(weekdays, 2h, 18h), {}});
    REQUIRE(e);
    CHECK(e->kind() == problem::unknown_zone);
    CHECK(std::string(e->what()).find("America/Los_Angles") != std::string::npos);

    e = refused({"x", "UTC", {}, {}});
    REQUIRE(e);
    CHECK(e->kind() == problem::no_shifts);

    e = refused({"x", "UTC", {daily_shift(mon, 2h, 18h), daily_shift(tue, 25h, 26h)}, {}});
    REQUIRE(e);
    CHECK(e->kind() == problem::bad_time);
    CHECK(e->index() == 1);
    e = refused({"x", "UTC", {daily_shift(mon, 24h, 2h)}, {}});
    REQUIRE(e);
    CHECK(e->kind() == problem::bad_time);

    e = refused({"x", "UTC", {daily_shift(mon, 9h, 17h), daily_shift(tue, 9h, 17h), daily_shift(mon, 16h, 18h)}, {}});
    REQUIRE(e);
    CHECK(e->kind() == problem::overlapping_shifts);
    CHECK(e->index() == 2);
    CHECK(e->other() == 0);
    CHECK(std::string(e->what()) == "shift mon 16:00 - mon 18:00 overlaps shift mon 09:00 - mon 17:00; expected shifts that do not overlap");
    // An overnight Sunday shift overlapping Monday morning, across the end of the week.
    e = refused({"x", "UTC", {daily_shift(mon, 2h, 18h), daily_shift(sun, 22h, 3h)}, {}});
    REQUIRE(e);
    CHECK(e->kind() == problem::overlapping_shifts);
    CHECK(e->index() == 1);
    // A week-long shift leaves room for nothing else.
    e = refused({"x", "UTC", {weekly_shift{sun, 18h, sun, 18h}, daily_shift(wed, 1h, 2h)}, {}});
    REQUIRE(e);
    CHECK(e->kind() == problem::overlapping_shifts);
    // Touching shifts are fine.
    CHECK_FALSE(refused({"x", "UTC", {daily_shift(mon, 9h, 12h), daily_shift(mon, 12h, 17h)}, {}}));

    e = refused({"x", "UTC", daily(weekdays, 2h, 18h), {ymd(2026, 1, 1), ymd(2026, 2, 30)}});
    REQUIRE(e);
    CHECK(e->kind() == problem::bad_holiday);
    CHECK(e->index() == 1);
  }

  TEST_CASE("after 2037: July deadlines in 2038 and 2040 keep daylight saving time") {
    // Expected values by hand: July is PDT, UTC-7, so 02:00 local is 09:00Z and 18:00 is 01:00Z
    // the next UTC day. A zone library that ignores the TZif footer keeps PST (UTC-8) after
    // 2037 and answers one hour later here, or 56 hours off when that hour crosses a weekend.
    const auto& s1 = schedule("S1");
    // Fri 2038-07-16 17:30 PDT + 1h: 30 min on Friday, 30 min from Mon 2038-07-19 02:00 PDT.
    CHECK(iso(s1.add(at("2038-07-17T00:30:00Z"), 1h)) == "2038-07-19T09:30:00Z");
    CHECK(s1.between(at("2038-07-17T00:30:00Z"), at("2038-07-19T09:30:00Z")) == 1h);
    // Mon 2038-07-12 02:00 PDT + 80h (five 16-hour days) = Fri 2038-07-16 18:00 PDT.
    CHECK(iso(s1.add(at("2038-07-12T09:00:00Z"), 80h)) == "2038-07-17T01:00:00Z");
    CHECK(s1.between(at("2038-07-12T09:00:00Z"), at("2038-07-17T01:00:00Z")) == 80h);
    CHECK(s1.is_open(at("2038-07-12T09:00:00Z")));
    CHECK_FALSE(s1.is_open(at("2038-07-12T08:59:59Z")));
    CHECK_FALSE(s1.is_open(at("2038-07-17T01:00:00Z")));
    // The same in 2040: Fri 2040-07-13 17:30 PDT + 1h, Mon 2040-07-09 02:00 PDT + 80h.
    CHECK(iso(s1.add(at("2040-07-14T00:30:00Z"), 1h)) == "2040-07-16T09:30:00Z");
    CHECK(iso(s1.add(at("2040-07-09T09:00:00Z"), 80h)) == "2040-07-14T01:00:00Z");
    CHECK(s1.between(at("2040-07-09T09:00:00Z"), at("2040-07-14T01:00:00Z")) == 80h);
    // Beyond the precomputed table (2050) too: Mon 2061-07-11 02:00 PDT.
    CHECK(iso(s1.next_open(at("2061-07-10T12:00:00Z"))) == "2061-07-11T09:00:00Z");
  }

  TEST_CASE("after 2037: DST transition days in 2038 and 2040") {
    // Spring forward: Sun 2038-03-14 and 2040-03-11 at 02:00 PST (10:00Z). Fall back: Sun
    // 2038-11-07 and 2040-11-04 at 02:00 PDT (09:00Z).
    const auto& overnight = schedule("S2");  // daily 22:00 -> 06:00
    // Sat 22:00 PST (06:00Z) -> Sun 06:00 PDT (13:00Z): 7 real hours.
    CHECK(overnight.between(at("2038-03-14T06:00:00Z"), at("2038-03-14T13:00:00Z")) == 7h);
    CHECK(iso(overnight.add(at("2038-03-14T06:00:00Z"), 7h)) == "2038-03-14T13:00:00Z");
    CHECK(iso(overnight.add(at("2038-03-14T06:00:00Z"), 7h + 1s)) == "2038-03-15T05:00:01Z");
    CHECK(overnight.between(at("2040-03-11T06:00:00Z"), at("2040-03-11T13:00:00Z")) == 7h);
    CHECK_FALSE(overnight.is_open(at("2040-03-11T13:00:00Z")));
    // Sat 22:00 PDT (05:00Z) -> Sun 06:00 PST (14:00Z): 9 real hours.
    CHECK(overnight.between(at("2038-11-07T05:00:00Z"), at("2038-11-07T14:00:00Z")) == 9h);
    CHECK(iso(overnight.add(at("2038-11-07T05:00:00Z"), 9h)) == "2038-11-07T14:00:00Z");
    CHECK(overnight.between(at("2040-11-04T05:00:00Z"), at("2040-11-04T14:00:00Z")) == 9h);

    // A nonexistent open (Sun 02:30) moves forward by the gap: 03:30 PDT = 10:30Z, to 04:00 PDT.
    const auto& gap = schedule("S6a");
    CHECK(iso(gap.next_open(at("2038-03-14T08:00:00Z"))) == "2038-03-14T10:30:00Z");
    CHECK(gap.between(at("2038-03-14T00:00:00Z"), at("2038-03-15T00:00:00Z")) == 30min);
    CHECK(iso(gap.next_open(at("2040-03-11T08:00:00Z"))) == "2040-03-11T10:30:00Z");
    // An ambiguous open (Sun 01:30) is its earlier occurrence, 01:30 PDT = 08:30Z; the close,
    // 02:30 PST = 10:30Z: two real hours.
    const auto& repeated = schedule("S6b");
    CHECK(iso(repeated.next_open(at("2038-11-07T00:00:00Z"))) == "2038-11-07T08:30:00Z");
    CHECK(repeated.between(at("2038-11-07T00:00:00Z"), at("2038-11-08T00:00:00Z")) == 2h);
    CHECK(iso(repeated.next_open(at("2040-11-04T00:00:00Z"))) == "2040-11-04T08:30:00Z");

    // A holiday on a transition day closes its 23 or 25 local hours.
    const auto always = la("24x7", daily(all_days, 0h, 24h), {ymd(2038, 3, 14), ymd(2038, 11, 7)});
    // Sat 00:00 PST (08:00Z) to Tue 00:00 PDT (07:00Z): 24 + 23 + 24 real hours, 23 of them closed.
    CHECK(always.between(at("2038-03-13T08:00:00Z"), at("2038-03-16T07:00:00Z")) == 48h);
    CHECK(always.open_intervals(at("2038-03-14T00:00:00Z"), at("2038-03-15T12:00:00Z")) ==
          std::vector<interval>{{at("2038-03-14T00:00:00Z"), at("2038-03-14T08:00:00Z")},
                                {at("2038-03-15T07:00:00Z"), at("2038-03-15T12:00:00Z")}});
    // Sat 00:00 PDT (07:00Z) to Tue 00:00 PST (08:00Z): 24 + 25 + 24 real hours, 25 closed.
    CHECK(always.between(at("2038-11-06T07:00:00Z"), at("2038-11-09T08:00:00Z")) == 48h);
  }

  TEST_CASE("is_open agrees with a wall-clock brute force away from DST-gap shift edges") {
    struct named {
      const char* id;
      std::vector<wall_schedule> rules;
    };
    const std::vector<named> schedules{
        {"S1", {{weekdays, 2h, 18h}}},
        {"S2", {{all_days, 22h, 6h}}},
        {"S4", {{weekdays, 9h, 12h}, {weekdays, 13h, 17h}}},
        {"S5", {{all_days, 0h, 24h}}},
    };
    std::mt19937_64 random(20260308);
    const auto year_start = at("2026-01-01T00:00:00Z").time_since_epoch().count();
    std::uniform_int_distribution<long> second_of_year(0, 365L * 86400 - 1);
    for (const auto& s : schedules) {
      INFO(s.id);
      const auto& cal = schedule(s.id);
      int mismatches = 0;
      for (int i = 0; i < 5000; ++i) {
        const model::instant t{seconds{year_start + second_of_year(random)}};
        if (cal.is_open(t) != wall_clock_open(s.rules, table_holidays, t)) ++mismatches;
      }
      CHECK(mismatches == 0);
      // And after 2037, where only the zone file's POSIX TZ footer holds the rule.
      const auto later = at("2038-01-01T00:00:00Z").time_since_epoch().count();
      std::uniform_int_distribution<long> second_of_decade(0, 10 * 365L * 86400);
      for (int i = 0; i < 5000; ++i) {
        const model::instant t{seconds{later + second_of_decade(random)}};
        if (cal.is_open(t) != wall_clock_open(s.rules, table_holidays, t)) ++mismatches;
      }
      CHECK(mismatches == 0);
      // Minute by minute around both DST weekends (2026, 2038, 2040) and Thanksgiving.
      for (const char* from : {"2026-03-06T00:00:00Z", "2026-10-30T00:00:00Z", "2026-11-25T00:00:00Z",
                               "2038-03-12T00:00:00Z", "2038-11-05T00:00:00Z", "2040-03-09T00:00:00Z",
                               "2040-11-02T00:00:00Z"}) {
        long minutes = 0;
        for (auto t = at(from); t < at(from) + std::chrono::days{4}; t += std::chrono::minutes{1})
          minutes += wall_clock_open(s.rules, table_holidays, t);
        CHECK(cal.between(at(from), at(from) + std::chrono::days{4}) == std::chrono::minutes{minutes});
      }
    }
  }

  TEST_CASE("property: between inverts add, add is monotonic and earliest (20,000 seeded cases)") {
    std::mt19937_64 random(42);
    const auto year_start = at("2026-01-01T00:00:00Z").time_since_epoch().count();
    std::uniform_int_distribution<long> start_second(0, 2 * 365L * 86400);
    std::uniform_int_distribution<long> duration(0, 3 * 80 * 3600L);
    for (const char* id : {"S1", "S2", "S3", "S4", "S5", "S6a"}) {
      INFO(id);
      const auto& cal = schedule(id);
      int inverse_failures = 0, monotonic_failures = 0, earliest_failures = 0, additive_failures = 0;
      for (int i = 0; i < 20000 / 6 + 1; ++i) {
        const model::instant s{seconds{year_start + start_second(random)}};
        const seconds d{duration(random)};
        const seconds e{duration(random)};
        const auto deadline = cal.add(s, d);
        if (cal.between(s, deadline) != d) ++inverse_failures;
        if (d > 0s && cal.between(s, deadline - 1s) != d - 1s) ++earliest_failures;
        if (cal.add(s, std::min(d, e)) > cal.add(s, std::max(d, e))) ++monotonic_failures;
        if (cal.add(s + 1h, d) < deadline) ++monotonic_failures;
        const auto middle = s + (deadline + e - s) / 3;
        if (cal.between(s, middle) + cal.between(middle, deadline + e) != cal.between(s, deadline + e))
          ++additive_failures;
      }
      CHECK(inverse_failures == 0);
      CHECK(earliest_failures == 0);
      CHECK(monotonic_failures == 0);
      CHECK(additive_failures == 0);
    }
  }

  TEST_CASE("a const calendar answers the same from several threads") {
    const auto& s1 = schedule("S1");
    std::vector<model::instant> starts;
    for (int i = 0; i < 2000; ++i) starts.push_back(at("2026-01-01T00:00:00Z") + std::chrono::minutes{i * 263});
    std::vector<model::instant> expected;
    for (const auto s : starts) expected.push_back(s1.add(s, 30h));
    std::vector<int> failures(4, 0);
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k)
      threads.emplace_back([&, k] {
        for (std::size_t i = 0; i < starts.size(); ++i)
          if (s1.add(starts[i], 30h) != expected[i] || s1.between(starts[i], expected[i]) != 30h) ++failures[k];
      });
    for (auto& thread : threads) thread.join();
    CHECK(failures == std::vector<int>(4, 0));
  }

  TEST_CASE("close of business days: the policy's examples on the support calendar") {
    const auto& s1 = schedule("S1");  // 02:00-18:00 Pacific, Monday to Friday; Thanksgiving off
    // Tuesday 10:00: Tuesday has begun, so Wednesday, Thursday and Friday are the three full days.
    CHECK(iso(s1.close_of_business_days(at("2026-11-17T10:00:00-08:00"), 3)) == "2026-11-21T02:00:00Z");
    // Before Tuesday's opening, and exactly at it, Tuesday is a full day.
    CHECK(iso(s1.close_of_business_days(at("2026-11-17T01:00:00-08:00"), 3)) == "2026-11-20T02:00:00Z");
    CHECK(iso(s1.close_of_business_days(at("2026-11-17T02:00:00-08:00"), 3)) == "2026-11-20T02:00:00Z");
    CHECK(iso(s1.close_of_business_days(at("2026-11-17T02:00:01-08:00"), 3)) == "2026-11-21T02:00:00Z");
    // At Tuesday's close, Tuesday is over.
    CHECK(iso(s1.close_of_business_days(at("2026-11-17T18:00:00-08:00"), 1)) == "2026-11-19T02:00:00Z");
    // Wednesday before Thanksgiving: Thursday is a holiday, Friday 27th is a business day here
    // (table_holidays), then Monday and Tuesday.
    CHECK(iso(s1.close_of_business_days(at("2026-11-25T10:00:00-08:00"), 3)) == "2026-12-02T02:00:00Z");
    // Friday evening: Monday, Tuesday, Wednesday, then (Thanksgiving off) Friday.
    CHECK(iso(s1.close_of_business_days(at("2026-11-20T19:00:00-08:00"), 4)) == "2026-11-28T02:00:00Z");
    // Over the spring-forward weekend (8 March 2026): Monday 18:00 PDT is 01:00Z.
    CHECK(iso(s1.close_of_business_days(at("2026-03-06T12:00:00-08:00"), 1)) == "2026-03-10T01:00:00Z");
    CHECK_THROWS_AS(s1.close_of_business_days(at("2026-11-17T10:00:00-08:00"), 0), std::invalid_argument);
  }

  TEST_CASE("close of business days: a shift across midnight gives business time to both days") {
    const auto& s3 = schedule("S3");  // Sunday 14:00 to Friday 14:00 Pacific
    // Sunday 20:00 is inside Sunday's business time: Monday (00:00-24:00) is the first full day.
    CHECK(iso(s3.close_of_business_days(at("2026-11-15T20:00:00-08:00"), 1)) == "2026-11-17T08:00:00Z");
    // Thursday 10:00: Friday (until 14:00) is the first full day, then Sunday (from 14:00).
    CHECK(iso(s3.close_of_business_days(at("2026-11-19T10:00:00-08:00"), 1)) == "2026-11-20T22:00:00Z");
    CHECK(iso(s3.close_of_business_days(at("2026-11-19T10:00:00-08:00"), 2)) == "2026-11-23T08:00:00Z");
  }

  TEST_CASE("close of business days agrees with a day-by-day oracle sampling is_open (600 seeded cases)") {
    // The oracle finds each local day's business hours by sampling is_open every 15 minutes from
    // the day's local midnight (tz database through Howard Hinnant's date, not the calendar's
    // CCTZ) and counts full days itself; every schedule opens and closes on quarter hours.
    const auto* zone = date::locate_zone("America/Los_Angeles");
    const auto midnight = [zone](date::local_days day) {
      const auto local = date::local_seconds{day};
      return model::instant{local.time_since_epoch() - zone->get_info(local).first.offset};
    };
    std::mt19937 random(20261202);
    int failures = 0;
    for (const char* id : {"S1", "S2", "S3", "S4", "S5"}) {
      const auto& cal = schedule(id);
      for (int i = 0; i < 120; ++i) {
        const auto from = at("2026-01-01T00:00:00Z") + std::chrono::seconds{random() % (366u * 24 * 3600)};
        const int days = 1 + static_cast<int>(random() % 8);
        const auto local_from = zone->to_local(std::chrono::time_point_cast<std::chrono::seconds>(from));
        auto day = date::floor<date::days>(local_from);
        std::optional<model::instant> want;
        for (int counted = 0, guard = 0; !want && guard < 60; ++guard, day += date::days{1}) {
          const auto start = midnight(day), end = midnight(day + date::days{1});
          std::optional<model::instant> first, last;
          for (auto t = start; t < end; t += 15min)
            if (cal.is_open(t)) {
              if (!first) first = t;
              last = t + 15min;
            }
          if (first && from <= *first && ++counted == days) want = last;
        }
        const auto got = cal.close_of_business_days(from, days);
        if (!want || got != *want) {
          ++failures;
          MESSAGE(id << " from " << iso(from) << " days " << days << ": got " << iso(got) << ", oracle "
                     << (want ? iso(*want) : std::string("none")));
        }
      }
    }
    CHECK(failures == 0);
  }
}
