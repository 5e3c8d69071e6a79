// JSON responses, the one error body shape, and what the server checks of a message's framing and logs of its target.
#include "http/message.hpp"

#include "http/router.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace switchboard::http {

void append_json(std::string& out, const boost::json::value& value) {
  // boost::json::serialize grows its string by resize, which zero-fills every byte before it is
  // written, and starts again from a small buffer for every answer: by perf, more than half of a
  // 130 KB page's serialising (issue 11). Chunks through a buffer on the stack append instead.
  boost::json::serializer writer;
  writer.reset(&value);
  char chunk[16 * 1024];
  while (!writer.done()) {
    const auto written = writer.read(chunk, sizeof chunk);
    out.append(written.data(), written.size());
  }
}

response json_text_response(status code, std::string body) {
  response res{code, 11};
  res.set(beast_http::field::content_type, "application/json");
  res.body() = std::move(body);
  res.body() += '\n';
  res.prepare_payload();
  return res;
}

response json_response(status code, const boost::json::value& body) {
  std::string text;
  text.reserve(1024);
  append_json(text, body);
  return json_text_response(code, std::move(text));
}

response error_response(status code, std::string_view error_code, std::string_view message,
                        boost::json::array fields) {
  boost::json::object error{{"code", error_code}, {"message", message}};
  if (!fields.empty()) error["fields"] = std::move(fields);
  return json_response(code, boost::json::object{{"error", std::move(error)}});
}

std::optional<response> refuse_transfer_coding(const beast_http::request_header<>& header) {
  auto [first, last] = header.equal_range(beast_http::field::transfer_encoding);
  if (first == last) return std::nullopt;
  std::vector<std::string> codings;
  for (auto it = first; it != last; ++it)
    for (auto coding : beast_http::token_list{it->value()}) codings.emplace_back(coding);
  if (codings.size() == 1 && boost::beast::iequals(codings.front(), "chunked")) return std::nullopt;
  std::string listed;
  for (auto it = first; it != last; ++it) listed += (listed.empty() ? "" : ", ") + std::string(it->value());
  return error_response(status::not_implemented, "unsupported_transfer_encoding",
                        fmt::format("Transfer-Encoding \"{}\" is not supported; send the body with Content-Length "
                                    "or Transfer-Encoding: chunked",
                                    listed));
}

bool is_malformed_body(const boost::system::error_code& ec) {
  // Beast's parse errors share one category; of them, these two mean the stream ended early.
  return ec && ec.category() == make_error_code(beast_http::error::bad_chunk).category() &&
         ec != beast_http::error::end_of_stream && ec != beast_http::error::partial_message &&
         ec != beast_http::error::body_limit;
}

std::string redacted_target(std::string_view target) {
  const auto question = target.find('?');
  if (question == std::string_view::npos) return std::string(target);
  static constexpr std::array<std::string_view, 10> names{
      "token", "access_token", "key", "api_key", "apikey", "signature", "sig", "password", "secret", "auth"};
  static constexpr std::array<std::string_view, 3> suffixes{"_token", "_key", "_secret"};
  auto sensitive = [](std::string_view raw) {
    std::string name;
    if (!url_decode(raw, name, true)) name = raw;
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return std::find(names.begin(), names.end(), name) != names.end() ||
           std::any_of(suffixes.begin(), suffixes.end(), [&](std::string_view s) { return name.ends_with(s); });
  };
  std::string out(target.substr(0, question + 1));
  auto query = target.substr(question + 1);
  for (bool first = true; ; first = false) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    if (!first) out += '&';
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && sensitive(pair.substr(0, eq)))
      out.append(pair.substr(0, eq + 1)).append("REDACTED");
    else
      out.append(pair);
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return out;
}

}  // namespace switchboard::http
