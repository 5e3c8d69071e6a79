#pragma once
// The store's sessions (issue 12 §3.1): what every store function takes instead of a database
// connection, so that nothing outside src/store names SQLite. A `read_session` reads; a
// `unit_of_work` is one transaction's worth of writes and reads, handed to each committer job
// (store/committer.hpp). Both are concrete over a SQLite connection for now; step B4 makes them
// the port that the SQLite and PostgreSQL adapters implement.
//
// A session is a handle, like std::string_view: it borrows the connection, costs a pointer to
// copy, and store functions take it by value. Code that owns a connection (store internals, the
// CLI, benchmarks, tests) may pass the connection itself: it converts.
//
// Thread-safety: one connection, one owner: a session is used on the thread that holds its
// connection (the writer thread for a unit of work, a reader_pool lease's thread for reads).

namespace SQLite {
class Database;
}

namespace switchboard::store {

class read_session {
 public:
  // Implicit on purpose: see above. `connection` must outlive the session.
  read_session(SQLite::Database& connection) noexcept : connection_(&connection) {}  // NOLINT

  // The connection, for store code (and tests and tools that own it); nothing else needs it.
  SQLite::Database& connection() const noexcept { return *connection_; }
  operator SQLite::Database&() const noexcept { return *connection_; }  // NOLINT: the same, for store code

 private:
  SQLite::Database* connection_;
};

class unit_of_work : public read_session {
 public:
  unit_of_work(SQLite::Database& connection) noexcept : read_session(connection) {}  // NOLINT
};

}  // namespace switchboard::store
