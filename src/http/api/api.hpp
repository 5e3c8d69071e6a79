#pragma once
// The REST API: /healthz and /v1/requests, on top of the engine and the store.

#include "engine/engine.hpp"
#include "http/router.hpp"
#include "store/committer.hpp"

#include <SQLiteCpp/Database.h>

#include <functional>
#include <string>
#include <vector>

namespace switchboard::http::api {

struct context {
  const engine::policy& policy;
  store::committer& writer;       // writes go through group commit
  SQLite::Database& reader;       // read-only connection owned by the io_context's thread
  std::vector<std::string> tiers;  // known contract tiers, for validating customers
  std::function<model::instant()> clock;
};

// Adds every API route to `routes`. `ctx` must outlive the router.
void add_routes(router& routes, context& ctx);

}  // namespace switchboard::http::api
