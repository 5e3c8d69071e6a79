#pragma once
// Customers and their changes on PostgreSQL: the twins of store/customers.hpp's functions, which
// dispatch here on a PostgreSQL session. find_customer_for_update locks the row (FOR UPDATE)
// against another instance's writer; insert_customer is INSERT ... ON CONFLICT DO NOTHING, so two
// instances seeding one customer at once insert and record it once.
//
// Thread-safety: as the connection passed in.

#include "store/customers.hpp"
#include "store/postgres/pq.hpp"

namespace switchboard::store::postgres {

customer_table read_customer_table(pq::connection& db);
bool has_customer_tables(pq::connection& db);
std::int64_t customers_version(pq::connection& db);
std::optional<stored_customer> find_customer(pq::connection& db, std::string_view id, bool for_update);
std::vector<stored_customer> list_customers(pq::connection& db, std::string_view after, int limit);
std::vector<customer_change> customer_changes(pq::connection& db, std::string_view id, int limit);
std::optional<std::int64_t> insert_customer(pq::connection& db, const customer_change& change);
std::int64_t update_customer(pq::connection& db, const customer_change& change);

}  // namespace switchboard::store::postgres
