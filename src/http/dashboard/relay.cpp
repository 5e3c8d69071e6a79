// Other instances' committed changes, from the store's change feed to this instance's dashboard.
#include "http/dashboard/relay.hpp"

#include "observe/log.hpp"
#include "store/port.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <random>

namespace switchboard::http::dashboard {
namespace asio = boost::asio;

relay::relay(asio::any_io_executor app, asio::any_io_executor workers, store::change_feed& feed,
             store::reader_pool& readers, std::string instance, handlers on)
    : app_(std::move(app)),
      workers_(std::move(workers)),
      feed_(feed),
      readers_(readers),
      instance_(std::move(instance)),
      on_(std::move(on)),
      socket_(app_),
      backoff_timer_(app_) {}

relay::~relay() {
  *alive_ = false;
  // The socket is libpq's: it must not be closed here.
  if (socket_.is_open()) socket_.release();
}

void relay::start() {
  stopped_ = false;
  socket_.assign(feed_.native_handle());
  // What arrived before the descriptor was watched is already in libpq's buffer, not the socket's.
  on_readable();
}

void relay::stop() {
  stopped_ = true;
  backoff_timer_.cancel();
  if (socket_.is_open()) socket_.release();  // cancels the wait, leaves the socket to libpq
}

void relay::watch() {
  socket_.async_wait(asio::posix::stream_descriptor::wait_read,
                     asio::bind_executor(app_, [this, alive = alive_](const boost::system::error_code& ec) {
                       if (!*alive || stopped_ || ec == asio::error::operation_aborted) return;
                       if (ec) return lost(ec.message());
                       on_readable();
                     }));
}

void relay::on_readable() {
  if (stopped_) return;
  std::vector<store::announcement> heard;
  try {
    heard = feed_.take();
  } catch (const std::exception& e) {
    return lost(e.what());
  }
  for (const auto& announced : heard) {
    if (!instance_.empty() && announced.origin == instance_) continue;
    pending_.insert(pending_.end(), announced.ranges.begin(), announced.ranges.end());
  }
  if (!reading_ && !pending_.empty()) read_next();
  watch();
}

void relay::read_next() {
  reading_ = true;
  std::vector<store::announced_range> batch(pending_.begin(), pending_.end());
  pending_.clear();
  asio::post(workers_, [this, alive = alive_, batch = std::move(batch)] {
    std::vector<store::change> changes;
    std::string failure;
    try {
      const auto db = readers_.acquire();
      for (const auto& range : batch)
        if (auto changed = store::read_announced(*db, range)) changes.push_back(std::move(*changed));
    } catch (const std::exception& e) {
      failure = e.what();
    }
    asio::dispatch(app_, [this, alive, changes = std::move(changes), failure = std::move(failure)] {
      if (!*alive || stopped_) return;
      reading_ = false;
      for (const auto& changed : changes) {
        ++relayed_;
        if (on_.changed) on_.changed(changed);
      }
      if (!failure.empty()) {
        observe::log(observe::log_level::warning,
                     fmt::format("other instances' changes cannot be read ({}); viewers resync", failure));
        if (on_.resync) on_.resync();
      }
      if (!pending_.empty()) read_next();
    });
  });
}

void relay::lost(const std::string& why) {
  if (stopped_) return;
  observe::log(observe::log_level::error,
               fmt::format("the session listening for other instances' changes was lost ({}); reconnecting", why));
  if (socket_.is_open()) socket_.release();
  backoff_ = std::chrono::milliseconds{50};
  try_reopen();
}

void relay::try_reopen() {
  if (stopped_) return;
  // Connecting blocks: on the worker pool, never on the app strand.
  asio::post(workers_, [this, alive = alive_] {
    bool ok = true;
    try {
      feed_.reopen();
    } catch (const std::exception&) {
      ok = false;  // the loss was logged once; each failed try is not
    }
    asio::dispatch(app_, [this, alive, ok] {
      if (*alive) on_reopened(ok);
    });
  });
}

void relay::on_reopened(bool ok) {
  if (stopped_) return;
  if (!ok) {
    thread_local std::minstd_rand jitter(std::random_device{}());
    const auto nap = std::chrono::duration_cast<std::chrono::milliseconds>(
        backoff_ * std::uniform_real_distribution<double>(0.8, 1.2)(jitter));
    backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds{2000});
    backoff_timer_.expires_after(nap);
    backoff_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
      if (!*alive || ec) return;
      try_reopen();
    });
    return;
  }
  ++reopened_;
  observe::log(
      observe::log_level::info,
      fmt::format("listening for other instances' changes again (backend {}); viewers resync", feed_.backend_pid()));
  socket_.assign(feed_.native_handle());
  // What was committed while nobody listened was announced to nobody: every viewer reloads.
  if (on_.resync) on_.resync();
  on_readable();
}

}  // namespace switchboard::http::dashboard
