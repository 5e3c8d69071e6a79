#pragma once
// External ids of imported tickets on PostgreSQL: the twins of store/imports.cpp's SQL.
//
// Thread-safety: as the connection passed in (one connection, one owner).

#include "model/request.hpp"
#include "store/postgres/pq.hpp"

#include <optional>
#include <string>

namespace switchboard::store::postgres {

// The request imported under `external_id`, if any.
std::optional<model::request_id> imported_request(pq::connection& db, const std::string& external_id);
// Records that request `id` was imported under `external_id` at `at` by `importer`.
void remember_import(pq::connection& db, const std::string& external_id, model::request_id id, model::instant at,
                     const std::string& importer);
std::optional<std::string> external_id_of(pq::connection& db, model::request_id id);

}  // namespace switchboard::store::postgres
