// GET /v1/use_cases and /v1/use_cases/{tag} (issue 13 §4): each configured use case with its DRI,
// its open requests by kind and owning team, and Product's decisions of the last 90 days.
#include "http/api/api.hpp"

#include "http/api/common.hpp"
#include "store/use_cases.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <chrono>
#include <map>

namespace switchboard::http::api {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// The window and the cap the issue names: a use case's review is about this quarter's decisions,
// and a busy one's answer stays a bounded size. Days of 24 hours on the server's clock (the
// simulated one under --clock-start), not business days.
constexpr auto decision_window = std::chrono::hours{24 * 90};
constexpr int max_decisions = 200;

json::object decision_view(const store::decision& d) {
  return {{"request_id", d.request_id},
          {"decision", d.accepted ? "accepted" : "declined"},
          {"reason", d.reason},
          {"actor", d.actor},
          {"executive", d.executive},
          {"at", model::format_instant(d.at)}};
}

// One use case's entry; `loads` are every use case's open counts, read once per answer.
json::object use_case_view(const model::use_case& use_case, const std::vector<store::use_case_open>& loads,
                           std::vector<store::decision> decisions) {
  int total = 0;
  std::map<std::string_view, int> by_kind;
  std::map<std::string_view, int> by_team;
  for (const auto& load : loads) {
    if (load.use_case != use_case.tag) continue;
    total += load.open;
    by_kind[model::to_string(load.kind)] += load.open;
    by_team[model::to_string(load.owner)] += load.open;
  }
  json::object kinds;
  for (const auto& [kind, open] : by_kind) kinds[kind] = open;
  json::object teams;
  for (const auto& [team, open] : by_team) teams[team] = open;
  json::array listed;
  for (const auto& d : decisions) listed.push_back(decision_view(d));
  return {{"tag", use_case.tag},
          {"name", use_case.name},
          {"description", use_case.description},
          {"dri", use_case.dri},
          {"open", json::object{{"total", total}, {"by_kind", std::move(kinds)}, {"by_team", std::move(teams)}}},
          {"decisions", std::move(listed)}};
}

// The answer's frame: whether use cases are configured, and the window the decisions are from.
json::object frame(bool configured, model::instant now) {
  return {{"configured", configured},
          {"now", model::format_instant(now)},
          {"decisions_since", model::format_instant(now - decision_window)}};
}

asio::awaitable<response> list_use_cases(context& ctx, const route_match& match) {
  std::vector<model::field_error> errors;
  for (const auto& entry : match.query) errors.push_back({entry.first, "unknown parameter; expected none"});
  if (!errors.empty()) co_return invalid_fields(errors);
  const auto now = ctx.clock();
  auto out = frame(ctx.use_cases.configured, now);
  json::array listed;
  if (!ctx.use_cases.by_tag.empty()) {
    auto reader = ctx.readers.acquire();
    const auto loads = store::use_case_loads(*reader);
    for (const auto& [tag, use_case] : ctx.use_cases.by_tag)
      listed.push_back(use_case_view(use_case, loads,
                                     store::recent_decisions(*reader, tag, now - decision_window, max_decisions)));
  }
  out["use_cases"] = std::move(listed);
  co_return json_response(status::ok, out);
}

asio::awaitable<response> get_use_case(context& ctx, const route_match& match) {
  const auto& tag = match.params.at("tag");
  const auto found = ctx.use_cases.by_tag.find(tag);
  if (found == ctx.use_cases.by_tag.end())
    co_return error_response(status::not_found, "not_found",
                             ctx.use_cases.configured
                                 ? fmt::format("no use case with tag {}", tag)
                                 : fmt::format("no use case with tag {}: no use cases are configured ([use_cases])", tag));
  const auto now = ctx.clock();
  auto out = frame(true, now);
  auto reader = ctx.readers.acquire();
  out["use_case"] = use_case_view(found->second, store::use_case_loads(*reader),
                                  store::recent_decisions(*reader, tag, now - decision_window, max_decisions));
  co_return json_response(status::ok, out);
}

}  // namespace

void add_use_case_routes(router& routes, context& ctx) {
  // Reads, on the worker pool with a connection of their own, as every list.
  const route_options read{0, true, {}};
  routes.add(beast_http::verb::get, "/v1/use_cases",
             require_token(ctx, [&ctx](const request&, const route_match& match, const model::actor&) {
               return list_use_cases(ctx, match);
             }),
             read);
  routes.add(beast_http::verb::get, "/v1/use_cases/{tag}",
             require_token(ctx, [&ctx](const request&, const route_match& match, const model::actor&) {
               return get_use_case(ctx, match);
             }),
             read);
}

}  // namespace switchboard::http::api
