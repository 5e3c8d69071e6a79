// Customers as data and their changes on PostgreSQL (the twin of store/customers.cpp).
#include "store/postgres/customers.hpp"

#include "codec/customer_json.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace switchboard::store::postgres {
namespace json = boost::json;

namespace {

constexpr std::string_view customer_columns = "id, document, updated_at, updated_by, source";

std::int64_t seconds(model::instant at) { return at.time_since_epoch().count(); }

model::instant instant_of(std::int64_t value) { return model::instant{std::chrono::seconds{value}}; }

customer_source source_of(std::string_view text) {
  const auto parsed = parse_customer_source(text);
  if (!parsed) throw std::runtime_error(fmt::format("stored customer source \"{}\" is unknown", text));
  return *parsed;
}

std::string document_text(const model::customer& customer) {
  return json::serialize(codec::customer_document(customer));
}

model::customer customer_of(std::string_view text) { return codec::customer_from_document(json::parse(text)); }

// Row `row` of customer_columns, from column `first` on.
stored_customer customer_at(const pq::result& rows, int row, int first = 0) {
  stored_customer out;
  out.customer = customer_of(rows.text(row, first + 1));
  out.updated_at = instant_of(rows.integer(row, first + 2));
  out.updated_by = std::string(rows.text(row, first + 3));
  out.source = source_of(rows.text(row, first + 4));
  return out;
}

std::int64_t record(pq::connection& db, const customer_change& change) {
  const std::optional<std::string> before =
      change.before ? std::optional<std::string>(document_text(*change.before)) : std::nullopt;
  return db
      .prepared("INSERT INTO customer_changes (customer_id, at, actor, source, before_document, after_document)"
                " VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq",
                {change.customer_id, seconds(change.at), change.actor, to_string(change.source), before,
                 document_text(change.after)})
      .integer(0, 0);
}

}  // namespace

customer_table read_customer_table(pq::connection& db) {
  // One statement, one snapshot: the version read is never newer than the rows.
  const auto rows = db.prepared(fmt::format("SELECT (SELECT COALESCE(MAX(seq), 0) FROM customer_changes), {}"
                                            " FROM customers ORDER BY id",
                                            customer_columns));
  customer_table out;
  for (int i = 0; i < rows.rows(); ++i) {
    out.version = rows.integer(i, 0);
    out.customers.push_back(customer_at(rows, i, 1));
  }
  if (out.customers.empty()) out.version = customers_version(db);
  return out;
}

bool has_customer_tables(pq::connection& db) {
  return db.exec("SELECT to_regclass('customers') IS NOT NULL").text(0, 0) == "t";
}

std::int64_t customers_version(pq::connection& db) {
  return db.prepared("SELECT COALESCE(MAX(seq), 0) FROM customer_changes").integer(0, 0);
}

std::optional<stored_customer> find_customer(pq::connection& db, std::string_view id, bool for_update) {
  const auto rows = db.prepared(
      fmt::format("SELECT {} FROM customers WHERE id = $1{}", customer_columns, for_update ? " FOR UPDATE" : ""), {id});
  if (rows.rows() == 0) return std::nullopt;
  return customer_at(rows, 0);
}

std::vector<stored_customer> list_customers(pq::connection& db, std::string_view after, int limit) {
  // COLLATE "C": ids in byte order, as SQLite's BINARY compares them, so a cursor means the same on both.
  const auto rows = db.prepared(fmt::format("SELECT {} FROM customers WHERE id COLLATE \"C\" > $1"
                                            " ORDER BY id COLLATE \"C\" LIMIT $2",
                                            customer_columns),
                                {after, limit});
  std::vector<stored_customer> out;
  for (int i = 0; i < rows.rows(); ++i) out.push_back(customer_at(rows, i));
  return out;
}

std::vector<customer_change> customer_changes(pq::connection& db, std::string_view id, int limit) {
  const auto rows = db.prepared(
      "SELECT seq, customer_id, at, actor, source, before_document, after_document"
      " FROM customer_changes WHERE customer_id = $1 ORDER BY seq DESC LIMIT $2",
      {id, limit});
  std::vector<customer_change> out;
  for (int i = 0; i < rows.rows(); ++i) {
    customer_change change;
    change.seq = rows.integer(i, 0);
    change.customer_id = std::string(rows.text(i, 1));
    change.at = instant_of(rows.integer(i, 2));
    change.actor = std::string(rows.text(i, 3));
    change.source = source_of(rows.text(i, 4));
    if (!rows.is_null(i, 5)) change.before = customer_of(rows.text(i, 5));
    change.after = customer_of(rows.text(i, 6));
    out.push_back(std::move(change));
  }
  return out;
}

std::optional<std::int64_t> insert_customer(pq::connection& db, const customer_change& change) {
  const auto inserted =
      db.prepared("INSERT INTO customers (id, document, updated_at, updated_by, source) VALUES ($1, $2, $3, $4, $5)"
                  " ON CONFLICT (id) DO NOTHING",
                  {change.customer_id, document_text(change.after), seconds(change.at), change.actor,
                   to_string(change.source)});
  if (inserted.affected_rows() == 0) return std::nullopt;
  return record(db, change);
}

std::int64_t update_customer(pq::connection& db, const customer_change& change) {
  const auto updated = db.prepared(
      "UPDATE customers SET document = $1, updated_at = $2, updated_by = $3, source = $4 WHERE id = $5",
      {document_text(change.after), seconds(change.at), change.actor, to_string(change.source), change.customer_id});
  if (updated.affected_rows() == 0) throw std::runtime_error(fmt::format("no customer {} to update", change.customer_id));
  return record(db, change);
}

}  // namespace switchboard::store::postgres
