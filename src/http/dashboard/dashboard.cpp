// The SE dashboard's routes: the built-in page, the snapshot of open clocks, the live stream.
#include "http/dashboard/dashboard.hpp"

#include "http/api/common.hpp"
#include "http/auth.hpp"
#include "codec/json.hpp"
#include "sla/clock.hpp"
#include "store/pages.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <charconv>

namespace switchboard::http::dashboard {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::string_view stream_path = "/v1/dashboard/stream";

std::int64_t unix_seconds(model::instant at) { return at.time_since_epoch().count(); }

// running, paused, warning or breached: the clock's state as the page names it.
std::string_view shown_state(const model::sla_clock& clock) {
  if (clock.state == model::clock_state::running && clock.warned) return "warning";
  return model::to_string(clock.state);
}

response asset_response(const asset& found) {
  response res{status::ok, 11};
  res.set(beast_http::field::content_type, found.content_type);
  res.set(beast_http::field::cache_control, "no-cache");
  res.set("X-Content-Type-Options", "nosniff");
  // frame-ancestors: no other site may frame the page (clickjacking); no-referrer: its URLs leave
  // no trace in other sites' logs.
  res.set("Content-Security-Policy",
          "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
          "frame-ancestors 'none'");
  res.set("Referrer-Policy", "no-referrer");
  res.body() = std::string(found.body);
  return res;
}

asio::awaitable<response> page(std::string_view name) {
  const auto* found = find_asset(name);
  if (!found) co_return error_response(status::not_found, "not_found", "no such dashboard file");
  co_return asset_response(*found);
}

void add_calendars(std::set<std::string, std::less<>>& names, const model::request& request) {
  for (const auto& clock : request.clocks)
    if (!clock.completed) names.insert(clock.calendar);
}

// The first screen, bounded whatever the number of open clocks: the requests holding the
// `limit` most urgent open clocks (one indexed range read), the counts per team and state from
// the maintained counters, and `next_cursor` to page on. Runs on the worker pool.
asio::awaitable<response> snapshot(context& ctx, const request& req, const route_match& match) {
  auto who = authenticate(req, ctx.tokens);
  if (auto* refused = std::get_if<response>(&who)) co_return std::move(*refused);
  if (match.info) match.info->set_actor(std::get<model::actor>(who).person);  // for the access log

  store::open_clock_filter filter;
  filter.limit = default_snapshot_clocks;
  filter.summaries = true;  // request_row shows only what a stored summary holds
  std::vector<model::field_error> errors;
  for (const auto& [key, value] : match.query) {
    if (key == "limit") {
      std::int64_t parsed = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
      if (ec != std::errc{} || end != value.data() + value.size() || parsed < 1 || parsed > max_snapshot_clocks)
        errors.push_back({key, fmt::format("must be a whole number from 1 to {}", max_snapshot_clocks)});
      else
        filter.limit = static_cast<int>(parsed);
    } else if (key == "cursor") {
      filter.after = store::parse_clock_cursor(value);
      if (!filter.after) errors.push_back({key, "is not a cursor this API returned"});
    } else {
      errors.push_back({key, "unknown parameter; expected limit or cursor"});
    }
  }
  if (!errors.empty()) co_return api::invalid_fields(errors);
  filter.max_bytes = ctx.max_page_bytes;

  // The stream id first, then the read: every change published up to it was committed before
  // it was published, so the rows read after hold it (a change published since may be in them
  // too, which replaying its event repeats harmlessly).
  const auto id = ctx.hub.last_id();
  const auto now = ctx.clock();
  store::open_clock_page page;
  std::vector<store::open_clock_count> counts;
  {
    const auto db = ctx.readers.acquire();
    page = store::list_open_clocks(*db, filter);
    counts = store::open_clock_counts(*db);
  }
  // The rows within the page budget, as every list: a clock whose row does not fit ends the
  // page, and the cursor is the clock before it (whose request is then on this page).
  std::string rows_text;
  api::page_rows rows(rows_text, ctx.max_page_bytes);
  auto next_place = page.next;
  std::set<model::request_id> seen;
  std::set<std::string, std::less<>> calendars;
  for (std::size_t i = 0; i < page.clocks.size(); ++i) {
    const auto& open = page.clocks[i];
    if (seen.contains(open.request->id)) continue;
    if (!rows.add(request_row(*open.request, ctx.policy, now))) {
      next_place = page.clocks[i - 1].place;
      break;
    }
    seen.insert(open.request->id);
    add_calendars(calendars, *open.request);
  }
  json::array count_rows;
  std::int64_t total = 0;
  for (const auto& c : counts) {
    total += c.clocks;
    count_rows.push_back(
        json::object{{"team", c.owner}, {"state", c.state}, {"breached", c.breached}, {"clocks", c.clocks}});
  }
  json::value next = nullptr;
  if (next_place) next = store::format_cursor(*next_place);
  std::string body = R"({"id":)";
  append_json(body, json::value(id));
  body += fmt::format(R"(,"now":{},"requests":[)", unix_seconds(now));
  body += rows_text;
  body += R"(],"calendars":)";
  append_json(body, calendars_view(calendars, ctx.policy, now));
  body += R"(,"counts":)";
  append_json(body, count_rows);
  body += fmt::format(R"(,"open_clocks":{},"next_cursor":)", total);
  append_json(body, next);
  body += '}';
  co_return json_text_response(status::ok, std::move(body));
}

// `request_id`: the X-Request-Id the server put on the request it offered (server::set_takeover).
asio::awaitable<unsigned> write_refusal(boost::beast::tcp_stream& stream, response res, std::string_view request_id) {
  if (!request_id.empty()) res.set("X-Request-Id", request_id);
  res.keep_alive(false);
  res.prepare_payload();
  const auto code = res.result_int();
  co_await beast_http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
  co_return code;
}

}  // namespace

json::object request_row(const model::request& request, const engine::policy& policy, model::instant now) {
  json::array clocks;
  for (const auto& clock : request.clocks) {
    if (clock.completed) continue;
    const auto& calendar = policy.sla.calendar(clock.calendar);
    const bool has_deadline = clock.state != model::clock_state::paused;
    clocks.push_back(json::object{
        {"metric", model::to_string(clock.metric)},
        {"state", shown_state(clock)},
        {"warned", clock.warned},
        {"breached", clock.breached},  // stays true while a breached clock is paused
        {"calendar", clock.calendar},
        {"target_seconds", clock.target.count()},
        {"warning_remaining_seconds", (clock.target - clock.warning_at).count()},
        {"remaining_seconds", sla::remaining(clock, calendar, now).count()},
        {"deadline", has_deadline ? json::value(unix_seconds(clock.deadline)) : nullptr},
    });
  }
  return json::object{
      {"id", request.id},
      {"title", request.input.title},
      {"customer", json::object{{"id", request.input.customer.id}, {"name", request.input.customer.name}}},
      {"kind", model::to_string(request.input.kind)},
      {"priority", model::to_string(request.input.priority)},
      {"owner", model::to_string(request.owner)},
      {"assignee", request.assignee},
      {"status", model::to_string(request.status)},
      {"created_at", model::format_instant(request.created_at)},
      {"clocks", std::move(clocks)},
  };
}

json::object calendars_view(const std::set<std::string, std::less<>>& names, const engine::policy& policy,
                            model::instant now) {
  json::object out;
  for (const auto& name : names) {
    const auto& calendar = policy.sla.calendar(name);
    json::array intervals;
    for (const auto& open : calendar.open_intervals(now, now + calendar_horizon))
      intervals.push_back(json::array{unix_seconds(open.open), unix_seconds(open.close)});
    out[name] = json::object{{"zone", calendar.zone_name()}, {"intervals", std::move(intervals)}};
  }
  return out;
}

void publish(context& ctx, const store::change& change) {
  const auto now = ctx.clock();
  std::set<std::string, std::less<>> calendars;
  add_calendars(calendars, change.request);
  json::array events;
  for (const auto& e : change.events)
    events.push_back(json::object{{"type", model::type_name(e)}, {"at", model::format_instant(e.at)}, {"actor", e.actor}});
  ctx.hub.publish("change", json::serialize(json::object{
                                {"now", unix_seconds(now)},
                                {"request", request_row(change.request, ctx.policy, now)},
                                {"events", std::move(events)},
                                {"calendars", calendars_view(calendars, ctx.policy, now)},
                            }));
}

void add_routes(router& routes, context& ctx) {
  using verb = beast_http::verb;
  routes.add(verb::get, "/", [](const request&, const route_match&) { return page("index.html"); });
  routes.add(verb::get, "/dashboard", [](const request&, const route_match&) { return page("index.html"); });
  routes.add(verb::get, "/dashboard/{file}", [](const request&, const route_match& match) {
    return page(match.params.at("file"));
  });
  routes.add(verb::get, "/v1/dashboard/clocks",
             [&ctx](const request& req, const route_match& match) { return snapshot(ctx, req, match); },
             {0, true, {}});
}

takeover_handler stream_handler(context& ctx) {
  return [&ctx](const request& req, boost::beast::tcp_stream& stream) -> asio::awaitable<unsigned> {
    const std::string_view target = req.target();
    if (target.substr(0, target.find('?')) != stream_path) co_return 0;
    if (req.method() != beast_http::verb::get) {
      auto res = error_response(status::method_not_allowed, "method_not_allowed",
                                "only GET is allowed on /v1/dashboard/stream");
      res.set(beast_http::field::allow, "GET");
      co_return co_await write_refusal(stream, std::move(res), req["X-Request-Id"]);
    }
    auto who = authenticate(req, ctx.tokens);
    if (auto* refused = std::get_if<response>(&who))
      co_return co_await write_refusal(stream, std::move(*refused), req["X-Request-Id"]);
    co_await ctx.hub.serve(stream, req["Last-Event-ID"], req["X-Request-Id"]);
    co_return 200;
  };
}

}  // namespace switchboard::http::dashboard
