// SQLite to PostgreSQL, table by table (store/copy.hpp).
#include "store/copy.hpp"

#include "store/database.hpp"
#if SWITCHBOARD_POSTGRES
#include "store/postgres/pq.hpp"
#include "store/postgres/schema.hpp"
#endif

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

namespace switchboard::store {

#if SWITCHBOARD_POSTGRES
namespace {

// The target's own, never copied: its migrations, its instances' leases and liveness, its
// health probe row; and the counters their triggers keep from the rows inserted (open clocks;
// requests, escalations and outbox rows by state; active requests by team and state).
const std::set<std::string> kept_by_target = {"schema_migrations",       "timer_leases",           "instances",
                                              "heartbeat",               "open_clock_counts",      "request_status_counts",
                                              "escalation_state_counts", "outbox_state_counts",
                                              "board_counts"};

// Parents before the rows that refer to them (the foreign keys of the schema).
int copy_rank(const std::string& table) {
  if (table == "requests") return 0;
  if (table == "outbox") return 1;
  return 2;
}

std::vector<std::string> source_tables(SQLite::Database& db) {
  std::vector<std::string> out;
  SQLite::Statement query(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                              " ORDER BY name");
  while (query.executeStep()) {
    std::string name = query.getColumn(0).getString();
    // request_search (FTS5, with its shadow tables): PostgreSQL keeps requests.search instead,
    // set by its trigger as the requests are inserted.
    if (!kept_by_target.contains(name) && !name.starts_with("request_search")) out.push_back(std::move(name));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const std::string& a, const std::string& b) { return copy_rank(a) < copy_rank(b); });
  return out;
}

std::vector<std::string> source_columns(SQLite::Database& db, const std::string& table) {
  std::vector<std::string> out;
  SQLite::Statement query(db, "SELECT name FROM pragma_table_info(?) ORDER BY cid");
  query.bind(1, table);
  while (query.executeStep()) out.push_back(query.getColumn(0).getString());
  return out;
}

std::set<std::string> target_columns(pq::connection& db, const std::string& table) {
  std::set<std::string> out;
  const auto rows = db.exec("SELECT column_name FROM information_schema.columns"
                            " WHERE table_schema = current_schema() AND table_name = $1",
                            {table});
  for (int i = 0; i < rows.rows(); ++i) out.emplace(rows.text(i, 0));
  return out;
}

std::string identifier(std::string_view name) { return fmt::format("\"{}\"", name); }

std::int64_t count_rows(pq::connection& db, const std::string& table) {
  return db.exec(fmt::format("SELECT COUNT(*) FROM {}", identifier(table))).integer(0, 0);
}

// A stored value as PostgreSQL's text input for the column (the schema's columns are integers
// and text only).
pq::param value_of(const SQLite::Column& column, const std::string& table, const std::string& name) {
  switch (column.getType()) {
    case SQLITE_NULL: return std::nullopt;
    case SQLITE_INTEGER: return column.getInt64();
    case SQLITE_TEXT: return column.getString();
    default:
      throw std::runtime_error(fmt::format("{}.{} holds a value that is neither integer nor text; nothing was copied",
                                           table, name));
  }
}

std::int64_t copy_table(SQLite::Database& source, pq::connection& target, const std::string& table,
                        const std::vector<std::string>& columns) {
  std::string column_list;
  for (const auto& c : columns) column_list += (column_list.empty() ? "" : ", ") + identifier(c);
  // Up to 500 rows a statement, within PostgreSQL's 65,535 parameters.
  const std::size_t per_statement = std::max<std::size_t>(1, std::min<std::size_t>(500, 30000 / columns.size()));
  SQLite::Statement rows(source, fmt::format("SELECT {} FROM {} ORDER BY rowid", column_list, identifier(table)));
  std::int64_t copied = 0;
  pq::params values;
  std::size_t pending = 0;
  const auto flush = [&] {
    if (pending == 0) return;
    std::string sql = fmt::format("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE VALUES ", identifier(table), column_list);
    std::size_t n = 0;
    for (std::size_t r = 0; r < pending; ++r) {
      sql += r == 0 ? "(" : ", (";
      for (std::size_t c = 0; c < columns.size(); ++c) sql += fmt::format("{}${}", c == 0 ? "" : ", ", ++n);
      sql += ")";
    }
    target.exec(sql, values);
    copied += static_cast<std::int64_t>(pending);
    values.clear();
    pending = 0;
  };
  while (rows.executeStep()) {
    for (int c = 0; c < static_cast<int>(columns.size()); ++c)
      values.push_back(value_of(rows.getColumn(c), table, columns[static_cast<std::size_t>(c)]));
    if (++pending == per_statement) flush();
  }
  flush();
  return copied;
}

// Identity columns and the request id sequence continue after the copied values.
void advance_sequences(pq::connection& db) {
  const auto identities = db.exec("SELECT table_name, column_name FROM information_schema.columns"
                                  " WHERE table_schema = current_schema() AND is_identity = 'YES'");
  for (int i = 0; i < identities.rows(); ++i) {
    const std::string table(identities.text(i, 0));
    const std::string column(identities.text(i, 1));
    db.exec(fmt::format("SELECT setval(pg_get_serial_sequence($1, $2), GREATEST(MAX({0}), 1), MAX({0}) IS NOT NULL)"
                        " FROM {1}",
                        identifier(column), identifier(table)),
            {table, column});
  }
  db.exec("SELECT setval('requests_id_seq', GREATEST(MAX(id), 1), MAX(id) IS NOT NULL) FROM requests");
}

std::map<std::pair<std::string, std::string>, std::int64_t> nonzero_counts_in_source(SQLite::Database& db) {
  std::map<std::pair<std::string, std::string>, std::int64_t> out;
  SQLite::Statement query(db, "SELECT owner, state, clocks FROM open_clock_counts WHERE clocks <> 0");
  while (query.executeStep())
    out[{query.getColumn(0).getString(), query.getColumn(1).getString()}] = query.getColumn(2).getInt64();
  return out;
}

std::map<std::pair<std::string, std::string>, std::int64_t> nonzero_counts_in_target(pq::connection& db) {
  std::map<std::pair<std::string, std::string>, std::int64_t> out;
  const auto rows = db.exec("SELECT owner, state, clocks FROM open_clock_counts WHERE clocks <> 0");
  for (int i = 0; i < rows.rows(); ++i)
    out[{std::string(rows.text(i, 0)), std::string(rows.text(i, 1))}] = rows.integer(i, 2);
  return out;
}

}  // namespace

copy_report copy_sqlite_to_postgres(const std::string& from, const std::string& to_url,
                                    const std::function<void(const copied_table&)>& progress) {
  if (!std::filesystem::exists(from)) throw std::runtime_error(fmt::format("{}: no such database", from));
  const exclusive_use held(from);  // no server writes it while it is copied
  auto source = open_database(from, access::read_only);
  copy_report report;
  report.from = from;
  report.schema_version = schema_version(source);
  if (report.schema_version != latest_schema_version())
    throw std::runtime_error(fmt::format(
        "{} has schema version {}, this build's is {}: start this release's server on it once (it migrates at "
        "start-up), stop it, then copy",
        from, report.schema_version, latest_schema_version()));

  pq::connection target(to_url);
  report.to = target.describe();
  postgres::migrate(target);
  pq::transaction transaction(target);
  const auto held_requests = count_rows(target, "requests");
  const auto held_events = count_rows(target, "events");
  if (held_requests != 0 || held_events != 0)
    throw std::runtime_error(fmt::format("{} already holds {} requests and {} events: copy into an empty database",
                                         report.to, held_requests, held_events));
  // Rows the target made for itself at migration that the source has too (none today but
  // timer_leases, which is kept) would collide: each copied table must start empty.
  for (const auto& table : source_tables(source)) {
    const auto columns = source_columns(source, table);
    const auto present = target_columns(target, table);
    if (present.empty())
      throw std::runtime_error(fmt::format("table {} of {} is missing in {}", table, from, report.to));
    for (const auto& c : columns)
      if (!present.contains(c))
        throw std::runtime_error(fmt::format("column {}.{} of {} is missing in {}", table, c, from, report.to));
    if (const auto before = count_rows(target, table); before != 0)
      throw std::runtime_error(fmt::format("table {} of {} already holds {} rows", table, report.to, before));
    copied_table done{table, copy_table(source, target, table, columns)};
    if (const auto counted = count_rows(target, table); counted != done.rows)
      throw std::runtime_error(fmt::format("table {}: {} rows read but {} in the target", table, done.rows, counted));
    report.tables.push_back(done);
    if (progress) progress(done);
  }
  advance_sequences(target);
  if (nonzero_counts_in_source(source) != nonzero_counts_in_target(target))
    throw std::runtime_error("the open clock counters rebuilt in the target differ from the source's; nothing was copied");
  transaction.commit();
  return report;
}

#else

copy_report copy_sqlite_to_postgres(const std::string&, const std::string&,
                                    const std::function<void(const copied_table&)>&) {
  throw std::runtime_error("this build has no PostgreSQL support (configured with SWITCHBOARD_POSTGRES=OFF)");
}

#endif

}  // namespace switchboard::store
