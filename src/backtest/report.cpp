// A backtest's two replays and their comparison (backtest/report.hpp).
#include "backtest/report.hpp"

#include "calendar/calendar.hpp"
#include "rules/evaluator.hpp"

#include <absl/time/civil_time.h>
#include <absl/time/time.h>
#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <iterator>
#include <set>
#include <thread>

namespace switchboard::backtest {
namespace {

// The value at rank ceil(n / 2) of the sorted values (nearest rank, as the SLA reports).
std::optional<std::chrono::seconds> median(std::vector<std::chrono::seconds> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  return values[(values.size() + 1) / 2 - 1];
}

// The outcomes of the requests filed in the window, after replaying every input under `policy`.
struct side {
  std::map<model::request_id, request_outcome> outcomes;
  int replayed_as_owner = 0;
  std::vector<not_applicable> skipped;
  std::vector<breach_seen> breached;
  std::vector<std::map<model::team, int>> loads;  // one per sample instant
};

// The instants at which the load is sampled: the last close of each local date on `calendar`
// in [from, as_of], with the date.
std::vector<std::pair<model::instant, std::string>> day_closes(const calendar::business_calendar& calendar,
                                                               model::instant from, model::instant as_of) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(calendar.zone_name(), &zone))
    throw std::invalid_argument(fmt::format("unknown time zone {}", calendar.zone_name()));
  std::vector<std::pair<model::instant, std::string>> out;
  // Past as_of, so that the last interval is not cut at as_of (a cut is not a close).
  for (const auto& open : calendar.open_intervals(from, as_of + std::chrono::hours{24 * 14})) {
    if (open.close > as_of) break;
    // The date the business time belongs to: a shift ending at 24:00 closes on its own date.
    const auto last = open.close - std::chrono::seconds{1};
    const auto day = absl::CivilDay(zone.At(absl::FromUnixSeconds(last.time_since_epoch().count())).cs);
    auto date = fmt::format("{:04}-{:02}-{:02}", day.year(), day.month(), day.day());
    if (!out.empty() && out.back().second == date)
      out.back().first = open.close;
    else
      out.emplace_back(open.close, std::move(date));
  }
  return out;
}

// Whether `calendar` has no business time on the local date `date` ("YYYY-MM-DD").
bool closed_on(const calendar::business_calendar& calendar, const std::string& date) {
  absl::TimeZone zone;
  absl::CivilDay day;
  if (!absl::LoadTimeZone(calendar.zone_name(), &zone) || !absl::ParseCivilTime(date, &day)) return false;
  const auto start = zone.At(absl::CivilSecond(day)).pre;
  const auto end = zone.At(absl::CivilSecond(day + 1)).pre;
  return calendar
      .open_intervals(model::instant{std::chrono::seconds{absl::ToUnixSeconds(start)}},
                      model::instant{std::chrono::seconds{absl::ToUnixSeconds(end)}})
      .empty();
}

// Each clock's first breach, as the world records it.
class breaches final : public event_sink {
 public:
  void recorded(const model::event& e, const model::request&) override {
    const auto* changed = std::get_if<model::clock_changed>(&e.data);
    if (changed == nullptr || changed->kind != model::clock_change::breached) return;
    if (!seen_.emplace(e.request, changed->clock.metric).second) return;
    breach_seen b;
    b.request = e.request;
    b.metric = changed->clock.metric;
    b.at = e.at;
    list_.push_back(b);
  }
  std::vector<breach_seen> list_;

 private:
  std::set<std::pair<model::request_id, model::sla_metric>> seen_;
};

side replay(const history& h, const engine::policy& policy, const std::vector<model::instant>& samples,
            const run_options& options, std::atomic<std::size_t>& done, std::size_t total) {
  side out;
  breaches sink;
  world w(policy, sink);
  std::size_t since_report = 0;
  auto sample = samples.begin();
  // Samples at or before `t`: an input at the close instant comes after the close.
  const auto sample_until = [&](model::instant t) {
    for (; sample != samples.end() && *sample <= t; ++sample) {
      w.fire_until(*sample);
      out.loads.push_back(w.loads());
    }
  };
  for (const auto& in : h.inputs) {
    if (options.stop.stop_requested()) throw run_stopped();
    sample_until(in.at);
    w.replay(in);
    const auto now_done = done.fetch_add(1) + 1;
    if (options.progress && ++since_report == 1000) {
      since_report = 0;
      options.progress(now_done, total);
    }
  }
  sample_until(h.as_of);
  w.fire_until(h.as_of);
  for (const auto id : h.filed)
    if (const auto* r = w.find(id)) out.outcomes.emplace(id, outcome_of(*r));
  out.replayed_as_owner = w.replayed_as_owner();
  out.skipped = w.skipped();
  out.breached = std::move(sink.list_);
  return out;
}

side_counts& count_of(side_counts& counts, clock_outcome outcome) {
  switch (outcome) {
    case clock_outcome::met: ++counts.met; break;
    case clock_outcome::breached: ++counts.breached; break;
    case clock_outcome::open: ++counts.open; break;
  }
  return counts;
}

}  // namespace

std::string_view to_string(clock_outcome outcome) {
  switch (outcome) {
    case clock_outcome::met: return "met";
    case clock_outcome::breached: return "breached";
    case clock_outcome::open: return "open";
  }
  return "open";
}

request_outcome outcome_of(const model::request& request) {
  request_outcome out;
  out.id = request.id;
  out.owner = request.routing.owner;
  out.rule = request.routing.rule;
  for (const auto& c : request.clocks) {
    request_outcome::clock clock;
    clock.policy = c.policy;
    clock.outcome = c.breached ? clock_outcome::breached : c.completed ? clock_outcome::met : clock_outcome::open;
    out.clocks[c.metric] = clock;
    if (c.metric == model::sla_metric::first_response && c.completed) out.first_response_left = c.target - c.used;
  }
  for (const auto& e : request.escalations)
    for (const auto& n : e.notifications) {
      notification_sent sent;
      sent.request = request.id;
      sent.ladder = e.ladder;
      sent.level = n.level;
      sent.at = n.at;
      out.notifications.push_back(std::move(sent));
    }
  std::sort(out.notifications.begin(), out.notifications.end());
  return out;
}

report compare(const history& h, const std::map<model::request_id, request_outcome>& current,
               const std::map<model::request_id, request_outcome>& proposed, int replayed_as_owner,
               std::vector<not_applicable> skipped, const window& window) {
  report out;
  out.from = window.from;
  out.to = window.to;
  out.as_of = h.as_of;
  out.requests = static_cast<int>(h.filed.size());
  out.inputs_replayed = static_cast<int>(h.inputs.size());
  out.actions.replayed_as_owner = replayed_as_owner;
  out.actions.not_applicable = std::move(skipped);

  std::map<std::pair<model::team, model::team>, int> by_owner;
  std::map<std::pair<std::string, std::string>, int> by_rule;
  std::map<std::pair<std::string, model::sla_metric>, std::pair<side_counts, side_counts>> by_policy_metric;
  std::map<std::pair<std::string, int>, std::pair<int, int>> by_level;
  std::vector<std::chrono::seconds> left_current;
  std::vector<std::chrono::seconds> left_proposed;
  for (const auto id : h.filed) {
    const auto c = current.find(id);
    const auto p = proposed.find(id);
    if (c == current.end() || p == proposed.end()) continue;
    const auto& cur = c->second;
    const auto& pro = p->second;
    if (cur.owner != pro.owner || cur.rule != pro.rule) {
      ++out.routing.changed;
      ++by_owner[{cur.owner, pro.owner}];
      ++by_rule[{cur.rule, pro.rule}];
      report::changed_request changed;
      changed.id = id;
      changed.current_owner = cur.owner;
      changed.proposed_owner = pro.owner;
      changed.current_rule = cur.rule;
      changed.proposed_rule = pro.rule;
      out.routing.requests.push_back(std::move(changed));
    }
    for (const auto& [metric, clock] : cur.clocks) count_of(by_policy_metric[{clock.policy, metric}].first, clock.outcome);
    for (const auto& [metric, clock] : pro.clocks) {
      count_of(by_policy_metric[{clock.policy, metric}].second, clock.outcome);
      const auto before = cur.clocks.find(metric);
      if (before == cur.clocks.end()) continue;
      report::flip flip;
      flip.id = id;
      flip.policy = clock.policy;
      flip.metric = metric;
      if (before->second.outcome == clock_outcome::breached && clock.outcome == clock_outcome::met)
        out.sla.to_met.push_back(flip);
      else if (before->second.outcome != clock_outcome::breached && clock.outcome == clock_outcome::breached)
        out.sla.to_breached.push_back(flip);
    }
    if (cur.first_response_left && pro.first_response_left) {
      ++out.sla.paired;
      left_current.push_back(*cur.first_response_left);
      left_proposed.push_back(*pro.first_response_left);
    }
    for (const auto& n : cur.notifications) ++by_level[{n.ladder, n.level}].first;
    for (const auto& n : pro.notifications) ++by_level[{n.ladder, n.level}].second;
    std::set_difference(cur.notifications.begin(), cur.notifications.end(), pro.notifications.begin(),
                        pro.notifications.end(), std::back_inserter(out.escalations.only_current));
    std::set_difference(pro.notifications.begin(), pro.notifications.end(), cur.notifications.begin(),
                        cur.notifications.end(), std::back_inserter(out.escalations.only_proposed));
  }
  // Drift: the record's breaches against the current side's, over the filed requests.
  for (const auto id : h.filed) {
    const auto c = current.find(id);
    if (c == current.end()) continue;
    std::set<model::sla_metric> replayed;
    for (const auto& [metric, clock] : c->second.clocks)
      if (clock.outcome == clock_outcome::breached) replayed.insert(metric);
    std::set<model::sla_metric> recorded;
    for (auto it = h.recorded_breaches.lower_bound({id, model::sla_metric{}});
         it != h.recorded_breaches.end() && it->first == id; ++it)
      recorded.insert(it->second);
    if (recorded != replayed) ++out.drift;
  }
  for (const auto& [key, count] : by_owner) {
    report::owner_change row;
    row.current = key.first;
    row.proposed = key.second;
    row.count = count;
    out.routing.by_owner.push_back(row);
  }
  for (const auto& [key, count] : by_rule) {
    report::rule_change row;
    row.current = key.first;
    row.proposed = key.second;
    row.count = count;
    out.routing.by_rule.push_back(std::move(row));
  }
  for (const auto& [key, counts] : by_policy_metric) {
    report::policy_metric row;
    row.policy = key.first;
    row.metric = key.second;
    row.current = counts.first;
    row.proposed = counts.second;
    out.sla.by_policy_metric.push_back(std::move(row));
  }
  for (const auto& [key, counts] : by_level) {
    report::ladder_level row;
    row.ladder = key.first;
    row.level = key.second;
    row.current = counts.first;
    row.proposed = counts.second;
    out.escalations.by_ladder_level.push_back(std::move(row));
  }
  out.sla.current_median_left = median(std::move(left_current));
  out.sla.proposed_median_left = median(std::move(left_proposed));
  return out;
}

std::pair<std::string, model::instant> iso_week(model::instant at, const std::string& zone_name) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(zone_name, &zone)) throw std::invalid_argument(fmt::format("unknown time zone {}", zone_name));
  const auto day = absl::CivilDay(zone.At(absl::FromUnixSeconds(at.time_since_epoch().count())).cs);
  const int from_monday = (static_cast<int>(absl::GetWeekday(day)) - static_cast<int>(absl::Weekday::monday) + 7) % 7;
  const auto monday = day - from_monday;
  const auto thursday = monday + 3;
  const int number = (absl::GetYearDay(thursday) - 1) / 7 + 1;
  // The first instant of Monday: the earlier reading of a repeated local time, and for a skipped
  // one (a zone whose DST starts at midnight) the instant the day really begins.
  const auto lookup = zone.At(absl::CivilSecond(monday));
  const auto start = lookup.kind == absl::TimeZone::TimeInfo::SKIPPED ? lookup.trans : lookup.pre;
  return {fmt::format("{:04}-W{:02}", thursday.year(), number),
          model::instant{std::chrono::seconds{absl::ToUnixSeconds(start)}}};
}

void count_weeks(report& out, const history& h, const std::vector<breach_seen>& current,
                 const std::vector<breach_seen>& proposed, const std::string& zone) {
  const std::set<model::request_id> filed(h.filed.begin(), h.filed.end());
  std::map<model::instant, report::week> weeks;  // by start
  const auto add = [&](const breach_seen& b, bool is_current) {
    if (filed.count(b.request) == 0) return;
    const auto [key, start] = iso_week(b.at, zone);
    auto& w = weeks[start];
    w.key = key;
    w.start = start;
    ++(is_current ? w.current : w.proposed);
  };
  for (const auto& b : current) add(b, true);
  for (const auto& b : proposed) add(b, false);
  if (!weeks.empty()) {
    // The weeks between with no breach on either side, so a chart has every week.
    for (auto at = weeks.begin()->first; at < weeks.rbegin()->first;) {
      const auto next = iso_week(at + std::chrono::hours{24 * 7 + 12}, zone);
      if (weeks.count(next.second) == 0) {
        report::week empty;
        empty.key = next.first;
        empty.start = next.second;
        weeks.emplace(next.second, empty);
      }
      at = next.second;
    }
  }
  for (auto& [start, w] : weeks) out.breaches_by_week.push_back(std::move(w));
}

report run(const history& h, const window& window, const engine::policy& current, const engine::policy& proposed,
           const run_options& options) {
  const auto calendar = current.sla.calendars.find(options.calendar);
  if (calendar == current.sla.calendars.end())
    throw std::invalid_argument(fmt::format("the current config has no calendar {}", options.calendar));
  const auto zone = calendar->second.zone_name();
  const auto closes = day_closes(calendar->second, window.from, h.as_of);
  std::vector<model::instant> samples;
  samples.reserve(closes.size());
  for (const auto& close : closes) samples.push_back(close.first);
  const auto total = 2 * h.inputs.size();
  std::atomic<std::size_t> done{0};
  side current_side;
  side proposed_side;
  std::exception_ptr current_failed;
  std::exception_ptr proposed_failed;
  {
    std::jthread current_thread([&] {
      try {
        current_side = replay(h, current, samples, options, done, total);
      } catch (...) {
        current_failed = std::current_exception();
      }
    });
    try {
      proposed_side = replay(h, proposed, samples, options, done, total);
    } catch (...) {
      proposed_failed = std::current_exception();
    }
  }
  if (current_failed) std::rethrow_exception(current_failed);
  if (proposed_failed) std::rethrow_exception(proposed_failed);
  if (options.progress) options.progress(done.load(), total);
  auto out = compare(h, current_side.outcomes, proposed_side.outcomes, proposed_side.replayed_as_owner,
                     std::move(proposed_side.skipped), window);
  count_weeks(out, h, current_side.breached, proposed_side.breached, zone);
  if (!out.routing.requests.empty()) {
    // The rules the proposed side filed with, as the engine picks them.
    const auto reloaded = proposed.routing_in_force ? proposed.routing_in_force->current() : nullptr;
    const auto& rules = reloaded ? *reloaded : proposed.routing;
    std::map<model::request_id, const model::request_input*> filed_as;
    for (const auto& in : h.inputs)
      if (const auto* filing = std::get_if<engine::file_request>(&in.command)) filed_as.emplace(in.request, &filing->input);
    for (auto& changed : out.routing.requests)
      if (const auto found = filed_as.find(changed.id); found != filed_as.end())
        changed.proposed_trace = rules::evaluate(rules, *found->second).trace;
  }
  const auto proposed_calendar = proposed.sla.calendars.find(options.calendar);
  for (std::size_t i = 0; i < closes.size() && i < current_side.loads.size() && i < proposed_side.loads.size(); ++i) {
    report::load_day day;
    day.date = closes[i].second;
    day.close = closes[i].first;
    day.closed_in_proposed =
        proposed_calendar != proposed.sla.calendars.end() && closed_on(proposed_calendar->second, day.date);
    for (const auto team : {model::team::ce, model::team::se, model::team::product, model::team::engineering,
                            model::team::engineering_discussion}) {
      const auto count = [team](const std::map<model::team, int>& loads) {
        const auto found = loads.find(team);
        return found == loads.end() ? 0 : found->second;
      };
      report::load_day::team_count row;
      row.team = team;
      row.current = count(current_side.loads[i]);
      row.proposed = count(proposed_side.loads[i]);
      if (row.current != 0 || row.proposed != 0) day.teams.push_back(row);
    }
    out.load.push_back(std::move(day));
  }
  return out;
}

}  // namespace switchboard::backtest
