// The SLA reports' facts (store/reports.hpp): the row each clock gives, the range read, and the
// aggregation by group with nearest-rank percentiles.
#include "store/reports.hpp"

#if SWITCHBOARD_POSTGRES
#include "store/postgres/reports.hpp"
#endif
#include "store/statements.hpp"

#include <SQLiteCpp/Statement.h>
#include <absl/time/civil_time.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace switchboard::store {
namespace {

// The value at rank ceil(p * n) of `sorted` (1-based), p in (0, 1]: the nearest-rank percentile,
// which is always one of the values seen (no interpolation between two clocks' times).
std::chrono::seconds nearest_rank(const std::vector<std::chrono::seconds>& sorted, int percent) {
  const auto n = static_cast<long long>(sorted.size());
  long long rank = (static_cast<long long>(percent) * n + 99) / 100;  // ceil(percent * n / 100)
  rank = std::clamp(rank, 1LL, n);
  return sorted[static_cast<std::size_t>(rank - 1)];
}

duration_stats durations(std::vector<std::chrono::seconds> values) {
  duration_stats out;
  out.count = static_cast<int>(values.size());
  if (values.empty()) return out;
  std::sort(values.begin(), values.end());
  out.median = nearest_rank(values, 50);
  out.p90 = nearest_rank(values, 90);
  return out;
}

// A group's clocks, gathered before the row is computed.
struct gathered {
  std::string name;
  std::optional<model::instant> week_start;
  std::vector<const clock_fact*> facts;
};

report_row row_of(std::string key, const gathered& group) {
  report_row row;
  row.key = std::move(key);
  row.name = group.name;
  row.week_start = group.week_start;
  std::vector<std::chrono::seconds> first_response;
  std::vector<std::chrono::seconds> resolution;
  std::vector<std::chrono::seconds> paused;
  for (const auto* fact : group.facts) {
    ++row.clocks_started;
    switch (fact->state) {
      case fact_state::open: ++row.open; break;
      case fact_state::met: ++row.met; break;
      case fact_state::breached: ++row.breached; break;
    }
    if (fact->completed_at) {
      if (fact->metric == model::sla_metric::first_response) first_response.push_back(fact->used);
      if (fact->metric == model::sla_metric::resolution) resolution.push_back(fact->used);
    }
    if (fact->paused && fact->paused->count() > 0) {
      paused.push_back(*fact->paused);
      row.paused.total += *fact->paused;
    }
  }
  if (row.met + row.breached > 0)
    row.percent_met = std::round(1000.0 * row.met / (row.met + row.breached)) / 10.0;
  row.first_response = durations(std::move(first_response));
  row.resolution = durations(std::move(resolution));
  row.paused.count = static_cast<int>(paused.size());
  if (!paused.empty()) {
    std::sort(paused.begin(), paused.end());
    row.paused.median = nearest_rank(paused, 50);
  }
  return row;
}

// The ISO week (Monday to Sunday) `at` falls in, in `zone`: its key ("2026-W48", the ISO year of
// its Thursday) and the instant its Monday begins.
std::pair<std::string, model::instant> iso_week(model::instant at, const absl::TimeZone& zone) {
  const auto day = absl::CivilDay(zone.At(absl::FromUnixSeconds(at.time_since_epoch().count())).cs);
  const int from_monday = (static_cast<int>(absl::GetWeekday(day)) - static_cast<int>(absl::Weekday::monday) + 7) % 7;
  const auto monday = day - from_monday;
  const auto thursday = monday + 3;
  const int week = (absl::GetYearDay(thursday) - 1) / 7 + 1;
  // The first instant of Monday: .pre is the earlier reading of a repeated local time, and for a
  // skipped one (a zone whose DST starts at midnight) the instant the day really begins.
  const auto lookup = zone.At(absl::CivilSecond(monday));
  const auto start = lookup.kind == absl::TimeZone::TimeInfo::SKIPPED ? lookup.trans : lookup.pre;
  return {fmt::format("{:04}-W{:02}", thursday.year(), week),
          model::instant{std::chrono::seconds{absl::ToUnixSeconds(start)}}};
}

}  // namespace

std::string_view to_string(fact_state state) {
  switch (state) {
    case fact_state::open: return "open";
    case fact_state::met: return "met";
    case fact_state::breached: return "breached";
  }
  return "open";
}

std::string_view to_string(report_grouping grouping) {
  switch (grouping) {
    case report_grouping::team: return "team";
    case report_grouping::policy: return "policy";
    case report_grouping::customer: return "customer";
    case report_grouping::use_case: return "use_case";
    case report_grouping::week: return "week";
  }
  return "team";
}

std::optional<report_grouping> parse_report_grouping(std::string_view text) {
  for (auto g : {report_grouping::team, report_grouping::policy, report_grouping::customer, report_grouping::use_case,
                 report_grouping::week})
    if (to_string(g) == text) return g;
  return std::nullopt;
}

clock_fact fact_of(const model::request& request, const model::sla_clock& clock) {
  clock_fact fact;
  fact.request_id = request.id;
  fact.metric = clock.metric;
  fact.policy = clock.policy;
  fact.calendar = clock.calendar;
  fact.team = request.owner;
  fact.customer_id = request.input.customer.id;
  fact.customer_name = request.input.customer.name;
  fact.use_case = request.input.use_case;
  fact.kind = request.input.kind;
  fact.started_at = clock.started_at;
  if (clock.completed) fact.completed_at = clock.completed_at;
  fact.breached = clock.breached;
  fact.state = clock.breached ? fact_state::breached : clock.completed ? fact_state::met : fact_state::open;
  fact.used = clock.used;
  // A clock that records its start records its pauses too: never paused is 0, not unknown.
  if (clock.paused_seconds)
    fact.paused = *clock.paused_seconds;
  else if (clock.started_at)
    fact.paused = std::chrono::seconds{0};
  return fact;
}

std::vector<clock_fact> clock_facts_started(read_session session, model::instant from, model::instant to) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::clock_facts_started(*pg, from, to);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db,
                          "SELECT request_id, metric, policy, calendar, team, customer_id, customer_name, use_case,"
                          " kind, started_at, completed_at, state, breached, used_seconds, paused_seconds"
                          " FROM clock_facts WHERE started_at >= ? AND started_at < ? ORDER BY started_at");
  query.bind(1, static_cast<std::int64_t>(from.time_since_epoch().count()));
  query.bind(2, static_cast<std::int64_t>(to.time_since_epoch().count()));
  std::vector<clock_fact> out;
  while (query.executeStep()) {
    const auto metric = model::parse_sla_metric(query.getColumn(1).getString());
    const auto team = model::parse_team(query.getColumn(4).getString());
    const auto kind = model::parse_request_kind(query.getColumn(8).getString());
    // Written from the enums' own names; a name a later build dropped is not counted.
    if (!metric || !team || !kind) continue;
    clock_fact fact;
    fact.request_id = query.getColumn(0).getInt64();
    fact.metric = *metric;
    fact.policy = query.getColumn(2).getString();
    fact.calendar = query.getColumn(3).getString();
    fact.team = *team;
    fact.customer_id = query.getColumn(5).getString();
    fact.customer_name = query.getColumn(6).getString();
    fact.use_case = query.getColumn(7).getString();
    fact.kind = *kind;
    fact.started_at = model::instant{std::chrono::seconds{query.getColumn(9).getInt64()}};
    if (!query.getColumn(10).isNull())
      fact.completed_at = model::instant{std::chrono::seconds{query.getColumn(10).getInt64()}};
    const auto state = query.getColumn(11).getString();
    fact.state = state == "met" ? fact_state::met : state == "breached" ? fact_state::breached : fact_state::open;
    fact.breached = query.getColumn(12).getInt() != 0;
    fact.used = std::chrono::seconds{query.getColumn(13).getInt64()};
    if (!query.getColumn(14).isNull()) fact.paused = std::chrono::seconds{query.getColumn(14).getInt64()};
    out.push_back(std::move(fact));
  }
  return out;
}

sla_report aggregate(const std::vector<clock_fact>& facts, report_grouping grouping, const absl::TimeZone& zone) {
  std::map<std::string, gathered> groups;
  gathered all;
  for (const auto& fact : facts) {
    std::string key;
    switch (grouping) {
      case report_grouping::team: key = std::string(model::to_string(fact.team)); break;
      case report_grouping::policy: key = fact.policy; break;
      case report_grouping::customer: key = fact.customer_id; break;
      case report_grouping::use_case: key = fact.use_case; break;
      case report_grouping::week: break;
    }
    std::optional<model::instant> week_start;
    if (grouping == report_grouping::week && fact.started_at) {
      auto week = iso_week(*fact.started_at, zone);
      key = std::move(week.first);
      week_start = week.second;
    }
    auto& group = groups[key];
    // The customer's name as its newest clock in the range has it (a rename shows once).
    if (grouping == report_grouping::customer) group.name = fact.customer_name;
    group.week_start = week_start;
    group.facts.push_back(&fact);
    all.facts.push_back(&fact);
  }
  sla_report report;
  report.groups.reserve(groups.size());
  for (const auto& [key, group] : groups) report.groups.push_back(row_of(key, group));
  report.total = row_of("total", all);
  return report;
}

}  // namespace switchboard::store
