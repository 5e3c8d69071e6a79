// /metrics: counts for Prometheus (text exposition format): gauges read from the read models,
// then the counters and histograms the process keeps (observe/metrics.hpp).
#include "http/api/api.hpp"

#include "store/metrics.hpp"

#include <fmt/format.h>

namespace switchboard::http::api {
namespace asio = boost::asio;

namespace {

void gauge_by(std::string& out, std::string_view name, std::string_view help, std::string_view label,
              const std::vector<store::counts::by_label>& rows) {
  out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
  for (const auto& row : rows) out += fmt::format("{}{{{}=\"{}\"}} {}\n", name, label, row.label, row.count);
}

asio::awaitable<response> metrics(context& ctx) {
  std::string out;
  const auto counts = [&] {
    const auto db = ctx.readers.acquire();
    return store::read_counts(*db);
  }();
  gauge_by(out, "switchboard_requests", "Requests by status.", "status", counts.requests_by_status);
  // A paused breached clock is {state="paused",breached="true"} (store/metrics.hpp).
  out += "# HELP switchboard_open_clocks Open SLA clocks by state and whether they breached.\n"
         "# TYPE switchboard_open_clocks gauge\n";
  for (const auto& row : counts.open_clocks)
    out += fmt::format("switchboard_open_clocks{{state=\"{}\",breached=\"{}\"}} {}\n", row.state,
                       row.breached ? "true" : "false", row.count);
  gauge_by(out, "switchboard_escalations", "Escalations by state.", "state", counts.escalations_by_state);
  out += "# HELP switchboard_outbound_deliveries Outbox rows (webhooks and messages) by channel and state.\n"
         "# TYPE switchboard_outbound_deliveries gauge\n";
  for (const auto& row : counts.deliveries)
    out += fmt::format("switchboard_outbound_deliveries{{channel=\"{}\",state=\"{}\"}} {}\n", row.channel,
                       row.state, row.count);
  const auto stats = ctx.writer.stats();
  out += fmt::format(
      "# HELP switchboard_commit_jobs_total Writes committed through group commit.\n"
      "# TYPE switchboard_commit_jobs_total counter\nswitchboard_commit_jobs_total {}\n"
      "# HELP switchboard_commit_transactions_total Transactions those writes shared.\n"
      "# TYPE switchboard_commit_transactions_total counter\nswitchboard_commit_transactions_total {}\n",
      stats.jobs, stats.batches);
  if (ctx.server_refusals) {
    out += "# HELP switchboard_http_refused_total Requests and connections the server refused or dropped, by reason.\n"
           "# TYPE switchboard_http_refused_total counter\n";
    for (const auto& [reason, count] : ctx.server_refusals())
      out += fmt::format("switchboard_http_refused_total{{reason=\"{}\"}} {}\n", reason, count);
  }
  if (ctx.metrics != nullptr) out += ctx.metrics->families.expose();
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
