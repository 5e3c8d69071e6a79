#pragma once
// A webhook receiver for tests against real servers' notifiers: listens on 127.0.0.1:0,
// answers 204 to every request (one connection at a time, each closed after its answer) and
// counts each webhook-id it was sent. With `hold_first`, the first request is counted and then
// left unanswered until release(), so a test can kill its sender mid-send.
//
// Thread-safety: received(), release() and port() may be called from any thread.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace switchboard::testing {

class webhook_receiver {
 public:
  explicit webhook_receiver(bool hold_first = false);
  ~webhook_receiver();
  webhook_receiver(const webhook_receiver&) = delete;
  webhook_receiver& operator=(const webhook_receiver&) = delete;

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  // How many times each webhook-id arrived so far.
  std::map<std::string, int> received() const;
  // Answers the held request (and every later one at once).
  void release();

 private:
  void serve();
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::condition_variable released_;
  bool holding_ = false;
  std::map<std::string, int> received_;
  std::thread thread_;
};

}  // namespace switchboard::testing
