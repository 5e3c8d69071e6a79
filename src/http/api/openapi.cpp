#include "http/api/openapi.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <stdexcept>

namespace switchboard::http::openapi {

namespace {

// The methods an OpenAPI path item may hold (OAS 3.1 §4.8.9), as the router spells them.
constexpr std::string_view path_item_methods[] = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

}  // namespace

std::vector<std::string> compare(const std::vector<std::pair<beast_http::verb, std::string>>& routes,
                                 std::string_view document_text) {
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(document_text, ec);
  if (ec || !parsed.is_object()) throw std::invalid_argument("the OpenAPI document is not a JSON object");
  const auto* paths = parsed.as_object().if_contains("paths");
  if (!paths || !paths->is_object()) throw std::invalid_argument("the OpenAPI document has no `paths` object");

  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : paths->as_object()) {
    if (!item.is_object()) continue;
    for (const auto method : path_item_methods)
      if (item.as_object().contains(method)) documented.emplace(std::string(path), upper(method));
  }
  std::set<std::pair<std::string, std::string>> routed;
  for (const auto& [method, pattern] : routes) routed.emplace(pattern, std::string(beast_http::to_string(method)));

  std::vector<std::string> out;
  for (const auto& [path, method] : routed)
    if (!documented.contains({path, method}))
      out.push_back(fmt::format("in the router, not in the document: {} {}", method, path));
  for (const auto& [path, method] : documented)
    if (!routed.contains({path, method}))
      out.push_back(fmt::format("in the document, not in the router: {} {}", method, path));
  std::sort(out.begin(), out.end());
  return out;
}

void add_routes(router& routes) {
  route_options options;
  options.run_inline = true;  // a constant string: no hop to another thread
  routes.add(
      beast_http::verb::get, "/openapi.json",
      [](const request&, const route_match&) -> boost::asio::awaitable<response> {
        co_return json_text_response(status::ok, std::string(document()));
      },
      options);
}

}  // namespace switchboard::http::openapi
