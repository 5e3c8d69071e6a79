#pragma once
// Customers as data (issue 13 §5; migration 18): the customer directory filing reads, one row per
// customer with its document, and customer_changes, the append-only record of every change to a
// row (who, when, through what, the document before and after). The highest change seq is the
// directory's version: it grows with every change, so a reader that last saw version v has
// missed nothing when it still reads v.
//
// The store answers and writes; deciding whether a PUT changes anything, and whether the config
// or a stored row is in force, is the caller's (http/customer_book.hpp).
//
// Writers call insert_customer and update_customer inside a committer job (or in_transaction at
// start-up), after find_customer_for_update in the same transaction. Thread-safety: as the
// session passed in.

#include "model/instant.hpp"
#include "model/request.hpp"
#include "store/session.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::store {

// Who last set a customer: the config file (seeded at start-up), a bearer token (the API) or the
// signed CRM webhook.
enum class customer_source { config, api, crm };
std::string_view to_string(customer_source value);
std::optional<customer_source> parse_customer_source(std::string_view text);

struct stored_customer {
  model::customer customer;
  model::instant updated_at{};  // whole seconds, the engine's clock
  std::string updated_by;       // the actor's person, "crm" or "config"
  customer_source source = customer_source::config;
};

struct customer_change {
  std::int64_t seq = 0;  // set by the store when recorded
  std::string customer_id;
  model::instant at{};
  std::string actor;
  customer_source source = customer_source::api;
  std::optional<model::customer> before;  // none: the change created the customer
  model::customer after;
};

// Every customer by id and the version they are at, read in one statement (so the version is
// never newer than the rows).
struct customer_table {
  std::vector<stored_customer> customers;  // ordered by id
  std::int64_t version = 0;                // max(customer_changes.seq), 0 when none
};
customer_table read_customer_table(read_session session);

// Whether the session's database has the customer tables (migration 18): a tool may read a
// database an older server wrote, which has none.
bool has_customer_tables(read_session session);

// The directory's version alone (one index lookup): what a poll compares.
std::int64_t customers_version(read_session session);

std::optional<stored_customer> find_customer(read_session session, std::string_view id);

// The same, holding the row until the job's transaction ends, so that two instances changing one
// customer at once take turns (PostgreSQL: SELECT ... FOR UPDATE; SQLite has one writer).
std::optional<stored_customer> find_customer_for_update(unit_of_work work, std::string_view id);

// Up to `limit` customers with ids after `after` (empty: from the first), by id.
std::vector<stored_customer> list_customers(read_session session, std::string_view after, int limit);

// A customer's newest `limit` changes, newest first.
std::vector<customer_change> customer_changes(read_session session, std::string_view id, int limit);

// Stores change.after as a new customer (updated_at, updated_by and source from the change) and
// records the change; its seq, or nullopt with nothing written when a customer with that id
// already exists (another instance created it first). change.before must be empty.
std::optional<std::int64_t> insert_customer(unit_of_work work, const customer_change& change);

// Replaces an existing customer's row with change.after and records the change; its seq.
// Throws std::runtime_error when there is no such customer.
std::int64_t update_customer(unit_of_work work, const customer_change& change);

// Runs `work` in one transaction of `session`, for start-up work before the committer runs
// (seeding the table): committed when it returns, rolled back when it throws (rethrown).
void in_transaction(unit_of_work session, const std::function<void(unit_of_work)>& work);

}  // namespace switchboard::store
