// One timer for every SLA clock: the earliest pending warning or breach arms it.
#include "scheduler/scheduler.hpp"

#include "store/requests.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include <memory>

namespace switchboard::scheduler {
namespace asio = boost::asio;

namespace {
// After a failed write the due requests are tried again this much later.
constexpr std::chrono::seconds retry_after{5};
}  // namespace

scheduler::scheduler(asio::any_io_executor executor, store::committer& writer, const engine::policy& policy,
                     time_source time)
    : executor_(executor), writer_(writer), policy_(policy), time_(std::move(time)), timer_(executor) {}

void scheduler::load(store::read_session reader) {
  for (const auto& [id, at] : store::pending_firings(reader)) plan(id, at);
  arm();
}

void scheduler::track(const model::request& request) {
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
  auto changed = std::make_shared<std::vector<store::change>>();
  writer_.submit(
      [this, ids, now, changed](store::unit_of_work& db) {
        changed->clear();  // a job may run again (store/committer.hpp): nothing from an earlier run
        for (auto id : ids)
          if (auto change = store::record_due(db, policy_, id, now)) changed->push_back(std::move(*change));
      },
      [this, ids, changed](std::exception_ptr error) {
        asio::post(executor_, [this, ids, changed, error] {
          if (stopped_) return;
          if (error) {
            try {
              std::rethrow_exception(error);
            } catch (const std::exception& e) {
              fmt::print(stderr, "scheduler: recording due SLA events failed, retrying: {}\n", e.what());
            }
            for (auto id : ids) plan(id, time_.now() + retry_after);
          } else {
            for (const auto& change : *changed) {
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
