// Filing cost as the database grows: seeds N requests, then files more exactly as
// POST /v1/requests does (store::record_new_request in a group-commit job, then the 201 body)
// and prints, per filing: the median time, SQL statements run and prepared, rows stepped in
// full-table scans, bytes written, C++ allocations and JSON serialisations; then the rate with
// 32 concurrent filers. With --plans, the EXPLAIN QUERY PLAN of every statement a filing ran.
//
//   build/tools/filing_cost_bench [--sizes 0,10000,100000,1000000] [--filings 300] [--concurrent 600]
//                                 [--dir /tmp] [--keep] [--plans]
//
// --keep reuses a database of that size left in --dir by an earlier --keep run (seeding a
// million requests takes minutes) and leaves it there; --concurrent 0 skips the concurrent part.
#include "config/settings.hpp"
#include "http/api/api.hpp"
#include "http/message.hpp"
#include "policy/load.hpp"
#include "store/committer.hpp"
#include "store/database.hpp"
#include "store/requests.hpp"
#include "tools/bench/seed.hpp"

#include <boost/json.hpp>
#include <dlfcn.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace switchboard;

namespace {

std::atomic<bool> counting{false};
std::atomic<std::uint64_t> allocations{0};
std::atomic<std::uint64_t> serialisations{0};
std::atomic<std::uint64_t> statements{0};
std::atomic<std::uint64_t> prepares{0};
std::atomic<std::uint64_t> fullscan_steps{0};
std::mutex seen_mutex;
std::set<std::string> seen_sql;

void count_allocation() {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
}

// Statement start (SQLITE_TRACE_STMT) and end (SQLITE_TRACE_PROFILE) on the writer's connection.
// A statement whose run counter is still 0 at its start was prepared for this run.
int on_trace(unsigned type, void*, void* p, void* x) {
  if (!counting.load(std::memory_order_relaxed)) return 0;
  auto* stmt = static_cast<sqlite3_stmt*>(p);
  if (type == SQLITE_TRACE_STMT) {
    const auto* text = static_cast<const char*>(x);
    if (text != nullptr && text[0] == '-' && text[1] == '-') return 0;  // a trigger's body
    statements.fetch_add(1, std::memory_order_relaxed);
    if (sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_RUN, 0) == 0) prepares.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(seen_mutex);
    seen_sql.insert(sqlite3_sql(stmt));
  } else if (type == SQLITE_TRACE_PROFILE) {
    fullscan_steps.fetch_add(static_cast<std::uint64_t>(sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_FULLSCAN_STEP, 1)),
                             std::memory_order_relaxed);
  }
  return 0;
}

// Bytes this process handed to write(2) and friends so far (WAL frames, checkpoints).
std::uint64_t bytes_written() {
  std::ifstream io("/proc/self/io");
  std::string key;
  std::uint64_t value = 0;
  while (io >> key >> value)
    if (key == "wchar:") return value;
  return 0;
}

struct measurement {
  std::int64_t seeded = 0;
  double seed_seconds = 0;
  double median_ms = 0;
  double p90_ms = 0;
  double sequential_per_second = 0;
  double concurrent_per_second = 0;
  double statements = 0, prepares = 0, fullscan_steps = 0, bytes = 0, allocations = 0, serialisations = 0;
};

// One filing as the API handler makes it: the command, then the 201 body from the saved request.
void file_one(SQLite::Database& db, const engine::policy& policy, std::int64_t i) {
  const auto now = bench::filing_instant(i);
  const auto created =
      store::record_new_request(db, policy, {bench::sample_request(i), model::actor{"ce-bench", model::role::ce}}, now);
  auto body = http::api::request_view(created.request, policy, now);
  body["reply_to"] = nullptr;
  const auto response = http::json_response(http::status::created, body);
  if (response.body().empty()) std::abort();
}

struct options {
  std::string dir = "/tmp";
  int filings = 300;
  int concurrent = -1;  // -1: twice the sequential filings, at least 320
  bool keep = false;
};

measurement measure(const engine::policy& policy, const options& opt, std::int64_t seeded) {
  const auto path = fmt::format("{}/switchboard-filing-cost-{}.db", opt.dir, seeded);
  const int filings = opt.filings;
  measurement m;
  m.seeded = seeded;
  if (!opt.keep || !std::filesystem::exists(path)) m.seed_seconds = bench::seed_database(path, policy, seeded);
  std::int64_t next = 0;
  {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    next = db.execAndGet("SELECT COALESCE(MAX(id), 0) FROM requests").getInt64();
  }
  {
    store::committer writer(store::open_database(path));
    writer.run([](SQLite::Database& db) {
      sqlite3_trace_v2(db.getHandle(), SQLITE_TRACE_STMT | SQLITE_TRACE_PROFILE, on_trace, nullptr);
    });
    // A few untimed filings warm the page cache and any statement cache.
    for (int i = 0; i < 5; ++i) writer.run([&, n = next++](SQLite::Database& db) { file_one(db, policy, n); });

    std::vector<double> ms;
    allocations = serialisations = statements = prepares = fullscan_steps = 0;
    const auto written_before = bytes_written();
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < filings; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      counting = true;
      writer.run([&, n = next++](SQLite::Database& db) { file_one(db, policy, n); });
      counting = false;
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    const double k = filings;
    m.bytes = static_cast<double>(bytes_written() - written_before) / k;
    m.statements = static_cast<double>(statements) / k;
    m.prepares = static_cast<double>(prepares) / k;
    m.fullscan_steps = static_cast<double>(fullscan_steps) / k;
    m.allocations = static_cast<double>(allocations) / k;
    m.serialisations = static_cast<double>(serialisations) / k;
    m.sequential_per_second = k / took.count();
    std::sort(ms.begin(), ms.end());
    m.median_ms = ms[ms.size() / 2];
    m.p90_ms = ms[ms.size() * 9 / 10];

    // 32 filers at once, each waiting for its filing to be durable (as HTTP clients wait for 201).
    constexpr int senders = 32;
    const int total = opt.concurrent >= 0 ? opt.concurrent : std::max(filings * 2, senders * 10);
    std::atomic<std::int64_t> ticket{next};
    const auto begun = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < senders; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < total / senders; ++i)
          writer.run([&, n = ticket++](SQLite::Database& db) { file_one(db, policy, n); });
      });
    for (auto& t : threads) t.join();
    if (total >= senders)
      m.concurrent_per_second =
          (total / senders * senders) / std::chrono::duration<double>(std::chrono::steady_clock::now() - begun).count();
  }
  if (!opt.keep) bench::remove_database(path);
  return m;
}

void print_plans(const engine::policy& policy, const std::string& dir) {
  const auto path = fmt::format("{}/switchboard-filing-cost-plans.db", dir);
  bench::seed_database(path, policy, 100);
  auto db = store::open_database(path);
  fmt::print("\nEXPLAIN QUERY PLAN of every statement a filing ran (SCAN = reads a whole table or index):\n");
  for (const auto& sql : seen_sql) {
    SQLite::Statement plan(db, "EXPLAIN QUERY PLAN " + sql);
    std::string lines;
    bool scans = false;
    while (plan.executeStep()) {
      const std::string detail = plan.getColumn(3).getString();
      lines += "      " + detail + "\n";
      scans = scans || detail.starts_with("SCAN");
    }
    fmt::print("{} {}\n{}", scans ? "SCAN" : "  ok", sql, lines);
  }
  bench::remove_database(path);
}

std::vector<std::int64_t> parse_sizes(const std::string& text) {
  std::vector<std::int64_t> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    out.push_back(std::stoll(text.substr(start, comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

// Every C++ allocation counts while a timed filing runs (SQLite's own malloc calls do not).
void* operator new(std::size_t size) {
  count_allocation();
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

// JSON serialisations: the program's calls to boost::json::serialize land here first, then go on
// to the library's.
namespace boost::json {
namespace {
template <class T>
std::string forward_serialize(const char* symbol, T argument) {
  if (counting.load(std::memory_order_relaxed)) serialisations.fetch_add(1, std::memory_order_relaxed);
  using real = std::string (*)(T);
  static const auto target = reinterpret_cast<real>(dlsym(RTLD_NEXT, symbol));
  return target(argument);
}
}  // namespace
std::string serialize(const value& v) { return forward_serialize<const value&>("_ZN5boost4json9serializeB5cxx11ERKNS0_5valueE", v); }
std::string serialize(const object& v) { return forward_serialize<const object&>("_ZN5boost4json9serializeB5cxx11ERKNS0_6objectE", v); }
std::string serialize(const array& v) { return forward_serialize<const array&>("_ZN5boost4json9serializeB5cxx11ERKNS0_5arrayE", v); }
std::string serialize(const string& v) { return forward_serialize<const string&>("_ZN5boost4json9serializeB5cxx11ERKNS0_6stringE", v); }
}  // namespace boost::json

int main(int argc, char** argv) {
  std::string sizes = "0,10000,100000,1000000";
  options opt;
  bool plans = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--sizes" && i + 1 < argc) sizes = argv[++i];
    else if (arg == "--filings" && i + 1 < argc) opt.filings = std::atoi(argv[++i]);
    else if (arg == "--concurrent" && i + 1 < argc) opt.concurrent = std::atoi(argv[++i]);
    else if (arg == "--dir" && i + 1 < argc) opt.dir = argv[++i];
    else if (arg == "--keep") opt.keep = true;
    else if (arg == "--plans") plans = true;
    else {
      fmt::print(stderr, "usage: filing_cost_bench [--sizes 0,10000,...] [--filings K] [--concurrent K] [--dir /tmp] "
                         "[--keep] [--plans]\n");
      return 2;
    }
  }
  const auto policy = policy::load(config::load_settings(std::string(SWITCHBOARD_SOURCE_DIR) + "/config/switchboard.toml"));
  std::vector<measurement> results;
  for (const auto n : parse_sizes(sizes)) {
    results.push_back(measure(policy, opt, n));
    const auto& m = results.back();
    fmt::print(stderr, "seeded {} requests in {:.1f} s, measured\n", m.seeded, m.seed_seconds);
  }
  fmt::print("filing cost, {} sequential filings per size (medians), then 32 concurrent filers\n", opt.filings);
  fmt::print("{:>9} | {:>9} {:>8} {:>8} | {:>9} | {:>6} {:>8} {:>9} | {:>8} {:>7} {:>5}\n", "stored", "median ms",
             "p90 ms", "seq /s", "32-conc/s", "SQL", "prepares", "scan rows", "bytes", "allocs", "JSON");
  for (const auto& m : results)
    fmt::print("{:>9} | {:>9.2f} {:>8.2f} {:>8.1f} | {:>9.0f} | {:>6.1f} {:>8.1f} {:>9.0f} | {:>8.0f} {:>7.0f} {:>5.1f}\n",
               m.seeded, m.median_ms, m.p90_ms, m.sequential_per_second, m.concurrent_per_second, m.statements,
               m.prepares, m.fullscan_steps, m.bytes, m.allocations, m.serialisations);
  if (results.size() > 1) {
    const auto& empty = results.front();
    const auto& largest = results.back();
    fmt::print("with {} stored against {}: median filing time ratio {:.2f}, sequential rate {:.2f}, 32 concurrent "
               "rate {:.2f} (target: rate >= 0.80)\n",
               largest.seeded, empty.seeded, empty.median_ms / largest.median_ms,
               largest.sequential_per_second / empty.sequential_per_second,
               empty.concurrent_per_second > 0 ? largest.concurrent_per_second / empty.concurrent_per_second : 0.0);
  }
  if (plans) print_plans(policy, opt.dir);
}
