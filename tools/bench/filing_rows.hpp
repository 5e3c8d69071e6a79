#pragma once
// The rows one filing writes, captured once and inserted again under new request ids: the raw
// SQLite baseline (raw_insert.cpp) and the 1,000,000-request seed (seed.cpp) write what the
// server writes without running the engine per copy.
//
// capture() files a request through store::record_new_request (the server's own code) and reads
// back every row that carries its id: `requests` by id, and each table with a `request_id`
// column (events, clocks, escalations, outbox, ...). copier::insert() writes one copy of those
// rows under another id: `id`/`request_id` columns and the request's id inside JSON text
// ("id", "request", "request_id" keys) are rewritten; AUTOINCREMENT keys are left to SQLite;
// other unique text keys (outbox.webhook_id, escalations.id) get the new id appended.
// team_load (a counter, not a row of the request) is the caller's: see add_open().
//
// Thread-safety: one connection, one owner, as SQLiteCpp.
#include "engine/engine.hpp"
#include "store/requests.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace switchboard::bench {

using value = std::variant<std::monostate, std::int64_t, double, std::string>;

struct table_rows {
  std::string table;
  std::vector<std::string> columns;
  std::vector<std::vector<value>> rows;
};

struct filing {
  model::request_id id = 0;
  model::team owner = model::team::se;
  bool open = true;  // counts in its owner's team_load
  std::vector<table_rows> tables;
  std::size_t bytes = 0;  // of every value captured, a rough size of what one filing writes
};

inline value read_value(const SQLite::Column& column) {
  if (column.isNull()) return std::monostate{};
  if (column.isInteger()) return column.getInt64();
  if (column.isFloat()) return column.getDouble();
  return column.getString();
}

// Files `input` on `db` (opened by store::open_database) at `now` in its own transaction and
// returns every row that filing wrote.
inline filing capture(SQLite::Database& db, const engine::policy& policy, const model::request_input& input,
                      model::instant now) {
  filing out;
  {
    SQLite::Transaction transaction(db);
    const auto change = store::record_new_request(db, policy, {input, model::actor{"bench-ce", model::role::ce}}, now);
    transaction.commit();
    out.id = change.request.id;
    out.owner = change.request.owner;
    const auto s = change.request.status;
    out.open = s == model::request_status::new_ || s == model::request_status::open ||
               s == model::request_status::pending_customer || s == model::request_status::escalated;
  }
  SQLite::Statement tables(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  while (tables.executeStep()) {
    const auto table = tables.getColumn(0).getString();
    std::vector<std::string> columns;
    SQLite::Statement info(db, fmt::format("PRAGMA table_info(\"{}\")", table));
    while (info.executeStep()) columns.push_back(info.getColumn(1).getString());
    const bool has_request_id = std::find(columns.begin(), columns.end(), "request_id") != columns.end();
    std::string key;
    if (table == "requests")
      key = "id";
    else if (has_request_id)
      key = "request_id";
    else
      continue;
    SQLite::Statement rows(db, fmt::format("SELECT * FROM \"{}\" WHERE {} = ?", table, key));
    rows.bind(1, out.id);
    table_rows captured{table, columns, {}};
    while (rows.executeStep()) {
      std::vector<value> row;
      for (int c = 0; c < rows.getColumnCount(); ++c) {
        row.push_back(read_value(rows.getColumn(c)));
        if (const auto* text = std::get_if<std::string>(&row.back())) out.bytes += text->size();
        else out.bytes += 8;
      }
      captured.rows.push_back(std::move(row));
    }
    if (!captured.rows.empty()) out.tables.push_back(std::move(captured));
  }
  return out;
}

// Rewrites the request id inside JSON text: `"id":OLD`, `"request":OLD`, `"request_id":OLD`
// followed by a delimiter.
inline std::string rewrite_ids(const std::string& text, model::request_id from, model::request_id to) {
  if (text.empty() || (text.front() != '{' && text.front() != '[')) return text;
  std::string out;
  out.reserve(text.size() + 16);
  const auto old_digits = std::to_string(from);
  const auto new_digits = std::to_string(to);
  std::size_t i = 0;
  while (i < text.size()) {
    bool replaced = false;
    for (const std::string_view key : {"\"id\":", "\"request\":", "\"request_id\":"}) {
      if (text.compare(i, key.size(), key) != 0) continue;
      const auto after = i + key.size() + old_digits.size();
      if (text.compare(i + key.size(), old_digits.size(), old_digits) == 0 && after < text.size() &&
          (text[after] == ',' || text[after] == '}' || text[after] == ']')) {
        out.append(key);
        out.append(new_digits);
        i = after;
        replaced = true;
      }
      break;
    }
    if (!replaced) out.push_back(text[i++]);
  }
  return out;
}

class copier {
 public:
  copier(SQLite::Database& db, const filing& source) : source_(source) {
    for (const auto& t : source_.tables) {
      std::string names, marks;
      for (const auto& c : t.columns) {
        names += (names.empty() ? "\"" : ", \"") + c + "\"";
        marks += marks.empty() ? "?" : ", ?";
      }
      inserts_.push_back(std::make_unique<SQLite::Statement>(
          db, fmt::format("INSERT INTO \"{}\" ({}) VALUES ({})", t.table, names, marks)));
    }
  }

  // Writes one copy of the filing's rows as request `id`, inside the caller's transaction.
  void insert(model::request_id id) {
    for (std::size_t t = 0; t < source_.tables.size(); ++t) {
      const auto& table = source_.tables[t];
      auto& statement = *inserts_[t];
      for (const auto& row : table.rows) {
        for (std::size_t c = 0; c < table.columns.size(); ++c) {
          const auto& column = table.columns[c];
          const int slot = static_cast<int>(c) + 1;
          if ((table.table == "requests" && column == "id") || column == "request_id") {
            statement.bind(slot, id);
          } else if ((table.table == "events" && column == "seq") || (table.table == "outbox" && column == "id")) {
            statement.bind(slot);  // AUTOINCREMENT
          } else if ((table.table == "outbox" && column == "webhook_id") ||
                     (table.table == "escalations" && column == "id")) {
            statement.bind(slot, std::get<std::string>(row[c]) + "-" + std::to_string(id));
          } else {
            std::visit(
                [&](const auto& v) {
                  using type = std::decay_t<decltype(v)>;
                  if constexpr (std::is_same_v<type, std::monostate>)
                    statement.bind(slot);
                  else if constexpr (std::is_same_v<type, std::string>)
                    statement.bind(slot, rewrite_ids(v, source_.id, id));
                  else
                    statement.bind(slot, v);
                },
                row[c]);
          }
        }
        statement.exec();
        statement.reset();
      }
    }
  }

 private:
  const filing& source_;
  std::vector<std::unique_ptr<SQLite::Statement>> inserts_;
};

// Adds `delta` to `team`'s open-request counter, as save_request does for a new open request.
inline void add_open(SQLite::Database& db, model::team team, int delta) {
  SQLite::Statement update(db,
                           "INSERT INTO team_load (team, open_requests) VALUES (?1, ?2)"
                           " ON CONFLICT (team) DO UPDATE SET open_requests = open_requests + ?2");
  update.bind(1, std::string(model::to_string(team)));
  update.bind(2, delta);
  update.exec();
}

}  // namespace switchboard::bench
