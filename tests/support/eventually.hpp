#pragma once
// Waiting on a condition in tests against real servers: polls `condition` every 20 ms until it
// holds or `within` passes, so a test waits no longer than it must and never sleeps blindly.
//
// Thread-safety: calls `condition` on the caller's thread only.

#include <chrono>
#include <thread>

namespace switchboard::testing {

// True once `condition()` held; false when `within` passed first.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds within = std::chrono::seconds{30}) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return true;
}

}  // namespace switchboard::testing
