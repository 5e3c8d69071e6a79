#include "calendar/loader.hpp"

#include "config/toml.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace switchboard;
using namespace switchboard::calendar;
using namespace std::chrono_literals;

namespace {

std::map<std::string, business_calendar, std::less<>> load(const std::string& text) {
  const auto root = toml::parse(std::string_view(text), std::string_view("calendars.toml"));
  const auto* calendars = root["calendars"].as_table();
  REQUIRE(calendars != nullptr);
  return load_calendars(*calendars, "calendars.toml");
}

// The "file:line:col: message" of the error loading `text` gives, or "" if it loads.
std::string error_of(const std::string& text) {
  try {
    load(text);
  } catch (const config::error& e) {
    return e.what();
  }
  return "";
}

model::instant at(int y, unsigned m, unsigned d, int h = 0, int mi = 0) {
  return std::chrono::sys_days{std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}}} +
         std::chrono::hours{h} + std::chrono::minutes{mi};
}

}  // namespace

TEST_SUITE("calendar::loader") {
  TEST_CASE("loads days shifts, weekday-to-weekday shifts, overnight shifts and holidays") {
    const auto calendars = load(R"(
[calendars.support]
zone = "America/Los_Angeles"
shifts = [ { days = ["mon", "tue", "wed", "thu", "fri"], open = "02:00", close = "18:00" } ]
holidays = ["2026-11-26", 2026-12-25]

[calendars.24x5]
zone = "America/Los_Angeles"
shifts = [ { open = "sun 18:00", close = "fri 18:00" } ]

[calendars.night]
zone = "UTC"
shifts = [ { days = ["saturday"], open = "22:00:30", close = "06:00" }, { days = ["sun"], open = "23:00", close = "24:00" } ]
)");
    REQUIRE(calendars.size() == 3);
    const auto& support = calendars.at("support");
    CHECK(support.name() == "support");
    CHECK(support.zone_name() == "America/Los_Angeles");
    CHECK(support.shifts().size() == 5);
    CHECK(support.holidays().size() == 2);
    CHECK_FALSE(support.is_open(at(2026, 11, 26, 18)));
    CHECK_FALSE(support.is_open(at(2026, 12, 25, 18)));
    CHECK(support.is_open(at(2026, 12, 24, 18)));
    CHECK(calendars.at("24x5").between(at(2026, 1, 4, 8), at(2026, 1, 11, 8)) == 120h);
    const auto& night = calendars.at("night");
    CHECK(night.between(at(2026, 1, 3), at(2026, 1, 5)) == 7h + 59min + 30s + 1h);
    CHECK(calendars.find(std::string_view("night")) != calendars.end());
  }

  TEST_CASE("an empty [calendars] table gives no calendars") { CHECK(load("[calendars]\n").empty()); }

  TEST_CASE("each error is at the exact line and column of what is wrong, saying what was expected") {
    CHECK(error_of(R"([calendars.support]
zone = "America/Los_Angles"
shifts = [ { days = ["mon"], open = "02:00", close = "18:00" } ]
)") == "calendars.toml:2:8: unknown time zone \"America/Los_Angles\"; expected an IANA name like \"America/Los_Angeles\"");

    CHECK(error_of(R"([calendars.support]
zone = "UTC"
shifts = [ { days = ["mon"], open = "02:00", close = "25:00" } ]
)") == "calendars.toml:3:54: bad time \"25:00\" for close; expected HH:MM or HH:MM:SS from 00:00 to 24:00");

    CHECK(error_of(R"([calendars.support]
zone = "UTC"
shifts = [ { days = ["mon"], open = "24:00", close = "18:00" } ]
)") == "calendars.toml:3:37: bad time \"24:00\" for open; expected HH:MM or HH:MM:SS from 00:00 to 23:59:59");

    CHECK(error_of(R"([calendars.support]
zone = "UTC"
shifts = [ { days = ["mon"], open = "2pm", close = "18:00" } ]
)") == "calendars.toml:3:37: bad time \"2pm\" for open; expected HH:MM or HH:MM:SS from 00:00 to 23:59:59");

    CHECK(error_of(R"([calendars.support]
zone = "UTC"
shifts = [ { days = ["mon"], open = "02:00", close = "18:00" } ]
holidays = ["2026-01-01",
            "2026-02-30"]
)") == "calendars.toml:5:13: bad date \"2026-02-30\"; expected a date YYYY-MM-DD");

    CHECK(error_of(R"([calendars.support]
zone = "UTC"
shifts = [ { days = ["mon", "tues"], open = "02:00", close = "18:00" } ]
holidays = []
)") == "calendars.toml:3:29: unknown day \"tues\"; expected mon, tue, wed, thu, fri, sat or sun");

    CHECK(error_of(R"([calendars.support]
zone = "UTC"
shifts = [
  { days = ["mon", "tue"], open = "02:00", close = "18:00" },
  { days = ["tue"], open = "17:00", close = "20:00" },
]
)") == "calendars.toml:5:3: shift tue 17:00 - tue 20:00 overlaps shift tue 02:00 - tue 18:00; expected shifts "
       "that do not overlap");

    CHECK(error_of(R"([calendars.support]
zone = "UTC"
shifts = [ { days = ["mon"], open = "02:00", close = "18:00" } ]
holiday = ["2026-01-01"]
)") == "calendars.toml:4:1: unknown key \"holiday\" in calendar \"support\"; expected one of zone, shifts, holidays, replaces");

    CHECK(error_of(R"([calendars.support]
zone = "UTC"
shifts = [ { days = ["mon"], opens = "02:00", close = "18:00" } ]
)") == "calendars.toml:3:30: unknown key \"opens\" in a shift; expected one of days, open, close");

    CHECK(error_of(R"([calendars.support]
zone = "UTC"
shifts = [ { open = "02:00", close = "18:00" } ]
)") == "calendars.toml:3:21: bad open \"02:00\"; a shift without days expected a weekday and a time like \"sun "
       "18:00\" (days: mon, tue, wed, thu, fri, sat or sun)");

    CHECK(error_of(R"([calendars.support]
zone = "UTC"
shifts = [ { open = "sun 18:00", close = "fri 18:60" } ]
)") == "calendars.toml:3:42: bad time \"18:60\" in close; expected HH:MM or HH:MM:SS from 00:00 to 24:00");

    CHECK(error_of(R"([calendars.support]
zone = "UTC"
)") == "calendars.toml:1:1: calendar \"support\" has no shifts; expected shifts = [{ days = [...], open = \"HH:MM\", "
       "close = \"HH:MM\" }]");

    CHECK(error_of(R"([calendars.support]
shifts = [ { days = ["mon"], open = "02:00", close = "18:00" } ]
)") == "calendars.toml:1:1: calendar \"support\" has no zone; expected zone = \"Area/City\"");

    CHECK(error_of(R"([calendars.support]
zone = 7
)") == "calendars.toml:2:8: zone must be a string");

    CHECK(error_of(R"([calendars.support]
zone = "UTC"
shifts = []
)") == "calendars.toml:3:10: shifts must be a non-empty array of tables like { days = [\"mon\"], open = \"02:00\", "
       "close = \"18:00\" }");

    CHECK(error_of(R"([calendars.support]
zone = "UTC"
shifts = [ { days = ["mon"], close = "18:00" } ]
)") == "calendars.toml:3:12: a shift has no open; expected both open and close");

    CHECK(error_of(R"([calendars.support]
zone = "UTC"
shifts = [ { days = ["mon"], open = "02:00", close = "18:00" } ]
holidays = [20260101]
)") == "calendars.toml:4:13: a holiday must be a date; expected a date YYYY-MM-DD");

    CHECK(error_of(R"([calendars]
support = "always"
)") == "calendars.toml:2:11: calendar \"support\" must be a table with zone, shifts and holidays");
  }
}

TEST_SUITE("calendar::shipped") {
  TEST_CASE("config/switchboard.toml ships support, 24x5 and 24x7") {
    const std::string file = SWITCHBOARD_SOURCE_DIR "/config/switchboard.toml";
    const auto root = config::parse_file(file);
    const auto* calendars = root["calendars"].as_table();
    REQUIRE(calendars != nullptr);
    const auto loaded = load_calendars(*calendars, file);
    REQUIRE(loaded.size() == 3);

    const auto& support = loaded.at("support");
    CHECK(support.zone_name() == "America/Los_Angeles");
    // Thanksgiving and the day after are closed; the Wednesday before is open 02:00-18:00 PST.
    CHECK(support.between(at(2026, 11, 26, 8), at(2026, 11, 28, 8)) == 0s);
    CHECK(support.between(at(2026, 11, 25, 8), at(2026, 11, 26, 8)) == 16h);
    // Friday 2026-11-20 17:30 PST + 1 business hour.
    CHECK(support.add(at(2026, 11, 21, 1, 30), 1h) == at(2026, 11, 23, 10, 30));
    // Every observed holiday is a closed weekday: 2026 has 261 weekdays, 10 of them holidays.
    CHECK(support.between(at(2026, 1, 1, 8), at(2027, 1, 1, 8)) == (261 - 10) * 16h);
    // 2027 has 261 weekdays, 11 holidays counting New Year's Day 2028 observed on Dec 31.
    CHECK(support.between(at(2027, 1, 1, 8), at(2028, 1, 1, 8)) == (261 - 11) * 16h);
    // Independence Day 2027 is observed on Monday July 5.
    CHECK_FALSE(support.is_open(at(2027, 7, 5, 18)));
    CHECK(support.is_open(at(2027, 7, 6, 18)));

    const auto& five = loaded.at("24x5");
    for (int week = 0; week < 52; ++week) {
      const auto sunday = at(2026, 1, 4, 8) + std::chrono::weeks{week};
      CHECK(five.between(sunday, sunday + std::chrono::weeks{1}) == 120h);
    }
    CHECK(five.is_open(at(2026, 1, 12, 2)));       // Sunday 18:00 PST
    CHECK_FALSE(five.is_open(at(2026, 1, 17, 2)));  // Friday 18:00 PST

    const auto& always = loaded.at("24x7");
    CHECK(always.between(at(2026, 1, 1), at(2027, 1, 1)) == std::chrono::days{365});
    CHECK(always.add(at(2026, 3, 7, 20), 24h) == at(2026, 3, 8, 20));
  }
}
