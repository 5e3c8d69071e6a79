#pragma once
// Relays other instances' committed changes to this instance's dashboard viewers (issue 12 plan
// §4 D5): on PostgreSQL every instance announces what it commits (store/change_feed.hpp), and
// each one listens. The feed's socket is watched with an Asio descriptor on the app strand;
// when it is readable, the announcements are taken and this instance's own are skipped (they
// were published when committed). The other ranges are read back on the worker pool, a batch at
// a time with one read session from `readers` (reads never hold up the app strand, which runs
// the scheduler and the hub), and each change is then handed to `changed` on the app strand, in
// the order announced (commit order), which publishes it to the hub and has the scheduler track
// the request, exactly as for a change of this instance's own.
//
// A lost listen session is reopened on the worker pool (connecting blocks), with backoff: 50 ms
// doubling to 2 s, +-20 % jitter, for as long as it takes; the loss and the recovery are logged
// once each. Announcements sent while it was down are lost, so once it listens again `resync`
// runs (the hub tells every viewer to reload its snapshot). A batch that cannot be read is a
// gap too: `resync` as well.
//
// Thread-safety: construct, start and stop on the app strand (`app`), which runs every handler.
// The feed is the relay's alone while it runs. Destroy it after the worker pool has been joined
// (the pool's tasks use it).

#include "store/change_feed.hpp"
#include "store/reader_pool.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>

namespace switchboard::http::dashboard {

class relay {
 public:
  struct handlers {
    std::function<void(const store::change&)> changed;  // another instance's committed change
    std::function<void()> resync;                        // announcements may have been lost
  };

  // `instance`: this instance's id, as its writer announces it (its own changes are skipped).
  relay(boost::asio::any_io_executor app, boost::asio::any_io_executor workers, store::change_feed& feed,
        store::reader_pool& readers, std::string instance, handlers on);
  ~relay();
  relay(const relay&) = delete;
  relay& operator=(const relay&) = delete;

  // Starts watching the feed (and takes what it already holds).
  void start();
  // Stops watching; a reopen under way finishes on the worker pool and is then ignored.
  void stop();

  // Other instances' changes relayed, and times the listen session was reopened (for tests, logs).
  std::uint64_t relayed() const { return relayed_; }
  std::uint64_t reopened() const { return reopened_; }

 private:
  void watch();
  void on_readable();
  void read_next();  // reads the pending ranges on the worker pool, then hands them on
  void lost(const std::string& why);
  void try_reopen();
  void on_reopened(bool ok);

  boost::asio::any_io_executor app_;
  boost::asio::any_io_executor workers_;
  store::change_feed& feed_;
  store::reader_pool& readers_;
  std::deque<store::announced_range> pending_;  // announced, not yet read (in commit order)
  bool reading_ = false;
  std::string instance_;
  handlers on_;
  boost::asio::posix::stream_descriptor socket_;
  boost::asio::steady_timer backoff_timer_;
  std::chrono::milliseconds backoff_{50};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool stopped_ = false;
  std::uint64_t relayed_ = 0;
  std::uint64_t reopened_ = 0;
};

}  // namespace switchboard::http::dashboard
