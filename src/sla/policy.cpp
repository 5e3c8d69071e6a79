// SLA policies: business durations, matching a request to the first policy that applies, and
// strict loading of the [sla] section of the config file (every error at file:line:col).
#include "sla/policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <stdexcept>
#include <utility>

namespace switchboard::sla {
namespace {

using std::chrono::seconds;

constexpr std::string_view duration_expected = "expected a business duration like 1h, 90m or 1h30m";

template <typename T>
bool contains(const std::vector<T>& values, const T& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// Reads one [sla] table; `file_` names it in every error.
class reader : config::file_errors {
 public:
  reader(std::string_view file, const calendar_map& calendars, const std::vector<std::string>& tiers)
      : config::file_errors(file), calendars_(calendars), tiers_(tiers) {}

  std::vector<policy> read(const toml::table& sla) const {
    check_keys(sla, {"policy"}, "[sla]");
    std::vector<policy> result;
    const toml::node* list = sla.get("policy");
    if (list == nullptr) return result;
    const auto* array = list->as_array();
    if (array == nullptr)
      fail(*list, fmt::format("\"policy\" in [sla] must be an array of tables ([[sla.policy]]), found {}",
                              config::type_name(*list)));
    std::map<std::string, int, std::less<>> first_line;
    for (const auto& element : *array) {
      const auto* policy_table = element.as_table();
      if (policy_table == nullptr)
        fail(element, fmt::format("each SLA policy must be a table ([[sla.policy]]), found {}", config::type_name(element)));
      const auto& table = *policy_table;
      policy parsed = read_policy(table, result.size() + 1);
      const auto& name_node = *table.get("name");
      if (const auto seen = first_line.find(parsed.name); seen != first_line.end())
        fail(name_node, fmt::format("duplicate policy name \"{}\"; first defined at line {}; policy names must be unique",
                                    parsed.name, seen->second));
      first_line.emplace(parsed.name, static_cast<int>(name_node.source().begin.line));
      result.push_back(std::move(parsed));
    }
    return result;
  }

 private:
  const toml::node& require(const toml::table& table, std::string_view key, std::string_view where,
                            std::string_view hint) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) fail(table, fmt::format("missing \"{}\" in {}; expected {}", key, where, hint));
    return *node;
  }

  const std::string& string_of(const toml::node& node, std::string_view what) const {
    const auto* text = node.as_string();
    if (text == nullptr) fail(node, fmt::format("{} must be a string, found {}", what, config::type_name(node)));
    return text->get();
  }

  const toml::array& array_of(const toml::node& node, std::string_view what) const {
    const auto* array = node.as_array();
    if (array == nullptr) fail(node, fmt::format("{} must be an array, found {}", what, config::type_name(node)));
    return *array;
  }

  // A selector or status list: an array of strings, each parsed by `parse` (nullopt: unknown),
  // no value twice.
  template <typename T, typename Parse>
  std::vector<T> read_list(const toml::node& node, std::string_view key, std::string_view noun, Parse parse,
                           std::string_view names) const {
    std::vector<T> result;
    for (const auto& element : array_of(node, fmt::format("\"{}\"", key))) {
      const auto& text = string_of(element, fmt::format("each element of \"{}\"", key));
      const std::optional<T> value = parse(text);
      if (!value) fail(element, fmt::format("unknown {} \"{}\"; expected one of {}", noun, text, names));
      if (contains(result, *value)) fail(element, fmt::format("{} \"{}\" is listed twice in \"{}\"", noun, text, key));
      result.push_back(*value);
    }
    return result;
  }

  policy read_policy(const toml::table& table, std::size_t number) const {
    check_keys(table, {"name", "stages", "tiers", "kinds", "calendar", "metrics"}, "an SLA policy");
    policy result;
    const auto& name_node =
        require(table, "name", fmt::format("SLA policy #{}", number), "name = \"...\", unique among the policies");
    result.name = string_of(name_node, "\"name\"");
    if (result.name.empty()) fail(name_node, "\"name\" must not be empty");
    const std::string where = fmt::format("SLA policy \"{}\"", result.name);

    if (const auto* node = table.get("stages"))
      result.stages = read_list<model::customer_stage>(*node, "stages", "customer stage", model::parse_customer_stage,
                                                       model::customer_stage_names());
    if (const auto* node = table.get("tiers")) result.tiers = read_tiers(*node);
    if (const auto* node = table.get("kinds"))
      result.kinds = read_list<model::request_kind>(*node, "kinds", "kind", model::parse_request_kind,
                                                    model::request_kind_names());

    const auto& calendar_node = require(table, "calendar", where, "calendar = the name of a [calendars] table");
    result.calendar = string_of(calendar_node, "\"calendar\"");
    if (!calendars_.contains(result.calendar)) {
      if (calendars_.empty())
        fail(calendar_node, fmt::format("unknown calendar \"{}\"; no calendars are configured ([calendars])",
                                        result.calendar));
      std::vector<std::string_view> known;
      for (const auto& [name, calendar] : calendars_) known.push_back(name);
      fail(calendar_node, fmt::format("unknown calendar \"{}\"; expected one of {} (the calendars in [calendars])",
                                      result.calendar, fmt::join(known, ", ")));
    }

    const toml::node* metrics = table.get("metrics");
    constexpr std::string_view metrics_hint = "metrics = [ { metric = \"first_response\", target = \"1h\" }, ... ]";
    if (metrics == nullptr)
      fail(table, fmt::format("{} has no metrics; expected {}", where, metrics_hint));
    const auto& list = array_of(*metrics, "\"metrics\"");
    if (list.empty()) fail(list, fmt::format("{} has no metrics; expected {}", where, metrics_hint));
    std::map<model::sla_metric, int> first_line;
    for (const auto& element : list) {
      const auto* metric_table = element.as_table();
      if (metric_table == nullptr)
        fail(element, fmt::format("each element of \"metrics\" must be a table like {{ metric = \"first_response\", "
                                  "target = \"1h\" }}, found {}",
                                  config::type_name(element)));
      metric_target target = read_metric(*metric_table, where);
      const auto& metric_node = *metric_table->get("metric");
      if (const auto seen = first_line.find(target.metric); seen != first_line.end())
        fail(metric_node, fmt::format("duplicate metric \"{}\" in {}; first at line {}; each metric at most once per "
                                      "policy",
                                      model::to_string(target.metric), where, seen->second));
      first_line.emplace(target.metric, static_cast<int>(metric_node.source().begin.line));
      result.metrics.push_back(std::move(target));
    }
    return result;
  }

  std::vector<std::string> read_tiers(const toml::node& node) const {
    std::vector<std::string> result;
    for (const auto& element : array_of(node, "\"tiers\"")) {
      const auto& text = string_of(element, "each element of \"tiers\"");
      if (!contains(tiers_, text)) {
        if (tiers_.empty())
          fail(element, fmt::format("unknown tier \"{}\"; no contract tiers are configured ([customers] tiers)", text));
        fail(element, fmt::format("unknown tier \"{}\"; expected one of {} (the configured [customers] tiers)", text,
                                  fmt::join(tiers_, ", ")));
      }
      if (contains(result, text)) fail(element, fmt::format("tier \"{}\" is listed twice in \"tiers\"", text));
      result.push_back(text);
    }
    return result;
  }

  metric_target read_metric(const toml::table& table, std::string_view where) const {
    check_keys(table, {"metric", "target", "warning", "pause_on"}, "a metric");
    metric_target result;
    const auto& metric_node =
        require(table, "metric", fmt::format("a metric of {}", where), fmt::format("one of {}", model::sla_metric_names()));
    const auto& metric_name = string_of(metric_node, "\"metric\"");
    const auto metric = model::parse_sla_metric(metric_name);
    if (!metric)
      fail(metric_node, fmt::format("unknown metric \"{}\"; expected one of {}", metric_name, model::sla_metric_names()));
    result.metric = *metric;

    const auto& target_node = require(table, "target", fmt::format("metric \"{}\" of {}", metric_name, where),
                                      "a business duration like \"1h\"");
    const auto* target_text = target_node.as_string();
    if (target_text == nullptr)
      fail(target_node, fmt::format("\"target\" must be a string, found {}; {} (in quotes)", config::type_name(target_node),
                                    duration_expected));
    const auto target = parse_duration(target_text->get());
    if (!target) fail(target_node, fmt::format("bad target \"{}\"; {}", target_text->get(), duration_expected));
    if (target->count() == 0)
      fail(target_node, fmt::format("target \"{}\" is zero; {}, greater than zero", target_text->get(), duration_expected));
    result.target = *target;

    if (const auto* node = table.get("warning")) {
      const auto* ratio = node->as_floating_point();
      if (ratio == nullptr)
        fail(*node, fmt::format("\"warning\" must be a fraction of the target strictly between 0 and 1, like 0.75, "
                                "found {}",
                                config::type_name(*node)));
      if (!(ratio->get() > 0.0 && ratio->get() < 1.0))
        fail(*node, fmt::format("\"warning\" is {}; expected a fraction of the target strictly between 0 and 1, like "
                                "0.75",
                                ratio->get()));
      result.warning_ratio = ratio->get();
    }

    if (const auto* node = table.get("pause_on"))
      result.pause_on = read_list<model::request_status>(*node, "pause_on", "status", model::parse_request_status,
                                                         model::request_status_names());
    return result;
  }

  const calendar_map& calendars_;
  const std::vector<std::string>& tiers_;
};

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

const policy* policy_set::match(const model::request_input& request) const {
  for (const auto& each : policies)
    if (each.applies_to(request)) return &each;
  return nullptr;
}

const calendar::business_calendar& policy_set::calendar(std::string_view name) const {
  const auto found = calendars.find(name);
  if (found == calendars.end()) throw std::out_of_range(fmt::format("unknown calendar \"{}\"", name));
  return found->second;
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

std::vector<policy> load_policies(const toml::table& sla, std::string_view file, const calendar_map& calendars,
                                  const std::vector<std::string>& tiers) {
  return reader(file, calendars, tiers).read(sla);
}

}  // namespace switchboard::sla
