// Timer leases on PostgreSQL: one renewal round, release, the fence, and a shard's pending timers.
#include "store/postgres/timer_leases.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace switchboard::store::postgres {
namespace {

// The database's clock in Unix milliseconds, read when the statement runs (clock_timestamp(),
// not now(): a round's statements see time move).
constexpr std::string_view now_ms = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

std::vector<shard_lease> leases_of(const pq::result& rows) {
  std::vector<shard_lease> out;
  for (int i = 0; i < rows.rows(); ++i)
    out.push_back({static_cast<int>(rows.integer(i, 0)), rows.integer(i, 1)});
  return out;
}

std::string array_of(const std::vector<int>& shards) { return fmt::format("{{{}}}", fmt::join(shards, ",")); }

}  // namespace

lease_round renew_leases(pq::connection& db, const std::string& holder, std::chrono::milliseconds lease) {
  const auto ms = static_cast<std::int64_t>(lease.count());
  pq::transaction transaction(db);
  db.prepared(fmt::format("INSERT INTO instances (id, started_at, heartbeat_at) VALUES ($1, {0}, {0})"
                          " ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
                          now_ms),
              {holder});
  // Ascending shard order, as a firing job's fences mostly come: fewer lock waits in a cycle.
  auto held = leases_of(db.prepared(
      fmt::format("UPDATE timer_leases SET expires_at = {} + $2::bigint WHERE shard IN"
                  " (SELECT shard FROM timer_leases WHERE holder = $1 ORDER BY shard FOR UPDATE)"
                  " RETURNING shard, token",
                  now_ms),
      {holder, ms}));
  lease_round round;
  round.live_instances = static_cast<int>(std::max<std::int64_t>(
      1, db.prepared(fmt::format("SELECT count(*) FROM instances WHERE heartbeat_at > {} - $1::bigint", now_ms), {ms})
             .integer(0, 0)));
  round.fair_share = (timer_shards + round.live_instances - 1) / round.live_instances;
  const int count = static_cast<int>(held.size());
  if (count > round.fair_share) {
    // Above the fair share (an instance joined): free the highest shards for it to claim.
    auto released = leases_of(db.prepared(
        "UPDATE timer_leases SET holder = NULL, expires_at = NULL WHERE shard IN"
        " (SELECT shard FROM timer_leases WHERE holder = $1 ORDER BY shard DESC LIMIT $2::int FOR UPDATE)"
        " RETURNING shard, token",
        {holder, count - round.fair_share}));
    std::erase_if(held, [&released](const shard_lease& l) {
      return std::find_if(released.begin(), released.end(), [&l](const shard_lease& r) { return r.shard == l.shard; }) !=
             released.end();
    });
  } else if (count < round.fair_share) {
    auto claimed = leases_of(db.prepared(
        fmt::format("UPDATE timer_leases SET holder = $1, token = token + 1, expires_at = {0} + $2::bigint"
                    " WHERE shard IN (SELECT shard FROM timer_leases WHERE holder IS NULL OR expires_at < {0}"
                    " ORDER BY shard LIMIT $3::int FOR UPDATE SKIP LOCKED)"
                    " RETURNING shard, token",
                    now_ms),
        {holder, ms, round.fair_share - count}));
    held.insert(held.end(), claimed.begin(), claimed.end());
  }
  // Heartbeats of instances gone for a day are only clutter.
  db.prepared(fmt::format("DELETE FROM instances WHERE heartbeat_at < {} - 86400000", now_ms));
  transaction.commit();
  std::sort(held.begin(), held.end(), [](const shard_lease& a, const shard_lease& b) { return a.shard < b.shard; });
  round.held = std::move(held);
  return round;
}

void release_leases(pq::connection& db, const std::string& holder) {
  pq::transaction transaction(db);
  db.prepared("UPDATE timer_leases SET holder = NULL, expires_at = NULL WHERE holder = $1", {holder});
  db.prepared("DELETE FROM instances WHERE id = $1", {holder});
  transaction.commit();
}

bool holds_lease(pq::connection& db, const std::string& holder, const shard_lease& lease) {
  return db
             .prepared(fmt::format("SELECT 1 FROM timer_leases WHERE shard = $1::int AND holder = $2 AND token = "
                                   "$3::bigint AND expires_at > {} FOR SHARE",
                                   now_ms),
                       {lease.shard, holder, lease.token})
             .rows() > 0;
}

std::vector<std::pair<model::request_id, model::instant>> pending_firings(pq::connection& db,
                                                                          const std::vector<int>& shards) {
  std::vector<std::pair<model::request_id, model::instant>> out;
  if (shards.empty()) return out;
  const auto rows = db.prepared(
      fmt::format("SELECT id, next_due FROM requests WHERE next_due IS NOT NULL AND (id % {}) = ANY($1::int[])",
                  timer_shards),
      {array_of(shards)});
  for (int i = 0; i < rows.rows(); ++i)
    out.emplace_back(rows.integer(i, 0), model::instant{std::chrono::seconds{rows.integer(i, 1)}});
  return out;
}

}  // namespace switchboard::store::postgres
