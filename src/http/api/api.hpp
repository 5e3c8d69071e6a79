#pragma once
// The REST API: /v1/requests, /v1/sla and /v1/use_cases, on top of the engine and the store
// (/healthz and /readyz: http/api/health.hpp).
//
// Every list is paged: `limit` (1 to 200, default 100; else 422) and `cursor` (the
// `next_cursor` of the previous page; null on the last), each page one indexed range read and
// at most context::max_page_bytes (http/api/common.hpp: at least one row, the cursor where it stops).
//
// Thread-safety: handlers may run on any thread, several at once (GET routes and POSTs run on
// the worker pool): what they share is const (policy, tokens), thread-safe (writer, readers,
// clock, reply_to, customers), or posted to the app strand (`changed`).

#include "config/tokens.hpp"
#include "engine/engine.hpp"
#include "http/customer_book.hpp"
#include "model/use_case.hpp"
#include "observe/metrics.hpp"
#include "http/router.hpp"
#include "store/committer.hpp"
#include "store/reader_pool.hpp"
#include "store/requests.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::http::api {

struct context {
  const engine::policy& policy;
  store::committer& writer;       // writes go through group commit
  // Read-only connections for handlers on any thread (GET routes run on the worker pool): take
  // one per request with readers.acquire() and never hold it across a co_await.
  store::reader_pool& readers;
  std::vector<std::string> tiers;  // known contract tiers, for validating customers
  const config::token_table& tokens;
  std::function<model::instant()> clock;
  std::function<void(const store::change&)> changed;  // told of every committed change
  // The customer directory in force (PUT /v1/customers/{id} replaces it): filing on every channel
  // takes a known customer's name, stage and tier from here.
  customer_book& customers;
  // A request's signed reply address ("reply_to"), empty when none is configured.
  std::function<std::string(model::request_id)> reply_to;
  // The configured use cases: a filing's use_case must be one of them (or empty) when configured.
  model::use_case_directory use_cases{};
  // Every list page stops before the row that would take it past this many bytes ([server]
  // max_page_bytes; http/api/common.hpp).
  std::size_t max_page_bytes = 4 * 1024 * 1024;
  // The HTTP server's refusals so far, by reason (counters for /metrics); unset: none shown. Set
  // once the server exists (it is made after the routes). Any thread.
  std::function<std::vector<std::pair<std::string, std::uint64_t>>()> server_refusals{};
  // The HMAC key of the CRM's Standard Webhooks signature (SWITCHBOARD_CRM_WEBHOOK_SECRET decoded,
  // notify/signing.hpp); empty: PUT /v1/customers/{id} without a token answers 503.
  std::string crm_webhook_key{};
  // The process's counters and histograms (observe/metrics.hpp), appended to /metrics; null:
  // only the gauges read from the store.
  const observe::service_metrics* metrics = nullptr;
};

// Adds every API route to `routes`. `ctx` must outlive the router.
void add_routes(router& routes, context& ctx);

// A route that needs a known bearer token (any role may read); 401 otherwise.
using authenticated_route = std::function<boost::asio::awaitable<response>(const request&, const route_match&,
                                                                           const model::actor&)>;
route_handler require_token(context& ctx, authenticated_route handler);

// A before-body check that refuses (401) a request without a known bearer token, so no body is
// read for an unauthenticated caller.
before_body_check bearer_before_body(context& ctx);

// GET /metrics (part of add_routes): counts for Prometheus, with a bearer token like the API.
void add_metrics_routes(router& routes, context& ctx);

// The /v1/sla routes (part of add_routes).
void add_sla_routes(router& routes, context& ctx);

// GET /v1/use_cases and /v1/use_cases/{tag} (part of add_routes; any role): each configured use
// case (ctx.use_cases) with its DRI, its open requests (total, by_kind, by_team: those counting
// toward a team's load; kinds and teams with none are left out) and Product's decisions of the
// last 90 days of ctx.clock(), newest first, at most 200 each. Without [use_cases] the list is
// empty and says "configured": false; an unknown tag is 404 not_found, any query parameter 422.
void add_use_case_routes(router& routes, context& ctx);

// GET /v1/reports/sla?from=&to=&group_by=team|policy|customer|use_case|week&tz=&format=json|csv
// (part of add_routes; any role): the clocks that started in [from, to) per group, with met,
// breached, open, percent met, median and p90 business seconds to first response and to
// resolution, and business seconds paused (store/reports.hpp); CSV (RFC 4180) with format=csv or
// Accept: text/csv. from and to are RFC 3339 instants or dates (00:00 in tz, default UTC); by
// default the 12 weeks up to now; at most 400 days; 422 invalid_fields otherwise. Runs on the
// worker pool: one range read of the clock_facts index, then grouping and sorting in memory.
void add_report_routes(router& routes, context& ctx);

// A request as the API shows it: the stored form, with each clock's business seconds used and
// remaining as of `now`.
boost::json::object request_view(const model::request& request, const engine::policy& policy, model::instant now);

// One clock as the API shows it, its nodes allocated from `storage` (default: the heap).
boost::json::object clock_view(const model::sla_clock& clock, const engine::policy& policy, model::instant now,
                               boost::json::storage_ptr storage = {});

}  // namespace switchboard::http::api
