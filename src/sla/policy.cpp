// SLA policies: business durations and matching a request to the first policy that applies
// (loading them from the config file is sla/load.cpp).
#include "sla/policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <stdexcept>
#include <utility>

namespace switchboard::sla {
namespace {

using std::chrono::seconds;

template <typename T>
bool contains(const std::vector<T>& values, const T& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// Reads the digits at the front of `text` into `value`; false when there are none or they overflow.
bool read_number(std::string_view& text, std::int64_t& value) {
  std::size_t used = 0;
  value = 0;
  while (used < text.size() && text[used] >= '0' && text[used] <= '9') {
    const int digit = text[used] - '0';
    if (value > (std::numeric_limits<std::int64_t>::max() - digit) / 10) return false;
    value = value * 10 + digit;
    ++used;
  }
  text.remove_prefix(used);
  return used > 0;
}

}  // namespace

bool policy::applies_to(const model::request_input& request) const {
  return (stages.empty() || contains(stages, request.customer.stage)) &&
         (tiers.empty() || contains(tiers, request.customer.tier)) && (kinds.empty() || contains(kinds, request.kind));
}

const metric_target* policy::target_of(model::sla_metric metric) const {
  for (const auto& target : metrics)
    if (target.metric == metric) return &target;
  return nullptr;
}

const policy* policy_set::match(const model::request_input& request) const {
  for (const auto& each : policies)
    if (each.applies_to(request)) return &each;
  return nullptr;
}

const calendar::business_calendar& policy_set::calendar(std::string_view name) const {
  const auto resolved = calendar_name(name);
  if (!resolved) throw std::out_of_range(fmt::format("unknown calendar \"{}\"", name));
  return calendars.find(*resolved)->second;
}

std::optional<std::string> policy_set::calendar_name(std::string_view name) const {
  if (calendars.contains(name)) return std::string(name);
  if (const auto renamed = calendar_renames.find(name); renamed != calendar_renames.end()) return renamed->second;
  return std::nullopt;
}

const policy* policy_set::find(std::string_view name) const {
  if (const auto renamed = policy_renames.find(name); renamed != policy_renames.end()) name = renamed->second;
  for (const auto& each : policies)
    if (each.name == name) return &each;
  return nullptr;
}

seconds warning_threshold(seconds target, std::int64_t warning_millionths) {
  // target * m / scale, rounded up, without overflow: split the target at the scale.
  const auto whole = target.count() / warning_scale;
  const auto rest = target.count() % warning_scale;
  const auto rest_part = (rest * warning_millionths + warning_scale - 1) / warning_scale;
  return seconds{std::max<std::int64_t>(whole * warning_millionths + rest_part, 1)};
}

std::optional<seconds> parse_duration(std::string_view text) {
  constexpr std::array<std::pair<char, std::int64_t>, 3> units{{{'h', 3600}, {'m', 60}, {'s', 1}}};
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t next_unit = 0;  // units must come largest first, each at most once
  while (!text.empty()) {
    std::int64_t number = 0;
    if (!read_number(text, number) || text.empty()) return std::nullopt;
    const char unit = text.front();
    text.remove_prefix(1);
    std::size_t index = next_unit;
    while (index < units.size() && units[index].first != unit) ++index;
    if (index == units.size()) return std::nullopt;
    const std::int64_t scale = units[index].second;
    if (number > (std::numeric_limits<std::int64_t>::max() - total) / scale) return std::nullopt;
    total += number * scale;
    next_unit = index + 1;
  }
  return seconds{total};
}

std::string format_duration(seconds duration) {
  if (duration.count() == 0) return "0s";
  std::string result;
  // Negative durations (an overdue clock's remaining time) get a leading '-'.
  if (duration.count() < 0) result += '-';
  // Count in unsigned so that the most negative value has a magnitude.
  std::uint64_t left = duration.count() < 0 ? 0 - static_cast<std::uint64_t>(duration.count())
                                            : static_cast<std::uint64_t>(duration.count());
  const std::uint64_t hours = left / 3600;
  left %= 3600;
  const std::uint64_t minutes = left / 60;
  const std::uint64_t secs = left % 60;
  if (hours != 0) result += fmt::format("{}h", hours);
  if (minutes != 0) result += fmt::format("{}m", minutes);
  if (secs != 0) result += fmt::format("{}s", secs);
  return result;
}

rename_map policy_renames(const std::vector<policy>& policies) {
  rename_map renames;
  for (const auto& each : policies)
    for (const auto& old_name : each.replaces) renames.emplace(old_name, each.name);
  return renames;
}

std::vector<missing_name> missing_names(const policy_set& set, const std::vector<model::sla_clock>& clocks,
                                        const std::vector<const policy*>& applying_now) {
  std::map<std::pair<missing_name::what, std::string>, missing_name> found;
  auto count = [&](missing_name::what kind, const std::string& name,
                   std::optional<model::sla_metric> metric = std::nullopt) -> missing_name& {
    missing_name fresh{kind, name, 0, {}, metric};
    auto& entry = found.try_emplace({kind, fresh.key()}, std::move(fresh)).first->second;
    ++entry.open_clocks;
    return entry;
  };
  for (std::size_t i = 0; i < clocks.size(); ++i) {
    const auto& clock = clocks[i];
    if (clock.completed) continue;
    if (!set.calendar_name(clock.calendar)) count(missing_name::what::calendar, clock.calendar);
    const auto* owner = set.find(clock.policy);
    if (owner == nullptr) {
      auto& entry = count(missing_name::what::policy, clock.policy);
      if (i < applying_now.size() && applying_now[i] != nullptr) ++entry.applying_now[applying_now[i]->name];
    } else if (owner->target_of(clock.metric) == nullptr) {
      // Its policy (kept, or renamed through `replaces`) no longer has this metric: the clock
      // would keep a target no policy defines, which is a metric disappearing silently.
      count(missing_name::what::metric, clock.policy, clock.metric);
    }
  }
  std::vector<missing_name> out;
  for (auto& [key, entry] : found) out.push_back(std::move(entry));
  return out;
}

std::string missing_name::key() const {
  return metric ? fmt::format("{}\n{}", name, model::to_string(*metric)) : name;
}

namespace {

// The policy that replaces `old_name`, and where its `replaces` names it.
std::pair<const policy*, config::position> replacing(const policy_set& set, std::string_view old_name) {
  for (const auto& candidate : set.policies)
    for (std::size_t i = 0; i < candidate.replaces.size(); ++i)
      if (candidate.replaces[i] == old_name)
        return {&candidate, i < candidate.replaces_at.size() ? candidate.replaces_at[i] : candidate.at};
  return {nullptr, set.policies_at};
}

// The configured policy that most plausibly took a missing one's place: the one that now applies
// to most of its clocks' requests (the earlier in the file on a tie); null when none applies.
const policy* likely_successor(const policy_set& set, const missing_name& missing) {
  const policy* best = nullptr;
  std::size_t best_count = 0;
  for (const auto& candidate : set.policies) {
    const auto found = missing.applying_now.find(candidate.name);
    if (found != missing.applying_now.end() && found->second > best_count) {
      best = &candidate;
      best_count = found->second;
    }
  }
  return best;
}

}  // namespace

void refuse_missing(const policy_set& set, const std::vector<missing_name>& missing) {
  if (missing.empty()) return;
  // One line per missing name, each at its own place, so an editor can jump to every one.
  std::vector<std::pair<config::position, std::string>> parts;
  for (const auto& m : missing) {
    const auto used = fmt::format("is used by {} open SLA clock{} but is not configured", m.open_clocks,
                                  m.open_clocks == 1 ? "" : "s");
    const auto* kept = m.kind == missing_name::what::metric ? set.find(m.name) : nullptr;
    if (kept != nullptr && kept->name == m.name) {  // the policy kept its name and dropped the metric
      const auto metric = model::to_string(m.metric.value_or(model::sla_metric::resolution));
      parts.emplace_back(kept->at.line > 0 ? kept->at : set.policies_at,
                         fmt::format("SLA policy \"{}\" has no {} metric, but {} open SLA clock{} of it count{} {}; add "
                                     "{{ metric = \"{}\", target = \"...\" }} back to its metrics until they are met",
                                     m.name, metric, m.open_clocks, m.open_clocks == 1 ? "" : "s",
                                     m.open_clocks == 1 ? "s" : "", metric, metric));
    } else if (m.kind == missing_name::what::metric) {
      const auto [successor, at] = replacing(set, m.name);
      const auto metric = model::to_string(m.metric.value_or(model::sla_metric::resolution));
      parts.emplace_back(at.line > 0 ? at : set.policies_at,
                         fmt::format("SLA policy \"{}\" replaces \"{}\", whose {} open SLA clock{} count{} {}, but has no {} "
                                     "metric; add {{ metric = \"{}\", target = \"...\" }} to its metrics, or keep \"{}\" for them",
                                     successor != nullptr ? successor->name : std::string("?"), m.name, m.open_clocks,
                                     m.open_clocks == 1 ? "" : "s", m.open_clocks == 1 ? "s" : "", metric, metric,
                                     metric, m.name));
    } else if (m.kind == missing_name::what::calendar) {
      parts.emplace_back(set.calendars_at,
                         fmt::format("calendar \"{}\" {}; keep it, or name it in `replaces = [\"{}\"]` of the "
                                     "[calendars.NAME] table that takes its place",
                                     m.name, used, m.name));
    } else if (const auto* successor = likely_successor(set, m)) {
      parts.emplace_back(successor->at.line > 0 ? successor->at : set.policies_at,
                         fmt::format("SLA policy \"{}\" {}; SLA policy \"{}\" (here) now applies to their requests: if "
                                     "it is \"{}\" renamed, add `replaces = [\"{}\"]` to it, otherwise keep \"{}\"",
                                     m.name, used, successor->name, m.name, m.name, m.name));
    } else {
      parts.emplace_back(set.policies_at,
                         fmt::format("SLA policy \"{}\" {}, and no configured policy applies to their requests now; "
                                     "keep it, or name it in `replaces = [\"{}\"]` of the [[sla.policy]] that takes "
                                     "its place",
                                     m.name, used, m.name));
    }
  }
  std::vector<config::error::entry> further;
  for (std::size_t i = 1; i < parts.size(); ++i) further.push_back({parts[i].first, parts[i].second});
  throw config::error(parts.front().first, parts.front().second, std::move(further));
}

}  // namespace switchboard::sla
