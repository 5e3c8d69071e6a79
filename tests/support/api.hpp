#pragma once
// Reading the API's JSON answers in integration tests.

#include "http/client.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace switchboard::testing {

// The answer's body as a JSON object (throws if it is not one).
boost::json::object json_of(const http::client_response& response);

// A valid filing body: a high-priority troubleshooting request from acme (production, premium)
// through the API, with this title.
std::string troubleshooting_filing(std::string_view title);

// Every stored request, newest first, following next_cursor across pages.
std::vector<boost::json::object> all_requests(http::client& client);

}  // namespace switchboard::testing
