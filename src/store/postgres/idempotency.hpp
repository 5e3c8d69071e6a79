#pragma once
// Idempotency keys on PostgreSQL: the twins of store/idempotency.hpp's functions, which dispatch
// here on a PostgreSQL session. INSERT OR REPLACE becomes INSERT ... ON CONFLICT DO UPDATE with
// excluded.* (issue 12 plan §3.3).
//
// Thread-safety: as the connection passed in.

#include "store/idempotency.hpp"
#include "store/postgres/pq.hpp"

namespace switchboard::store::postgres {

std::optional<stored_result> find_result(pq::connection& db, std::string_view actor, std::string_view key,
                                         std::int64_t now_unix);
void store_result(pq::connection& db, std::string_view actor, std::string_view key, const stored_result& result,
                  std::int64_t now_unix);

}  // namespace switchboard::store::postgres
