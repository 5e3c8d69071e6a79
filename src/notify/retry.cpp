// Backoff, jitter and Retry-After.
#include "notify/retry.hpp"

#include <date/date.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>
#include <string>

namespace switchboard::notify {

verdict classify(int status) {
  if (status >= 200 && status <= 299) return verdict::delivered;
  if (status == 410) return verdict::gone;
  return verdict::retry;
}

std::chrono::seconds backoff_delay(const backoff& policy, int attempt, double unit) {
  const double base = static_cast<double>(policy.initial.count()) * std::pow(2.0, std::max(0, attempt - 1));
  const double capped = std::min(base, static_cast<double>(policy.max.count()));
  const double factor = 1.0 - policy.jitter + 2.0 * policy.jitter * std::clamp(unit, 0.0, 1.0);
  return std::chrono::seconds{std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(capped * factor)))};
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc{} || end != value.data() + value.size()) return std::nullopt;
    return std::chrono::seconds{seconds};
  }
  // IMF-fixdate, the form RFC 9110 requires senders to use.
  std::istringstream in{std::string(value)};
  date::sys_seconds at;
  in >> date::parse("%a, %d %b %Y %H:%M:%S GMT", at);
  if (in.fail()) return std::nullopt;
  const auto delta = std::chrono::ceil<std::chrono::seconds>(at - now);
  return std::max(delta, std::chrono::seconds{0});
}

std::chrono::seconds next_delay(std::chrono::seconds backoff_delay, std::optional<std::chrono::seconds> retry_after,
                                std::chrono::seconds cap) {
  if (!retry_after) return backoff_delay;
  return std::max(backoff_delay, std::min(*retry_after, cap));
}

}  // namespace switchboard::notify
