// Helpers for reading API answers in tests.
#include "support/api.hpp"

#include <boost/json.hpp>

namespace switchboard::testing {

boost::json::object json_of(const http::client_response& response) {
  return boost::json::parse(response.body).as_object();
}

std::string troubleshooting_filing(std::string_view title) {
  return boost::json::serialize(boost::json::object{
      {"kind", "troubleshooting"},
      {"customer",
       boost::json::object{{"id", "acme"}, {"name", "Acme Corp"}, {"stage", "production"}, {"tier", "premium"}}},
      {"title", title},
      {"body", "Queries take 30 s since Monday."},
      {"source", "api"},
      {"priority", "high"}});
}

std::vector<boost::json::object> all_requests(http::client& client) {
  std::vector<boost::json::object> requests;
  std::string target = "/v1/requests?limit=200";
  for (;;) {
    const auto page = json_of(client.get(target));
    for (const auto& r : page.at("requests").as_array()) requests.push_back(r.as_object());
    if (page.at("next_cursor").is_null()) return requests;
    target = "/v1/requests?limit=200&cursor=" + std::string(page.at("next_cursor").as_string());
  }
}

}  // namespace switchboard::testing
