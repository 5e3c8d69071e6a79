// Group commit against one commit per request, in the same run: how many requests a second
// the store durably records when requests arrive one at a time versus concurrently.
//
//   build/tools/group_commit_bench [REQUESTS] [RUNS]
#include "config/settings.hpp"
#include "policy/load.hpp"
#include "store/committer.hpp"
#include "store/database.hpp"
#include "store/requests.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

using namespace switchboard;

namespace {

struct result {
  double per_second;
  std::uint64_t batches;
};

model::request_input sample(int i) {
  model::request_input input;
  input.kind = i % 2 ? model::request_kind::troubleshooting : model::request_kind::how_to;
  input.customer = {"customer-" + std::to_string(i % 50), "Customer", model::customer_stage::trial, ""};
  input.title = "Benchmark request " + std::to_string(i);
  return input;
}

// Files `requests` requests from `threads` threads, each waiting for its request to be durable
// before sending the next (as an HTTP client waits for its 201).
result measure(const engine::policy& policy, int requests, int threads) {
  const auto path = std::filesystem::temp_directory_path() / fmt::format("switchboard-bench-{}.db", ::getpid());
  std::filesystem::remove(path);
  store::committer::statistics stats;
  const auto started = std::chrono::steady_clock::now();
  {
    store::committer writer(store::open_database(path.string()));
    std::vector<std::thread> senders;
    for (int t = 0; t < threads; ++t) {
      senders.emplace_back([&, t] {
        for (int i = t; i < requests; i += threads) {
          writer.run([&, i](SQLite::Database& db) {
            store::record_new_request(db, policy, {sample(i), model::actor{"bench", model::role::ce}},
                                      model::instant{std::chrono::seconds{1795000000 + i}});
          });
        }
      });
    }
    for (auto& s : senders) s.join();
    stats = writer.stats();
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  for (const auto* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  return {requests / took.count(), stats.batches};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int requests = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  const auto policy = policy::load(config::load_settings(std::string(SWITCHBOARD_SOURCE_DIR) + "/config/switchboard.toml"));

  std::vector<double> one_at_a_time, concurrent, ratios;
  std::uint64_t batches = 0;
  for (int run = 0; run < runs; ++run) {
    const auto baseline = measure(policy, requests, 1);
    const auto grouped = measure(policy, requests, 32);
    one_at_a_time.push_back(baseline.per_second);
    concurrent.push_back(grouped.per_second);
    ratios.push_back(grouped.per_second / baseline.per_second);
    batches = grouped.batches;
    fmt::print("run {}: one at a time {:.0f}/s ({} commits), 32 concurrent senders {:.0f}/s ({} commits)\n", run + 1,
               baseline.per_second, baseline.batches, grouped.per_second, grouped.batches);
  }
  fmt::print("median over {} runs of {} requests: one at a time {:.0f}/s, 32 concurrent {:.0f}/s, ratio {:.1f}x; "
             "last concurrent run committed {} requests in {} transactions\n",
             runs, requests, median(one_at_a_time), median(concurrent), median(ratios), requests, batches);
}
