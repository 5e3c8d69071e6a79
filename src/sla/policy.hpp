#pragma once
// SLA policies: which requests a policy applies to, on which business calendar, and the
// targets of its metrics. Loaded from the [sla] section of the config file by sla/load.hpp.

#include "calendar/calendar.hpp"
#include "config/error.hpp"
#include "model/request.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::sla {

using calendar_map = std::map<std::string, calendar::business_calendar, std::less<>>;
// Old name -> the name that replaced it (`replaces = [...]` in the config).
using rename_map = std::map<std::string, std::string, std::less<>>;

// The warning fraction is kept in millionths, so that the threshold is exact integer
// arithmetic: 0.7 of 180 s is 126 s, not the 125 s that 180 * 0.7 (125.99999...) truncates to.
inline constexpr std::int64_t warning_scale = 1'000'000;

struct metric_target {
  model::sla_metric metric = model::sla_metric::first_response;
  std::chrono::seconds target{0};         // business time allowed, > 0
  std::int64_t warning_millionths = 750'000;  // warn once this fraction of the target is used, in (0, 1)
  std::vector<model::request_status> pause_on{model::request_status::pending_customer};
};

// Business seconds used at which a clock for `target` warns: target * fraction, rounded up to
// the whole second (the first second at which at least that fraction is used). Exact: no
// floating point; never 0 and never more than the target.
std::chrono::seconds warning_threshold(std::chrono::seconds target, std::int64_t warning_millionths);

struct policy {
  std::string name;
  // Selectors; an empty list matches anything.
  std::vector<model::customer_stage> stages;
  std::vector<std::string> tiers;
  std::vector<model::request_kind> kinds;
  std::string calendar;  // a key of the calendar_map
  std::vector<metric_target> metrics;  // at most one per metric
  std::vector<std::string> replaces;   // names this policy had before (open clocks follow it)
  std::vector<config::position> replaces_at;  // where each of `replaces` is written (parallel; may be empty)
  config::position at;                 // its `name` in the config file (line 0 when not from a file)

  bool applies_to(const model::request_input& request) const;
  // The target it gives `metric`; null when it has none.
  const metric_target* target_of(model::sla_metric metric) const;
};

// The loaded SLA configuration. Immutable once built; safe to share between threads.
struct policy_set {
  calendar_map calendars;
  std::vector<policy> policies;  // checked in order: the first that applies is used
  rename_map calendar_renames;   // from `replaces` in [calendars.NAME]
  rename_map policy_renames;     // from `replaces` in [[sla.policy]]
  // Where [calendars] and [sla] begin, for errors about them as a whole (file only when unknown).
  config::position calendars_at;
  config::position policies_at;

  // The first policy that applies to `request`, or null when none does (no SLA clock).
  const policy* match(const model::request_input& request) const;

  // The calendar a clock counts on, following renames. Throws std::out_of_range for a name
  // neither configured nor replaced.
  const calendar::business_calendar& calendar(std::string_view name) const;

  // The configured name for `name` (itself, or the calendar that replaces it); nullopt when
  // neither exists.
  std::optional<std::string> calendar_name(std::string_view name) const;

  // The policy called `name`, following renames; null when there is none.
  const policy* find(std::string_view name) const;
};

// Parses a business duration: whole numbers with units h, m and s, largest first, each at
// most once: "1h", "90m", "1h30m", "45s", "2h0m10s". nullopt for anything else (including "0",
// "", "1.5h", "1d").
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// Formats a duration the way parse_duration reads it ("1h30m", "0s").
std::string format_duration(std::chrono::seconds duration);

// The renames of a loaded policy list: each name in a policy's `replaces` -> that policy's name.
rename_map policy_renames(const std::vector<policy>& policies);

// One configured name that open clocks still use but the config no longer has; or (kind
// `metric`) a metric open clocks count that their policy (kept under its name, or renamed
// through `replaces`) no longer has (they would keep a target no policy defines).
struct missing_name {
  enum class what { calendar, policy, metric } kind;
  std::string name;  // the calendar or policy name the clocks have (for `metric`, the old name)
  std::size_t open_clocks = 0;
  // A missing policy: the configured policies that now apply (policy_set::match) to the requests
  // of those clocks, with how many clocks each; the most common is the likeliest new name.
  std::map<std::string, std::size_t, std::less<>> applying_now;
  std::optional<model::sla_metric> metric;  // kind `metric`: the metric the new policy lacks

  // What tells two entries apart when counts are merged: kind, name and metric.
  std::string key() const;
};

// The calendars and policies named by open (not completed) clocks of `clocks` that `set`
// neither has nor maps through `replaces`, each with how many open clocks use it, and the
// metrics such clocks count that their policy (or the one replacing it) lacks, in kind and name
// order.
// `applying_now`, when given, is parallel to `clocks`: the policy that applies to each clock's
// request now (null for none); it fills missing_name::applying_now.
std::vector<missing_name> missing_names(const policy_set& set, const std::vector<model::sla_clock>& clocks,
                                        const std::vector<const policy*>& applying_now = {});

// Throws config::error naming every missing calendar, policy and metric, one line each at its
// own file:line:col (the error's position is the first's), with how many open clocks use it
// and how to keep them; does nothing when `missing` is empty. A calendar is reported at
// [calendars]. A policy is reported at the `name` of the configured policy that most plausibly
// took its place (the one that now applies to most of its clocks' requests; ties go to the
// earlier in the file), saying to add `replaces` to it; when none applies, at the first
// [[sla.policy]] (or the file), saying so. A metric the replacing policy lacks is reported at
// that policy's `replaces` entry for the old name; one a policy kept under its name dropped, at
// that policy's `name`.
void refuse_missing(const policy_set& set, const std::vector<missing_name>& missing);

}  // namespace switchboard::sla
