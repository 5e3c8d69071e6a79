// Clocks as the API shows them, and /v1/sla/timers: every open clock by time to breach.
#include "http/api/api.hpp"

#include "http/api/common.hpp"
#include "model/json.hpp"
#include "sla/clock.hpp"
#include "store/requests.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace switchboard::http::api {
namespace asio = boost::asio;
namespace json = boost::json;

json::object clock_view(const model::sla_clock& clock, const engine::policy& policy, model::instant now) {
  // A completed clock needs no calendar (its time is frozen), so one whose calendar was since
  // removed still reads; open clocks' calendars are checked at start-up.
  const auto used = clock.completed ? clock.used : sla::used(clock, policy.sla.calendar(clock.calendar), now);
  const bool has_deadline = !clock.completed && clock.state != model::clock_state::paused;
  json::object view{{"metric", model::to_string(clock.metric)},
                    {"state", model::to_string(clock.state)},
                    {"policy", clock.policy},
                    {"calendar", clock.calendar},
                    {"open", !clock.completed},
                    {"warned", clock.warned},
                    {"breached", clock.breached},
                    {"target_seconds", clock.target.count()},
                    {"used_seconds", used.count()},
                    {"remaining_seconds", (clock.target - used).count()},
                    {"deadline", has_deadline ? json::value(model::format_instant(clock.deadline)) : nullptr}};
  if (!clock.completed && !clock.warned && clock.state == model::clock_state::running)
    view["warning_at"] = model::format_instant(clock.warning_deadline);
  if (clock.completed) view["completed_at"] = model::format_instant(clock.completed_at);
  return view;
}

json::object request_view(const model::request& request, const engine::policy& policy, model::instant now) {
  auto view = model::to_json(request);
  json::array clocks;
  for (const auto& clock : request.clocks) clocks.push_back(clock_view(clock, policy, now));
  view["clocks"] = std::move(clocks);
  return view;
}

namespace {

asio::awaitable<response> list_timers(context& ctx, const route_match& match) {
  std::optional<model::team> owner;
  std::vector<model::field_error> errors;
  for (const auto& [key, value] : match.query) {
    if (key == "team") {
      owner = model::parse_team(value);
      if (!owner)
        errors.push_back({key, fmt::format("unknown team \"{}\"; expected one of {}", value, model::team_names())});
    } else {
      errors.push_back({key, "unknown parameter; expected team"});
    }
  }
  if (!errors.empty()) co_return invalid_fields(errors);

  struct timer {
    const model::request* request;
    const model::sla_clock* clock;
    bool paused;
    std::int64_t sort_key;  // running: deadline; paused: business seconds remaining
  };
  const auto now = ctx.clock();
  const auto requests = store::requests_with_open_clocks(ctx.reader, owner);
  std::vector<timer> timers;
  for (const auto& request : requests) {
    for (const auto& clock : request.clocks) {
      if (clock.completed) continue;
      const bool paused = clock.state == model::clock_state::paused;
      const auto key = paused ? sla::remaining(clock, ctx.policy.sla.calendar(clock.calendar), now).count()
                              : clock.deadline.time_since_epoch().count();
      timers.push_back({&request, &clock, paused, key});
    }
  }
  // Breached first (their deadlines are past), then by deadline; paused clocks, which have no
  // deadline, after them by time left.
  std::sort(timers.begin(), timers.end(), [](const timer& a, const timer& b) {
    return std::tie(a.paused, a.sort_key, a.request->id) < std::tie(b.paused, b.sort_key, b.request->id);
  });

  json::array items;
  for (const auto& t : timers) {
    auto item = clock_view(*t.clock, ctx.policy, now);
    item["request_id"] = t.request->id;
    item["title"] = t.request->input.title;
    item["customer"] = model::to_json(t.request->input.customer);
    item["kind"] = model::to_string(t.request->input.kind);
    item["owner"] = model::to_string(t.request->owner);
    item["status"] = model::to_string(t.request->status);
    items.push_back(std::move(item));
  }
  co_return json_response(status::ok, json::object{{"timers", std::move(items)}, {"now", model::format_instant(now)}});
}

}  // namespace

void add_sla_routes(router& routes, context& ctx) {
  routes.add(beast_http::verb::get, "/v1/sla/timers",
             require_token(ctx, [&ctx](const request&, const route_match& match, const model::actor&) {
               return list_timers(ctx, match);
             }));
}

}  // namespace switchboard::http::api
