// Keeping this instance's timer leases: one local lease on SQLite, a renewing thread on PostgreSQL.
#include "store/lease_keeper.hpp"

#include "observe/log.hpp"

#if SWITCHBOARD_POSTGRES
#include "store/postgres/pq.hpp"
#include "store/postgres/timer_leases.hpp"
#endif

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace switchboard::store {
namespace {

class local_keeper final : public lease_keeper {
 public:
  explicit local_keeper(std::string holder) : lease_keeper(std::move(holder)) {}
  void start(listener on_round) override {
    std::vector<shard_lease> all;
    for (int shard = 0; shard < timer_shards; ++shard) all.push_back({shard, 0});
    on_round(all, 1);
  }
  void stop(bool) override {}
};

#if SWITCHBOARD_POSTGRES
class postgres_keeper final : public lease_keeper {
 public:
  postgres_keeper(std::string url, std::string holder, std::chrono::milliseconds lease)
      : lease_keeper(std::move(holder)), url_(std::move(url)), lease_(lease) {}
  ~postgres_keeper() override { stop(false); }

  void start(listener on_round) override {
    on_round_ = std::move(on_round);
    db_ = std::make_unique<pq::connection>(url_);
    round();
    if (!last_success_) throw std::runtime_error("timer leases: the first renewal round failed");
    thread_ = std::thread([this] { run(); });
  }

  void stop(bool release) override {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (release && db_) {
      try {
        if (db_->broken()) db_->reconnect();
        postgres::release_leases(*db_, holder());
      } catch (const std::exception& e) {
        observe::log(observe::log_level::error,
                     fmt::format("releasing timer leases failed, they expire in {} ms: {}", lease_.count(), e.what()));
      }
    }
  }

 private:
  void run() {
    const auto tick = std::max(std::chrono::milliseconds{10}, lease_ / 10);
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, tick, [this] { return stopping_; })) {
      lock.unlock();
      round();
      lock.lock();
    }
  }

  void round() {
    const auto now = std::chrono::steady_clock::now();
    try {
      if (db_->broken()) db_->reconnect();
      const auto result = postgres::renew_leases(*db_, holder(), lease_);
      last_success_ = now;
      failing_ = false;
      on_round_(result.held, result.live_instances);
    } catch (const std::exception& e) {
      if (!failing_)
        observe::log(observe::log_level::warning, fmt::format("renewing timer leases failed, retrying: {}", e.what()));
      failing_ = true;
      // Measured from the round's start: the database may have renewed the lease at any point before.
      if (!last_success_ || now - *last_success_ >= lease_) on_round_({}, 1);
    }
  }

  std::string url_;
  std::chrono::milliseconds lease_;
  std::unique_ptr<pq::connection> db_;
  listener on_round_;
  std::optional<std::chrono::steady_clock::time_point> last_success_;
  bool failing_ = false;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};
#endif

}  // namespace

std::unique_ptr<lease_keeper> lease_keeper::local(std::string holder) {
  return std::make_unique<local_keeper>(std::move(holder));
}

std::unique_ptr<lease_keeper> lease_keeper::postgres(std::string url, std::string holder,
                                                     std::chrono::milliseconds lease) {
#if SWITCHBOARD_POSTGRES
  return std::make_unique<postgres_keeper>(std::move(url), std::move(holder), lease);
#else
  (void)url;
  (void)holder;
  (void)lease;
  throw std::invalid_argument("this build has no PostgreSQL adapter (SWITCHBOARD_POSTGRES=OFF)");
#endif
}

}  // namespace switchboard::store
