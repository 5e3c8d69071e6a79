// The metrics registry: counters and fixed-bucket histograms, and their text exposition
// (Prometheus format 0.0.4).
#include "observe/metrics.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace switchboard::observe {

namespace {

// HELP text escapes only backslash and newline; label values also the double quote.
std::string escape_help(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void check_arity(const std::vector<std::string>& labels, std::size_t given, std::string_view name) {
  if (labels.size() != given)
    throw std::invalid_argument(fmt::format("metric {} takes {} label value(s), given {}", name, labels.size(), given));
}

// `{a="x",b="y"` without the closing brace, so a histogram can append its `le`; empty for none.
std::string open_labels(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += fmt::format("{}{}=\"{}\"", i == 0 ? "{" : ",", names[i], escape_label_value(values[i]));
  return out;
}

std::string closed_labels(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  auto out = open_labels(names, values);
  if (!out.empty()) out += '}';
  return out;
}

// Finds the series for `values`, creating it under the exclusive lock the first time only.
template <class Series, class Map, class Make>
Series& find_or_add(std::shared_mutex& mutex, Map& series, std::initializer_list<std::string_view> values, Make make) {
  {
    std::shared_lock lock(mutex);
    if (const auto found = series.find(values); found != series.end()) return *found->second;
  }
  std::unique_lock lock(mutex);
  auto found = series.find(values);
  if (found == series.end())
    found = series.emplace(std::vector<std::string>(values.begin(), values.end()), make()).first;
  return *found->second;
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

counter_family::counter_family(std::string name, std::string help, std::vector<std::string> labels)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {}

void counter_family::add(std::initializer_list<std::string_view> values, std::uint64_t n) {
  check_arity(labels_, values.size(), name_);
  auto& count = find_or_add<std::atomic<std::uint64_t>>(mutex_, series_, values, [] {
    return std::make_unique<std::atomic<std::uint64_t>>(0);
  });
  count.fetch_add(n, std::memory_order_relaxed);
}

std::uint64_t counter_family::value(std::initializer_list<std::string_view> values) const {
  check_arity(labels_, values.size(), name_);
  std::shared_lock lock(mutex_);
  const auto found = series_.find(values);
  return found == series_.end() ? 0 : found->second->load(std::memory_order_relaxed);
}

void counter_family::expose(std::string& out) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name_, escape_help(help_), name_);
  std::shared_lock lock(mutex_);
  for (const auto& [values, count] : series_)
    out += fmt::format("{}{} {}\n", name_, closed_labels(labels_, values), count->load(std::memory_order_relaxed));
}

histogram_family::histogram_family(std::string name, std::string help, std::vector<std::string> labels,
                                   std::vector<double> upper_bounds)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)), bounds_(std::move(upper_bounds)) {
  if (bounds_.empty()) throw std::invalid_argument(fmt::format("histogram {} has no buckets", name_));
  for (std::size_t i = 1; i < bounds_.size(); ++i)
    if (!(bounds_[i - 1] < bounds_[i]))
      throw std::invalid_argument(fmt::format("histogram {}'s buckets are not strictly increasing", name_));
}

void histogram_family::observe(std::initializer_list<std::string_view> values, double value) {
  check_arity(labels_, values.size(), name_);
  auto& s = find_or_add<series>(mutex_, series_, values, [this] { return std::make_unique<series>(bounds_.size()); });
  const auto bucket = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  s.counts[bucket].fetch_add(1, std::memory_order_relaxed);
  s.sum.fetch_add(value, std::memory_order_relaxed);
}

std::uint64_t histogram_family::count(std::initializer_list<std::string_view> values) const {
  check_arity(labels_, values.size(), name_);
  std::shared_lock lock(mutex_);
  const auto found = series_.find(values);
  if (found == series_.end()) return 0;
  std::uint64_t total = 0;
  for (const auto& c : found->second->counts) total += c.load(std::memory_order_relaxed);
  return total;
}

void histogram_family::expose(std::string& out) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name_, escape_help(help_), name_);
  std::shared_lock lock(mutex_);
  for (const auto& [values, s] : series_) {
    auto labels = open_labels(labels_, values);
    labels += labels.empty() ? "{" : ",";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += s->counts[i].load(std::memory_order_relaxed);
      const auto le = i < bounds_.size() ? fmt::format("{}", bounds_[i]) : std::string("+Inf");
      out += fmt::format("{}_bucket{}le=\"{}\"}} {}\n", name_, labels, le, cumulative);
    }
    const auto plain = closed_labels(labels_, values);
    out += fmt::format("{}_sum{} {}\n", name_, plain, s->sum.load(std::memory_order_relaxed));
    // _count is the +Inf bucket as read above, so the two always agree.
    out += fmt::format("{}_count{} {}\n", name_, plain, cumulative);
  }
}

counter_family& registry::counter(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  auto& e = families_.emplace_back();
  e.counter = std::make_unique<counter_family>(std::move(name), std::move(help), std::move(labels));
  return *e.counter;
}

histogram_family& registry::histogram(std::string name, std::string help, std::vector<std::string> labels,
                                      std::vector<double> upper_bounds) {
  std::lock_guard lock(mutex_);
  auto& e = families_.emplace_back();
  e.histogram = std::make_unique<histogram_family>(std::move(name), std::move(help), std::move(labels),
                                                   std::move(upper_bounds));
  return *e.histogram;
}

gauge::gauge(std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {}

void gauge::expose(std::string& out) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name_, escape_help(help_), name_, name_, value());
}

gauge& registry::gauge(std::string name, std::string help) {
  std::lock_guard lock(mutex_);
  auto& e = families_.emplace_back();
  e.gauge = std::make_unique<observe::gauge>(std::move(name), std::move(help));
  return *e.gauge;
}

std::string registry::expose() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& e : families_) {
    if (e.counter) e.counter->expose(out);
    else if (e.histogram) e.histogram->expose(out);
    else e.gauge->expose(out);
  }
  return out;
}

service_metrics::service_metrics()
    : http_requests(families.counter("switchboard_http_requests_total", "HTTP requests answered, by route pattern, method and status.",
                                     {"route", "method", "status"})),
      http_request_duration(families.histogram(
          "switchboard_http_request_duration_seconds",
          "From a request's first byte read to its answer's last byte written, by route pattern and method.",
          {"route", "method"}, {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})),
      sla_warnings(families.counter("switchboard_sla_warnings_total", "SLA clock warnings recorded, by policy and metric.",
                                    {"policy", "metric"})),
      sla_breaches(families.counter("switchboard_sla_breaches_total", "SLA clock breaches recorded, by policy and metric.",
                                    {"policy", "metric"})),
      escalation_notifications(families.counter("switchboard_escalation_notifications_total",
                                                "Escalation levels notified, by ladder and level.", {"ladder", "level"})),
      webhook_deliveries(families.counter("switchboard_webhook_deliveries_total",
                                          "Webhook delivery attempts recorded, by subscription and outcome (delivered, retry, dead).",
                                          {"subscription", "outcome"})),
      commit_batch_size(families.histogram("switchboard_commit_batch_size",
                                           "Writes committed together in one group-commit transaction.", {},
                                           {1, 2, 4, 8, 16, 32, 64, 128, 256})),
      config_reloads(families.counter("switchboard_config_reloads_total",
                                      "Configuration reloads on SIGHUP, by result (applied, refused).", {"result"})),
      config_restart_pending(families.gauge(
          "switchboard_config_restart_pending",
          "1 when the last applied reload found changes that take effect only at a restart, else 0.")) {}

}  // namespace switchboard::observe
