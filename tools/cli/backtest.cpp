#include "cli/backtest.hpp"

#include "backtest/report.hpp"
#include "backtest/world.hpp"
#include "codec/backtest_json.hpp"
#include "codec/event_json.hpp"
#include "config/settings.hpp"
#include "model/instant.hpp"
#include "policy/load.hpp"
#include "sla/policy.hpp"
#include "store/backtest_reads.hpp"
#include "store/inspect.hpp"
#include "store/requests.hpp"

#include <absl/time/civil_time.h>
#include <absl/time/time.h>
#include <fmt/format.h>
#include <boost/json.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string_view>

namespace cli {
namespace {

using namespace switchboard;
namespace json = boost::json;
using namespace std::chrono_literals;

// 1234567 -> "1,234,567", as the human output shows counts.
std::string grouped(long long n) {
  auto digits = std::to_string(n < 0 ? -n : n);
  for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3) digits.insert(static_cast<std::size_t>(at), ",");
  return n < 0 ? "-" + digits : digits;
}

// A bar on stderr while the sides replay: only on a terminal (TERM not "dumb"),
// at most 10 redraws a second, as wide as the terminal; nothing at all
// otherwise, so piped output stays clean.
class progress_bar {
 public:
  progress_bar() {
    const char* term = std::getenv("TERM");
    enabled_ = ::isatty(STDERR_FILENO) == 1 && !(term && std::string_view(term) == "dumb");
    winsize size{};
    if (enabled_ && ::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) columns_ = size.ws_col;
  }
  void operator()(std::size_t done, std::size_t total) {
    if (!enabled_) return;
    const std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (done < total && drawn_ && now - last_ < 100ms) return;
    last_ = now;
    drawn_ = true;
    const auto text =
        fmt::format("  {}/{} inputs  {:.1f} s", grouped(static_cast<long long>(done)),
                    grouped(static_cast<long long>(total)), std::chrono::duration<double>(now - start_).count());
    const int width = std::clamp(columns_ - static_cast<int>(text.size()) - 3, 10, 50);
    const int filled =
        total == 0 ? width : static_cast<int>(static_cast<double>(done) * width / static_cast<double>(total));
    fmt::print(stderr, "\r[{}{}]{}", std::string(static_cast<std::size_t>(filled), '#'),
               std::string(static_cast<std::size_t>(width - filled), ' '), text);
    std::fflush(stderr);
  }
  void finish() {
    if (enabled_ && drawn_) fmt::print(stderr, "\n");
  }

 private:
  bool enabled_ = false;
  int columns_ = 80;
  std::mutex mutex_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

absl::TimeZone zone_of(const std::string& name) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(name, &zone)) throw std::runtime_error(fmt::format("unknown time zone {}", name));
  return zone;
}

model::instant instant_of(absl::Time t) { return model::instant{std::chrono::seconds{absl::ToUnixSeconds(t)}}; }

std::string local_date(model::instant at, const absl::TimeZone& zone) {
  const auto day = absl::CivilDay(zone.At(absl::FromUnixSeconds(at.time_since_epoch().count())).cs);
  return absl::FormatCivilTime(day);
}

// --from/--to: a local date in the report calendar's zone (its start; for --to,
// the next day's start, so the date is included) or an ISO-8601 instant (as
// given: exclusive for --to).
model::instant bound_of(const std::string& option, const std::string& text, const absl::TimeZone& zone, bool end) {
  absl::CivilDay day;
  if (text.size() == 10 && absl::ParseCivilTime(text, &day))
    return instant_of(zone.At(absl::CivilSecond(end ? day + 1 : day)).pre);
  if (const auto parsed = model::parse_instant(text)) return *parsed;
  throw std::runtime_error(
      fmt::format("{} \"{}\" is neither a date like 2026-11-02 (in the "
                  "calendar's zone) nor an "
                  "ISO-8601 instant like 2026-11-02T09:00:00Z",
                  option, text));
}

engine::policy load_policy(const std::string& config_path, const std::optional<std::string>& rules) {
  auto settings = config::load_settings(config_path);
  if (rules) settings.rules_path = *rules;
  return policy::load(settings);
}

std::string signed_duration(std::chrono::seconds s) {
  return s < 0s ? "-" + sla::format_duration(-s) : sla::format_duration(s);
}

std::string encoded(const engine::event& e) {
  return json::serialize(json::object{{"at", model::format_instant(e.at)},
                                      {"actor", e.actor},
                                      {"type", std::string(model::type_name(e))},
                                      {"data", codec::encode_data(e)}});
}

struct verification {
  int requests = 0;
  long long events = 0;
  std::vector<std::string> differences;  // the first 20
  long long different = 0;               // requests whose events differ
};

// The current side replayed again, its events kept, and compared with the
// record, request by request: the same events (type, instant, actor, encoded
// data) in the same order.
verification verify(store::read_session session, const backtest::history& h, const engine::policy& current) {
  backtest::keep_events sink;
  backtest::world w(current, sink);
  for (const auto& in : h.inputs) w.replay(in);
  w.fire_until(h.as_of);
  std::vector<model::request_id> ids(h.filed);
  ids.insert(ids.end(), h.linked.begin(), h.linked.end());
  std::sort(ids.begin(), ids.end());
  verification out;
  static const std::vector<engine::event> none;
  for (const auto id : ids) {
    ++out.requests;
    const auto recorded = store::events_of(session, id);
    const auto found = sink.events().find(id);
    const auto& replayed = found == sink.events().end() ? none : found->second;
    out.events += static_cast<long long>(recorded.size());
    const auto n = std::max(recorded.size(), replayed.size());
    for (std::size_t i = 0; i < n; ++i) {
      const auto was = i < recorded.size() ? encoded(recorded[i]) : std::string("(none)");
      const auto now = i < replayed.size() ? encoded(replayed[i]) : std::string("(none)");
      if (was == now) continue;
      ++out.different;
      if (out.differences.size() < 20)
        out.differences.push_back(fmt::format("request {} event {}: recorded {}; replayed {}", id, i + 1, was, now));
      break;
    }
  }
  return out;
}

const char* weekday_of(const std::string& date) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(date, &day)) return "";
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::monday:
      return "Mon";
    case absl::Weekday::tuesday:
      return "Tue";
    case absl::Weekday::wednesday:
      return "Wed";
    case absl::Weekday::thursday:
      return "Thu";
    case absl::Weekday::friday:
      return "Fri";
    case absl::Weekday::saturday:
      return "Sat";
    case absl::Weekday::sunday:
      return "Sun";
  }
  return "";
}

void print_human(const backtest::report& r, const backtest_options& o, const std::string& calendar_zone,
                 const absl::TimeZone& zone, const backtest::history& h) {
  fmt::print("Backtest {} .. {} ({}, {}), replayed to {}\n", local_date(r.from, zone), local_date(r.to - 1s, zone),
             o.calendar, calendar_zone, model::format_instant(r.as_of));
  fmt::print("  {} requests filed; {} inputs; current = {}, proposed = {}{}\n", grouped(r.requests),
             grouped(r.inputs_replayed), o.current_config, o.proposed_config,
             o.rules ? fmt::format(" with rules {}", *o.rules) : std::string());
  if (h.scanned)
    fmt::print(
        "  (this database has no requests_by_created index, from before "
        "migration 23: the filings were found by "
        "a scan of every request)\n");

  fmt::print("Routing: {} request{} would go to another team\n", r.routing.changed, r.routing.changed == 1 ? "" : "s");
  for (const auto& o2 : r.routing.by_owner)
    fmt::print("  {:<22} {:>5}\n", fmt::format("{} -> {}", model::to_string(o2.current), model::to_string(o2.proposed)),
               o2.count);
  for (const auto& rule : r.routing.by_rule) fmt::print("  {:>5}  {} -> {}\n", rule.count, rule.current, rule.proposed);
  if (r.routing.changed > 0) {
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < r.routing.requests.size() && i < 20; ++i)
      ids.push_back(std::to_string(r.routing.requests[i].id));
    fmt::print("  requests: {}{} (traces: --json)\n", fmt::join(ids, ", "),
               r.routing.requests.size() > 20 ? ", ..." : "");
  }

  fmt::print("SLA {:<30} {:>5} {:>8} {:>5}   {:>5} {:>8} {:>5}\n", "(current | proposed)", "met", "breached", "open",
             "met", "breached", "open");
  for (const auto& p : r.sla.by_policy_metric)
    fmt::print("  {:<32} {:>5} {:>8} {:>5}   {:>5} {:>8} {:>5}\n",
               fmt::format("{} {}", p.policy, model::to_string(p.metric)), p.current.met, p.current.breached,
               p.current.open, p.proposed.met, p.proposed.breached, p.proposed.open);
  const auto flip_list = [](const std::vector<backtest::report::flip>& flips) {
    std::vector<std::string> items;
    for (std::size_t i = 0; i < flips.size() && i < 20; ++i)
      items.push_back(fmt::format("{} {}", flips[i].id, model::to_string(flips[i].metric)));
    return fmt::format("{}{}", fmt::join(items, ", "), flips.size() > 20 ? ", ..." : "");
  };
  fmt::print("  flips to met: {}{}\n", r.sla.to_met.size(),
             r.sla.to_met.empty() ? std::string() : " (" + flip_list(r.sla.to_met) + ")");
  fmt::print("  flips to breached: {}{}\n", r.sla.to_breached.size(),
             r.sla.to_breached.empty() ? std::string() : " (" + flip_list(r.sla.to_breached) + ")");
  if (r.sla.current_median_left && r.sla.proposed_median_left) {
    const auto change = *r.sla.proposed_median_left - *r.sla.current_median_left;
    fmt::print(
        "  median business time left at first response: {} -> {} ({}{}, "
        "{} paired)\n",
        signed_duration(*r.sla.current_median_left), signed_duration(*r.sla.proposed_median_left),
        change >= 0s ? "+" : "", signed_duration(change), r.sla.paired);
  } else {
    fmt::print(
        "  median business time left at first response: no request "
        "answered on both sides\n");
  }

  fmt::print("Escalations (notifications)      current  proposed\n");
  if (r.escalations.by_ladder_level.empty()) fmt::print("  none on either side\n");
  for (const auto& l : r.escalations.by_ladder_level)
    fmt::print("  {:<30} {:>7} {:>9}\n", fmt::format("{} level {}", l.ladder, l.level), l.current, l.proposed);

  fmt::print("Breaches by week (current/proposed):");
  if (r.breaches_by_week.empty()) fmt::print(" none");
  for (const auto& w : r.breaches_by_week) fmt::print("  {} {}/{}", w.key, w.current, w.proposed);
  fmt::print("\n");

  // One line per sampled close with any open request on either side, or that
  // the proposal closes (a holiday it adds, marked *): a long window's idle
  // days would only be noise here.
  if (r.load.empty())
    fmt::print("Load (open at close): no business day closed in the window on {}\n", o.calendar);
  else
    fmt::print("Load (open at each business day's close, current/proposed):\n");
  int shown = 0, quiet = 0, more = 0;
  for (const auto& day : r.load) {
    if (day.teams.empty() && !day.closed_in_proposed) {
      ++quiet;
      continue;
    }
    if (shown == 31) {
      ++more;
      continue;
    }
    ++shown;
    std::string line = fmt::format("  {} {}{}", weekday_of(day.date), day.date, day.closed_in_proposed ? "*" : " ");
    for (const auto& t : day.teams) line += fmt::format("  {} {}/{}", model::to_string(t.team), t.current, t.proposed);
    fmt::print("{}\n", line);
  }
  if (quiet > 0) fmt::print("  ({} other day{} with nothing open on either side)\n", quiet, quiet == 1 ? "" : "s");
  if (more > 0) fmt::print("  ({} more days: --json)\n", more);
  if (std::any_of(r.load.begin(), r.load.end(), [](const auto& d) { return d.closed_in_proposed; }))
    fmt::print("  (* closed all day in the proposed calendar)\n");

  fmt::print("Actions: {} replayed as the owning team; {} not applicable", r.actions.replayed_as_owner,
             r.actions.not_applicable.size());
  if (!r.actions.not_applicable.empty()) {
    std::vector<std::string> items;
    for (std::size_t i = 0; i < r.actions.not_applicable.size() && i < 5; ++i) {
      const auto& n = r.actions.not_applicable[i];
      items.push_back(fmt::format("{} {}: {}", n.request, n.action, n.why));
    }
    fmt::print(" ({}{})", fmt::join(items, "; "), r.actions.not_applicable.size() > 5 ? "; ... all: --json" : "");
  }
  fmt::print("\n");
  if (r.drift == 0)
    fmt::print(
        "Drift: none (the current config replays the record's breaches "
        "exactly)\n");
  else
    fmt::print(
        "Drift: {} request{} whose recorded breaches differ from the current "
        "config's replay (the config "
        "changed while they were open, or an older release recorded them)\n",
        r.drift, r.drift == 1 ? "" : "s");
}

}  // namespace

int backtest(const backtest_options& o) {
  // Both configs first: a bad file stops before the database is opened.
  const auto current = load_policy(o.current_config, std::nullopt);
  const auto proposed = load_policy(o.proposed_config, o.rules);
  const auto calendar = current.sla.calendars.find(o.calendar);
  if (calendar == current.sla.calendars.end())
    throw std::runtime_error(
        fmt::format("--calendar: the current config {} has no calendar \"{}\"", o.current_config, o.calendar));
  const auto zone_name = calendar->second.zone_name();
  const auto zone = zone_of(zone_name);

  std::optional<store::inspected_database> db;
  try {
    db.emplace(o.db);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("--db: {}", e.what()));
  }

  backtest::window window;
  if (o.from) window.from = bound_of("--from", *o.from, zone, false);
  if (o.to) window.to = bound_of("--to", *o.to, zone, true);
  if (!o.from || !o.to) {
    // The default window ends with the record (its newest event) and spans the
    // 90 days before; an empty window's read answers as_of without reading any
    // request.
    const auto newest = store::read_history(db->session(), {model::instant{}, model::instant{}, std::nullopt}).as_of;
    if (!o.to) window.to = newest + 1s;
    if (!o.from) window.from = window.to - std::chrono::hours{24 * 90};
  }
  if (window.from > window.to)
    throw std::runtime_error(fmt::format("--from {} is after --to {}; expected --from at or before --to",
                                         model::format_instant(window.from), model::format_instant(window.to)));

  const auto history = store::read_history(db->session(), window);
  progress_bar bar;
  backtest::run_options run_options;
  run_options.calendar = o.calendar;
  run_options.progress = [&bar](std::size_t done, std::size_t total) { bar(done, total); };
  const auto report = backtest::run(history, window, current, proposed, run_options);
  bar.finish();

  std::optional<verification> checked;
  if (o.verify) checked = verify(db->session(), history, current);

  if (o.json) {
    auto out = codec::to_json(report);
    out["current"] = o.current_config;
    out["proposed"] = o.proposed_config;
    if (o.rules) out["proposed_rules"] = *o.rules;
    out["calendar"] = o.calendar;
    out["scanned"] = history.scanned;
    if (checked) {
      json::array differences;
      for (const auto& d : checked->differences) differences.emplace_back(d);
      out["verify"] = json::object{{"exact", checked->different == 0},
                                   {"requests", checked->requests},
                                   {"events", checked->events},
                                   {"requests_different", checked->different},
                                   {"differences", std::move(differences)}};
    }
    fmt::print("{}\n", json::serialize(out));
  } else if (o.csv) {
    fmt::print("{}", codec::backtest_csv(report));
  } else {
    print_human(report, o, zone_name, zone, history);
  }
  if (checked && !o.json) {
    // With --csv the verdict goes to stderr, so stdout stays one CSV document.
    auto* stream = o.csv ? stderr : stdout;
    if (checked->different == 0)
      fmt::print(stream, "replay of the record: exact ({} requests, {} events)\n", grouped(checked->requests),
                 grouped(checked->events));
    else {
      fmt::print(stream, "replay of the record: {} of {} requests differ; the first {}:\n", checked->different,
                 checked->requests, checked->differences.size());
      for (const auto& d : checked->differences) fmt::print(stream, "  {}\n", d);
    }
  }
  return checked && checked->different > 0 ? 3 : 0;
}

}  // namespace cli
