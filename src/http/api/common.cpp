// Helpers shared by the API handlers.
#include "http/api/common.hpp"

#include "http/json_body.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <memory>

namespace switchboard::http::api {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

bool is_json(const request& req) {
  const std::string_view type = req[beast_http::field::content_type];
  auto media = type.substr(0, type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  constexpr std::string_view expected = "application/json";
  return std::equal(media.begin(), media.end(), expected.begin(), expected.end(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

}  // namespace

asio::awaitable<void> commit(store::committer& writer, store::committer::job work) {
  auto executor = co_await asio::this_coro::executor;
  // use_awaitable rethrows a completion's leading exception_ptr in the coroutine.
  co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr)>(
      [&writer, executor](auto handler, store::committer::job job) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        writer.submit(std::move(job), [shared, executor](std::exception_ptr error) {
          asio::post(executor, [shared, error]() mutable { std::move (*shared)(error); });
        });
      },
      asio::use_awaitable, std::move(work));
}

std::variant<json::value, response> read_json_body(const request& req) {
  if (!is_json(req))
    return error_response(status::unsupported_media_type, "unsupported_media_type",
                          "send the body as JSON with Content-Type: application/json");
  auto parsed = parse_json_body(req.body());
  if (auto* problem = std::get_if<std::string>(&parsed))
    return error_response(status::bad_request, "malformed_json", fmt::format("the body is not valid JSON: {}", *problem));
  return std::get<json::value>(std::move(parsed));
}

response invalid_fields(const std::vector<model::field_error>& errors, std::string_view code,
                        std::string_view message) {
  std::string summary;
  json::array fields;
  for (const auto& e : errors) {
    summary += fmt::format("{}{} {}", summary.empty() ? "" : "; ", e.field, e.message);
    fields.push_back(json::object{{"field", e.field}, {"message", e.message}});
  }
  return error_response(status::unprocessable_entity, code, message.empty() ? std::string_view(summary) : message,
                        std::move(fields));
}

std::optional<std::int64_t> parse_positive(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

}  // namespace switchboard::http::api
