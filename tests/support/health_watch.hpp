#pragma once
// What an abuse test asserts about the server while it is attacked: the process's peak
// resident memory (VmHWM in /proc/PID/status, which the kernel keeps, so no spike between
// samples is missed) against its resident memory when the watch began, and the latency of
// GET /healthz polled from a thread of its own, either over one keep-alive connection opened
// before the attack (probe_mode::keep_alive), or on a new connection per probe, as a load
// balancer's health check does (probe_mode::new_connection: the time includes connecting, so
// a full accept queue or connection cap shows).
//
// Before the attack the watch measures a baseline: baseline_probes answers of the same probe
// against the same server on the same machine, just before the constructor returns. The
// latency bound of an attack can then be stated relative to what /healthz takes on this machine
// now (a saturated 2-core machine answers an idle server's probe in tens of milliseconds, not one),
// and the share of a core a runnable thread of the test got just then (cpu_share: on a machine
// running 8 busy threads on 2 cores about 0.25, so CPU work takes about 4 times as long).
//
// Thread-safety: construct, then finish() once, from one thread; the probe thread is internal.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace switchboard::testing {

// A value from /proc/PID/status in KiB ("VmRSS", "VmHWM"); 0 when unreadable.
std::size_t proc_status_kib(pid_t pid, const std::string& field);

enum class probe_mode { keep_alive, new_connection };

class health_watch {
 public:
  struct report {
    std::size_t baseline_kib = 0;  // VmRSS when the watch began
    std::size_t peak_kib = 0;      // VmHWM when it finished
    std::size_t probes = 0;        // answered /healthz probes
    std::size_t failures = 0;      // probes without a 200 within probe_timeout
    std::chrono::milliseconds max_latency{0};
    std::string first_failure;     // what the first failed probe saw
    std::vector<std::chrono::milliseconds> latencies;  // each answered probe's, in order
    std::vector<std::chrono::milliseconds> baseline;   // the probes' before the attack, in order
    double cpu_share = 1.0;                 // of a core, for a thread spinning just before the attack
    std::chrono::milliseconds duration{0};  // of the attack: from the constructor's return to finish()

    // The latency that `fraction` (0..1) of `of` stayed within (nearest rank); 0 when empty.
    static std::chrono::milliseconds quantile(std::vector<std::chrono::milliseconds> of, double fraction);

    // How far peak memory rose above the baseline, in MiB.
    double growth_mib() const {
      return peak_kib > baseline_kib ? static_cast<double>(peak_kib - baseline_kib) / 1024.0 : 0.0;
    }
  };

  // How many probes the baseline takes (about a second at the probes' pace).
  static constexpr std::size_t baseline_probes = 40;

  // Starts watching the server `pid` listening on 127.0.0.1:`port`; the baseline's probes have
  // been answered when this returns (throws std::runtime_error if one fails or they take more
  // than 20 s).
  health_watch(pid_t pid, unsigned short port, std::chrono::milliseconds probe_timeout = std::chrono::seconds{5},
               probe_mode mode = probe_mode::keep_alive);
  ~health_watch();
  health_watch(const health_watch&) = delete;
  health_watch& operator=(const health_watch&) = delete;

  // Stops probing and reports, once at least one probe of the attack has answered or failed (an
  // attack shorter than the probes' pace is probed at its end; waits at most the probe timeout
  // and a second for it).
  report finish();

 private:
  void probe_loop();

  pid_t pid_;
  unsigned short port_;
  std::chrono::milliseconds probe_timeout_;
  probe_mode mode_;
  std::size_t baseline_kib_ = 0;
  double cpu_share_ = 1.0;
  std::chrono::steady_clock::time_point attack_started_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;  // guards report_
  report report_;
  std::thread prober_;
};

}  // namespace switchboard::testing
