// Matching request targets against the route table.
#include "http/router.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace switchboard::http {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    segments.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

// Decodes `query` into `out`; a name given more than once goes into `repeated` (once, in the
// order first repeated) and keeps its first value. false on a bad percent-escape.
bool parse_query(std::string_view query, std::map<std::string, std::string, std::less<>>& out,
                 std::vector<std::string>& repeated) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string key, value;
    if (!url_decode(pair.substr(0, eq), key, true)) return false;
    if (eq != std::string_view::npos && !url_decode(pair.substr(eq + 1), value, true)) return false;
    const bool first = out.try_emplace(key, std::move(value)).second;
    if (!first && std::find(repeated.begin(), repeated.end(), key) == repeated.end()) repeated.push_back(std::move(key));
  }
  return true;
}

// 422 naming each parameter given more than once: every parameter of this API takes one value,
// and taking the first or the last of `tz=UTC&tz=Europe/Paris` would answer a question the
// client may not have meant.
response refuse_repeated(const std::vector<std::string>& repeated) {
  boost::json::array fields;
  std::string names;
  for (const auto& name : repeated) {
    fields.push_back(boost::json::object{{"field", name}, {"message", "given more than once; it takes one value"}});
    names += (names.empty() ? "" : ", ") + name;
  }
  return error_response(status::unprocessable_entity, "invalid_fields",
                        fmt::format("query parameter{} given more than once: {}; each takes one value",
                                    repeated.size() == 1 ? "" : "s", names),
                        std::move(fields));
}

}  // namespace

bool url_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  auto hex = [](char h) -> int {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int high = hex(in[i + 1]), low = hex(in[i + 2]);
      if (high < 0 || low < 0) return false;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += c;
    }
  }
  return true;
}

void router::add(beast_http::verb method, std::string pattern, route_handler handler, route_options options) {
  auto segments = split_path(pattern);
  for (auto& existing : routes_) {
    if (existing.segments == segments) {
      existing.handlers[method] = std::move(handler);
      existing.options[method] = std::move(options);
      return;
    }
  }
  routes_.push_back(
      {std::move(pattern), std::move(segments), {{method, std::move(handler)}}, {{method, std::move(options)}}});
}

void router::set_options(beast_http::verb method, std::string_view pattern, route_options options) {
  const auto segments = split_path(pattern);
  for (auto& existing : routes_)
    if (existing.segments == segments && existing.handlers.contains(method)) {
      existing.options[method] = std::move(options);
      return;
    }
  throw std::logic_error(fmt::format("no route {} {} to set options on", std::string_view(beast_http::to_string(method)),
                                     pattern));
}

std::vector<std::pair<beast_http::verb, std::string>> router::patterns() const {
  std::vector<std::pair<beast_http::verb, std::string>> out;
  for (const auto& candidate : routes_) {
    std::string pattern;
    for (const auto& segment : candidate.segments) pattern += "/" + segment;
    for (const auto& entry : candidate.handlers) out.emplace_back(entry.first, pattern);
  }
  return out;
}

std::variant<route_target, response> router::resolve(const request_header& header, std::string_view* pattern) const {
  const std::string_view target = header.target();
  const auto question = target.find('?');
  const auto path = target.substr(0, question);

  route_match match;
  std::vector<std::string> repeated;
  if (question != std::string_view::npos && !parse_query(target.substr(question + 1), match.query, repeated))
    return error_response(status::bad_request, "malformed_query", "the query string has a bad percent-escape");

  // The path's segments as split_path makes them, walked in place: resolving runs for every
  // request, and a vector of strings per request was an allocation for nothing (issue 11).
  const std::size_t segment_count = path.empty() ? 0 : 1 + std::count(path.begin() + 1, path.end(), '/');
  for (const auto& candidate : routes_) {
    if (candidate.segments.size() != segment_count) continue;
    route_match attempt = match;
    bool matches = true;
    std::size_t start = 1;
    for (std::size_t i = 0; i < segment_count && matches; ++i) {
      auto end = path.find('/', start);
      if (end == std::string_view::npos) end = path.size();
      const auto segment = path.substr(start, end - start);
      start = end + 1;
      const auto& expected = candidate.segments[i];
      if (expected.size() > 2 && expected.front() == '{' && expected.back() == '}') {
        std::string decoded;
        matches = url_decode(segment, decoded, false) && !decoded.empty();
        attempt.params[expected.substr(1, expected.size() - 2)] = decoded;
      } else {
        matches = expected == segment;
      }
    }
    if (!matches) continue;
    if (pattern != nullptr) *pattern = candidate.pattern;

    auto handler = candidate.handlers.find(header.method());
    if (handler == candidate.handlers.end()) {
      std::string allow;
      for (const auto& [verb, unused] : candidate.handlers)
        allow += (allow.empty() ? "" : ", ") + std::string(beast_http::to_string(verb));
      auto res = error_response(status::method_not_allowed, "method_not_allowed",
                                fmt::format("{} is not allowed on {}; allowed: {}",
                                            std::string_view(header.method_string()), path, allow));
      res.set(beast_http::field::allow, allow);
      return res;
    }
    const auto& options = candidate.options.at(header.method());
    if (options.before_body)
      if (auto refused = options.before_body(header)) return std::move(*refused);
    // After the credentials a header carries are checked: a stranger learns nothing from it.
    if (!repeated.empty()) return refuse_repeated(repeated);
    return route_target{&handler->second, std::move(attempt), &options, candidate.pattern};
  }
  return error_response(status::not_found, "not_found", fmt::format("no such resource: {}", path));
}

boost::asio::awaitable<response> router::dispatch(const request& req) const {
  auto resolved = resolve(req);
  if (auto* refused = std::get_if<response>(&resolved)) co_return std::move(*refused);
  const auto& target = std::get<route_target>(resolved);
  co_return co_await (*target.handler)(req, target.match);
}

}  // namespace switchboard::http
