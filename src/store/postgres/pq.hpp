#pragma once
// A small RAII wrapper over libpq (PostgreSQL's C client library, "libpq - C Library" in the
// PostgreSQL 15 manual): a connection opened from a URL, statements with text parameters, text
// results, a prepared-statement cache, transactions, and errors classified by SQLSTATE
// (Appendix A, "PostgreSQL Error Codes") so a caller can tell a lost connection from a conflict
// worth retrying from its own mistake.
//
// Everything travels in PostgreSQL's text format: parameters are sent as text (NULL as a null
// pointer) and cast by the statement where needed (`$1::bigint`), results are read as text and
// parsed on request.
//
// Thread-safety: one connection, one owner (as libpq's PGconn). A result is a value that owns
// its PGresult and may outlive the connection.
//
// The header does not include libpq-fe.h: only src/store/postgres/*.cpp see libpq.

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

struct pg_conn;
struct pg_result;

namespace switchboard::store::pq {

// What a failure means for the caller.
enum class error_class {
  connection_lost,  // the session is gone or unusable (SQLSTATE class 08, 57P01-57P03, 25006
                    // read-only: a demoted primary, or no SQLSTATE with the connection bad):
                    // nothing uncommitted survived; reconnect() and run the whole transaction again
  retryable,        // 40001 serialization failure, 40P01 deadlock: the transaction was rolled back
                    // and may simply run again
  other,            // anything else (a constraint, a syntax error, a trigger's refusal)
};

// The class of a five-character SQLSTATE; an empty or unknown code is `other`.
error_class classify(std::string_view sqlstate);

class error : public std::runtime_error {
 public:
  error(error_class kind, std::string sqlstate, const std::string& message);
  error_class kind() const { return kind_; }
  // The server's SQLSTATE ("23505"), empty when the failure was the client's (no answer).
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  error_class kind_;
  std::string sqlstate_;
};

// One positional parameter ($1, $2, ...) in text form, or NULL.
class param {
 public:
  param(std::nullopt_t) {}
  param(std::string_view text) : text_(std::string(text)) {}
  param(const char* text) : text_(std::string(text)) {}
  param(const std::string& text) : text_(text) {}
  template <typename T>
    requires std::is_integral_v<T> && (!std::is_same_v<T, bool>)
  param(T value) : text_(std::to_string(value)) {}
  param(bool value) : text_(value ? "t" : "f") {}
  template <typename T>
  param(const std::optional<T>& value) {
    if (value) text_ = param(*value).text_;
  }

  // Null for SQL NULL.
  const char* c_str() const { return text_ ? text_->c_str() : nullptr; }

 private:
  std::optional<std::string> text_;
};

using params = std::vector<param>;

// The rows of one statement. Columns are addressed by number (from 0) or name.
class result {
 public:
  int rows() const;
  int columns() const;
  // The column's number; throws std::out_of_range when there is no such column.
  int column(std::string_view name) const;
  bool is_null(int row, int column) const;
  // The value as PostgreSQL's text output; empty for NULL. Valid while this result lives.
  std::string_view text(int row, int column) const;
  // The value parsed as a signed 64-bit integer; throws std::runtime_error for NULL or text
  // that is not one.
  std::int64_t integer(int row, int column) const;
  std::optional<std::int64_t> optional_integer(int row, int column) const;
  std::optional<std::string> optional_text(int row, int column) const;
  // Rows an INSERT, UPDATE or DELETE touched (0 for other commands).
  std::int64_t affected_rows() const;
  // The command tag ("INSERT 0 1", "COMMIT", "ROLLBACK").
  std::string_view command_status() const;

 private:
  friend class connection;
  explicit result(pg_result* handle);
  std::shared_ptr<pg_result> handle_;
};

class connection {
 public:
  // Connects with a libpq connection string or URL (`postgresql://user:pw@host:port/db?...`,
  // several hosts allowed; section 34.1.1 of the manual). Throws pq::error (connection_lost)
  // when the server cannot be reached or refuses, with libpq's message, which never contains
  // the password.
  explicit connection(const std::string& url);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  connection(connection&& other) noexcept;
  connection& operator=(connection&& other) noexcept;

  // Runs `sql`. Without parameters it may hold several statements (the simple query protocol:
  // a migration script), and the result is the last one's; with parameters it is one statement.
  // Throws pq::error on any failure.
  result exec(std::string_view sql, const params& values = {});

  // Runs one statement through a server-side prepared statement, preparing it on first use on
  // this session and reusing it afterwards (keyed by the SQL text). Throws pq::error.
  result prepared(std::string_view sql, const params& values = {});

  // Opens a new session with the same connection string (libpq's PQreset), forgetting prepared
  // statements and session settings. Throws pq::error (connection_lost) when that fails too.
  void reconnect();

  // True when the last failure lost the session (or it never opened): only reconnect() helps.
  bool broken() const;

  // The server process serving this session (for pg_terminate_backend, logs), 0 when broken.
  int backend_pid() const;

  // Where this session is connected, as a URL without the password (from PQconninfo):
  // `postgresql://user@host:port/dbname`, hosts joined with commas. For logs.
  std::string describe() const;

  // How many statements the cache holds (prepared on this session).
  std::size_t prepared_count() const { return prepared_.size(); }

  // For a connection that only reads outside transactions (the server's readers): a statement
  // sent while no transaction was open on a session found lost (a restarted server, a failover,
  // pg_terminate_backend: libpq learns of it only when it next sends) opens a new session and
  // is sent once more, so the loss costs the caller nothing. Off by default: on a connection in
  // a transaction, a new session would silently run the rest of it outside the transaction.
  // The new session has only what the URL sets (put a search_path in its `options`).
  void reopen_lost_sessions(bool on) { reopen_lost_ = on; }

 private:
  result check(pg_result* raw, std::string_view what);
  template <typename Send>
  result send(Send&& send_once);
  pg_conn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
  std::uint64_t next_statement_ = 0;
  bool reopen_lost_ = false;
};

// A connection string or URL without its password, for logs, parsed without connecting
// (PQconninfoParse). Throws pq::error (other) when libpq cannot parse it; the message never
// repeats the input.
std::string describe(const std::string& url);

// BEGIN on construction; commit() sends COMMIT, and a transaction neither committed nor rolled
// back is rolled back by the destructor, which never throws (on a broken connection it does
// nothing: the server already rolled back). Default isolation (READ COMMITTED).
class transaction {
 public:
  explicit transaction(connection& db);
  ~transaction();
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;

  // Throws pq::error when COMMIT fails, including when the server answers ROLLBACK because a
  // statement inside failed (SQLSTATE 25P02 then). Afterwards the transaction is closed
  // either way.
  void commit();
  void rollback();

 private:
  connection& db_;
  bool open_ = true;
};

}  // namespace switchboard::store::pq
