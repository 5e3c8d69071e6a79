#include "codec/backtest_json.hpp"

#include "codec/csv.hpp"
#include "codec/json.hpp"
#include "model/instant.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace switchboard::codec {
namespace json = boost::json;

namespace {

json::object counts(const backtest::side_counts& c) {
  return json::object{{"met", c.met}, {"breached", c.breached}, {"open", c.open}};
}

json::value seconds_or_null(const std::optional<std::chrono::seconds>& s) {
  if (!s) return nullptr;
  return s->count();
}

// Puts `name` (at most `cap` entries of `items`, each made by `one`),
// `name_total` and whether the list was cut into `into`.
template <typename T, typename F>
bool capped(json::object& into, std::string_view name, const std::vector<T>& items, std::size_t cap, F one) {
  json::array list;
  for (std::size_t i = 0; i < items.size() && i < cap; ++i) list.push_back(one(items[i]));
  into[name] = std::move(list);
  into[std::string(name) + "_total"] = static_cast<std::int64_t>(items.size());
  return items.size() > cap;
}

json::object flip_json(const backtest::report::flip& f) {
  return json::object{{"id", f.id}, {"policy", f.policy}, {"metric", model::to_string(f.metric)}};
}

json::object notification_json(const backtest::notification_sent& n) {
  return json::object{{"id", n.request}, {"ladder", n.ladder}, {"level", n.level}, {"at", model::format_instant(n.at)}};
}

}  // namespace

json::object to_json(const backtest::report& r, std::size_t list_cap) {
  bool truncated = false;
  json::object out;
  out["from"] = model::format_instant(r.from);
  out["to"] = model::format_instant(r.to);
  out["as_of"] = model::format_instant(r.as_of);
  out["requests"] = r.requests;
  out["inputs_replayed"] = r.inputs_replayed;

  json::object routing;
  routing["changed"] = r.routing.changed;
  json::array by_owner;
  for (const auto& o : r.routing.by_owner)
    by_owner.push_back(json::object{
        {"current", model::to_string(o.current)}, {"proposed", model::to_string(o.proposed)}, {"count", o.count}});
  routing["by_owner"] = std::move(by_owner);
  json::array by_rule;
  for (const auto& o : r.routing.by_rule)
    by_rule.push_back(json::object{{"current", o.current}, {"proposed", o.proposed}, {"count", o.count}});
  routing["by_rule"] = std::move(by_rule);
  truncated |= capped(routing, "requests", r.routing.requests, list_cap, [](const auto& c) {
    model::routing_decision proposed;
    proposed.rule = c.proposed_rule;
    proposed.fallback = c.proposed_rule == "fallback";
    proposed.owner = c.proposed_owner;
    proposed.trace = c.proposed_trace;
    auto trace = to_json(proposed).at("trace");
    return json::object{{"id", c.id},
                        {"current_owner", model::to_string(c.current_owner)},
                        {"proposed_owner", model::to_string(c.proposed_owner)},
                        {"current_rule", c.current_rule},
                        {"proposed_rule", c.proposed_rule},
                        {"proposed_trace", std::move(trace)}};
  });
  out["routing"] = std::move(routing);

  json::object sla;
  json::array by_policy_metric;
  for (const auto& p : r.sla.by_policy_metric)
    by_policy_metric.push_back(json::object{{"policy", p.policy},
                                            {"metric", model::to_string(p.metric)},
                                            {"current", counts(p.current)},
                                            {"proposed", counts(p.proposed)}});
  sla["by_policy_metric"] = std::move(by_policy_metric);
  truncated |= capped(sla, "to_met", r.sla.to_met, list_cap, flip_json);
  truncated |= capped(sla, "to_breached", r.sla.to_breached, list_cap, flip_json);
  sla["paired"] = r.sla.paired;
  sla["current_median_left_seconds"] = seconds_or_null(r.sla.current_median_left);
  sla["proposed_median_left_seconds"] = seconds_or_null(r.sla.proposed_median_left);
  out["sla"] = std::move(sla);

  json::object escalations;
  json::array by_ladder_level;
  for (const auto& l : r.escalations.by_ladder_level)
    by_ladder_level.push_back(
        json::object{{"ladder", l.ladder}, {"level", l.level}, {"current", l.current}, {"proposed", l.proposed}});
  escalations["by_ladder_level"] = std::move(by_ladder_level);
  truncated |= capped(escalations, "only_current", r.escalations.only_current, list_cap, notification_json);
  truncated |= capped(escalations, "only_proposed", r.escalations.only_proposed, list_cap, notification_json);
  out["escalations"] = std::move(escalations);

  json::object actions;
  actions["replayed_as_owner"] = r.actions.replayed_as_owner;
  truncated |= capped(actions, "not_applicable", r.actions.not_applicable, list_cap, [](const auto& n) {
    return json::object{
        {"id", n.request}, {"seq", n.seq}, {"at", model::format_instant(n.at)}, {"action", n.action}, {"why", n.why}};
  });
  out["actions"] = std::move(actions);

  json::array load;
  for (const auto& day : r.load) {
    json::array teams;
    for (const auto& t : day.teams)
      teams.push_back(
          json::object{{"team", model::to_string(t.team)}, {"current", t.current}, {"proposed", t.proposed}});
    load.push_back(json::object{{"date", day.date},
                                {"close", model::format_instant(day.close)},
                                {"closed_in_proposed", day.closed_in_proposed},
                                {"teams", std::move(teams)}});
  }
  out["load"] = std::move(load);

  json::array weeks;
  for (const auto& w : r.breaches_by_week)
    weeks.push_back(json::object{
        {"week", w.key}, {"start", model::format_instant(w.start)}, {"current", w.current}, {"proposed", w.proposed}});
  out["breaches_by_week"] = std::move(weeks);
  out["drift"] = r.drift;
  out["truncated"] = truncated;
  return out;
}

std::string backtest_csv(const backtest::report& r) {
  std::string out = csv_line({"request", "change", "current", "proposed", "detail"});
  for (const auto& c : r.routing.requests)
    out += csv_line({std::to_string(c.id), "routing", std::string(model::to_string(c.current_owner)),
                     std::string(model::to_string(c.proposed_owner)),
                     fmt::format("{} -> {}", c.current_rule, c.proposed_rule)});
  const auto flips = [&out](const std::vector<backtest::report::flip>& list, const char* change, const char* current,
                            const char* proposed) {
    for (const auto& f : list)
      out += csv_line({std::to_string(f.id), change, current, proposed,
                       fmt::format("{} {}", f.policy, model::to_string(f.metric))});
  };
  flips(r.sla.to_met, "to_met", "breached", "met");
  flips(r.sla.to_breached, "to_breached", "met or open", "breached");
  const auto sent = [&out](const std::vector<backtest::notification_sent>& list, const char* change,
                           const char* current, const char* proposed) {
    for (const auto& n : list)
      out += csv_line({std::to_string(n.request), change, current, proposed,
                       fmt::format("{} level {} at {}", n.ladder, n.level, model::format_instant(n.at))});
  };
  sent(r.escalations.only_current, "only_current", "sent", "not sent");
  sent(r.escalations.only_proposed, "only_proposed", "not sent", "sent");
  for (const auto& n : r.actions.not_applicable)
    out += csv_line({std::to_string(n.request), "not_applicable", "applied", "not applicable",
                     fmt::format("{} at {}: {}", n.action, model::format_instant(n.at), n.why)});
  return out;
}

}  // namespace switchboard::codec
