#pragma once
// The SLA reports' read model (migration 20, issue 14 §2): one clock_facts row per clock of a
// request, written by save_request in the events' transaction and filled in for the clocks
// stored before it, and the report GET /v1/reports/sla and switchboard-cli report sla show,
// aggregated here in C++ from one range of the started_at index (percentiles need the values
// sorted; SQLite 3.40 has no percentile function).
//
// Units: instants are whole UTC seconds; durations are business seconds on the clock's calendar.
// Errors: a storage failure throws, as every store read does (the API answers it 500/503).
// Thread-safety: clock_facts_started is as the session passed in (one connection, one owner);
// fact_of and aggregate are pure.

#include "model/request.hpp"
#include "store/session.hpp"

#include <absl/time/time.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::store {

// Where a clock stands for the reports: open (neither met nor breached yet), met (completed and
// never breached) or breached (ever, completed or not).
enum class fact_state { open, met, breached };
std::string_view to_string(fact_state state);

// One clock as the reports count it.
struct clock_fact {
  model::request_id request_id = 0;
  model::sla_metric metric = model::sla_metric::first_response;
  std::string policy;
  std::string calendar;
  // The owning team when the clock completed (who held it when it was met or breached), frozen
  // from then on; the owner now while it is open.
  model::team team = model::team::se;
  std::string customer_id;
  std::string customer_name;
  std::string use_case;  // "" when the request has none
  model::request_kind kind = model::request_kind::troubleshooting;
  // sla::start's instant. A clock stored before it was recorded has none in its document: the
  // migration took its request's first sla.started event for it, and the row keeps that.
  std::optional<model::instant> started_at;
  std::optional<model::instant> completed_at;  // set once completed (met, or breached and then done)
  fact_state state = fact_state::open;
  bool breached = false;
  std::chrono::seconds used{0};  // business seconds used when completed, or at its last checkpoint while open
  // Business seconds paused (what the SLA did not count); unset for clocks from before it was
  // recorded. A clock never paused since counts 0.
  std::optional<std::chrono::seconds> paused;
};

// The fact `clock` of `request` gives, as save_request writes it. Store internals: what both
// adapters write.
clock_fact fact_of(const model::request& request, const model::sla_clock& clock);

// The facts of the clocks that started in [from, to), oldest first. One range of the
// clock_facts_by_start index.
std::vector<clock_fact> clock_facts_started(read_session session, model::instant from, model::instant to);

enum class report_grouping { team, policy, customer, use_case, week };
std::string_view to_string(report_grouping grouping);
std::optional<report_grouping> parse_report_grouping(std::string_view text);

// Business seconds over the completed clocks of one metric (breached ones included): how many,
// and the median and 90th percentile by nearest rank (the value at rank ceil(p * count) of the
// sorted values); none when count is 0.
struct duration_stats {
  int count = 0;
  std::optional<std::chrono::seconds> median;
  std::optional<std::chrono::seconds> p90;
};

// Business seconds paused, over the clocks that were paused at all (paused > 0).
struct paused_stats {
  int count = 0;
  std::chrono::seconds total{0};
  std::optional<std::chrono::seconds> median;
};

struct report_row {
  std::string key;    // the team, policy, customer id, use case ("" for none) or ISO week ("2026-W48"); "total"
  std::string name;   // the customer's name (group_by customer); "" otherwise
  std::optional<model::instant> week_start;  // group_by week: Monday 00:00 in the report's zone
  int clocks_started = 0;
  int met = 0;
  int breached = 0;
  int open = 0;
  // 100 * met / (met + breached), to one decimal; none when no clock was met or breached.
  std::optional<double> percent_met;
  duration_stats first_response;
  duration_stats resolution;
  paused_stats paused;
};

struct sla_report {
  std::vector<report_row> groups;  // by key
  report_row total;                // over every group; key "total"
};

// The report over `facts` grouped by `grouping`; ISO weeks (Monday to Sunday) are those of
// `zone`. Pure; its cost is O(n log n) in the number of facts.
sla_report aggregate(const std::vector<clock_fact>& facts, report_grouping grouping, const absl::TimeZone& zone);

}  // namespace switchboard::store
