#pragma once
// The instance's side of timer leases (store/timer_leases.hpp): which shards of timers this
// instance holds, kept current in the background.
//
// PostgreSQL: a thread with a connection of its own runs a renewal round
// (postgres::renew_leases) every lease/10: heartbeat, renew, then release above or claim up to
// the fair share ceil(64 / live instances). A holder that stops renewing (SIGKILL, a lost
// network) loses its shards when their lease expires; the next round of another instance after
// that claims them, so takeover comes at most lease + lease/10 after the last renewal. stop()
// with release frees them at once (SIGTERM). A round that fails (the database unreachable) is
// retried at the next tick; once no round has succeeded for a whole lease, the keeper reports
// holding nothing, which is what the database will say too.
//
// SQLite (local()): every shard, token 0, from start() to the end; no thread, no SQL.
//
// Thread-safety: start() and stop() from one thread; the listener runs on the keeper's thread
// (PostgreSQL) or inside start() (both), and must hand its work on (post to a strand).

#include "store/timer_leases.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace switchboard::store {

class lease_keeper {
 public:
  // After every round: the shards held (by shard; a token that changed means the shard was lost
  // and claimed again meanwhile) and how many instances are live (1 on SQLite).
  using listener = std::function<void(const std::vector<shard_lease>& held, int live_instances)>;

  // SQLite's one local lease over every shard.
  static std::unique_ptr<lease_keeper> local(std::string holder);
  // PostgreSQL: `url` as SWITCHBOARD_DATABASE_URL (its options may set the schema); `lease`
  // ([storage] lease_seconds) is how long a shard stays held without renewal.
  static std::unique_ptr<lease_keeper> postgres(std::string url, std::string holder, std::chrono::milliseconds lease);

  virtual ~lease_keeper() = default;

  // Runs the first round now (so the scheduler loads its shards before the server serves;
  // throws when it fails: the database is unusable at start), then keeps renewing.
  virtual void start(listener on_round) = 0;
  // Stops renewing and joins the thread; with `release`, frees every shard first (a clean stop).
  // Never throws (a failed release is logged: the leases then expire).
  virtual void stop(bool release) = 0;

  const std::string& holder() const { return holder_; }

 protected:
  explicit lease_keeper(std::string holder) : holder_(std::move(holder)) {}

 private:
  std::string holder_;
};

}  // namespace switchboard::store
