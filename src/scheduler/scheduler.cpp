// One timer for every SLA clock of the shards this instance holds: the earliest pending warning or
// breach arms it.
#include "scheduler/scheduler.hpp"

#include "observe/log.hpp"
#include "store/firing_key.hpp"
#include "store/requests.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <memory>

namespace switchboard::scheduler {
namespace asio = boost::asio;

namespace {
// After a failed write the due requests are tried again this much later.
constexpr std::chrono::seconds retry_after{5};
}  // namespace

scheduler::scheduler(asio::any_io_executor executor, store::committer& writer, const engine::policy& policy,
                     time_source time, std::string holder)
    : executor_(executor),
      writer_(writer),
      policy_(policy),
      time_(std::move(time)),
      timer_(executor),
      holder_(std::move(holder)) {}

void scheduler::hold(const std::vector<store::shard_lease>& held, store::read_session reader, bool reload) {
  std::map<int, std::int64_t> now_held;
  for (const auto& lease : held) now_held[lease.shard] = lease.token;
  std::vector<int> to_load;
  for (const auto& [shard, token] : now_held) {
    const auto before = held_.find(shard);
    if (reload || before == held_.end() || before->second != token) to_load.push_back(shard);
  }
  const bool lost = std::any_of(held_.begin(), held_.end(), [&now_held](const auto& entry) {
    const auto after = now_held.find(entry.first);
    return after == now_held.end() || after->second != entry.second;
  });
  held_ = std::move(now_held);
  if (lost) {
    std::vector<model::request_id> dropped;
    for (const auto& entry : due_)
      if (!held_.contains(store::shard_of(entry.first))) dropped.push_back(entry.first);
    for (auto id : dropped) plan(id, std::nullopt);
  }
  if (!to_load.empty()) load(reader, to_load);
  if (queue_.empty()) timer_.cancel();
  arm();
}

void scheduler::reload(store::read_session reader) {
  std::vector<int> shards;
  for (const auto& entry : held_) shards.push_back(entry.first);
  load(reader, shards);
  arm();
}

void scheduler::load(store::read_session reader, const std::vector<int>& shards) {
  for (const auto& [id, at] : store::pending_firings(reader, shards)) plan(id, at);
}

void scheduler::track(const model::request& request) {
  if (!held_.contains(store::shard_of(request.id))) return;
  plan(request.id, engine::next_due(request));
  arm();
}

void scheduler::stop() {
  stopped_ = true;
  timer_.cancel();
}

void scheduler::plan(model::request_id id, std::optional<model::instant> at) {
  if (auto existing = due_.find(id); existing != due_.end()) {
    queue_.erase({existing->second, id});
    due_.erase(existing);
  }
  if (!at) return;
  due_[id] = *at;
  queue_.insert({*at, id});
}

void scheduler::arm() {
  if (stopped_ || queue_.empty()) return;
  timer_.expires_at(time_.wall_time_of(queue_.begin()->first));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) fire();
  });
}

void scheduler::fire() {
  const auto now = time_.now();
  std::vector<model::request_id> ids;
  while (!queue_.empty() && queue_.begin()->first <= now) {
    ids.push_back(queue_.begin()->second);
    due_.erase(queue_.begin()->second);
    queue_.erase(queue_.begin());
  }
  if (ids.empty()) {
    arm();  // woke early: instants are whole seconds, the timer is finer
    return;
  }
  // Each id with the lease of its shard as held now: the job fences on it (store::holds_lease).
  std::vector<std::pair<model::request_id, store::shard_lease>> due;
  for (auto id : ids)
    if (const auto lease = held_.find(store::shard_of(id)); lease != held_.end())
      due.emplace_back(id, store::shard_lease{lease->first, lease->second});
  auto changed = std::make_shared<std::vector<store::change>>();
  auto deposed = std::make_shared<std::vector<model::request_id>>();
  writer_.submit(
      [this, due, now, changed, deposed](store::unit_of_work& db) {
        changed->clear();  // a job may run again (store/committer.hpp): nothing from an earlier run
        deposed->clear();
        for (const auto& entry : due) {
          // Not held any more (its lease expired and another instance claimed the shard, or it
          // was released): that instance fires it; nothing is recorded here.
          if (!store::holds_lease(db, holder_, entry.second)) {
            deposed->push_back(entry.first);
            continue;
          }
          if (auto change = store::record_due(db, policy_, entry.first, now)) changed->push_back(std::move(*change));
        }
      },
      [this, due, changed, deposed](std::exception_ptr error) {
        asio::post(executor_, [this, due, changed, deposed, error] {
          if (stopped_) return;
          if (error) {
            try {
              std::rethrow_exception(error);
            } catch (const store::firing_recorded_twice& e) {
              // Timers are fenced by their lease, so this is a bug; the database refused it, and the
              // requests are planned again from what is stored.
              observe::log(observe::log_level::error,
                           fmt::format("BUG: a firing was recorded twice and refused, nothing recorded: {}", e.what()),
                           "scheduler: ");
            } catch (const std::exception& e) {
              observe::log(observe::log_level::warning,
                           fmt::format("recording due SLA events failed, retrying: {}", e.what()), "scheduler: ");
            }
            for (const auto& entry : due)
              if (held_.contains(entry.second.shard)) plan(entry.first, time_.now() + retry_after);
          } else {
            if (!deposed->empty())
              observe::log(
                  observe::log_level::warning,
                  fmt::format("{} due request(s) not fired here: their timer shard is no longer held", deposed->size()),
                  "scheduler: ");
            for (const auto& change : *changed) {
              if (held_.contains(store::shard_of(change.request.id)))
                plan(change.request.id, engine::next_due(change.request));
              if (listener_ && !change.events.empty()) listener_(change);
            }
          }
          arm();
        });
      });
  arm();
}

}  // namespace switchboard::scheduler
