// Seeds a benchmark database: a few requests through the store's own save path, then copies of
// their rows under new ids in one SQL transaction, so a million requests take a minute, not hours.
#include "tools/bench/seed.hpp"

#include "store/database.hpp"
#include "store/requests.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>

namespace switchboard::bench {
namespace {

constexpr std::int64_t templates = 16;

void copy_rows(SQLite::Database& db, std::int64_t first, std::int64_t last) {
  // Rows of template t = (i - 1) % templates + 1 become rows of request i. Ids inside the JSON
  // documents (the request's own, escalation ids "<request>-<n>") follow. Every column is
  // copied: the timers page and the counters read owner, urgency and breached, so a seed that
  // left them NULL measured an index range the real server never scans.
  const std::string numbers = fmt::format(
      "WITH RECURSIVE n(i) AS (SELECT {} UNION ALL SELECT i + 1 FROM n WHERE i < {}) ", first, last);
  const std::string template_of = fmt::format("(n.i - 1) % {} + 1", templates);
  db.exec(numbers +
          "INSERT INTO requests (id, kind, customer_id, status, owner, created_at, updated_at, document, next_due)"
          " SELECT n.i, t.kind, t.customer_id, t.status, t.owner, t.created_at, t.updated_at,"
          "  replace(replace(t.document, '{\"id\":' || t.id || ',', '{\"id\":' || n.i || ','),"
          "          '\"' || t.id || '-', '\"' || n.i || '-'),"
          "  t.next_due"
          " FROM n CROSS JOIN seed_requests t WHERE t.id = " + template_of);
  db.exec(numbers +
          "INSERT INTO request_summaries (request_id, summary)"
          " SELECT n.i, s.summary FROM n CROSS JOIN seed_summaries s WHERE s.request_id = " + template_of);
  db.exec(numbers +
          "INSERT INTO events (request_id, type, at, actor, data)"
          " SELECT n.i, e.type, e.at, e.actor, replace(e.data, '\"' || e.request_id || '-', '\"' || n.i || '-')"
          " FROM n CROSS JOIN seed_events e WHERE e.request_id = " + template_of);
  db.exec(numbers +
          "INSERT INTO clocks (request_id, metric, state, open, deadline, next_due, owner, warned, paused,"
          "  urgency, breached)"
          " SELECT n.i, c.metric, c.state, c.open, c.deadline, c.next_due, c.owner, c.warned, c.paused,"
          "  c.urgency, c.breached"
          " FROM n CROSS JOIN seed_clocks c WHERE c.request_id = " + template_of);
  db.exec(numbers +
          "INSERT INTO escalations (id, request_id, ladder, state, roles, triggered_at, document, team)"
          " SELECT n.i || substr(x.id, instr(x.id, '-')), n.i, x.ladder, x.state, x.roles, x.triggered_at,"
          "  replace(x.document, '\"' || x.request_id || '-', '\"' || n.i || '-'), x.team"
          " FROM n CROSS JOIN seed_escalations x WHERE x.request_id = " + template_of);
}

}  // namespace

model::request_input sample_request(std::int64_t i) {
  model::request_input input;
  input.kind = i % 2 ? model::request_kind::how_to : model::request_kind::troubleshooting;
  input.customer = {fmt::format("customer-{}", i % 50), fmt::format("Customer {}", i % 50),
                    model::customer_stage::trial, ""};
  input.title = fmt::format("Sync jobs fail after upgrade ({})", i);
  input.body = fmt::format(
      "Since the upgrade to 4.2 this morning every scheduled sync job on the customer's production "
      "workspace fails after about ten minutes with a timeout from the connector. Retrying by hand "
      "works for small jobs only. The customer has a data load deadline on Friday and asked for a "
      "workaround or a fix; logs and the job ids are attached to the ticket {}.",
      i);
  input.requester = "ce-bench";
  return input;
}

model::instant filing_instant(std::int64_t i) {
  return model::instant{std::chrono::seconds{1795000000 + 60 * i}};
}

void remove_database(const std::string& path) {
  for (const auto* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix);
}

double seed_database(const std::string& path, const engine::policy& policy, std::int64_t count) {
  const auto started = std::chrono::steady_clock::now();
  remove_database(path);
  auto db = store::open_database(path);
  const model::actor filer{"ce-bench", model::role::ce};
  const auto filed = std::min(count, templates);
  for (std::int64_t i = 0; i < filed; ++i) {
    SQLite::Transaction transaction(db);
    const auto created = store::record_new_request(db, policy, {sample_request(i), filer}, filing_instant(i));
    // Half the templates breach their first response (and open the breach ladder) three days on.
    if (i % 4 == 0) store::record_due(db, policy, created.request.id, filing_instant(i) + std::chrono::hours{72});
    transaction.commit();
  }
  if (count > templates) {
    db.exec("PRAGMA journal_mode = OFF");
    db.exec("PRAGMA synchronous = OFF");
    db.exec("PRAGMA cache_size = -262144");
    db.exec("CREATE TEMP TABLE seed_requests AS SELECT * FROM requests");
    db.exec("CREATE TEMP TABLE seed_summaries AS SELECT * FROM request_summaries");
    db.exec("CREATE TEMP TABLE seed_events AS SELECT * FROM events");
    db.exec("CREATE INDEX temp.seed_events_by_request ON seed_events (request_id, seq)");
    db.exec("CREATE TEMP TABLE seed_clocks AS SELECT * FROM clocks");
    db.exec("CREATE TEMP TABLE seed_escalations AS SELECT * FROM escalations");
    SQLite::Transaction transaction(db);
    copy_rows(db, templates + 1, count);
    db.exec("DELETE FROM team_load");
    db.exec("INSERT INTO team_load (team, open_requests) SELECT owner, COUNT(*) FROM requests"
            " WHERE status IN ('new', 'open', 'pending_customer', 'escalated') GROUP BY owner");
    transaction.commit();
    db.exec("PRAGMA journal_mode = WAL");
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

}  // namespace switchboard::bench
