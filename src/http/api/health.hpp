#pragma once
// GET /healthz and GET /readyz: whether this server can do its job now.
//
// /healthz answers 200 when the database took a real write (the heartbeat row, through the
// writer thread and group commit, so a locked or read-only database, or a writer stuck behind
// one, shows) within the probe deadline, or when the heartbeat is only queued behind a writer
// that is making progress (store::committer::current_activity: it took its batch or finished a
// job within `stall`, and is not waiting for another connection's lock) -- a large job is not a
// sick database. Otherwise 503 with the JSON error body: the heartbeat failed (read-only file,
// full disk, lock timeout), the writer has waited `deadline` for a lock, or it made no progress
// for `stall`; or the heartbeat committed but the storage refused another job within the last
// 10 s (store::committer::last_storage_failure): a heartbeat may fit where a filing does not.
// /readyz is what a load balancer asks: 200 when the server is started (it answers, so its
// migrations ran), the database is writable, and it is not shutting down.
//
// Thread-safety: writable() and shutting_down() may be called from any thread; probes and their
// waiters are kept on a strand. At most one probe is queued at a time: callers during a probe
// wait for it, and a verdict younger than `fresh` is reused, so health checks under load cost
// at most one commit per `fresh`. While a probe is on its way, a "writable" verdict younger
// than `deadline` (with no job refused by the storage since) answers at once, and an older one
// too while the writer is busy on a batch, progressing within `stall` and not waiting for a
// lock: what the deadline's judgement would say, said without waiting for it.

#include "http/router.hpp"
#include "store/committer.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace switchboard::http::api {

class health {
 public:
  health(boost::asio::any_io_executor executor, store::committer& writer,
         std::chrono::milliseconds deadline = std::chrono::milliseconds{2000},
         std::chrono::milliseconds fresh = std::chrono::milliseconds{1000},
         std::chrono::milliseconds stall = std::chrono::milliseconds{30000});
  ~health();
  health(const health&) = delete;
  health& operator=(const health&) = delete;

  // From now on /readyz answers 503 shutting_down.
  void shutting_down() noexcept;
  bool is_shutting_down() const noexcept;

  // nullopt when a write committed within the deadline or the writer is busy and progressing;
  // otherwise why the database is not writable, in words. Never throws for the database's sake.
  boost::asio::awaitable<std::optional<std::string>> writable();

  // Whether a write committed within `fresh` (writable() would answer nullopt at once, without
  // suspending). False says nothing: ask writable().
  bool recently_writable() const noexcept;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

// Adds GET /healthz and GET /readyz (no token needed). `checks` must outlive the router.
void add_health_routes(router& routes, health& checks);

}  // namespace switchboard::http::api
