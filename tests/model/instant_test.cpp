#include "model/instant.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>

using namespace switchboard::model;
using namespace std::chrono_literals;

namespace {

// Expected instants built from the calendar, not from the parser under test.
instant utc(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  return std::chrono::sys_days{std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{mo},
                                                           std::chrono::day{d}}} +
         std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s};
}

}  // namespace

TEST_SUITE("model::instant") {
  TEST_CASE("instants are written as UTC with whole seconds and a Z") {
    CHECK(format_instant(utc(2026, 11, 21, 1, 30, 0)) == "2026-11-21T01:30:00Z");
    CHECK(format_instant(utc(1969, 12, 31, 23, 59, 59)) == "1969-12-31T23:59:59Z");
    CHECK(format_instant(utc(9999, 12, 31, 23, 59, 59)) == "9999-12-31T23:59:59Z");
    CHECK(format_instant(utc(1, 1, 1, 0, 0, 0)) == "0001-01-01T00:00:00Z");  // four-digit years
    CHECK(format_instant(utc(2038, 7, 19, 9, 30, 0)) == "2038-07-19T09:30:00Z");
  }

  TEST_CASE("every ISO-8601 form people and programs write reads as the same instant") {
    const auto friday = utc(2026, 11, 21, 1, 30, 0);  // Fri 2026-11-20 17:30 PST
    for (const char* text : {
             "2026-11-20T17:30:00-08:00",      // RFC 3339
             "2026-11-21T01:30:00Z",           // UTC
             "2026-11-21T01:30:00.000Z",       // JavaScript's Date.prototype.toISOString
             "2026-11-21T01:30:00.000000+00:00",  // Python's isoformat with microseconds
             "2026-11-21T01:30Z",              // minutes without seconds
             "2026-11-20T17:30-08:00",
             "2026-11-21 01:30:00Z",           // a space instead of T
             "2026-11-20 17:30-08:00",
             "2026-11-21t01:30:00z",           // lower case
             "2026-11-21T02:30:00+0100",       // offsets with and without a colon, or hours only
             "2026-11-21T02:30:00+01:00",
             "2026-11-21T03:30:00+02",
             "2026-11-21T01:30:00-00:00",      // RFC 3339's unknown local offset
             "2026-11-21T07:00:00+05:30",      // India
             "2026-11-20T14:00:00-11:30",
             "  2026-11-21T01:30:00Z\n",        // pasted with white space around it
             "2026-11-21T01:30:00,000Z",       // ISO 8601's decimal comma
             "20261121T013000Z",               // ISO 8601 basic format, as iCalendar writes it
             "20261120T173000-0800",
             "20261121T0130Z",
             "20261121t013000,5z",
         }) {
      INFO(text);
      CHECK(parse_instant(text) == friday);
    }
  }

  TEST_CASE("the stored form reads as the general grammar reads it, over the whole calendar range") {
    // "...Z" is read by a direct path; the same instant with "+00:00" goes through absl's
    // grammar. Both must agree on every second, and on refusals (second 60, no such day).
    std::mt19937_64 rng(20261130);
    std::uniform_int_distribution<std::int64_t> any_second(-62'135'596'800, 253'402'300'799);
    for (int i = 0; i < 20000; ++i) {
      const instant at{std::chrono::seconds{any_second(rng)}};
      const auto text = format_instant(at);
      INFO(text);
      CHECK(parse_instant(text) == at);
      CHECK(parse_instant(text.substr(0, 19) + "+00:00") == at);
    }
    CHECK(parse_instant("0001-01-01T00:00:00Z") == utc(1, 1, 1, 0, 0, 0));
    CHECK(parse_instant("2028-02-29T23:59:59Z") == utc(2028, 2, 29, 23, 59, 59));
    for (const char* text : {"2026-02-29T00:00:00Z", "2026-11-21T23:59:60Z", "2026-11-21T24:00:00Z",
                             "0000-12-31T23:59:59Z", "2026-13-01T00:00:00Z", "2026-11-21T01:3a:00Z"}) {
      INFO(text);
      CHECK_FALSE(parse_instant(text));
    }
  }

  TEST_CASE("fractions of a second truncate toward the earlier second") {
    CHECK(parse_instant("2026-11-21T01:30:59.999Z") == utc(2026, 11, 21, 1, 30, 59));
    CHECK(parse_instant("2026-11-21T01:30:59.5-08:00") == utc(2026, 11, 21, 9, 30, 59));
    CHECK(parse_instant("2026-11-21T01:30:00.123456789123Z") == utc(2026, 11, 21, 1, 30, 0));
    // Before 1970 too: the earlier second, not the one nearer zero.
    CHECK(parse_instant("1969-12-31T23:59:59.5Z") == utc(1969, 12, 31, 23, 59, 59));
  }

  TEST_CASE("text that is not one instant is refused") {
    for (const char* text : {
             "2026-11-21T01:30:00",       // local time without an offset: which zone?
             "2026-11-21T01:30",
             "2026-11-21",                // a date is a day, not an instant
             "2026-02-30T01:30:00Z",      // no such date
             "2026-11-21T24:00:00Z",      // no such time
             "2026-11-21T01:60:00Z",
             "2026-11-20T17:00:60Z",      // second 60: no leap seconds (CCTZ would read 17:01:00)
             "2026-12-31T23:59:60Z",      // not even at a real leap second's place
             "2026-11-20T17:00:60.000Z",
             "2026-11-20 17:00:60-08:00",
             "2026-11-20t17:00:60z",
             "2026-11-21T24:00Z",         // hour 24: ISO 8601's end of day, not RFC 3339
             "2026-02-29T12:00:00Z",      // not a leap year
             "2026-04-31T12:00:00Z",
             "2026-11-21T01:30:00+24:00",
             "2026-11-21T01:30:00.Z",     // a point without digits
             "2026-11-21T01:30:00Z trailing",
             "2026-11-2101:30:00Z",       // no separator
             "2026-11-21_01:30:00Z",
             "+2026-11-21T01:30:00Z",
             "20261121T01300Z",           // basic format with a digit too few or too many
             "20261121T0130000Z",
             "20261121T01:30:00Z",        // half basic, half extended
             "2026-11-21T013000Z",
             "2026-11-21T01:30:00,Z",     // a comma without digits
             "infinite-future",           // absl::ParseTime's special words
             "infinite-past",
             "0000-12-31T23:59:59Z",      // outside the years 0001-9999
             "0001-01-01T00:30:00+01:00",
             "yesterday",
             "",
             "2026-1-23T9:5:5Z",          // RFC 3339 fields have two digits (Abseil reads one)
             "2026-1-23T09:05:05Z",
             "2026-01-3T09:05:05Z",
             "2026-01-23T9:05:05Z",
             "2026-01-23T09:5:05Z",
             "2026-01-23T09:05:5Z",
             "2026-01-23T09:05:5.000Z",
             "2026-01-23 9:05:05Z",
             "2026-01-23T09:5Z",
             "  2026-01-23T9:05Z ",
         }) {
      INFO(text);
      CHECK_FALSE(parse_instant(text));
    }
    CHECK(parse_instant("0001-01-01T00:00:00Z") == utc(1, 1, 1, 0, 0, 0));
    // Second 59 and minutes with a seconds-like offset still read.
    CHECK(parse_instant("2026-11-20T17:00:59Z") == utc(2026, 11, 20, 17, 0, 59));
    CHECK(parse_instant("2026-11-20T17:30+05:30") == utc(2026, 11, 20, 12, 0, 0));
    CHECK(parse_instant("2028-02-29T12:00:00Z") == utc(2028, 2, 29, 12, 0, 0));
    CHECK(parse_instant("9999-12-31T23:59:59Z") == utc(9999, 12, 31, 23, 59, 59));
  }
}
