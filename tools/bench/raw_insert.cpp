// The raw SQLite baseline of tools/bench/ingest.sh: how many filings a second SQLite itself can
// make durable on this machine when it does nothing but insert the rows a filing writes.
//
//   build/tools/raw_insert CONFIG DATABASE BATCH SECONDS
//
// Files one troubleshooting request through the store (the server's code, on a fresh DATABASE
// opened as the server opens it: WAL, synchronous = FULL, the same schema and indexes), then
// for SECONDS inserts copies of exactly the rows it wrote (events, request, clocks, outbox, the
// team counter) under new ids, BATCH filings per transaction: the batch the server's group
// commit makes when BATCH clients each wait for their 201. Statements are prepared once; no
// engine, no JSON, no HTTP. Prints "raw <filings per second> <transactions> <bytes per filing>".
#include "config/settings.hpp"
#include "policy/load.hpp"
#include "store/database.hpp"
#include "filing_rows.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>

using namespace switchboard;

int main(int argc, char** argv) {
  if (argc != 5) {
    fmt::print(stderr, "usage: raw_insert CONFIG DATABASE BATCH SECONDS\n");
    return 2;
  }
  const std::string database = argv[2];
  const int batch = std::max(1, std::atoi(argv[3]));
  const double seconds = std::atof(argv[4]);
  const auto policy = policy::load(config::load_settings(argv[1]));
  for (const auto* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(database + suffix);

  auto db = store::open_database(database);
  model::request_input input;
  input.kind = model::request_kind::troubleshooting;
  input.customer = {"bench-customer", "Bench Customer", model::customer_stage::production, "premium"};
  input.title = "Bench troubleshooting 0-0";
  input.body = "Search results are missing repositories since the upgrade to 5.2.";
  input.requester = "bench-ce";
  const auto template_filing = bench::capture(
      db, policy, input, std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));

  bench::copier copy(db, template_filing);
  SQLite::Statement counter(db,
                            "INSERT INTO team_load (team, open_requests) VALUES (?1, 1)"
                            " ON CONFLICT (team) DO UPDATE SET open_requests = open_requests + 1");
  counter.bind(1, std::string(model::to_string(template_filing.owner)));

  model::request_id next = template_filing.id + 1;
  std::uint64_t filings = 0, transactions = 0;
  const auto started = std::chrono::steady_clock::now();
  const auto until = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                   std::chrono::duration<double>(seconds));
  while (std::chrono::steady_clock::now() < until) {
    SQLite::Transaction transaction(db);
    for (int i = 0; i < batch; ++i) {
      copy.insert(next++);
      if (template_filing.open) {
        counter.exec();
        counter.reset();
      }
    }
    transaction.commit();
    filings += batch;
    ++transactions;
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  fmt::print("raw {:.1f} {} {}\n", filings / took.count(), transactions, template_filing.bytes);
  for (const auto* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(database + suffix);
}
