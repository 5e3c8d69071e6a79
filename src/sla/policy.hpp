#pragma once
// SLA policies: which requests a policy applies to, on which business calendar, and the
// targets of its metrics. Loaded from the [sla] section of the config file.

#include "calendar/calendar.hpp"
#include "config/toml.hpp"
#include "model/request.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::sla {

using calendar_map = std::map<std::string, calendar::business_calendar, std::less<>>;

struct metric_target {
  model::sla_metric metric = model::sla_metric::first_response;
  std::chrono::seconds target{0};  // business time allowed, > 0
  double warning_ratio = 0.75;     // warn once this fraction of the target is used, in (0, 1)
  std::vector<model::request_status> pause_on{model::request_status::pending_customer};
};

struct policy {
  std::string name;
  // Selectors; an empty list matches anything.
  std::vector<model::customer_stage> stages;
  std::vector<std::string> tiers;
  std::vector<model::request_kind> kinds;
  std::string calendar;  // a key of the calendar_map
  std::vector<metric_target> metrics;  // at most one per metric

  bool applies_to(const model::request_input& request) const;
};

// The loaded SLA configuration. Immutable once built; safe to share between threads.
struct policy_set {
  calendar_map calendars;
  std::vector<policy> policies;  // checked in order: the first that applies is used

  // The first policy that applies to `request`, or null when none does (no SLA clock).
  const policy* match(const model::request_input& request) const;

  // The calendar a clock counts on. Throws std::out_of_range for an unknown name.
  const calendar::business_calendar& calendar(std::string_view name) const;
};

// Parses a business duration: whole numbers with units h, m and s, largest first, each at
// most once: "1h", "90m", "1h30m", "45s", "2h0m10s". nullopt for anything else (including "0",
// "", "1.5h", "1d").
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// Formats a duration the way parse_duration reads it ("1h30m", "0s").
std::string format_duration(std::chrono::seconds duration);

// Loads the [sla] table of a config file:
//
//   [[sla.policy]]
//   name = "pre-sales"
//   stages = ["prospect", "trial"]           # optional
//   tiers = []                               # optional; from [customers] tiers
//   kinds = ["troubleshooting"]              # optional
//   calendar = "support"
//   metrics = [
//     { metric = "first_response", target = "1h" },
//     { metric = "resolution", target = "40h", warning = 0.8, pause_on = ["pending_customer"] },
//   ]
//
// Unknown keys, calendars, tiers, stages, kinds, metrics, statuses, bad durations, a warning
// ratio outside (0, 1), a duplicate metric or policy name are config::error at file:line:col.
std::vector<policy> load_policies(const toml::table& sla, std::string_view file, const calendar_map& calendars,
                                  const std::vector<std::string>& tiers);

}  // namespace switchboard::sla
