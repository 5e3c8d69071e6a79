// The delivery log of the outbox, webhooks and messages (any role may read it), per request too,
// and redelivery (admin, head_of_cs).
#include "http/api/deliveries.hpp"

#include "http/api/common.hpp"
#include "http/auth.hpp"
#include "codec/json.hpp"
#include "store/messages.hpp"
#include "store/outbox.hpp"
#include "store/requests.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace switchboard::http::api {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

json::value optional_int(const std::optional<int>& value) { return value ? json::value(*value) : json::value(nullptr); }

json::object delivery_view(store::read_session db, const store::delivery& d, bool with_payload) {
  json::array attempts;
  for (const auto& a : store::attempts_of(db, d.id))
    attempts.push_back(json::object{{"attempt", a.attempt},
                                    {"at", model::format_instant(a.at)},
                                    {"status", optional_int(a.status)},
                                    {"error", a.error.empty() ? json::value(nullptr) : json::value(a.error)},
                                    {"duration_ms", a.duration_ms}});
  json::object view{
      {"id", d.id},
      {"webhook_id", d.webhook_id},
      {"subscription", d.subscription},
      {"event_type", d.event_type},
      {"event_id", d.event_seq},
      {"request_id", d.request_id ? json::value(*d.request_id) : json::value(nullptr)},
      {"state", store::to_string(d.state)},
      {"attempts", d.attempts},
      {"created_at", model::format_instant(d.created_at)},
      {"next_attempt_at",
       d.state == store::delivery_state::pending ? json::value(model::format_instant(d.next_attempt_at)) : nullptr},
      {"last_status", optional_int(d.last_status)},
      {"last_error", d.last_error.empty() ? json::value(nullptr) : json::value(d.last_error)},
      {"delivered_at", d.delivered_at ? json::value(model::format_instant(*d.delivered_at)) : nullptr},
      {"channel", d.channel},
      {"purpose", d.purpose},
      {"recipient", d.recipient.empty() ? json::value(nullptr) : json::value(d.recipient)},
      {"external_id", d.external_id.empty() ? json::value(nullptr) : json::value(d.external_id)},
      {"attempt_log", std::move(attempts)}};
  if (with_payload) {
    json::error_code ec;
    auto payload = json::parse(d.payload, ec);
    view["payload"] = ec ? json::value(d.payload) : std::move(payload);
  }
  return view;
}

response delivery_not_found(std::string_view id) {
  return error_response(status::not_found, "not_found", fmt::format("no webhook delivery with id {}", id));
}

// One page of the log; `of_request` (GET /v1/requests/{id}/deliveries) fixes the request, which
// must exist (else 404), and takes the place of the `request` parameter.
asio::awaitable<response> list(context& ctx, const route_match& match, std::optional<model::request_id> of_request) {
  store::delivery_filter filter;
  filter.request_id = of_request;
  std::vector<model::field_error> errors;
  for (const auto& [key, value] : match.query) {
    if (key == "state") {
      filter.state = store::parse_delivery_state(value);
      if (!filter.state) errors.push_back({key, fmt::format("unknown state \"{}\"; expected pending, delivered or dead", value)});
    } else if (key == "subscription") {
      filter.subscription = value;
    } else if (key == "event_type") {
      filter.event_type = value;
    } else if (key == "channel") {
      if (!store::parse_channel(value))
        errors.push_back({key, fmt::format("unknown channel \"{}\"; expected one of {}", value, store::channel_names())});
      filter.channel = value;
    } else if (key == "request" && !of_request) {
      filter.request_id = parse_positive(value);
      if (!filter.request_id) errors.push_back({key, "must be a request id (a positive whole number)"});
    } else if (key == "cursor") {
      filter.before = parse_positive(value);
      if (!filter.before) errors.push_back({key, "must be the next_cursor of a previous page"});
    } else if (key == "limit") {
      read_page_limit(key, value, filter.limit, errors);
    } else {
      errors.push_back({key, of_request ? "unknown parameter; expected state, channel, subscription, event_type, limit or cursor"
                                        : "unknown parameter; expected state, channel, subscription, event_type, request, "
                                          "limit or cursor"});
    }
  }
  if (!errors.empty()) co_return invalid_fields(errors);

  const auto wanted = filter.limit;
  filter.limit = wanted + 1;
  filter.payloads = false;
  filter.max_bytes = ctx.max_page_bytes;
  const auto db = ctx.readers.acquire();
  if (of_request && !store::find_request(*db, *of_request))
    co_return error_response(status::not_found, "not_found", fmt::format("no request with id {}", *of_request));
  auto found = store::list_deliveries(*db, filter);
  std::optional<std::int64_t> next;
  if (static_cast<int>(found.size()) > wanted) {
    found.resize(static_cast<std::size_t>(wanted));
    next = found.back().id;
  }
  // Within the page budget, as every list (a row's attempt log holds each attempt's error).
  std::string body = R"({"deliveries":[)";
  page_rows rows(body, ctx.max_page_bytes);
  for (std::size_t i = 0; i < found.size(); ++i) {
    if (!rows.add(delivery_view(*db, found[i], false))) {
      next = found[i - 1].id;
      break;
    }
  }
  json::array disabled;
  for (const auto& off : store::disabled_subscriptions(*db))
    disabled.push_back(json::object{
        {"subscription", off.subscription}, {"reason", off.reason}, {"at", model::format_instant(off.at)}});
  body += R"(],"next_cursor":)";
  append_json(body, next ? json::value(std::to_string(*next)) : json::value(nullptr));
  body += R"(,"disabled_subscriptions":)";
  append_json(body, disabled);
  body += '}';
  co_return json_text_response(status::ok, std::move(body));
}

asio::awaitable<response> list_of_request(context& ctx, const route_match& match) {
  const auto& id_text = match.params.at("id");
  const std::optional<model::request_id> id = parse_positive(id_text);
  if (!id) co_return error_response(status::not_found, "not_found", fmt::format("no request with id {}", id_text));
  co_return co_await list(ctx, match, id);
}

asio::awaitable<response> get_one(context& ctx, const route_match& match) {
  const auto& id_text = match.params.at("id");
  const auto id = parse_positive(id_text);
  const auto db = ctx.readers.acquire();
  auto found = id ? store::find_delivery(*db, *id) : std::nullopt;
  if (!found) co_return delivery_not_found(id_text);
  co_return json_response(status::ok, delivery_view(*db, *found, true));
}

asio::awaitable<response> redeliver(context& ctx, const route_match& match, const model::actor& actor) {
  if (actor.role != model::role::admin && actor.role != model::role::head_of_cs)
    co_return forbidden("only admin or head_of_cs may redeliver webhooks");
  const auto& id_text = match.params.at("id");
  const auto id = parse_positive(id_text);
  if (!id) co_return delivery_not_found(id_text);
  const auto now = ctx.clock();
  bool found = false;
  bool already_received = false;
  co_await commit(ctx.writer, [&](store::unit_of_work& db) {
    found = false;
    already_received = false;
    // A message a person already received (a customer's answer, a Slack DM, an e-mail) is never
    // sent again: a second copy of an answer is not a retry to its reader, as a webhook's
    // duplicate is to a receiver that dedupes on webhook-id. Dead and pending ones may be.
    const auto row = store::find_delivery(db, *id);
    if (row && row->channel != "webhook" && row->state == store::delivery_state::delivered) {
      already_received = true;
      return;
    }
    found = store::redeliver(db, *id, now);
  }, match.gate);
  if (already_received)
    co_return error_response(status::conflict, "already_delivered",
                             fmt::format("delivery {} is a message its recipient already received; it is not sent again",
                                         id_text));
  if (!found) co_return delivery_not_found(id_text);
  // A connection taken after the commit sees it; none is held across the wait.
  const auto db = ctx.readers.acquire();
  const auto delivery = store::find_delivery(*db, *id);
  if (!delivery) co_return delivery_not_found(id_text);
  co_return json_response(status::accepted, delivery_view(*db, *delivery, false));
}

}  // namespace

void add_delivery_routes(router& routes, context& ctx) {
  using verb = beast_http::verb;
  routes.add(verb::get, "/v1/webhooks/deliveries",
             require_token(ctx, [&ctx](const request&, const route_match& match, const model::actor&) {
               return list(ctx, match, std::nullopt);
             }),
             {0, true, {}});
  routes.add(verb::get, "/v1/requests/{id}/deliveries",
             require_token(ctx, [&ctx](const request&, const route_match& match, const model::actor&) {
               return list_of_request(ctx, match);
             }),
             {0, true, {}});
  routes.add(verb::get, "/v1/webhooks/deliveries/{id}",
             require_token(ctx, [&ctx](const request&, const route_match& match, const model::actor&) {
               return get_one(ctx, match);
             }),
             {0, true, {}});
  routes.add(verb::post, "/v1/webhooks/deliveries/{id}/redeliver",
             require_token(ctx, [&ctx](const request&, const route_match& match, const model::actor& actor) {
               return redeliver(ctx, match, actor);
             }),
             {0, true, bearer_before_body(ctx)});
}

}  // namespace switchboard::http::api
