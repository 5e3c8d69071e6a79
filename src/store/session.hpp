#pragma once
// The store's sessions (issue 12 §3.1): what every store function takes instead of a database
// connection, so that nothing outside src/store names SQLite. A `read_session` reads; a
// `unit_of_work` is one transaction's worth of writes and reads, handed to each committer job
// (store/committer.hpp). Step B4 makes them the abstract port; until then a session is a tagged
// handle over one of the two adapters' connections: a SQLite connection or a PostgreSQL one
// (store/postgres/pq.hpp). A store function ported to PostgreSQL starts with one dispatch line,
//   if (auto* pg = session.postgres()) return postgres::find_request(*pg, id);
// and the SQLite code below it is unchanged; a function not ported yet throws std::logic_error
// when handed a PostgreSQL session (from connection()), so nothing runs SQLite's SQL on it.
//
// A session is a handle, like std::string_view: it borrows the connection, costs two pointers
// to copy, and store functions take it by value. Code that owns a connection (store internals,
// the CLI, benchmarks, tests) may pass a SQLite connection itself: it converts; a PostgreSQL
// connection is wrapped explicitly. PostgreSQL needs no other per-session state here: the
// schema is the connection's own (its search_path, set when it was opened), and prepared
// statements are cached on the connection.
//
// Thread-safety: one connection, one owner: a session is used on the thread that holds its
// connection (the writer thread for a unit of work, a reader_pool lease's thread for reads).

#include <stdexcept>

namespace SQLite {
class Database;
}

namespace switchboard::store {

namespace pq {
class connection;
}

class read_session {
 public:
  // Implicit on purpose: see above. `connection` must outlive the session.
  read_session(SQLite::Database& connection) noexcept : sqlite_(&connection) {}  // NOLINT
  explicit read_session(pq::connection& connection) noexcept : postgres_(&connection) {}

  // The SQLite connection, for store code (and tests and tools that own it); nothing else needs
  // it. Throws std::logic_error on a PostgreSQL session: the caller has no PostgreSQL version yet.
  SQLite::Database& connection() const {
    if (sqlite_ == nullptr)
      throw std::logic_error("this store function has no PostgreSQL version yet (issue 12, step C3)");
    return *sqlite_;
  }
  operator SQLite::Database&() const { return connection(); }  // NOLINT: the same, for store code

  // The PostgreSQL connection, or null on a SQLite session.
  pq::connection* postgres() const noexcept { return postgres_; }

 private:
  SQLite::Database* sqlite_ = nullptr;
  pq::connection* postgres_ = nullptr;
};

class unit_of_work : public read_session {
 public:
  unit_of_work(SQLite::Database& connection) noexcept : read_session(connection) {}  // NOLINT
  explicit unit_of_work(pq::connection& connection) noexcept : read_session(connection) {}
};

}  // namespace switchboard::store
