#pragma once
// One request's right to commit, shared by the server and the request's handler, so that the
// answer to a request that ran out of time tells the truth. At handler_timeout the server
// abandons the request (503 handler_timeout) only if none of its writes has begun; a write
// begins (api::commit, on the writer thread, inside the job) only if the request was not
// abandoned. So a 503 handler_timeout never leaves the request's work committed, and a request
// whose commit began before the deadline is answered with its real outcome once it is durable.
//
// Thread-safety: any thread; one atomic.

#include <atomic>
#include <stdexcept>

namespace switchboard::http {

class commit_gate {
 public:
  // Called by a write before it changes anything: false when the request was abandoned (the
  // write must then change nothing). A request may begin several writes.
  bool begin_commit() {
    int expected = running;
    return state_.compare_exchange_strong(expected, committing) || expected == committing;
  }

  // Called by the server at the handler deadline: false when a write has begun (wait for the
  // handler's answer instead).
  bool abandon() {
    int expected = running;
    return state_.compare_exchange_strong(expected, abandoned) || expected == abandoned;
  }

 private:
  static constexpr int running = 0;
  static constexpr int committing = 1;
  static constexpr int abandoned = 2;
  std::atomic<int> state_{running};
};

// What a write of an abandoned request throws: the client was already told 503.
struct request_abandoned : std::runtime_error {
  request_abandoned() : std::runtime_error("the request was abandoned at its handler deadline; nothing was written") {}
};

}  // namespace switchboard::http
