// The idempotency_keys table on PostgreSQL (the twin of store/idempotency.cpp).
#include "store/postgres/idempotency.hpp"

#include <stdexcept>

namespace switchboard::store::postgres {
namespace {
std::int64_t oldest_kept(std::int64_t now_unix) { return now_unix - std::chrono::seconds(key_lifetime).count(); }
}  // namespace

std::optional<stored_result> find_result(pq::connection& db, std::string_view actor, std::string_view key,
                                         std::int64_t now_unix) {
  const auto row = db.prepared("SELECT fingerprint, status, body, location FROM idempotency_keys"
                               " WHERE actor = $1 AND key = $2 AND created_at > $3",
                               {actor, key, oldest_kept(now_unix)});
  if (row.rows() == 0) return std::nullopt;
  return stored_result{std::string(row.text(0, 0)), static_cast<unsigned>(row.integer(0, 1)), std::string(row.text(0, 2)),
                       std::string(row.text(0, 3))};
}

std::optional<stored_result> claim_key(pq::connection& db, std::string_view actor, std::string_view key,
                                       std::string_view fingerprint, std::int64_t now_unix) {
  // An expired row of this key only: deleting every expired key here would make concurrent
  // claims lock each other's rows.
  db.prepared("DELETE FROM idempotency_keys WHERE actor = $1 AND key = $2 AND created_at <= $3",
              {actor, key, oldest_kept(now_unix)});
  // Twice at most: the row this claim waited for may be gone by the time it reads it (its
  // transaction released it, or a purge took it), and then the key is free again.
  for (int tries = 0; tries < 2; ++tries) {
    // On a conflict with a row another transaction inserted and has not committed, this waits
    // for that transaction's end: then DO NOTHING if it committed, insert if it rolled back.
    const auto claimed = db.prepared("INSERT INTO idempotency_keys (actor, key, fingerprint, status, body, location,"
                                     " created_at) VALUES ($1, $2, $3, 0, '', '', $4)"
                                     " ON CONFLICT (actor, key) DO NOTHING RETURNING 1",
                                     {actor, key, fingerprint, now_unix});
    if (claimed.rows() == 1) return std::nullopt;
    // READ COMMITTED: this statement's snapshot has the committed row the INSERT conflicted with.
    if (auto stored = find_result(db, actor, key, now_unix)) return stored;
  }
  throw std::runtime_error("claim_key: the key's row came and went twice while claiming it");
}

void release_key(pq::connection& db, std::string_view actor, std::string_view key) {
  db.prepared("DELETE FROM idempotency_keys WHERE actor = $1 AND key = $2", {actor, key});
}

void store_result(pq::connection& db, std::string_view actor, std::string_view key, const stored_result& result,
                  std::int64_t now_unix) {
  // Expired keys, skipping rows another transaction holds (its own claim of an expired key):
  // concurrent batches never wait for each other here.
  db.prepared("DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE created_at <= $1"
              " FOR UPDATE SKIP LOCKED)",
              {oldest_kept(now_unix)});
  db.prepared("INSERT INTO idempotency_keys (actor, key, fingerprint, status, body, location, created_at)"
              " VALUES ($1, $2, $3, $4, $5, $6, $7)"
              " ON CONFLICT (actor, key) DO UPDATE SET fingerprint = excluded.fingerprint, status = excluded.status,"
              " body = excluded.body, location = excluded.location, created_at = excluded.created_at",
              {actor, key, result.fingerprint, static_cast<int>(result.status), result.body, result.location, now_unix});
}

}  // namespace switchboard::store::postgres
