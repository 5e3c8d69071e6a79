#pragma once
// Sending the same request to two servers at the same moment, for the tests of de-duplication
// across instances (issue 12 D2): two threads, released together.

#include "http/client.hpp"

#include <functional>
#include <utility>

namespace switchboard::testing {

// Calls `send` with `to_a` and with `to_b` on two threads that start together; returns both
// answers, `to_a`'s first.
std::pair<http::client_response, http::client_response> at_once(
    const std::function<http::client_response(http::client&)>& send, http::client& to_a, http::client& to_b);

}  // namespace switchboard::testing
