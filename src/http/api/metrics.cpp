// /metrics: counts for Prometheus (text exposition format), read from the read models.
#include "http/api/api.hpp"

#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>

namespace switchboard::http::api {
namespace asio = boost::asio;

namespace {

// One gauge per row of `sql` (label value, count).
void gauge_by(SQLite::Database& db, std::string& out, std::string_view name, std::string_view help,
              std::string_view label, const std::string& sql) {
  out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
  SQLite::Statement query(db, sql);
  while (query.executeStep())
    out += fmt::format("{}{{{}=\"{}\"}} {}\n", name, label, query.getColumn(0).getString(),
                       query.getColumn(1).getInt64());
}

asio::awaitable<response> metrics(context& ctx) {
  std::string out;
  const auto db = ctx.readers.acquire();
  gauge_by(*db, out, "switchboard_requests", "Requests by status.", "status",
           "SELECT status, COUNT(*) FROM requests GROUP BY status ORDER BY status");
  // From the counters the clock-row triggers keep (a handful of rows, never a scan of clocks),
  // which tell a clock paused after it breached ('breached_paused') from a plain paused one:
  // `state` is the clock's state (a warned running clock is running), `breached` whether it
  // breached, so a paused breached clock is {state="paused",breached="true"}.
  out += "# HELP switchboard_open_clocks Open SLA clocks by state and whether they breached.\n"
         "# TYPE switchboard_open_clocks gauge\n";
  SQLite::Statement clocks(*db,
                           "SELECT CASE state WHEN 'warning' THEN 'running' WHEN 'breached_paused' THEN 'paused'"
                           " ELSE state END, state IN ('breached', 'breached_paused'), SUM(clocks)"
                           " FROM open_clock_counts GROUP BY 1, 2 HAVING SUM(clocks) > 0 ORDER BY 1, 2");
  while (clocks.executeStep())
    out += fmt::format("switchboard_open_clocks{{state=\"{}\",breached=\"{}\"}} {}\n", clocks.getColumn(0).getString(),
                       clocks.getColumn(1).getInt() != 0 ? "true" : "false", clocks.getColumn(2).getInt64());
  gauge_by(*db, out, "switchboard_escalations", "Escalations by state.", "state",
           "SELECT state, COUNT(*) FROM escalations GROUP BY state ORDER BY state");
  // By channel too: webhook, slack_reply, slack_dm, email (store/messages.hpp).
  out += "# HELP switchboard_outbound_deliveries Outbox rows (webhooks and messages) by channel and state.\n"
         "# TYPE switchboard_outbound_deliveries gauge\n";
  SQLite::Statement deliveries(*db, "SELECT channel, state, COUNT(*) FROM outbox GROUP BY channel, state ORDER BY 1, 2");
  while (deliveries.executeStep())
    out += fmt::format("switchboard_outbound_deliveries{{channel=\"{}\",state=\"{}\"}} {}\n",
                       deliveries.getColumn(0).getString(), deliveries.getColumn(1).getString(),
                       deliveries.getColumn(2).getInt64());
  const auto stats = ctx.writer.stats();
  out += fmt::format(
      "# HELP switchboard_commit_jobs_total Writes committed through group commit.\n"
      "# TYPE switchboard_commit_jobs_total counter\nswitchboard_commit_jobs_total {}\n"
      "# HELP switchboard_commit_transactions_total Transactions those writes shared.\n"
      "# TYPE switchboard_commit_transactions_total counter\nswitchboard_commit_transactions_total {}\n",
      stats.jobs, stats.batches);
  response res{status::ok, 11};
  res.set(beast_http::field::content_type, "text/plain; version=0.0.4");
  res.body() = std::move(out);
  res.prepare_payload();
  co_return res;
}

}  // namespace

void add_metrics_routes(router& routes, context& ctx) {
  routes.add(beast_http::verb::get, "/metrics",
             require_token(ctx, [&ctx](const request&, const route_match&, const model::actor&) { return metrics(ctx); }),
             {0, true, {}});
}

}  // namespace switchboard::http::api
