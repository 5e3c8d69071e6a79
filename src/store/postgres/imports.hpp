#pragma once
// External ids of imported tickets on PostgreSQL: the twins of store/imports.cpp's SQL.
//
// Thread-safety: as the connection passed in (one connection, one owner).

#include "model/request.hpp"
#include "store/postgres/pq.hpp"

#include <optional>
#include <string>

namespace switchboard::store::postgres {

// The request imported under `external_id`, if any. Takes a transaction-scoped advisory lock on
// the external id first, held until the caller's transaction ends, so that another instance
// importing the same id waits and then sees this one's row: call it inside the writer's
// transaction, before remember_import.
std::optional<model::request_id> imported_request(pq::connection& db, const std::string& external_id);
// Records that request `id` was imported under `external_id` at `at` by `importer`.
void remember_import(pq::connection& db, const std::string& external_id, model::request_id id, model::instant at,
                     const std::string& importer);
std::optional<std::string> external_id_of(pq::connection& db, model::request_id id);
// The request imported under `external_id`, if any, without a lock (a read session's lookup).
std::optional<model::request_id> request_imported_as(pq::connection& db, const std::string& external_id);

}  // namespace switchboard::store::postgres
