// Strict loading of the [sla] section of the config file and the calendars' `replaces` (every
// error at file:line:col).
#include "sla/load.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

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
    check_replaces(*array, result);
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
    check_keys(table, {"name", "stages", "tiers", "kinds", "calendar", "metrics", "replaces"}, "an SLA policy");
    policy result;
    const auto& name_node =
        require(table, "name", fmt::format("SLA policy #{}", number), "name = \"...\", unique among the policies");
    result.name = string_of(name_node, "\"name\"");
    if (result.name.empty()) fail(name_node, "\"name\" must not be empty");
    result.at = config::position{std::string(file_), static_cast<int>(name_node.source().begin.line),
                                 static_cast<int>(name_node.source().begin.column)};
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

    if (const auto* node = table.get("replaces"))
      for (const auto& element : array_of(*node, "\"replaces\"")) {
        const auto& old_name = string_of(element, "each element of \"replaces\"");
        if (old_name.empty()) fail(element, "a replaced policy name must not be empty");
        result.replaces.push_back(old_name);
        result.replaces_at.push_back(config::position{std::string(file_), static_cast<int>(element.source().begin.line),
                                                      static_cast<int>(element.source().begin.column)});
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

  // A replaced name must be gone (else its clocks would have two policies) and replaced once.
  void check_replaces(const toml::array& tables, const std::vector<policy>& read) const {
    std::map<std::string, std::string, std::less<>> seen;
    for (std::size_t i = 0; i < read.size(); ++i) {
      for (std::size_t j = 0; j < read[i].replaces.size(); ++j) {
        const auto& old_name = read[i].replaces[j];
        const auto& node = *tables[i].as_table()->get("replaces")->as_array()->get(j);
        if (std::any_of(read.begin(), read.end(), [&](const policy& p) { return p.name == old_name; }))
          fail(node, fmt::format("policy \"{}\" replaces \"{}\", but a policy of that name still exists; a name "
                                 "is either current or replaced",
                                 read[i].name, old_name));
        if (const auto other = seen.find(old_name); other != seen.end() && other->second == read[i].name)
          fail(node, fmt::format("\"{}\" is listed twice in the \"replaces\" of policy \"{}\"; name each old "
                                 "policy once",
                                 old_name, read[i].name));
        if (const auto other = seen.find(old_name); other != seen.end())
          fail(node, fmt::format("\"{}\" is replaced by both \"{}\" and \"{}\"; each old name maps to one policy",
                                 old_name, other->second, read[i].name));
        seen.emplace(old_name, read[i].name);
      }
    }
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
      // To the millionth: the threshold itself is then integer arithmetic. A fraction with more
      // decimals would be rounded silently (0.7000001 warns as 0.7 does), so it is refused: six
      // decimals already name every second of a target up to 277 business hours.
      const double scaled = ratio->get() * static_cast<double>(warning_scale);
      result.warning_millionths = std::llround(scaled);
      if (std::abs(scaled - static_cast<double>(result.warning_millionths)) > 1e-6)
        fail(*node, fmt::format("\"warning\" is {}; it is read to the millionth: write at most six decimals, like "
                                "0.75 or 0.333333",
                                ratio->get()));
      if (result.warning_millionths <= 0 || result.warning_millionths >= warning_scale)
        fail(*node, fmt::format("\"warning\" is {}; it is read to the millionth and must stay strictly between 0 "
                                "and 1",
                                ratio->get()));
    }

    if (const auto* node = table.get("pause_on"))
      result.pause_on = read_list<model::request_status>(*node, "pause_on", "status", model::parse_request_status,
                                                         model::request_status_names());
    return result;
  }

  const calendar_map& calendars_;
  const std::vector<std::string>& tiers_;
};

}  // namespace

std::vector<policy> load_policies(const toml::table& sla, std::string_view file, const calendar_map& calendars,
                                  const std::vector<std::string>& tiers) {
  return reader(file, calendars, tiers).read(sla);
}

rename_map load_calendar_renames(const toml::table& calendars, std::string_view file, const calendar_map& loaded) {
  rename_map renames;
  for (const auto& [key, node] : calendars) {
    const auto* table = node.as_table();
    const toml::node* list = table == nullptr ? nullptr : table->get("replaces");
    if (list == nullptr) continue;
    const auto* array = list->as_array();
    if (array == nullptr)
      config::fail_at(*list, file, fmt::format("\"replaces\" must be an array of the names calendar \"{}\" had "
                                               "before, found {}",
                                               key.str(), config::type_name(*list)));
    for (const auto& element : *array) {
      const auto* text = element.as_string();
      if (text == nullptr || text->get().empty())
        config::fail_at(element, file, "each element of \"replaces\" must be a non-empty calendar name");
      const auto& old_name = text->get();
      if (loaded.contains(old_name))
        config::fail_at(element, file,
                        fmt::format("calendar \"{}\" replaces \"{}\", but a calendar of that name still exists; a "
                                    "name is either current or replaced",
                                    key.str(), old_name));
      if (const auto other = renames.find(old_name); other != renames.end() && other->second == key.str())
        config::fail_at(element, file,
                        fmt::format("\"{}\" is listed twice in the \"replaces\" of calendar \"{}\"; name each old "
                                    "calendar once",
                                    old_name, key.str()));
      if (const auto other = renames.find(old_name); other != renames.end())
        config::fail_at(element, file,
                        fmt::format("\"{}\" is replaced by both \"{}\" and \"{}\"; each old name maps to one "
                                    "calendar",
                                    old_name, other->second, key.str()));
      renames.emplace(old_name, std::string(key.str()));
    }
  }
  return renames;
}

}  // namespace switchboard::sla
