// Two requests released together (support/at_once.hpp).
#include "support/at_once.hpp"

#include <atomic>
#include <thread>

namespace switchboard::testing {

std::pair<http::client_response, http::client_response> at_once(
    const std::function<http::client_response(http::client&)>& send, http::client& to_a, http::client& to_b) {
  std::atomic<int> ready{0};
  http::client_response from_a;
  http::client_response from_b;
  const auto go = [&](http::client& c, http::client_response& answer) {
    ++ready;
    while (ready.load() < 2) std::this_thread::yield();
    answer = send(c);
  };
  std::thread first([&] { go(to_a, from_a); });
  std::thread second([&] { go(to_b, from_b); });
  first.join();
  second.join();
  return {from_a, from_b};
}

}  // namespace switchboard::testing
