#pragma once
// The SLA scheduler: every pending warning and breach in one ordered queue, and one Asio timer
// armed for the earliest. When it fires, the due requests go through the engine (via group
// commit) and their events are recorded at their true instants.
//
// Thread-safety: construct and call on the io_context's thread.

#include "engine/engine.hpp"
#include "store/committer.hpp"
#include "store/requests.hpp"

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
};

class scheduler {
 public:
  using change_listener = std::function<void(const store::change&)>;

  scheduler(boost::asio::any_io_executor executor, store::committer& writer, const engine::policy& policy,
            time_source time);

  // Queues every request with a pending warning or breach, as the read model has them; those
  // whose instant passed while the server was down fire at once.
  void load(store::read_session reader);

  // Re-plans one request after anything changed it.
  void track(const model::request& request);

  // Called with each change the scheduler recorded, after it is committed.
  void on_change(change_listener listener) { listener_ = std::move(listener); }

  void stop();

  std::size_t size() const { return due_.size(); }

 private:
  void plan(model::request_id id, std::optional<model::instant> at);
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
  bool stopped_ = false;
};

}  // namespace switchboard::scheduler
