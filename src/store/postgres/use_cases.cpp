// PostgreSQL's SQL for the use cases' reads (the twin of store/use_cases.cpp).
#include "store/postgres/use_cases.hpp"

#include <string>

namespace switchboard::store::postgres {

std::vector<use_case_open> use_case_loads(pq::connection& db) {
  const auto rows = db.prepared("SELECT use_case, kind, owner, open FROM use_case_load WHERE open > 0"
                                " ORDER BY use_case, kind, owner");
  std::vector<use_case_open> out;
  for (int i = 0; i < rows.rows(); ++i) {
    const auto kind = model::parse_request_kind(rows.text(i, 1));
    const auto owner = model::parse_team(rows.text(i, 2));
    if (!kind || !owner) continue;  // as on SQLite
    out.push_back({std::string(rows.text(i, 0)), *kind, *owner, static_cast<int>(rows.integer(i, 3))});
  }
  return out;
}

std::vector<decision> recent_decisions(pq::connection& db, std::string_view use_case, model::instant since, int limit) {
  const auto rows = db.prepared(
      "SELECT request_id, decision, reason, actor, executive, at FROM decisions"
      " WHERE use_case = $1 AND at >= $2 ORDER BY at DESC, seq DESC LIMIT $3",
      {std::string(use_case), static_cast<std::int64_t>(since.time_since_epoch().count()), limit});
  std::vector<decision> out;
  for (int i = 0; i < rows.rows(); ++i) {
    decision d;
    d.request_id = rows.integer(i, 0);
    d.use_case = std::string(use_case);
    d.accepted = rows.text(i, 1) == "accepted";
    d.reason = std::string(rows.text(i, 2));
    d.actor = std::string(rows.text(i, 3));
    d.executive = rows.integer(i, 4) != 0;
    d.at = model::instant{std::chrono::seconds{rows.integer(i, 5)}};
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace switchboard::store::postgres
