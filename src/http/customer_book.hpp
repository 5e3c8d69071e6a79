#pragma once
// The customer directory in force (issue 13 §5): what filing on every channel (the API, Slack,
// e-mail) takes a customer's name, stage and tier from. It is a snapshot of the customers table
// (store/customers.hpp), replaced whole, never changed in place: a filing holds the snapshot it
// started with, and one that starts after a PUT /v1/customers/{id} was answered sees the change,
// because the PUT's handler re-reads the table and replaces the snapshot before it answers.
//
// Several instances on PostgreSQL: each polls the table's version (max(customer_changes.seq), one
// index lookup) at most once a second (refresh(), driven by the server's timer) and re-reads the
// table when it moved, so another instance's change is in force here within about a second. The
// change feed (store/change_feed.hpp) is not used: it announces requests' event ranges, and a
// customer change has no request; a poll also catches a change made while this instance was not
// listening, which a notification would not.
//
// Thread-safety: current() from any thread, lock-free for readers (an atomic shared_ptr);
// replace() and refresh() from any thread, serialised by a mutex, and a snapshot never replaces
// a newer one.

#include "model/instant.hpp"
#include "model/request.hpp"
#include "store/customers.hpp"
#include "store/session.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace switchboard::http {

struct customer_snapshot {
  model::customer_directory customers;  // by id
  std::int64_t version = 0;             // the table's version it was read at
};

class customer_book {
 public:
  // Starts with `initial` at version 0 (the config's customers, until the table is read).
  explicit customer_book(model::customer_directory initial = {});
  customer_book(const customer_book&) = delete;
  customer_book& operator=(const customer_book&) = delete;

  // The snapshot in force; never null. Hold it for the whole of one filing.
  std::shared_ptr<const customer_snapshot> current() const;
  // The directory of the snapshot in force, sharing its ownership (what engine::action_input's
  // `customers` takes); never null.
  std::shared_ptr<const model::customer_directory> directory() const;

  // Puts `table` in force unless the snapshot in force was read at a newer version; true when
  // it did.
  bool replace(const store::customer_table& table);

  // Reads the table's version and, when it is not the one in force, the whole table (replace()).
  // True when the snapshot changed. Throws the store's errors (a lost session, storage_unavailable).
  bool refresh(store::read_session session);

 private:
  std::atomic<std::shared_ptr<const customer_snapshot>> current_;
  std::mutex replacing_;
};

// What seeding found for one customer whose stored row was set through the API or the CRM and
// disagrees with the config: the row stays in force.
struct customer_override {
  model::customer configured;        // as [integrations.customers.<id>] says
  store::stored_customer in_force;   // as stored
};

// Seeds the customers table from the config, inside one transaction (store::in_transaction at
// start-up, before the committer runs, or a committer job): a customer the table lacks
// is inserted (source config, recorded as created); one last set by the config whose config entry
// changed since is updated to it (recorded, source config); one last set through the API or the
// CRM is kept, whatever the config says, and returned when the config disagrees with it. Customers
// only in the table are kept. `now`: the engine's clock. Instances seeding at once record each
// insertion once (store::insert_customer) and take turns on a row (find_customer_for_update).
std::vector<customer_override> seed_customers(store::unit_of_work work, const model::customer_directory& config,
                                              model::instant now);

// What seed_customers would report, read only (`switchboard-cli rules check --db`): each customer
// of `config` stored as set through the API or the CRM, and different.
std::vector<customer_override> customer_overrides(store::read_session session, const model::customer_directory& config);

// The warning for one override, naming the values in force and why (one line, no newline).
std::string override_warning(const customer_override& found);

// Whether two customers hold the same document (id, name, stage, tier, account team).
bool same_customer(const model::customer& a, const model::customer& b);

}  // namespace switchboard::http
