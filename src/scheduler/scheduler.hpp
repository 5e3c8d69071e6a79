#pragma once
// The SLA scheduler: every pending warning and breach in one ordered queue, and one Asio timer
// armed for the earliest. When it fires, the due requests go through the engine (via group
// commit) and their events are recorded at their true instants.
//
// With several instances (issue 12 D3) it plans only the requests of the timer shards its
// instance holds (store/timer_leases.hpp, kept by store/lease_keeper.hpp and passed to hold()),
// and each firing job first checks in its transaction that the instance still holds the shard
// with the same token (store::holds_lease): a deposed holder records nothing. On the embedded
// database one local lease holds every shard, and this is the same code.
//
// Thread-safety: construct and call on the io_context's thread.

#include "engine/engine.hpp"
#include "store/committer.hpp"
#include "store/requests.hpp"
#include "store/timer_leases.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/system_timer.hpp>

#include <functional>
#include <map>
#include <set>

namespace switchboard::scheduler {

// The time the engine runs on, and when one of its instants comes on the system clock (they
// differ when the server runs on a simulated clock for a demo or a test).
struct time_source {
  std::function<model::instant()> now;
  std::function<std::chrono::system_clock::time_point(model::instant)> wall_time_of;
  // Seconds of `now` per second of the system clock: 1, or --clock-speed's (told to the
  // dashboard, which counts down between snapshots at that pace).
  double speed = 1.0;
};

class scheduler {
 public:
  using change_listener = std::function<void(const store::change&)>;

  // holder: this instance's id (hostname:pid:random), as the lease rows name it.
  scheduler(boost::asio::any_io_executor executor, store::committer& writer, const engine::policy& policy,
            time_source time, std::string holder);

  // The shards this instance now holds, after a lease round. Drops the timers of shards no
  // longer held; queues, from `reader`, every request with a pending warning or breach in the
  // shards newly held (or held again under a new token), and with `reload` in every shard held
  // (the timers other instances' changes started, which nothing tells this one of yet). Those
  // whose instant passed (the server was down, or the shard's last holder died) fire at once.
  void hold(const std::vector<store::shard_lease>& held, store::read_session reader, bool reload = false);

  // Queues again every pending timer of the shards held, from `reader` (after missing other
  // instances' changes, e.g. a lost notification channel).
  void reload(store::read_session reader);

  // Re-plans one request after anything changed it (nothing when its shard is not held).
  void track(const model::request& request);

  // Called with each change the scheduler recorded, after it is committed.
  void on_change(change_listener listener) { listener_ = std::move(listener); }

  void stop();

  std::size_t size() const { return due_.size(); }
  std::size_t shards_held() const { return held_.size(); }

 private:
  void plan(model::request_id id, std::optional<model::instant> at);
  void load(store::read_session reader, const std::vector<int>& shards);
  void arm();
  void fire();

  boost::asio::any_io_executor executor_;
  store::committer& writer_;
  const engine::policy& policy_;
  time_source time_;
  change_listener listener_;
  boost::asio::system_timer timer_;
  std::set<std::pair<model::instant, model::request_id>> queue_;
  std::map<model::request_id, model::instant> due_;
  std::string holder_;
  std::map<int, std::int64_t> held_;  // shard -> the token it was claimed with
  bool stopped_ = false;
};

}  // namespace switchboard::scheduler
