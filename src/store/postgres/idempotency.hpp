#pragma once
// Idempotency keys on PostgreSQL: the twins of store/idempotency.hpp's functions, which dispatch
// here on a PostgreSQL session. INSERT OR REPLACE becomes INSERT ... ON CONFLICT DO UPDATE with
// excluded.* (issue 12 plan §3.3); claim_key is INSERT ... ON CONFLICT DO NOTHING RETURNING, so
// that concurrent instances serialise on the key's row (plan D2).
//
// Thread-safety: as the connection passed in.

#include "store/idempotency.hpp"
#include "store/postgres/pq.hpp"

namespace switchboard::store::postgres {

std::optional<stored_result> find_result(pq::connection& db, std::string_view actor, std::string_view key,
                                         std::int64_t now_unix);
std::optional<stored_result> claim_key(pq::connection& db, std::string_view actor, std::string_view key,
                                       std::string_view fingerprint, std::int64_t now_unix);
void release_key(pq::connection& db, std::string_view actor, std::string_view key);
void store_result(pq::connection& db, std::string_view actor, std::string_view key, const stored_result& result,
                  std::int64_t now_unix);

}  // namespace switchboard::store::postgres
