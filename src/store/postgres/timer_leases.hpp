#pragma once
// PostgreSQL's timer leases (store/timer_leases.hpp, store/lease_keeper.hpp): renewing, claiming
// and releasing shards, and the fence a firing job passes. Lease times are the database's clock
// (clock_timestamp(), Unix milliseconds in timer_leases.expires_at), never the engine's
// simulated one, so instances on different machines agree on expiry.
//
// Thread-safety: one connection, one owner (pq.hpp).

#include "store/postgres/pq.hpp"
#include "store/timer_leases.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::store::postgres {

// What one renewal round left the instance with.
struct lease_round {
  std::vector<shard_lease> held;  // by shard
  int live_instances = 1;         // instances whose heartbeat is younger than one lease, this one included
  int fair_share = timer_shards;  // ceil(64 / live_instances)
};

// One round, in one transaction of its own on `db` (not inside another): records `holder`'s
// heartbeat in `instances`; renews every shard it holds to expire `lease` after now; then, with
// ceil(64 / live instances) as its fair share, releases the shards above it (highest first:
// rebalancing when an instance joins) or claims free and expired shards up to it (UPDATE ...
// WHERE shard IN (SELECT ... FOR UPDATE SKIP LOCKED), token + 1; a row a firing job holds FOR
// SHARE is skipped this round). Throws pq::error.
lease_round renew_leases(pq::connection& db, const std::string& holder, std::chrono::milliseconds lease);

// Frees every shard `holder` holds and removes its heartbeat (a clean stop: the others claim
// them at their next round instead of after the lease). Throws pq::error.
void release_leases(pq::connection& db, const std::string& holder);

// store::holds_lease on PostgreSQL: SELECT ... FOR SHARE of the lease row with holder, token and
// expires_at > clock_timestamp(), in the caller's transaction.
bool holds_lease(pq::connection& db, const std::string& holder, const shard_lease& lease);

// store::pending_firings(session, shards) on PostgreSQL.
std::vector<std::pair<model::request_id, model::instant>> pending_firings(pq::connection& db,
                                                                          const std::vector<int>& shards);

}  // namespace switchboard::store::postgres
