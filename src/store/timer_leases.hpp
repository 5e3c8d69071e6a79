#pragma once
// Timer leases (issue 12 D3): with several instances on one PostgreSQL database, each request's
// timers (its SLA warnings and breaches, escalation levels, concern deadline) are fired by one
// instance at a time. A request belongs to shard `id % 64`; each shard is leased to one instance
// (timer_leases, migration 15), which renews it while it lives (store/lease_keeper.hpp). The
// scheduler plans only the shards its instance holds, and a firing job first checks, inside its
// own transaction, that the instance still holds the shard with the token it was claimed with
// (holds_lease): a deposed holder records nothing.
//
// SQLite: one process holds the file (store/database.hpp), so its one local lease covers every
// shard for as long as it runs; holds_lease is then true without asking the database, and the
// same scheduler code runs.
//
// Thread-safety: as the session passed (store/session.hpp).

#include "model/instant.hpp"
#include "model/request.hpp"
#include "store/session.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::store {

// Fixed: the lease rows exist from migration 15, and it caps useful instances at 64.
constexpr int timer_shards = 64;

// The shard a request's timers belong to. Request ids are positive.
constexpr int shard_of(model::request_id id) { return static_cast<int>(id % timer_shards); }

// A shard as its holder claimed it: the token is raised at every claim, so a holder that lost
// the shard (its lease expired and another instance claimed it) holds a stale token even if it
// never noticed.
struct shard_lease {
  int shard = 0;
  std::int64_t token = 0;
  bool operator==(const shard_lease&) const = default;
};

// The fence: whether `holder` still holds `lease` (same token, not expired on the database's
// clock). On PostgreSQL it takes the lease row FOR SHARE until the job's transaction ends, so a
// takeover's UPDATE waits for this commit and every firing recorded under the lease is before
// it. On SQLite: true (the one local lease). Throws as the session's queries do.
bool holds_lease(unit_of_work work, const std::string& holder, const shard_lease& lease);

// Every (request, next due instant) of the given shards (shard_of(id) in `shards`), for the
// scheduler to plan; the store's pending_firings (store/requests.hpp) is all of them.
std::vector<std::pair<model::request_id, model::instant>> pending_firings(read_session session,
                                                                          const std::vector<int>& shards);

}  // namespace switchboard::store
