#pragma once
// When to try a failed delivery again: exponential backoff with jitter, Retry-After, and what an
// HTTP status means for the delivery.
//
// Thread-safety: pure functions.

#include <chrono>
#include <optional>
#include <string_view>

namespace switchboard::notify {

// What an attempt's answer means: only 2xx delivers; 410 Gone disables the endpoint; anything
// else (3xx included: redirects are not followed) is retried.
enum class verdict { delivered, retry, gone };
verdict classify(int status);

struct backoff {
  std::chrono::seconds initial{5};
  std::chrono::seconds max{3600};
  double jitter = 0.1;  // ± this fraction of the delay
};

// The delay after failed attempt number `attempt` (1-based): initial * 2^(attempt-1), capped at
// max, then scaled by a factor in [1 - jitter, 1 + jitter] picked by `unit` in [0, 1), rounded up
// to whole seconds (at least 1 s).
std::chrono::seconds backoff_delay(const backoff& policy, int attempt, double unit);

// A Retry-After header: delay-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT"),
// relative to `now`. nullopt when absent or malformed; a date in the past gives 0 s.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

// The delay to wait: the backoff, or Retry-After when it asks for longer (Retry-After is capped
// at `cap` so a hostile answer cannot park a delivery forever).
std::chrono::seconds next_delay(std::chrono::seconds backoff_delay, std::optional<std::chrono::seconds> retry_after,
                                std::chrono::seconds cap);

}  // namespace switchboard::notify
