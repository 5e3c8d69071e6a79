#pragma once
// A route table: paths with {name} segments, one handler per method. Tells 404 (no such
// path) from 405 (path known, method not: with an Allow header).

#include "http/message.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace switchboard::http {

struct route_match {
  std::map<std::string, std::string, std::less<>> params;  // from {name} segments, decoded
  std::map<std::string, std::string, std::less<>> query;   // decoded; a repeated key keeps its last value
};

using route_handler = std::function<boost::asio::awaitable<response>(const request&, const route_match&)>;

class router {
 public:
  // pattern: "/v1/requests/{id}"; method: beast_http::verb.
  void add(beast_http::verb method, std::string pattern, route_handler handler);

  boost::asio::awaitable<response> dispatch(const request& req) const;

 private:
  struct route {
    std::vector<std::string> segments;
    std::map<beast_http::verb, route_handler> handlers;
  };
  std::vector<route> routes_;
};

// Percent-decodes a URL component ('+' as space in queries). Returns false on a bad escape.
bool url_decode(std::string_view in, std::string& out, bool plus_is_space);

}  // namespace switchboard::http
