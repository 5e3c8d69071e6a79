#pragma once
// The SLA reports' range read on PostgreSQL: the twin of store/reports.hpp's function of the same
// name, which dispatches here on a PostgreSQL session. Same contract and order.
//
// Thread-safety: as the connection passed in (one connection, one owner).

#include "store/postgres/pq.hpp"
#include "store/reports.hpp"

#include <vector>

namespace switchboard::store::postgres {

std::vector<clock_fact> clock_facts_started(pq::connection& db, model::instant from, model::instant to);

}  // namespace switchboard::store::postgres
