#pragma once
// The process's own counters and histograms for /metrics, in Prometheus's text exposition format
// 0.0.4 (`# HELP`, `# TYPE`, `_bucket{le=...}`, `_sum`, `_count`, escaped label values).
//
// A family has a name, a help line and fixed label names; each distinct set of label values is
// one series, created on first use and kept for the life of the process. Label values must come
// from a bounded set (route patterns, policy names, subscription names): never a request id or a
// raw path, or the series grow without bound.
//
// Thread-safety: families and the registry may be used from any thread at once. A family's series
// map is behind a shared mutex taken exclusively only when a new label set appears; the counts
// themselves are atomics. An exposition reads each series' atomics without stopping writers, so a
// histogram's _sum may lag its buckets by an observation in flight; _count is always the +Inf
// bucket.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::observe {

namespace detail {
// Orders label sets, and finds a stored one (strings) from a lookup's string_views without
// copying them.
struct labels_less {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                        [](std::string_view x, std::string_view y) { return x < y; });
  }
};
}  // namespace detail

// A monotonically increasing count per label set.
class counter_family {
 public:
  counter_family(std::string name, std::string help, std::vector<std::string> labels);

  // Adds `n` to the series named by `values` (one per label name, in order). Throws
  // std::invalid_argument when the number of values differs from the number of label names.
  void add(std::initializer_list<std::string_view> values, std::uint64_t n = 1);
  // The series' count; 0 for a label set never added to. Throws like add.
  std::uint64_t value(std::initializer_list<std::string_view> values) const;

  void expose(std::string& out) const;  // appends HELP, TYPE and every series, by label values

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> labels_;
  mutable std::shared_mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<std::atomic<std::uint64_t>>, detail::labels_less> series_;
};

// Observations counted in fixed buckets (upper bounds, inclusive, strictly increasing; +Inf is
// implied), with their sum and count.
class histogram_family {
 public:
  // Throws std::invalid_argument when `upper_bounds` is empty or not strictly increasing.
  histogram_family(std::string name, std::string help, std::vector<std::string> labels, std::vector<double> upper_bounds);

  // Records `value` (in the family's unit: seconds, jobs) in the series named by `values`.
  // Throws std::invalid_argument on a wrong number of values.
  void observe(std::initializer_list<std::string_view> values, double value);
  // How many observations the series has; 0 for one never observed.
  std::uint64_t count(std::initializer_list<std::string_view> values) const;

  void expose(std::string& out) const;

 private:
  struct series {
    explicit series(std::size_t buckets) : counts(buckets + 1) {}
    std::vector<std::atomic<std::uint64_t>> counts;  // per bucket, not cumulative; the last is +Inf
    std::atomic<double> sum{0};
  };
  std::string name_;
  std::string help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
  mutable std::shared_mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<series>, detail::labels_less> series_;
};

// One value that goes up and down, without labels (a state the process is in, such as a pending
// restart).
class gauge {
 public:
  gauge(std::string name, std::string help);

  void set(std::int64_t value) noexcept { value_.store(value, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

  void expose(std::string& out) const;

 private:
  std::string name_;
  std::string help_;
  std::atomic<std::int64_t> value_{0};
};

// Owns families; exposes them in the order they were added. Families live as long as the
// registry, at stable addresses.
class registry {
 public:
  counter_family& counter(std::string name, std::string help, std::vector<std::string> labels);
  histogram_family& histogram(std::string name, std::string help, std::vector<std::string> labels,
                              std::vector<double> upper_bounds);
  observe::gauge& gauge(std::string name, std::string help);
  std::string expose() const;

 private:
  struct entry {
    std::unique_ptr<counter_family> counter;
    std::unique_ptr<histogram_family> histogram;
    std::unique_ptr<observe::gauge> gauge;
  };
  mutable std::mutex mutex_;
  std::vector<entry> families_;
};

// "a\"b" for a"b: backslash, double quote and newline escaped as the exposition format asks.
std::string escape_label_value(std::string_view value);

// Switchboard's own families (README "Metrics"). One per process, made before the server, the
// committer's users and the notifier, and outliving them.
struct service_metrics {
  service_metrics();
  registry families;
  counter_family& http_requests;            // route, method, status
  histogram_family& http_request_duration;  // route, method; seconds
  counter_family& sla_warnings;             // policy, metric
  counter_family& sla_breaches;             // policy, metric
  counter_family& escalation_notifications; // ladder, level
  counter_family& webhook_deliveries;       // subscription, outcome (delivered, retry, dead)
  histogram_family& commit_batch_size;      // no labels; jobs per committed transaction
  counter_family& config_reloads;           // result (applied, refused): SIGHUP's reloads
  gauge& config_restart_pending;            // 1 while a reload found a change that needs a restart
};

}  // namespace switchboard::observe
