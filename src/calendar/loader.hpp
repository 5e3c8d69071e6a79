#pragma once
// Business calendars from the [calendars] table of a config file.
//
// Format, one table per calendar (the key is the calendar's name):
//
//   [calendars.support]
//   zone = "America/Los_Angeles"                     # IANA time zone, required
//   shifts = [                                        # required, at least one
//     { days = ["mon", "tue", "wed", "thu", "fri"], open = "02:00", close = "18:00" },
//     { days = ["sat"], open = "22:00", close = "06:00" },   # close <= open: crosses midnight
//     { open = "sun 18:00", close = "fri 18:00" },            # no days: a weekday on each end
//   ]
//   holidays = ["2026-01-01", 2026-05-25]             # local dates, strings or TOML dates
//
// Days are "mon" .. "sun" (or "monday" .. "sunday"); times are "HH:MM" or "HH:MM:SS", and
// "24:00" is allowed as a closing time. A shift with `days` opens on each of those days; a shift
// without `days` names the weekday of its open and its close and may run for up to a week
// (open == close is a whole week).

#include "calendar/calendar.hpp"

#include "config/toml.hpp"

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace switchboard::calendar {

// Validates and compiles every calendar of `calendars` (the value of the [calendars] key of
// `file`). Throws config::error at the exact file:line:col of the offending key or value,
// saying what was expected: unknown keys, wrong types, a bad zone name, a bad day name, a bad
// time ("25:00"), a bad date ("2026-02-30"), overlapping shifts.
std::map<std::string, business_calendar, std::less<>> load_calendars(const toml::table& calendars,
                                                                      std::string_view file);

}  // namespace switchboard::calendar
