// /v1/requests: filing requests (through group commit) and reading them back.
#include "http/api/api.hpp"

#include "http/api/common.hpp"

#include "model/json.hpp"
#include "store/requests.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>


namespace switchboard::http::api {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

asio::awaitable<response> create_request(context& ctx, const request& req) {
  auto body = read_json_body(req);
  if (auto* refused = std::get_if<response>(&body)) co_return std::move(*refused);
  auto parsed = model::parse_request_input(std::get<json::value>(body), ctx.tiers);
  if (auto* errors = std::get_if<std::vector<model::field_error>>(&parsed)) co_return invalid_fields(*errors);

  engine::file_request command{std::get<model::request_input>(std::move(parsed)), "api"};
  const auto now = ctx.clock();
  model::request created;
  co_await commit(ctx.writer, [&](SQLite::Database& db) {
    created = store::record_new_request(db, ctx.policy, command, now);
  });
  if (ctx.changed) ctx.changed(created);

  auto res = json_response(status::created, request_view(created, ctx.policy, now));
  res.set(beast_http::field::location, fmt::format("/v1/requests/{}", created.id));
  co_return res;
}

asio::awaitable<response> get_request(context& ctx, const route_match& match) {
  const auto& id_text = match.params.at("id");
  const auto id = parse_positive(id_text);
  auto found = id ? store::find_request(ctx.reader, *id) : std::nullopt;
  if (!found) co_return error_response(status::not_found, "not_found", fmt::format("no request with id {}", id_text));
  co_return json_response(status::ok, request_view(*found, ctx.policy, ctx.clock()));
}

asio::awaitable<response> list_events(context& ctx, const route_match& match) {
  const auto& id_text = match.params.at("id");
  const auto id = parse_positive(id_text);
  if (!id || !store::find_request(ctx.reader, *id))
    co_return error_response(status::not_found, "not_found", fmt::format("no request with id {}", id_text));
  json::array events;
  for (const auto& e : store::events_of(ctx.reader, *id))
    events.push_back(json::object{
        {"type", e.type}, {"at", model::format_instant(e.at)}, {"actor", e.actor}, {"data", e.data}});
  co_return json_response(status::ok, json::object{{"events", std::move(events)}});
}

asio::awaitable<response> act_on_request(context& ctx, const request& req, const route_match& match) {
  const auto& id_text = match.params.at("id");
  const auto id = parse_positive(id_text);
  if (!id) co_return error_response(status::not_found, "not_found", fmt::format("no request with id {}", id_text));
  auto parsed_body = read_json_body(req);
  if (auto* refused = std::get_if<response>(&parsed_body)) co_return std::move(*refused);
  const auto& body = std::get<json::value>(parsed_body);

  std::vector<model::field_error> errors;
  engine::act_on_request command;
  command.actor = "api";
  if (!body.is_object()) {
    errors.push_back({"", "the event must be a JSON object with type and message"});
  } else {
    for (const auto& [key, value] : body.as_object()) {
      if (key == "type") {
        const auto kind = value.is_string() ? engine::parse_action_kind(value.as_string()) : std::nullopt;
        if (kind)
          command.kind = *kind;
        else
          errors.push_back({"type", fmt::format("unknown event type {}; expected one of {}", json::serialize(value),
                                                engine::action_kind_names())});
      } else if (key == "message") {
        if (value.is_string())
          command.message = std::string(value.as_string());
        else
          errors.push_back({"message", "must be a string"});
      } else {
        errors.push_back({std::string(key), "unknown field; expected type and message"});
      }
    }
    if (!body.as_object().contains("type"))
      errors.push_back({"type", fmt::format("is required; expected one of {}", engine::action_kind_names())});
  }
  if (!errors.empty()) co_return invalid_fields(errors);

  const auto now = ctx.clock();
  store::action_outcome outcome;
  co_await commit(ctx.writer, [&](SQLite::Database& db) {
    outcome = store::record_action(db, ctx.policy, *id, command, now);
  });
  if (std::holds_alternative<store::not_found>(outcome))
    co_return error_response(status::not_found, "not_found", fmt::format("no request with id {}", id_text));
  if (const auto* refused = std::get_if<engine::refusal>(&outcome))
    co_return error_response(status::conflict, refused->code, refused->message);
  const auto& updated = std::get<model::request>(outcome);
  if (ctx.changed) ctx.changed(updated);
  co_return json_response(status::ok, request_view(updated, ctx.policy, now));
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
  const auto now = ctx.clock();
  for (const auto& r : page.requests) items.push_back(request_view(r, ctx.policy, now));
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
  routes.add(verb::post, "/v1/requests/{id}/events", [&ctx](const request& req, const route_match& match) {
    return act_on_request(ctx, req, match);
  });
  routes.add(verb::get, "/v1/requests/{id}/events", [&ctx](const request&, const route_match& match) {
    return list_events(ctx, match);
  });
  add_sla_routes(routes, ctx);
}

}  // namespace switchboard::http::api
