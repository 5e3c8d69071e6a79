#include "notify/retry.hpp"

#include <doctest/doctest.h>

using namespace switchboard;
using std::chrono::seconds;

TEST_SUITE("notify::retry") {
  TEST_CASE("only 2xx delivers, 410 disables, everything else is retried") {
    CHECK(notify::classify(200) == notify::verdict::delivered);
    CHECK(notify::classify(204) == notify::verdict::delivered);
    CHECK(notify::classify(299) == notify::verdict::delivered);
    CHECK(notify::classify(301) == notify::verdict::retry);
    CHECK(notify::classify(302) == notify::verdict::retry);
    CHECK(notify::classify(400) == notify::verdict::retry);
    CHECK(notify::classify(410) == notify::verdict::gone);
    CHECK(notify::classify(429) == notify::verdict::retry);
    CHECK(notify::classify(500) == notify::verdict::retry);
    CHECK(notify::classify(503) == notify::verdict::retry);
  }

  TEST_CASE("exponential backoff stays within ±10 % jitter and the cap") {
    const notify::backoff policy{seconds{10}, seconds{600}, 0.1};
    for (int attempt = 1; attempt <= 12; ++attempt) {
      const double base = std::min(10.0 * (1 << (attempt - 1)), 600.0);
      for (double unit : {0.0, 0.25, 0.5, 0.75, 0.999999}) {
        const auto delay = notify::backoff_delay(policy, attempt, unit);
        CHECK(delay.count() >= static_cast<long>(base * 0.9));
        CHECK(delay.count() <= static_cast<long>(base * 1.1) + 1);
      }
    }
    CHECK(notify::backoff_delay(policy, 1, 0.5) == seconds{10});
    CHECK(notify::backoff_delay(policy, 2, 0.5) == seconds{20});
    CHECK(notify::backoff_delay(policy, 3, 0.5) == seconds{40});
    CHECK(notify::backoff_delay(policy, 30, 0.5) == seconds{600});
    CHECK(notify::backoff_delay(policy, 1, 0.0) == seconds{9});
    CHECK(notify::backoff_delay(policy, 1, 0.999999) == seconds{11});
    // Never below one second, whatever the jitter.
    CHECK(notify::backoff_delay({seconds{1}, seconds{1}, 0.5}, 1, 0.0) == seconds{1});
  }

  TEST_CASE("Retry-After: delay-seconds and HTTP-dates") {
    const auto now = std::chrono::sys_seconds{seconds{1445412480}};  // Wed, 21 Oct 2015 07:28:00 GMT
    CHECK(notify::parse_retry_after("120", now) == seconds{120});
    CHECK(notify::parse_retry_after(" 1 ", now) == seconds{1});
    CHECK(notify::parse_retry_after("0", now) == seconds{0});
    CHECK(notify::parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now) == seconds{120});
    CHECK(notify::parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now) == seconds{0});  // past
    CHECK_FALSE(notify::parse_retry_after("", now));
    CHECK_FALSE(notify::parse_retry_after("-5", now));
    CHECK_FALSE(notify::parse_retry_after("1.5", now));
    CHECK_FALSE(notify::parse_retry_after("soon", now));
    CHECK_FALSE(notify::parse_retry_after("99999999999999999999999", now));
  }

  TEST_CASE("Retry-After wins when it asks for longer, within the cap") {
    CHECK(notify::next_delay(seconds{5}, std::nullopt, seconds{100}) == seconds{5});
    CHECK(notify::next_delay(seconds{5}, seconds{1}, seconds{100}) == seconds{5});
    CHECK(notify::next_delay(seconds{5}, seconds{30}, seconds{100}) == seconds{30});
    CHECK(notify::next_delay(seconds{5}, seconds{1000000}, seconds{100}) == seconds{100});
  }
}
