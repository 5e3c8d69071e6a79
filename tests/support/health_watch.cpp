// Memory and /healthz latency of a server under attack.
#include "support/health_watch.hpp"

#include "support/raw_connection.hpp"

#include <poll.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace switchboard::testing {

namespace {

using clock_type = std::chrono::steady_clock;
constexpr std::string_view healthz = "GET /healthz HTTP/1.1\r\nHost: probe\r\n\r\n";
// The pause between probes: about 50 a second, enough to see any stall of a tenth of a second.
constexpr int probe_interval_ms = 20;

// The share of a core this thread gets now: CPU time over wall time while it spins for 100 ms.
double measure_cpu_share() {
  const auto thread_cpu = [] {
    timespec t{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return std::chrono::seconds{t.tv_sec} + std::chrono::nanoseconds{t.tv_nsec};
  };
  const auto wall_start = clock_type::now();
  const auto cpu_start = thread_cpu();
  volatile std::uint64_t spin = 0;
  while (clock_type::now() - wall_start < std::chrono::milliseconds{100}) spin = spin + 1;
  const auto cpu = std::chrono::duration<double>(thread_cpu() - cpu_start).count();
  const auto wall = std::chrono::duration<double>(clock_type::now() - wall_start).count();
  return wall > 0 ? std::clamp(cpu / wall, 0.01, 1.0) : 1.0;
}

}  // namespace

std::size_t proc_status_kib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) != 0) continue;
    std::istringstream words(line.substr(field.size() + 1));
    std::size_t kib = 0;
    words >> kib;
    return kib;
  }
  return 0;
}

health_watch::health_watch(pid_t pid, unsigned short port, std::chrono::milliseconds probe_timeout, probe_mode mode)
    : pid_(pid), port_(port), probe_timeout_(probe_timeout), mode_(mode) {
  baseline_kib_ = proc_status_kib(pid_, "VmRSS");
  if (baseline_kib_ == 0) throw std::runtime_error("cannot read the server's /proc status");
  cpu_share_ = measure_cpu_share();
  prober_ = std::thread([this] { probe_loop(); });
  const auto deadline = clock_type::now() + std::chrono::seconds{20};
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (report_.probes >= baseline_probes) {
        // The attack's probes start now.
        report_.baseline = std::move(report_.latencies);
        report_.latencies.clear();
        report_.probes = 0;
        report_.max_latency = {};
        attack_started_ = clock_type::now();
        break;
      }
      if (report_.failures > 0 || clock_type::now() > deadline) {
        stop_ = true;
        prober_.join();
        throw std::runtime_error("the server did not answer the baseline's /healthz probes: " +
                                 (report_.first_failure.empty() ? "too slow" : report_.first_failure));
      }
    }
    ::poll(nullptr, 0, 5);
  }
}

health_watch::~health_watch() {
  stop_ = true;
  if (prober_.joinable()) prober_.join();
}

void health_watch::probe_loop() {
  std::unique_ptr<raw_connection> connection;
  while (!stop_) {
    std::string failure;
    const auto started = clock_type::now();
    try {
      if (!connection) connection = std::make_unique<raw_connection>(port_);
      if (!connection->send_all(healthz, probe_timeout_)) {
        failure = "the probe's request could not be sent";
      } else {
        const auto answer = connection->read_response(probe_timeout_);
        if (answer.status != 200)
          failure = answer.status == 0 ? "no answer within the probe timeout"
                                       : "status " + std::to_string(answer.status) + " " + answer.body;
      }
    } catch (const std::exception& e) {
      failure = e.what();
    }
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started);
    {
      std::lock_guard lock(mutex_);
      if (failure.empty()) {
        ++report_.probes;
        report_.latencies.push_back(took);
        if (took > report_.max_latency) report_.max_latency = took;
      } else {
        ++report_.failures;
        if (report_.first_failure.empty()) report_.first_failure = failure;
      }
    }
    // A connection that failed once is replaced: its state is unknown.
    if (!failure.empty() || mode_ == probe_mode::new_connection) connection.reset();
    ::poll(nullptr, 0, probe_interval_ms);
  }
}

std::chrono::milliseconds health_watch::report::quantile(std::vector<std::chrono::milliseconds> of, double fraction) {
  if (of.empty()) return std::chrono::milliseconds{0};
  const auto rank = static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(of.size())));
  const auto at = std::min(of.size() - 1, rank == 0 ? 0 : rank - 1);
  std::nth_element(of.begin(), of.begin() + static_cast<std::ptrdiff_t>(at), of.end());
  return of[at];
}

health_watch::report health_watch::finish() {
  // An attack over sooner than the probes' pace (an idle flood opened in 17 ms) still gets one
  // probe in before the report, answered or failed, at most a probe timeout and a second on.
  const auto wait_until = clock_type::now() + probe_timeout_ + std::chrono::seconds{1};
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (report_.probes + report_.failures > 0) break;
    }
    if (clock_type::now() > wait_until) break;
    ::poll(nullptr, 0, 5);
  }
  const auto attack_ended = clock_type::now();
  stop_ = true;
  if (prober_.joinable()) prober_.join();
  std::lock_guard lock(mutex_);
  auto out = report_;
  out.baseline_kib = baseline_kib_;
  out.cpu_share = cpu_share_;
  out.duration = std::chrono::duration_cast<std::chrono::milliseconds>(attack_ended - attack_started_);
  out.peak_kib = proc_status_kib(pid_, "VmHWM");
  return out;
}

}  // namespace switchboard::testing
