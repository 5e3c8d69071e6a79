#pragma once
// The REST API: /v1/requests and /v1/sla, on top of the engine and the store (/healthz and
// /readyz: http/api/health.hpp).

#include "config/tokens.hpp"
#include "engine/engine.hpp"
#include "http/router.hpp"
#include "store/committer.hpp"
#include "store/requests.hpp"

#include <SQLiteCpp/Database.h>
#include <boost/json/object.hpp>

#include <functional>
#include <string>
#include <vector>

namespace switchboard::http::api {

struct context {
  const engine::policy& policy;
  store::committer& writer;       // writes go through group commit
  SQLite::Database& reader;       // read-only connection owned by the io_context's thread
  std::vector<std::string> tiers;  // known contract tiers, for validating customers
  const config::token_table& tokens;
  std::function<model::instant()> clock;
  std::function<void(const store::change&)> changed;  // told of every committed change
  model::customer_directory customers;  // known customers: filing takes name, stage, tier from here
  // A request's signed reply address ("reply_to"), empty when none is configured.
  std::function<std::string(model::request_id)> reply_to;
};

// Adds every API route to `routes`. `ctx` must outlive the router.
void add_routes(router& routes, context& ctx);

// A route that needs a known bearer token (any role may read); 401 otherwise.
using authenticated_route = std::function<boost::asio::awaitable<response>(const request&, const route_match&,
                                                                           const model::actor&)>;
route_handler require_token(context& ctx, authenticated_route handler);

// GET /metrics (part of add_routes): counts for Prometheus, with a bearer token like the API.
void add_metrics_routes(router& routes, context& ctx);

// The /v1/sla routes (part of add_routes).
void add_sla_routes(router& routes, context& ctx);

// A request as the API shows it: the stored form, with each clock's business seconds used and
// remaining as of `now`.
boost::json::object request_view(const model::request& request, const engine::policy& policy, model::instant now);

// One clock as the API shows it.
boost::json::object clock_view(const model::sla_clock& clock, const engine::policy& policy, model::instant now);

}  // namespace switchboard::http::api
