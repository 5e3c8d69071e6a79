// libpq behind RAII handles: a PGconn per connection, a PGresult per result, and one place that
// turns a failed PGresult into a classified pq::error.
#include "store/postgres/pq.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <charconv>
#include <map>
#include <utility>

namespace switchboard::store::pq {
namespace {

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto comma = list.find(',', start);
    parts.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return parts;
    start = comma + 1;
  }
}

// postgresql://user@host:port,host:port/dbname[?option=value&...] from libpq's option array.
// Only the options named here and, with `extras`, every other option that was given, except
// the secrets (password, passfile, sslpassword).
std::string format_url(const PQconninfoOption* options, bool extras) {
  std::map<std::string, std::string> given;
  for (const auto* option = options; option->keyword != nullptr; ++option)
    if (option->val != nullptr && *option->val != '\0') given[option->keyword] = option->val;
  std::string url = "postgresql://";
  if (auto user = given.find("user"); user != given.end()) url += user->second + "@";
  const std::string host_list = given.contains("host") ? given["host"] : given["hostaddr"];
  const auto hosts = split(host_list);
  const auto ports = given.contains("port") ? split(given["port"]) : std::vector<std::string>{};
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    if (i > 0) url += ",";
    url += hosts[i];
    // One port applies to every host; otherwise they pair up (libpq's rule).
    const std::string port = ports.size() == 1 ? ports[0] : i < ports.size() ? ports[i] : "";
    if (!port.empty()) url += ":" + port;
  }
  url += "/";
  if (auto dbname = given.find("dbname"); dbname != given.end()) url += dbname->second;
  if (extras) {
    char separator = '?';
    for (const auto& [key, value] : given) {
      if (key == "user" || key == "host" || key == "hostaddr" || key == "port" || key == "dbname" ||
          key == "password" || key == "passfile" || key == "sslpassword")
        continue;
      url += fmt::format("{}{}={}", separator, key, value);
      separator = '&';
    }
  }
  return url;
}

// Notices (e.g. "schema ... does not exist, skipping") are not errors: libpq's default prints
// them on stderr, in the middle of the server's log lines.
void ignore_notice(void*, const char*) {}

std::vector<const char*> pointers(const params& values) {
  std::vector<const char*> out;
  out.reserve(values.size());
  for (const auto& value : values) out.push_back(value.c_str());
  return out;
}

}  // namespace

error_class classify(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return error_class::other;
  // Class 08: connection exception. 57P01-57P03: the server is shutting down or cannot take
  // connections. 25006: read-only transaction, which is what a demoted primary answers after a
  // failover: only a new session (target_session_attrs=read-write) finds the new primary.
  if (sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03" ||
      sqlstate == "25006")
    return error_class::connection_lost;
  if (sqlstate == "40001" || sqlstate == "40P01") return error_class::retryable;
  return error_class::other;
}

error::error(error_class kind, std::string sqlstate, const std::string& message)
    : std::runtime_error(message), kind_(kind), sqlstate_(std::move(sqlstate)) {}

result::result(pg_result* handle) : handle_(handle, PQclear) {}

int result::rows() const { return PQntuples(handle_.get()); }
int result::columns() const { return PQnfields(handle_.get()); }

int result::column(std::string_view name) const {
  const int number = PQfnumber(handle_.get(), std::string(name).c_str());
  if (number < 0) throw std::out_of_range(fmt::format("no column {} in the result", name));
  return number;
}

bool result::is_null(int row, int column) const { return PQgetisnull(handle_.get(), row, column) == 1; }

std::string_view result::text(int row, int column) const {
  return {PQgetvalue(handle_.get(), row, column),
          static_cast<std::size_t>(PQgetlength(handle_.get(), row, column))};
}

std::int64_t result::integer(int row, int column) const {
  if (is_null(row, column)) throw std::runtime_error(fmt::format("column {} of row {} is NULL", column, row));
  const auto value = text(row, column);
  std::int64_t number = 0;
  const auto [end, failure] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (failure != std::errc{} || end != value.data() + value.size())
    throw std::runtime_error(fmt::format("column {} of row {} is not an integer: {}", column, row, value));
  return number;
}

std::optional<std::int64_t> result::optional_integer(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return integer(row, column);
}

std::optional<std::string> result::optional_text(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return std::string(text(row, column));
}

std::int64_t result::affected_rows() const {
  const std::string_view tuples = PQcmdTuples(handle_.get());
  std::int64_t number = 0;
  std::from_chars(tuples.data(), tuples.data() + tuples.size(), number);
  return number;
}

std::string_view result::command_status() const { return PQcmdStatus(handle_.get()); }

connection::connection(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
  if (conn_ == nullptr) throw error(error_class::connection_lost, "", "libpq could not allocate a connection");
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn_);
    PQfinish(conn_);
    conn_ = nullptr;
    throw error(error_class::connection_lost, "", "cannot connect to PostgreSQL: " + message);
  }
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
}

connection::~connection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

connection::connection(connection&& other) noexcept
    : conn_(std::exchange(other.conn_, nullptr)),
      prepared_(std::move(other.prepared_)),
      next_statement_(other.next_statement_),
      reopen_lost_(other.reopen_lost_) {}

connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = std::exchange(other.conn_, nullptr);
    prepared_ = std::move(other.prepared_);
    next_statement_ = other.next_statement_;
    reopen_lost_ = other.reopen_lost_;
  }
  return *this;
}

result connection::check(pg_result* raw, std::string_view what) {
  if (raw != nullptr) {
    const auto status = PQresultStatus(raw);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) return result(raw);
  }
  const char* code = raw != nullptr ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  std::string sqlstate = code != nullptr ? code : "";
  std::string message = raw != nullptr ? PQresultErrorMessage(raw) : "";
  if (message.empty() && conn_ != nullptr) message = PQerrorMessage(conn_);
  if (raw != nullptr) PQclear(raw);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  // A session that is gone is gone, whatever the last message said (the server's FATAL for a
  // terminated backend, or libpq's "server closed the connection unexpectedly" with no code).
  const auto kind = broken() ? error_class::connection_lost : classify(sqlstate);
  throw error(kind, std::move(sqlstate), fmt::format("{}: {}", what, message));
}

template <typename Send>
result connection::send(Send&& send_once) {
  if (!reopen_lost_) return send_once();
  if (conn_ != nullptr && broken()) reconnect();
  const bool outside_transaction = conn_ != nullptr && PQtransactionStatus(conn_) == PQTRANS_IDLE;
  try {
    return send_once();
  } catch (const error& e) {
    if (e.kind() != error_class::connection_lost || !outside_transaction || !broken()) throw;
  }
  reconnect();
  return send_once();
}

result connection::exec(std::string_view sql, const params& values) {
  const std::string text(sql);
  return send([&] {
    if (values.empty()) return check(PQexec(conn_, text.c_str()), "PostgreSQL");
    const auto raw = pointers(values);
    return check(PQexecParams(conn_, text.c_str(), static_cast<int>(raw.size()), nullptr, raw.data(), nullptr, nullptr, 0),
                 "PostgreSQL");
  });
}

result connection::prepared(std::string_view sql, const params& values) {
  return send([&] {
    std::string text(sql);
    auto found = prepared_.find(text);
    if (found == prepared_.end()) {
      std::string name = fmt::format("sb_{}", ++next_statement_);
      check(PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr), "PostgreSQL (prepare)");
      found = prepared_.emplace(std::move(text), std::move(name)).first;
    }
    const auto raw = pointers(values);
    return check(PQexecPrepared(conn_, found->second.c_str(), static_cast<int>(raw.size()), raw.data(), nullptr, nullptr, 0),
                 "PostgreSQL");
  });
}

void connection::reconnect() {
  if (conn_ == nullptr) throw error(error_class::connection_lost, "", "no PostgreSQL connection to reopen");
  // Prepared statements belong to the old session.
  prepared_.clear();
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK)
    throw error(error_class::connection_lost, "", std::string("cannot reconnect to PostgreSQL: ") + PQerrorMessage(conn_));
}

bool connection::broken() const { return conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK; }

int connection::backend_pid() const { return broken() ? 0 : PQbackendPID(conn_); }

std::string connection::describe() const {
  if (conn_ == nullptr) return "postgresql:// (not connected)";
  PQconninfoOption* options = PQconninfo(conn_);
  if (options == nullptr) return "postgresql://";
  std::string url = format_url(options, false);
  PQconninfoFree(options);
  return url;
}

std::string describe(const std::string& url) {
  char* message = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &message);
  if (options == nullptr) {
    // libpq's message can quote the input, password included.
    if (message != nullptr) PQfreemem(message);
    throw error(error_class::other, "", "the PostgreSQL connection string cannot be parsed");
  }
  std::string out = format_url(options, true);
  PQconninfoFree(options);
  return out;
}

transaction::transaction(connection& db) : db_(db) { db_.exec("BEGIN"); }

transaction::~transaction() {
  if (!open_ || db_.broken()) return;
  try {
    db_.exec("ROLLBACK");
  } catch (...) {
    // A destructor must not throw; a session that cannot roll back is broken, and the server
    // rolls back what a lost session left open.
  }
}

void transaction::commit() {
  open_ = false;
  const auto answer = db_.exec("COMMIT");
  // COMMIT of a transaction in which a statement failed succeeds as a command, with the tag
  // ROLLBACK: nothing was committed.
  if (answer.command_status() == "ROLLBACK")
    throw error(error_class::other, "25P02", "PostgreSQL: COMMIT rolled back: a statement in the transaction failed");
}

void transaction::rollback() {
  open_ = false;
  if (!db_.broken()) db_.exec("ROLLBACK");
}

}  // namespace switchboard::store::pq
