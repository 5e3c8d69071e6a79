// The counts /metrics shows, read in one transaction so that they agree with each other.
#include "store/metrics.hpp"

#if SWITCHBOARD_POSTGRES
#include "store/postgres/metrics.hpp"
#endif
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

namespace switchboard::store {

namespace {

std::vector<counts::by_label> labelled(SQLite::Database& db, const char* sql) {
  std::vector<counts::by_label> out;
  SQLite::Statement query(db, sql);
  while (query.executeStep()) out.push_back({query.getColumn(0).getString(), query.getColumn(1).getInt64()});
  return out;
}

}  // namespace

counts read_counts(read_session session) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::read_counts(*pg);
#endif
  SQLite::Database& db = session.connection();
  counts out;
  // A deferred read transaction: the four reads see one snapshot (WAL), never a commit between.
  SQLite::Transaction snapshot(db, SQLite::TransactionBehavior::DEFERRED);
  out.requests_by_status = labelled(db, "SELECT status, SUM(requests) FROM request_status_counts GROUP BY status HAVING SUM(requests) > 0 ORDER BY status");
  SQLite::Statement clocks(db,
                           "SELECT CASE state WHEN 'warning' THEN 'running' WHEN 'breached_paused' THEN 'paused'"
                           " ELSE state END, state IN ('breached', 'breached_paused'), SUM(clocks)"
                           " FROM open_clock_counts GROUP BY 1, 2 HAVING SUM(clocks) > 0 ORDER BY 1, 2");
  while (clocks.executeStep())
    out.open_clocks.push_back(
        {clocks.getColumn(0).getString(), clocks.getColumn(1).getInt() != 0, clocks.getColumn(2).getInt64()});
  out.escalations_by_state = labelled(db, "SELECT state, SUM(escalations) FROM escalation_state_counts GROUP BY state HAVING SUM(escalations) > 0 ORDER BY state");
  SQLite::Statement deliveries(db,
                               "SELECT channel, state, SUM(deliveries) FROM outbox_state_counts GROUP BY 1, 2 HAVING SUM(deliveries) > 0 ORDER BY 1, 2");
  while (deliveries.executeStep())
    out.deliveries.push_back({deliveries.getColumn(0).getString(), deliveries.getColumn(1).getString(),
                              deliveries.getColumn(2).getInt64()});
  snapshot.commit();
  return out;
}

}  // namespace switchboard::store
