// /v1/requests: filing requests (through group commit) and reading them back.
#include "http/api/api.hpp"

#include "model/json.hpp"
#include "store/requests.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <charconv>

namespace switchboard::http::api {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Runs `work` on the writer thread and resumes the coroutine on its own executor once the
// batch holding it is committed. Rethrows the job's error (use_awaitable does, for a
// completion whose first argument is an exception_ptr).
asio::awaitable<void> commit(store::committer& writer, store::committer::job work) {
  auto executor = co_await asio::this_coro::executor;
  co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr)>(
      [&writer, executor](auto handler, store::committer::job job) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        writer.submit(std::move(job), [shared, executor](std::exception_ptr error) {
          asio::post(executor, [shared, error]() mutable { std::move (*shared)(error); });
        });
      },
      asio::use_awaitable, std::move(work));
}

bool is_json(const request& req) {
  const std::string_view type = req[beast_http::field::content_type];
  const auto semicolon = type.find(';');
  auto media = type.substr(0, semicolon);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return media.size() == 16 && std::equal(media.begin(), media.end(), "application/json", [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

json::array field_errors(const std::vector<model::field_error>& errors) {
  json::array fields;
  for (const auto& e : errors) fields.push_back(json::object{{"field", e.field}, {"message", e.message}});
  return fields;
}

response invalid_fields(const std::vector<model::field_error>& errors) {
  std::string summary;
  for (const auto& e : errors) summary += (summary.empty() ? "" : "; ") + e.field + " " + e.message;
  return error_response(status::unprocessable_entity, "invalid_fields", summary, field_errors(errors));
}

std::optional<std::int64_t> parse_positive(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

asio::awaitable<response> create_request(context& ctx, const request& req) {
  if (!is_json(req))
    co_return error_response(status::unsupported_media_type, "unsupported_media_type",
                             "send the request as JSON with Content-Type: application/json");
  json::error_code parse_error;
  auto body = json::parse(req.body(), parse_error);
  if (parse_error)
    co_return error_response(status::bad_request, "malformed_json",
                             fmt::format("the body is not valid JSON: {}", parse_error.message()));
  auto parsed = model::parse_request_input(body, ctx.tiers);
  if (auto* errors = std::get_if<std::vector<model::field_error>>(&parsed)) co_return invalid_fields(*errors);

  engine::file_request command{std::get<model::request_input>(std::move(parsed)), "api"};
  const auto now = ctx.clock();
  model::request created;
  co_await commit(ctx.writer, [&](SQLite::Database& db) {
    created = store::record_new_request(db, ctx.policy, command, now);
  });

  auto res = json_response(status::created, model::to_json(created));
  res.set(beast_http::field::location, fmt::format("/v1/requests/{}", created.id));
  co_return res;
}

asio::awaitable<response> get_request(context& ctx, const route_match& match) {
  const auto& id_text = match.params.at("id");
  const auto id = parse_positive(id_text);
  auto found = id ? store::find_request(ctx.reader, *id) : std::nullopt;
  if (!found) co_return error_response(status::not_found, "not_found", fmt::format("no request with id {}", id_text));
  co_return json_response(status::ok, model::to_json(*found));
}

asio::awaitable<response> list_requests(context& ctx, const route_match& match) {
  store::request_filter filter;
  std::vector<model::field_error> errors;
  for (const auto& [key, value] : match.query) {
    if (key == "team") {
      filter.owner = model::parse_team(value);
      if (!filter.owner)
        errors.push_back({key, fmt::format("unknown team \"{}\"; expected one of {}", value, model::team_names())});
    } else if (key == "status") {
      filter.status = model::parse_request_status(value);
      if (!filter.status)
        errors.push_back(
            {key, fmt::format("unknown status \"{}\"; expected one of {}", value, model::request_status_names())});
    } else if (key == "customer") {
      filter.customer_id = value;
    } else if (key == "limit") {
      const auto limit = parse_positive(value);
      if (!limit || *limit > 200)
        errors.push_back({key, "must be a whole number from 1 to 200"});
      else
        filter.limit = static_cast<int>(*limit);
    } else if (key == "cursor") {
      filter.before = parse_positive(value);
      if (!filter.before) errors.push_back({key, "is not a cursor this API returned"});
    } else {
      errors.push_back({key, "unknown parameter; expected team, status, customer, limit or cursor"});
    }
  }
  if (!errors.empty()) co_return invalid_fields(errors);

  const auto page = store::list_requests(ctx.reader, filter);
  json::array items;
  for (const auto& r : page.requests) items.push_back(model::to_json(r));
  json::value next = nullptr;
  if (page.next_before) next = std::to_string(*page.next_before);
  co_return json_response(status::ok, json::object{{"requests", std::move(items)}, {"next_cursor", next}});
}

}  // namespace

void add_routes(router& routes, context& ctx) {
  using verb = beast_http::verb;
  routes.add(verb::get, "/healthz", [](const request&, const route_match&) -> asio::awaitable<response> {
    co_return json_response(status::ok, json::object{{"status", "ok"}});
  });
  routes.add(verb::post, "/v1/requests", [&ctx](const request& req, const route_match&) {
    return create_request(ctx, req);
  });
  routes.add(verb::get, "/v1/requests", [&ctx](const request&, const route_match& match) {
    return list_requests(ctx, match);
  });
  routes.add(verb::get, "/v1/requests/{id}", [&ctx](const request&, const route_match& match) {
    return get_request(ctx, match);
  });
}

}  // namespace switchboard::http::api
