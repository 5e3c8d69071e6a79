// Clocks as the API shows them, and /v1/sla/timers: open clocks by time to breach, paged.
#include "http/api/api.hpp"

#include "http/api/common.hpp"
#include "codec/json.hpp"
#include "sla/clock.hpp"
#include "store/pages.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace switchboard::http::api {
namespace asio = boost::asio;
namespace json = boost::json;

json::object clock_view(const model::sla_clock& clock, const engine::policy& policy, model::instant now,
                        json::storage_ptr storage) {
  // A completed clock needs no calendar (its time is frozen), so one whose calendar was since
  // removed still reads; open clocks' calendars are checked at start-up.
  const auto used = clock.completed ? clock.used : sla::used(clock, policy.sla.calendar(clock.calendar), now);
  const bool has_deadline = !clock.completed && clock.state != model::clock_state::paused;
  // A breached clock is overdue, whatever target it has now (sla::remaining).
  const auto remaining = clock.breached ? std::min(clock.target - used, std::chrono::seconds{0}) : clock.target - used;
  json::object view({{"metric", model::to_string(clock.metric)},
                     {"state", model::to_string(clock.state)},
                     {"policy", clock.policy},
                     {"calendar", clock.calendar},
                     {"open", !clock.completed},
                     {"warned", clock.warned},
                     {"breached", clock.breached},
                     {"target_seconds", clock.target.count()},
                     {"used_seconds", used.count()},
                     {"remaining_seconds", remaining.count()},
                     {"deadline", has_deadline ? json::value(model::format_instant(clock.deadline)) : nullptr}},
                    std::move(storage));
  if (!clock.completed && !clock.warned && clock.state == model::clock_state::running)
    view["warning_at"] = model::format_instant(clock.warning_deadline);
  if (clock.completed) view["completed_at"] = model::format_instant(clock.completed_at);
  return view;
}

json::object request_view(const model::request& request, const engine::policy& policy, model::instant now) {
  auto view = codec::to_json(request);
  json::array clocks;
  for (const auto& clock : request.clocks) clocks.push_back(clock_view(clock, policy, now));
  view["clocks"] = std::move(clocks);
  return view;
}

namespace {

// Open clocks, most urgent first, a page at a time: breached and running clocks by deadline
// (breached ones' have passed), then paused ones by business time left. One indexed range read
// of `limit` clocks (store::list_open_clocks), whatever the number open.
asio::awaitable<response> list_timers(context& ctx, const route_match& match) {
  store::open_clock_filter filter;
  filter.limit = default_page_limit;
  filter.summaries = true;  // a row shows the clock, the title, customer, kind, owner and status
  std::vector<model::field_error> errors;
  for (const auto& [key, value] : match.query) {
    if (key == "team") {
      filter.owner = model::parse_team(value);
      if (!filter.owner)
        errors.push_back({key, fmt::format("unknown team \"{}\"; expected one of {}", value, model::team_names())});
    } else if (key == "limit") {
      read_page_limit(key, value, filter.limit, errors);
    } else if (key == "cursor") {
      filter.after = store::parse_clock_cursor(value);
      if (!filter.after) errors.push_back({key, "is not a cursor this API returned"});
    } else {
      errors.push_back({key, "unknown parameter; expected team, limit or cursor"});
    }
  }
  if (!errors.empty()) co_return invalid_fields(errors);

  const auto now = ctx.clock();
  filter.max_bytes = ctx.max_page_bytes;
  const auto page = store::list_open_clocks(*ctx.readers.acquire(), filter);
  // The whole answer in one arena: a malloc and free per JSON node were a large part of a page.
  json::monotonic_resource arena;
  const json::storage_ptr storage(&arena);
  // Written row by row within the page budget, as every list.
  std::string body;
  body.reserve(page.clocks.size() * 700 + 128);
  body += R"({"timers":[)";
  page_rows rows(body, ctx.max_page_bytes);
  auto next = page.next;
  for (std::size_t i = 0; i < page.clocks.size(); ++i) {
    const auto& open = page.clocks[i];
    const auto& request = *open.request;
    auto item = clock_view(*open.clock, ctx.policy, now, storage);
    item["request_id"] = request.id;
    item["title"] = request.input.title;
    item["customer"] = codec::to_json(request.input.customer);
    item["kind"] = model::to_string(request.input.kind);
    item["owner"] = model::to_string(request.owner);
    item["status"] = model::to_string(request.status);
    if (!rows.add(json::value(std::move(item)))) {
      next = page.clocks[i - 1].place;
      break;
    }
  }
  body += R"(],"next_cursor":)";
  append_json(body, next ? json::value(store::format_cursor(*next), storage) : json::value(nullptr));
  body += R"(,"now":)";
  append_json(body, json::value(model::format_instant(now), storage));
  body += '}';
  co_return json_text_response(status::ok, std::move(body));
}

}  // namespace

void add_sla_routes(router& routes, context& ctx) {
  routes.add(beast_http::verb::get, "/v1/sla/timers",
             require_token(ctx, [&ctx](const request&, const route_match& match, const model::actor&) {
               return list_timers(ctx, match);
             }),
             {0, true, {}});
}

}  // namespace switchboard::http::api
