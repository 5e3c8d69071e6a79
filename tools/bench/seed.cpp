// Fills a database with N requests as the server would have stored them, for
// tools/bench/scale.sh (filing HTTP requests one by one would take hours at 1,000,000).
//
//   build/tools/seed CONFIG DATABASE N AT
//
// Files 32 varied requests (how-to, feature requests and troubleshooting, for prospects, trials
// and production customers of every tier) through store::record_new_request at AT (RFC 3339,
// e.g. 2026-11-02T17:00:00Z), each a second after the last, on a fresh DATABASE opened as the
// server opens it. Then writes copies of their rows (filing_rows.hpp: events, request, clocks,
// ...) under ids up to N, 100,000 per transaction, and sets each team's open-request counter to
// what the server's save_request would have kept. Seeded requests are open with running clocks
// (32 templates keep every team under its capacity threshold, so no capacity escalation starts).
// Prints "seeded <N> requests, <open clocks> open clocks, <seconds> s".
#include "config/settings.hpp"
#include "model/instant.hpp"
#include "policy/load.hpp"
#include "store/database.hpp"
#include "filing_rows.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>

using namespace switchboard;

namespace {

model::request_input sample(int i) {
  static const model::request_kind kinds[] = {model::request_kind::troubleshooting, model::request_kind::how_to,
                                              model::request_kind::troubleshooting, model::request_kind::feature_request};
  static const model::customer_stage stages[] = {model::customer_stage::production, model::customer_stage::trial,
                                                  model::customer_stage::prospect, model::customer_stage::production};
  static const char* tiers[] = {"standard", "premium", "enterprise"};
  model::request_input input;
  input.kind = kinds[i % 4];
  const auto stage = stages[(i / 4) % 4];
  input.customer = {"seed-customer-" + std::to_string(i % 13), "Seed Customer " + std::to_string(i % 13), stage,
                    stage == model::customer_stage::production ? tiers[i % 3] : ""};
  input.title = "Seeded request " + std::to_string(i) + ": search results are missing repositories";
  input.body = "Since the upgrade to 5.2 some repositories do not show up in search results. Seed " + std::to_string(i);
  input.priority = static_cast<model::priority>(i % 4);
  input.requester = "bench-ce";
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    fmt::print(stderr, "usage: seed CONFIG DATABASE N AT\n");
    return 2;
  }
  const std::string database = argv[2];
  const long long total = std::atoll(argv[3]);
  const auto at = model::parse_instant(argv[4]);
  if (!at || total < 1) {
    fmt::print(stderr, "seed: N must be positive and AT an RFC 3339 instant\n");
    return 2;
  }
  const auto started = std::chrono::steady_clock::now();
  const auto policy = policy::load(config::load_settings(argv[1]));
  for (const auto* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(database + suffix);
  auto db = store::open_database(database);

  const int templates = static_cast<int>(std::min<long long>(32, total));
  std::vector<bench::filing> filings;
  for (int i = 0; i < templates; ++i)
    filings.push_back(bench::capture(db, policy, sample(i), *at + std::chrono::seconds{i}));
  // Durability of the copies is the seed's to redo, not the benchmark's to measure.
  db.exec("PRAGMA synchronous = OFF");

  std::vector<bench::copier> copiers;
  for (const auto& f : filings) copiers.emplace_back(db, f);
  std::map<model::team, long long> opened;
  model::request_id id = filings.back().id;
  while (id < total) {
    SQLite::Transaction transaction(db);
    for (int n = 0; n < 100000 && id < total; ++n) {
      ++id;
      const auto t = static_cast<std::size_t>(id % templates);
      copiers[t].insert(id);
      if (filings[t].open) ++opened[filings[t].owner];
    }
    transaction.commit();
  }
  {
    SQLite::Transaction transaction(db);
    for (const auto& [team, count] : opened) bench::add_open(db, team, static_cast<int>(count));
    transaction.commit();
  }
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const auto clocks = db.execAndGet("SELECT COUNT(*) FROM clocks WHERE open = 1").getInt64();
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  fmt::print("seeded {} requests, {} open clocks, {:.1f} s\n", id, clocks, took.count());
}
