// External ids of imported tickets on PostgreSQL (store/imports.cpp's twin).
#include "store/postgres/imports.hpp"

namespace switchboard::store::postgres {

std::optional<model::request_id> imported_request(pq::connection& db, const std::string& external_id) {
  // Two instances importing the same ticket at once would both find no row and both insert one,
  // the second failing the whole body on external_ids' key. The lock queues the second until the
  // first commits (or rolls back); READ COMMITTED's next statement then sees the first's row.
  // Keyed by hash: an unrelated external id on the same hash only waits a little.
  db.prepared("SELECT pg_advisory_xact_lock(hashtext('switchboard-import:' || current_schema()), hashtext($1))",
              {external_id});
  return request_imported_as(db, external_id);
}

void remember_import(pq::connection& db, const std::string& external_id, model::request_id id, model::instant at,
                     const std::string& importer) {
  db.prepared("INSERT INTO external_ids (external_id, request_id, imported_at, importer) VALUES ($1, $2, $3, $4)",
              {external_id, id, static_cast<std::int64_t>(at.time_since_epoch().count()), importer});
}

std::optional<model::request_id> request_imported_as(pq::connection& db, const std::string& external_id) {
  const auto rows = db.prepared("SELECT request_id FROM external_ids WHERE external_id = $1", {external_id});
  if (rows.rows() == 0) return std::nullopt;
  return rows.integer(0, 0);
}

std::optional<std::string> external_id_of(pq::connection& db, model::request_id id) {
  const auto rows = db.prepared("SELECT external_id FROM external_ids WHERE request_id = $1", {id});
  if (rows.rows() == 0) return std::nullopt;
  return std::string(rows.text(0, 0));
}

}  // namespace switchboard::store::postgres
