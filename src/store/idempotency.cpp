// The idempotency_keys table (migration 6).
#include "store/idempotency.hpp"

#include "store/statements.hpp"
#if SWITCHBOARD_POSTGRES
#include "store/postgres/idempotency.hpp"
#endif

#include <SQLiteCpp/Statement.h>

#include <stdexcept>

namespace switchboard::store {

std::optional<stored_result> find_result(read_session session, std::string_view actor, std::string_view key,
                                         std::int64_t now_unix) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::find_result(*pg, actor, key, now_unix);
#endif
  SQLite::Database& db = session.connection();
  statement query(db,
                  "SELECT fingerprint, status, body, location FROM idempotency_keys"
                  " WHERE actor = ? AND key = ? AND created_at > ?");
  query->bind(1, std::string(actor));
  query->bind(2, std::string(key));
  query->bind(3, static_cast<std::int64_t>(now_unix - std::chrono::seconds(key_lifetime).count()));
  if (!query->executeStep()) return std::nullopt;
  return stored_result{query->getColumn(0).getString(), static_cast<unsigned>(query->getColumn(1).getInt()),
                       query->getColumn(2).getString(), query->getColumn(3).getString()};
}

std::optional<stored_result> claim_key(unit_of_work work, std::string_view actor, std::string_view key,
                                       std::string_view fingerprint, std::int64_t now_unix) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::claim_key(*pg, actor, key, fingerprint, now_unix);
#endif
  SQLite::Database& db = work.connection();
  statement expired(db, "DELETE FROM idempotency_keys WHERE actor = ? AND key = ? AND created_at <= ?");
  expired->bind(1, std::string(actor));
  expired->bind(2, std::string(key));
  expired->bind(3, static_cast<std::int64_t>(now_unix - std::chrono::seconds(key_lifetime).count()));
  expired->exec();
  statement claim(db,
                  "INSERT INTO idempotency_keys (actor, key, fingerprint, status, body, location, created_at)"
                  " VALUES (?, ?, ?, 0, '', '', ?) ON CONFLICT (actor, key) DO NOTHING");
  claim->bind(1, std::string(actor));
  claim->bind(2, std::string(key));
  claim->bind(3, std::string(fingerprint));
  claim->bind(4, now_unix);
  if (claim->exec() == 1) return std::nullopt;
  auto stored = find_result(work, actor, key, now_unix);
  if (!stored) throw std::logic_error("claim_key: a key neither free nor stored");
  return stored;
}

void release_key(unit_of_work work, std::string_view actor, std::string_view key) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::release_key(*pg, actor, key);
#endif
  SQLite::Database& db = work.connection();
  statement forget(db, "DELETE FROM idempotency_keys WHERE actor = ? AND key = ?");
  forget->bind(1, std::string(actor));
  forget->bind(2, std::string(key));
  forget->exec();
}

void store_result(unit_of_work work, std::string_view actor, std::string_view key, const stored_result& result,
                  std::int64_t now_unix) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::store_result(*pg, actor, key, result, now_unix);
#endif
  SQLite::Database& db = work.connection();
  statement forget(db, "DELETE FROM idempotency_keys WHERE created_at <= ?");
  forget->bind(1, static_cast<std::int64_t>(now_unix - std::chrono::seconds(key_lifetime).count()));
  forget->exec();
  statement insert(db,
                   "INSERT OR REPLACE INTO idempotency_keys"
                   " (actor, key, fingerprint, status, body, location, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
  insert->bind(1, std::string(actor));
  insert->bind(2, std::string(key));
  insert->bind(3, result.fingerprint);
  insert->bind(4, static_cast<int>(result.status));
  insert->bind(5, result.body);
  insert->bind(6, result.location);
  insert->bind(7, now_unix);
  insert->exec();
}

}  // namespace switchboard::store
