// The /metrics counts and the heartbeat on PostgreSQL (the twins of store/metrics.cpp and
// database.cpp's touch_heartbeat).
#include "store/postgres/metrics.hpp"

namespace switchboard::store::postgres {
namespace {

std::vector<counts::by_label> labelled(pq::connection& db, const char* sql) {
  const auto rows = db.prepared(sql);
  std::vector<counts::by_label> out;
  for (int i = 0; i < rows.rows(); ++i) out.push_back({std::string(rows.text(i, 0)), rows.integer(i, 1)});
  return out;
}

}  // namespace

counts read_counts(pq::connection& db) {
  counts out;
  // One snapshot for the four reads, as SQLite's deferred read transaction gives.
  db.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  try {
    out.requests_by_status = labelled(db, "SELECT status, SUM(requests) FROM request_status_counts GROUP BY status HAVING SUM(requests) > 0 ORDER BY status");
    const auto clocks = db.prepared(
        "SELECT CASE state WHEN 'warning' THEN 'running' WHEN 'breached_paused' THEN 'paused' ELSE state END,"
        " state IN ('breached', 'breached_paused'), SUM(clocks)"
        " FROM open_clock_counts GROUP BY 1, 2 HAVING SUM(clocks) > 0 ORDER BY 1, 2");
    for (int i = 0; i < clocks.rows(); ++i)
      out.open_clocks.push_back({std::string(clocks.text(i, 0)), clocks.text(i, 1) == "t", clocks.integer(i, 2)});
    out.escalations_by_state = labelled(db, "SELECT state, SUM(escalations) FROM escalation_state_counts GROUP BY state HAVING SUM(escalations) > 0 ORDER BY state");
    const auto deliveries =
        db.prepared("SELECT channel, state, SUM(deliveries) FROM outbox_state_counts GROUP BY 1, 2 HAVING SUM(deliveries) > 0 ORDER BY 1, 2");
    for (int i = 0; i < deliveries.rows(); ++i)
      out.deliveries.push_back(
          {std::string(deliveries.text(i, 0)), std::string(deliveries.text(i, 1)), deliveries.integer(i, 2)});
    db.exec("COMMIT");
  } catch (...) {
    if (!db.broken()) db.exec("ROLLBACK");
    throw;
  }
  return out;
}

void touch_heartbeat(pq::connection& db) {
  db.prepared("INSERT INTO heartbeat (id, at) VALUES (1, extract(epoch FROM now())::bigint)"
              " ON CONFLICT (id) DO UPDATE SET at = excluded.at");
}

}  // namespace switchboard::store::postgres
