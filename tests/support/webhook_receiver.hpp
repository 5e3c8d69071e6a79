#pragma once
// A webhook receiver for tests against real servers' notifiers: listens on 127.0.0.1:0,
// answers each request (one connection at a time, each closed after its answer), keeps what it
// was sent, and counts each webhook-id. By default every answer is 204; a script may answer
// otherwise (a status and a Retry-After per request). With `hold_first`, the first request is
// recorded and then left unanswered until release(), so a test can kill its sender mid-send.
//
// Thread-safety: received(), hits(), release() and port() may be called from any thread; the
// script runs on the receiver's thread.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace switchboard::testing {

// One request the receiver was sent, with the Standard Webhooks headers and its answer.
struct webhook_hit {
  std::string target;
  std::string id;  // webhook-id
  std::string timestamp;
  std::string signature;
  std::string body;
  std::string content_type;
  unsigned answered = 0;
  std::chrono::steady_clock::time_point at;
};

struct webhook_answer {
  unsigned status = 204;
  std::string retry_after;  // the Retry-After header's value; none when empty
};

// Answers a request, given how many times its webhook-id has arrived (this one included).
using webhook_script = std::function<webhook_answer(const webhook_hit&, int attempt)>;

class webhook_receiver {
 public:
  explicit webhook_receiver(bool hold_first = false, webhook_script script = {});
  ~webhook_receiver();
  webhook_receiver(const webhook_receiver&) = delete;
  webhook_receiver& operator=(const webhook_receiver&) = delete;

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  // How many times each webhook-id arrived so far.
  std::map<std::string, int> received() const;
  // Every request so far, in order of arrival.
  std::vector<webhook_hit> hits() const;
  // Answers the held request (and every later one at once).
  void release();

 private:
  void serve();
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  webhook_script script_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::condition_variable released_;
  bool holding_ = false;
  std::map<std::string, int> received_;
  std::vector<webhook_hit> hits_;
  std::thread thread_;
};

}  // namespace switchboard::testing
