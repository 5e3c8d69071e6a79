// Reading the [calendars] table of a config file into business calendars, with every error
// positioned at file:line:col.
#include "calendar/loader.hpp"

#include "config/toml.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

namespace switchboard::calendar {

namespace {

using std::chrono::seconds;

const std::string& string_at(const toml::node& node, std::string_view file, std::string_view what) {
  const auto* value = node.as_string();
  if (value == nullptr) config::fail_at(node, file, std::string(what) + " must be a string");
  return value->get();
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int number(std::string_view digits) {
  int value = 0;
  for (const char c : digits) value = value * 10 + (c - '0');
  return value;
}

// "HH:MM" or "HH:MM:SS" (H may be one digit); "24:00" only when allowed.
std::optional<seconds> parse_clock(std::string_view text, bool allow_end_of_day) {
  const auto first = text.find(':');
  if (first == std::string_view::npos) return std::nullopt;
  const auto hours = text.substr(0, first);
  auto rest = text.substr(first + 1);
  std::string_view minutes = rest;
  std::string_view secs = "00";
  if (const auto second = rest.find(':'); second != std::string_view::npos) {
    minutes = rest.substr(0, second);
    secs = rest.substr(second + 1);
  }
  if (hours.size() < 1 || hours.size() > 2 || minutes.size() != 2 || secs.size() != 2 || !all_digits(hours) ||
      !all_digits(minutes) || !all_digits(secs))
    return std::nullopt;
  const int h = number(hours), m = number(minutes), s = number(secs);
  if (m > 59 || s > 59) return std::nullopt;
  if (h == 24 && m == 0 && s == 0 && allow_end_of_day) return seconds{24 * 3600};
  if (h > 23) return std::nullopt;
  return seconds{h * 3600 + m * 60 + s};
}

std::optional<std::chrono::weekday> parse_day(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> names{{{"sun", "sunday"},
                                                                                      {"mon", "monday"},
                                                                                      {"tue", "tuesday"},
                                                                                      {"wed", "wednesday"},
                                                                                      {"thu", "thursday"},
                                                                                      {"fri", "friday"},
                                                                                      {"sat", "saturday"}}};
  for (unsigned i = 0; i < names.size(); ++i)
    if (text == names[i].first || text == names[i].second) return std::chrono::weekday{i};
  return std::nullopt;
}

constexpr std::string_view day_names = "mon, tue, wed, thu, fri, sat or sun";

seconds clock_at(const toml::node& node, std::string_view file, std::string_view what, bool is_close) {
  const auto& text = string_at(node, file, what);
  const auto value = parse_clock(text, is_close);
  if (!value)
    config::fail_at(node, file,
                    "bad time \"" + text + "\" for " + std::string(what) + "; expected HH:MM or HH:MM:SS from 00:00 to " +
                        (is_close ? "24:00" : "23:59:59"));
  return *value;
}

// "sun 18:00": a weekday and a time.
std::pair<std::chrono::weekday, seconds> day_clock_at(const toml::node& node, std::string_view file,
                                                      std::string_view what, bool is_close) {
  const auto& text = string_at(node, file, what);
  const auto space = text.find(' ');
  const auto day = space == std::string::npos ? std::nullopt : parse_day(std::string_view(text).substr(0, space));
  if (!day)
    config::fail_at(node, file,
                    "bad " + std::string(what) + " \"" + text +
                        "\"; a shift without days expected a weekday and a time like \"sun 18:00\" (days: " +
                        std::string(day_names) + ")");
  const auto clock_text = std::string_view(text).substr(space + 1);
  const auto clock = parse_clock(clock_text, is_close);
  if (!clock)
    config::fail_at(node, file,
                    "bad time \"" + std::string(clock_text) + "\" in " + std::string(what) +
                        "; expected HH:MM or HH:MM:SS from 00:00 to " + (is_close ? "24:00" : "23:59:59"));
  return {*day, *clock};
}

std::chrono::year_month_day date_at(const toml::node& node, std::string_view file) {
  const std::string expected = "; expected a date YYYY-MM-DD";
  if (const auto* value = node.as_date()) {
    const auto& d = value->get();
    const std::chrono::year_month_day date{std::chrono::year{d.year}, std::chrono::month{d.month},
                                           std::chrono::day{d.day}};
    if (!date.ok()) config::fail_at(node, file, "bad date" + expected);
    return date;
  }
  const auto* text = node.as_string();
  if (text == nullptr) config::fail_at(node, file, "a holiday must be a date" + expected);
  const std::string_view s = text->get();
  const bool shaped = s.size() == 10 && s[4] == '-' && s[7] == '-' && all_digits(s.substr(0, 4)) &&
                      all_digits(s.substr(5, 2)) && all_digits(s.substr(8, 2));
  const std::chrono::year_month_day date =
      shaped ? std::chrono::year_month_day{std::chrono::year{number(s.substr(0, 4))},
                                           std::chrono::month{static_cast<unsigned>(number(s.substr(5, 2)))},
                                           std::chrono::day{static_cast<unsigned>(number(s.substr(8, 2)))}}
             : std::chrono::year_month_day{};
  if (!shaped || !date.ok()) config::fail_at(node, file, "bad date \"" + std::string(s) + "\"" + expected);
  return date;
}

business_calendar load_one(std::string_view name, const toml::node& node, std::string_view file) {
  const auto* table = node.as_table();
  const std::string where = "calendar \"" + std::string(name) + "\"";
  if (table == nullptr) config::fail_at(node, file, where + " must be a table with zone, shifts and holidays");
  config::reject_unknown_keys(*table, file, {"zone", "shifts", "holidays", "replaces"}, where);  // replaces: see sla::load_calendar_renames

  calendar_spec spec;
  spec.name = std::string(name);

  const auto* zone = table->get("zone");
  if (zone == nullptr) config::fail_at(node, file, where + " has no zone; expected zone = \"Area/City\"");
  spec.zone = string_at(*zone, file, "zone");

  // Each weekly shift comes from one TOML shift (a shift with several days gives several).
  std::vector<const toml::node*> shift_nodes;
  const auto* shifts = table->get("shifts");
  if (shifts == nullptr) config::fail_at(node, file, where + " has no shifts; expected shifts = [{ days = [...], open = \"HH:MM\", close = \"HH:MM\" }]");
  const auto* shift_array = shifts->as_array();
  if (shift_array == nullptr || shift_array->empty())
    config::fail_at(*shifts, file, "shifts must be a non-empty array of tables like { days = [\"mon\"], open = \"02:00\", close = \"18:00\" }");
  for (const auto& shift_node : *shift_array) {
    const auto* shift = shift_node.as_table();
    if (shift == nullptr)
      config::fail_at(shift_node, file, "a shift must be a table like { days = [\"mon\"], open = \"02:00\", close = \"18:00\" }");
    config::reject_unknown_keys(*shift, file, {"days", "open", "close"}, "a shift");
    const auto* open = shift->get("open");
    const auto* close = shift->get("close");
    if (open == nullptr || close == nullptr)
      config::fail_at(shift_node, file, std::string("a shift has no ") + (open == nullptr ? "open" : "close") +
                                            "; expected both open and close");
    if (const auto* days_node = shift->get("days")) {
      const auto* days = days_node->as_array();
      if (days == nullptr || days->empty())
        config::fail_at(*days_node, file, "days must be a non-empty array of day names (" + std::string(day_names) + ")");
      const auto open_time = clock_at(*open, file, "open", false);
      const auto close_time = clock_at(*close, file, "close", true);
      for (const auto& day_node : *days) {
        const auto& day_text = string_at(day_node, file, "a day");
        const auto day = parse_day(day_text);
        if (!day) config::fail_at(day_node, file, "unknown day \"" + day_text + "\"; expected " + std::string(day_names));
        spec.shifts.push_back(daily_shift(*day, open_time, close_time));
        shift_nodes.push_back(&shift_node);
      }
    } else {
      const auto [open_day, open_time] = day_clock_at(*open, file, "open", false);
      const auto [close_day, close_time] = day_clock_at(*close, file, "close", true);
      spec.shifts.push_back(weekly_shift{open_day, open_time, close_day, close_time});
      shift_nodes.push_back(&shift_node);
    }
  }

  std::vector<const toml::node*> holiday_nodes;
  if (const auto* holidays = table->get("holidays")) {
    const auto* holiday_array = holidays->as_array();
    if (holiday_array == nullptr) config::fail_at(*holidays, file, "holidays must be an array of dates YYYY-MM-DD");
    for (const auto& holiday : *holiday_array) {
      spec.holidays.push_back(date_at(holiday, file));
      holiday_nodes.push_back(&holiday);
    }
  }

  try {
    return business_calendar::make(std::move(spec));
  } catch (const invalid_calendar& e) {
    using problem = invalid_calendar::problem;
    switch (e.kind()) {
      case problem::unknown_zone: config::fail_at(*zone, file, e.what());
      case problem::no_shifts: config::fail_at(*shifts, file, e.what());
      case problem::bad_time:
      case problem::overlapping_shifts: config::fail_at(*shift_nodes.at(e.index()), file, e.what());
      case problem::bad_holiday: config::fail_at(*holiday_nodes.at(e.index()), file, e.what());
    }
    throw;
  }
}

}  // namespace

std::map<std::string, business_calendar, std::less<>> load_calendars(const toml::table& calendars,
                                                                      std::string_view file) {
  std::map<std::string, business_calendar, std::less<>> result;
  for (const auto& [key, node] : calendars) result.emplace(std::string(key.str()), load_one(key.str(), node, file));
  return result;
}

}  // namespace switchboard::calendar
