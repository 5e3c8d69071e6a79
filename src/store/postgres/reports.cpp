// PostgreSQL's SQL for the SLA reports' range read (the twin of store/reports.cpp's).
#include "store/postgres/reports.hpp"

#include <string>

namespace switchboard::store::postgres {

std::vector<clock_fact> clock_facts_started(pq::connection& db, model::instant from, model::instant to) {
  const auto rows = db.prepared(
      "SELECT request_id, metric, policy, calendar, team, customer_id, customer_name, use_case,"
      " kind, started_at, completed_at, state, breached, used_seconds, paused_seconds"
      " FROM clock_facts WHERE started_at >= $1 AND started_at < $2 ORDER BY started_at",
      {static_cast<std::int64_t>(from.time_since_epoch().count()),
       static_cast<std::int64_t>(to.time_since_epoch().count())});
  std::vector<clock_fact> out;
  for (int i = 0; i < rows.rows(); ++i) {
    const auto metric = model::parse_sla_metric(rows.text(i, 1));
    const auto team = model::parse_team(rows.text(i, 4));
    const auto kind = model::parse_request_kind(rows.text(i, 8));
    if (!metric || !team || !kind) continue;  // as on SQLite
    clock_fact fact;
    fact.request_id = rows.integer(i, 0);
    fact.metric = *metric;
    fact.policy = std::string(rows.text(i, 2));
    fact.calendar = std::string(rows.text(i, 3));
    fact.team = *team;
    fact.customer_id = std::string(rows.text(i, 5));
    fact.customer_name = std::string(rows.text(i, 6));
    fact.use_case = std::string(rows.text(i, 7));
    fact.kind = *kind;
    fact.started_at = model::instant{std::chrono::seconds{rows.integer(i, 9)}};
    if (const auto completed = rows.optional_integer(i, 10))
      fact.completed_at = model::instant{std::chrono::seconds{*completed}};
    const auto state = rows.text(i, 11);
    fact.state = state == "met" ? fact_state::met : state == "breached" ? fact_state::breached : fact_state::open;
    fact.breached = rows.integer(i, 12) != 0;
    fact.used = std::chrono::seconds{rows.integer(i, 13)};
    if (const auto paused = rows.optional_integer(i, 14)) fact.paused = std::chrono::seconds{*paused};
    out.push_back(std::move(fact));
  }
  return out;
}

}  // namespace switchboard::store::postgres
