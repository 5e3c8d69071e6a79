// The fence a firing job passes before recording, and the scheduler's per-shard load.
#include "store/timer_leases.hpp"

#if SWITCHBOARD_POSTGRES
#include "store/postgres/timer_leases.hpp"
#endif

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>

namespace switchboard::store {

bool holds_lease(unit_of_work work, const std::string& holder, const shard_lease& lease) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::holds_lease(*pg, holder, lease);
#endif
  (void)work;
  (void)holder;
  (void)lease;
  return true;  // SQLite: one process holds the file, and with it every shard
}

std::vector<std::pair<model::request_id, model::instant>> pending_firings(read_session session,
                                                                          const std::vector<int>& shards) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::pending_firings(*pg, shards);
#endif
  std::vector<std::pair<model::request_id, model::instant>> out;
  if (shards.empty()) return out;
  SQLite::Database& db = session.connection();
  std::string sql = "SELECT id, next_due FROM requests WHERE next_due IS NOT NULL";
  // Every shard (SQLite's one lease): no filter, the query pending_firings(session) makes.
  if (static_cast<int>(shards.size()) < timer_shards)
    sql += fmt::format(" AND id % {} IN ({})", timer_shards, fmt::join(shards, ","));
  SQLite::Statement query(db, sql);
  while (query.executeStep())
    out.emplace_back(query.getColumn(0).getInt64(),
                     model::instant{std::chrono::seconds{query.getColumn(1).getInt64()}});
  return out;
}

}  // namespace switchboard::store
