#pragma once
// Use cases' open counts and Product's decisions on PostgreSQL: the twins of
// store/use_cases.hpp's functions of the same names, which dispatch here on a PostgreSQL session.
// Same contracts and orders.
//
// Thread-safety: as the connection passed in (one connection, one owner).

#include "store/postgres/pq.hpp"
#include "store/use_cases.hpp"

#include <string_view>
#include <vector>

namespace switchboard::store::postgres {

std::vector<use_case_open> use_case_loads(pq::connection& db);
std::vector<decision> recent_decisions(pq::connection& db, std::string_view use_case, model::instant since, int limit);

}  // namespace switchboard::store::postgres
