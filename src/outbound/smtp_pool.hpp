#pragma once
// SMTP submissions off the caller's threads: submit (smtp.hpp) blocks for up to its timeout, so
// the delivery worker hands each message to this pool and is told the verdict.
//
// Thread-safety: post may be called from any thread. Submissions run one at a time, in the order
// posted, on the pool's own thread; `done` is called there, so a caller with a strand posts the
// verdict back to it. The destructor lets queued submissions finish (each bounded by
// smtp_settings::timeout) and joins the thread.

#include "outbound/smtp.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace switchboard::outbound {

class smtp_pool {
 public:
  explicit smtp_pool(smtp_settings settings);
  ~smtp_pool();
  smtp_pool(const smtp_pool&) = delete;
  smtp_pool& operator=(const smtp_pool&) = delete;

  // Queues one submission; the arguments are copied. `done` must not throw.
  void post(std::string envelope_from, std::vector<std::string> recipients, std::string message,
            std::function<void(smtp_verdict)> done);

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace switchboard::outbound
