// Imported tickets on SQLite (PostgreSQL: store/postgres/imports.cpp): external ids, and the
// quiet recording of an import.
#include "store/imports.hpp"

#include "store/recording.hpp"
#include "store/statements.hpp"

#include <SQLiteCpp/Database.h>

#if SWITCHBOARD_POSTGRES
#include "store/postgres/imports.hpp"
#endif

#include <cstdint>
#include <utility>

namespace switchboard::store {

import_outcome record_import(unit_of_work work, const engine::policy& policy, const std::string& external_id,
                             const engine::import_command& command, model::instant now) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) {
    if (auto existing = postgres::imported_request(*pg, external_id)) return already_imported{*existing};
    const auto id = next_request_id(work);
    auto decided = engine::import_request(policy, command, id, now);
    if (auto* refused = std::get_if<engine::refusal>(&decided)) return std::move(*refused);
    auto made = save_quietly(work, policy, std::get<engine::outcome>(std::move(decided)));
    postgres::remember_import(*pg, external_id, id, now, command.importer.person);
    return made;
  }
#endif
  SQLite::Database& db = work.connection();
  {
    statement existing(db, "SELECT request_id FROM external_ids WHERE external_id = ?");
    existing->bind(1, external_id);
    if (existing->executeStep()) return already_imported{existing->getColumn(0).getInt64()};
  }
  const auto id = next_request_id(work);
  auto decided = engine::import_request(policy, command, id, now);
  if (auto* refused = std::get_if<engine::refusal>(&decided)) return std::move(*refused);
  auto made = save_quietly(work, policy, std::get<engine::outcome>(std::move(decided)));
  statement insert(db, "INSERT INTO external_ids (external_id, request_id, imported_at, importer) VALUES (?, ?, ?, ?)");
  insert->bind(1, external_id);
  insert->bind(2, id);
  insert->bind(3, static_cast<std::int64_t>(now.time_since_epoch().count()));
  insert->bind(4, command.importer.person);
  insert->exec();
  return made;
}

std::optional<model::request_id> imported_request(read_session session, const std::string& external_id) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::request_imported_as(*pg, external_id);
#endif
  statement query(session.connection(), "SELECT request_id FROM external_ids WHERE external_id = ?");
  query->bind(1, external_id);
  if (!query->executeStep()) return std::nullopt;
  return query->getColumn(0).getInt64();
}

std::optional<std::string> external_id_of(read_session session, model::request_id id) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::external_id_of(*pg, id);
#endif
  statement query(session.connection(), "SELECT external_id FROM external_ids WHERE request_id = ?");
  query->bind(1, id);
  if (!query->executeStep()) return std::nullopt;
  return query->getColumn(0).getString();
}

}  // namespace switchboard::store
