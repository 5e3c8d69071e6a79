// Restart with many open SLA clocks: seeds N requests (each with open clocks), then times what
// the server does before it listens: the first start after an upgrade (open clocks checked
// against the config and re-timed), then a restart (open, align with the unchanged config,
// load the scheduler's plan), and the memory the plan keeps per open clock.
//
//   build/tools/restart_bench [REQUESTS=1000000] [--dir /tmp] [--db PATH]
//
// --db measures an existing database (e.g. one filing_cost_bench --keep left) instead of
// seeding one, and leaves it in place.
#include "config/settings.hpp"
#include "policy/load.hpp"
#include "scheduler/scheduler.hpp"
#include "store/lease_keeper.hpp"
#include "store/clocks.hpp"
#include "store/committer.hpp"
#include "store/database.hpp"
#include "tools/bench/seed.hpp"

#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <fstream>
#include <string>

using namespace switchboard;

namespace {

// A field of /proc/self/status in KiB (VmRSS: now, VmHWM: peak).
long status_kib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string key;
  long value = 0;
  std::string unit;
  while (status >> key) {
    if (key == field + ":") {
      status >> value;
      return value;
    }
    std::getline(status, unit);
  }
  return 0;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t requests = 1000000;
  std::string dir = "/tmp";
  std::string existing;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--dir" && i + 1 < argc)
      dir = argv[++i];
    else if (arg == "--db" && i + 1 < argc)
      existing = argv[++i];
    else
      requests = std::atoll(argv[i]);
  }
  const auto policy = policy::load(config::load_settings(std::string(SWITCHBOARD_SOURCE_DIR) + "/config/switchboard.toml"));
  const auto path = existing.empty() ? fmt::format("{}/switchboard-restart-{}.db", dir, requests) : existing;
  const auto seeded = existing.empty() ? bench::seed_database(path, policy, requests) : 0.0;
  std::int64_t open_clocks = 0;
  {
    SQLite::Database count(path, SQLite::OPEN_READONLY);
    open_clocks = count.execAndGet("SELECT COUNT(*) FROM clocks WHERE open = 1").getInt64();
    requests = count.execAndGet("SELECT COUNT(*) FROM requests").getInt64();
  }
  fmt::print(stderr, "seeded {} requests ({} open clocks) in {:.1f} s\n", requests, open_clocks, seeded);

  const long rss_start = status_kib("VmRSS");
  const auto fingerprint = store::planning_fingerprint(std::string(SWITCHBOARD_SOURCE_DIR) + "/config/switchboard.toml", policy);
  const auto now = bench::filing_instant(requests + 10);
  // The first start after an upgrade has no fingerprint yet: it checks and re-times every open clock.
  auto step = std::chrono::steady_clock::now();
  std::optional<store::retimed> retimed;
  {
    auto db = store::open_database(path);
    retimed = store::align_open_clocks(db, policy, now, fingerprint);
  }
  const double first_s = seconds_since(step);
  const long peak_first = status_kib("VmHWM");

  // A restart: open (and migrate), align (skipped: same config), load the scheduler's plan.
  const auto started = std::chrono::steady_clock::now();
  step = started;
  auto db = store::open_database(path);
  const double open_s = seconds_since(step);
  step = std::chrono::steady_clock::now();
  const auto skipped = !store::align_open_clocks(db, policy, now, fingerprint).has_value();
  const double align_s = seconds_since(step);

  boost::asio::io_context io;
  store::committer writer(store::open_database(path));
  auto reader = store::open_database(path, store::access::read_only);
  const long rss_before_plan = status_kib("VmRSS");
  step = std::chrono::steady_clock::now();
  scheduler::scheduler clocks(io.get_executor(), writer, policy,
                              {[&] { return now; },
                               [](model::instant at) { return std::chrono::system_clock::time_point(at); }},
                              "restart_bench");
  // As the server does on SQLite: one local lease over every shard, loaded at once.
  auto leases = store::lease_keeper::local("restart_bench");
  leases->start([&](const std::vector<store::shard_lease>& held, int) { clocks.hold(held, reader); });
  const double load_s = seconds_since(step);
  const long rss_after_plan = status_kib("VmRSS");
  const double total_s = seconds_since(started);
  const double per_clock =
      open_clocks > 0 ? 1024.0 * static_cast<double>(rss_after_plan - rss_before_plan) / static_cast<double>(open_clocks)
                      : 0.0;

  fmt::print("restart with {} requests, {} open clocks, {} requests planned in the scheduler\n", requests, open_clocks,
             clocks.size());
  fmt::print("first start after the upgrade (check and re-time every open clock): {:.2f} s, {} re-timed, "
             "peak RSS +{:.0f} MiB\n",
             first_s, retimed ? retimed->total() : std::size_t{0}, static_cast<double>(peak_first - rss_start) / 1024.0);
  fmt::print("{:>8} {:>12} {:>8} | {:>8} | {:>14}\n", "open s", "align s", "plan s", "total s", "plan B/clock");
  fmt::print("{:>8.2f} {:>12} {:>8.2f} | {:>8.2f} | {:>14.0f}\n", open_s,
             fmt::format("{:.3f}{}", align_s, skipped ? " skip" : ""), load_s, total_s, per_clock);
  fmt::print("targets: restart under 10 s ({}), plan under 1024 B per open clock ({})\n",
             total_s < 10 ? "met" : "NOT met", per_clock < 1024 ? "met" : "NOT met");
  if (existing.empty()) bench::remove_database(path);
}
