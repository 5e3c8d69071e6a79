#pragma once
// Paged reads on PostgreSQL: the twins of store/pages.hpp's functions of the same names, which
// dispatch here on a PostgreSQL session (store/session.hpp). Same contracts and orders; the SQL
// is PostgreSQL's (issue 12 plan §3.3).
//
// Thread-safety: as the connection passed in (one connection, one owner).

#include "store/pages.hpp"
#include "store/postgres/pq.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace switchboard::store::postgres {

open_clock_page list_open_clocks(pq::connection& db, const open_clock_filter& filter);
std::vector<open_clock_count> open_clock_counts(pq::connection& db);
std::vector<open_request_count> open_request_counts(pq::connection& db);
event_page list_events(pq::connection& db, model::request_id id, std::int64_t after, int limit, std::size_t max_bytes);

}  // namespace switchboard::store::postgres
