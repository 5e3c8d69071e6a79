// The idempotency_keys table on PostgreSQL (the twin of store/idempotency.cpp).
#include "store/postgres/idempotency.hpp"

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

void store_result(pq::connection& db, std::string_view actor, std::string_view key, const stored_result& result,
                  std::int64_t now_unix) {
  db.prepared("DELETE FROM idempotency_keys WHERE created_at <= $1", {oldest_kept(now_unix)});
  db.prepared("INSERT INTO idempotency_keys (actor, key, fingerprint, status, body, location, created_at)"
              " VALUES ($1, $2, $3, $4, $5, $6, $7)"
              " ON CONFLICT (actor, key) DO UPDATE SET fingerprint = excluded.fingerprint, status = excluded.status,"
              " body = excluded.body, location = excluded.location, created_at = excluded.created_at",
              {actor, key, result.fingerprint, static_cast<int>(result.status), result.body, result.location, now_unix});
}

}  // namespace switchboard::store::postgres
