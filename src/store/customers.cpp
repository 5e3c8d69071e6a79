// Customers as data and their changes (migration 18) on SQLite; PostgreSQL's twins are in
// store/postgres/customers.cpp.
#include "store/customers.hpp"

#include "codec/customer_json.hpp"

#if SWITCHBOARD_POSTGRES
#include "store/postgres/customers.hpp"
#endif

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace switchboard::store {
namespace json = boost::json;

namespace {

constexpr std::string_view customer_columns = "id, document, updated_at, updated_by, source";

std::int64_t seconds(model::instant at) { return at.time_since_epoch().count(); }

model::instant instant_of(std::int64_t value) { return model::instant{std::chrono::seconds{value}}; }

customer_source source_of(const std::string& text) {
  const auto parsed = parse_customer_source(text);
  if (!parsed) throw std::runtime_error(fmt::format("stored customer source \"{}\" is unknown", text));
  return *parsed;
}

std::string document_text(const model::customer& customer) {
  return json::serialize(codec::customer_document(customer));
}

// One row of customer_columns, from column `first` on.
stored_customer customer_at(SQLite::Statement& row, int first = 0) {
  stored_customer out;
  out.customer = codec::customer_from_document(json::parse(row.getColumn(first + 1).getString()));
  out.updated_at = instant_of(row.getColumn(first + 2).getInt64());
  out.updated_by = row.getColumn(first + 3).getString();
  out.source = source_of(row.getColumn(first + 4).getString());
  return out;
}

std::optional<stored_customer> find(SQLite::Database& db, std::string_view id) {
  SQLite::Statement query(db, fmt::format("SELECT {} FROM customers WHERE id = ?", customer_columns));
  query.bind(1, std::string(id));
  if (!query.executeStep()) return std::nullopt;
  return customer_at(query);
}

std::int64_t record(SQLite::Database& db, const customer_change& change) {
  SQLite::Statement insert(db,
                           "INSERT INTO customer_changes (customer_id, at, actor, source, before_document, after_document)"
                           " VALUES (?, ?, ?, ?, ?, ?)");
  insert.bind(1, change.customer_id);
  insert.bind(2, seconds(change.at));
  insert.bind(3, change.actor);
  insert.bind(4, std::string(to_string(change.source)));
  if (change.before)
    insert.bind(5, document_text(*change.before));
  else
    insert.bind(5);
  insert.bind(6, document_text(change.after));
  insert.exec();
  return db.getLastInsertRowid();
}

}  // namespace

std::string_view to_string(customer_source value) {
  switch (value) {
    case customer_source::config: return "config";
    case customer_source::api: return "api";
    case customer_source::crm: return "crm";
  }
  return "config";
}

std::optional<customer_source> parse_customer_source(std::string_view text) {
  if (text == "config") return customer_source::config;
  if (text == "api") return customer_source::api;
  if (text == "crm") return customer_source::crm;
  return std::nullopt;
}

customer_table read_customer_table(read_session session) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::read_customer_table(*pg);
#endif
  SQLite::Database& db = session.connection();
  customer_table out;
  SQLite::Statement query(db, fmt::format("SELECT (SELECT COALESCE(MAX(seq), 0) FROM customer_changes), {}"
                                          " FROM customers ORDER BY id",
                                          customer_columns));
  while (query.executeStep()) {
    out.version = query.getColumn(0).getInt64();
    out.customers.push_back(customer_at(query, 1));
  }
  if (out.customers.empty()) out.version = customers_version(session);
  return out;
}

bool has_customer_tables(read_session session) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::has_customer_tables(*pg);
#endif
  return session.connection().tableExists("customers");
}

std::int64_t customers_version(read_session session) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::customers_version(*pg);
#endif
  SQLite::Database& db = session.connection();
  return db.execAndGet("SELECT COALESCE(MAX(seq), 0) FROM customer_changes").getInt64();
}

std::optional<stored_customer> find_customer(read_session session, std::string_view id) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::find_customer(*pg, id, false);
#endif
  return find(session.connection(), id);
}

std::optional<stored_customer> find_customer_for_update(unit_of_work work, std::string_view id) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::find_customer(*pg, id, true);
#endif
  // The job already holds SQLite's one write lock (BEGIN IMMEDIATE).
  return find(work.connection(), id);
}

std::vector<stored_customer> list_customers(read_session session, std::string_view after, int limit) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::list_customers(*pg, after, limit);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db, fmt::format("SELECT {} FROM customers WHERE id > ? ORDER BY id LIMIT ?", customer_columns));
  query.bind(1, std::string(after));
  query.bind(2, limit);
  std::vector<stored_customer> out;
  while (query.executeStep()) out.push_back(customer_at(query));
  return out;
}

std::vector<customer_change> customer_changes(read_session session, std::string_view id, int limit) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::customer_changes(*pg, id, limit);
#endif
  SQLite::Database& db = session.connection();
  SQLite::Statement query(db,
                          "SELECT seq, customer_id, at, actor, source, before_document, after_document"
                          " FROM customer_changes WHERE customer_id = ? ORDER BY seq DESC LIMIT ?");
  query.bind(1, std::string(id));
  query.bind(2, limit);
  std::vector<customer_change> out;
  while (query.executeStep()) {
    customer_change change;
    change.seq = query.getColumn(0).getInt64();
    change.customer_id = query.getColumn(1).getString();
    change.at = instant_of(query.getColumn(2).getInt64());
    change.actor = query.getColumn(3).getString();
    change.source = source_of(query.getColumn(4).getString());
    if (!query.getColumn(5).isNull())
      change.before = codec::customer_from_document(json::parse(query.getColumn(5).getString()));
    change.after = codec::customer_from_document(json::parse(query.getColumn(6).getString()));
    out.push_back(std::move(change));
  }
  return out;
}

std::optional<std::int64_t> insert_customer(unit_of_work work, const customer_change& change) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::insert_customer(*pg, change);
#endif
  SQLite::Database& db = work.connection();
  SQLite::Statement insert(db,
                           "INSERT INTO customers (id, document, updated_at, updated_by, source) VALUES (?, ?, ?, ?, ?)"
                           " ON CONFLICT (id) DO NOTHING");
  insert.bind(1, change.customer_id);
  insert.bind(2, document_text(change.after));
  insert.bind(3, seconds(change.at));
  insert.bind(4, change.actor);
  insert.bind(5, std::string(to_string(change.source)));
  if (insert.exec() == 0) return std::nullopt;
  return record(db, change);
}

std::int64_t update_customer(unit_of_work work, const customer_change& change) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::update_customer(*pg, change);
#endif
  SQLite::Database& db = work.connection();
  SQLite::Statement update(db, "UPDATE customers SET document = ?, updated_at = ?, updated_by = ?, source = ? WHERE id = ?");
  update.bind(1, document_text(change.after));
  update.bind(2, seconds(change.at));
  update.bind(3, change.actor);
  update.bind(4, std::string(to_string(change.source)));
  update.bind(5, change.customer_id);
  if (update.exec() == 0) throw std::runtime_error(fmt::format("no customer {} to update", change.customer_id));
  return record(db, change);
}

void in_transaction(unit_of_work session, const std::function<void(unit_of_work)>& work) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) {
    pq::transaction transaction(*pg);
    work(session);
    transaction.commit();
    return;
  }
#endif
  SQLite::Transaction transaction(session.connection(), SQLite::TransactionBehavior::IMMEDIATE);
  work(session);
  transaction.commit();
}

}  // namespace switchboard::store
