#pragma once
// Prepared statements kept for reuse on one connection, so a filing prepares nothing once its
// connection has warmed up (SQLite's own advice: prepare once, then sqlite3_reset and rebind;
// https://sqlite.org/cintro.html).
//
// The owner of a connection (the committer, for the write connection) keeps a statement_cache
// beside it and makes it current on its thread with a cache_scope; store code asks for its
// statements through store::statement, which takes them from the current cache of that
// connection, or prepares a private one when there is none (tests, tools, other connections)
// or when the cached one is already in use further up the stack.
//
// Thread-safety: one connection, one owner thread (the cache and its scope belong to it).

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace switchboard::store {

class statement_cache {
 public:
  explicit statement_cache(SQLite::Database& db) : db_(db) {}
  // Finalizes every statement: destroy the cache before its connection closes.
  ~statement_cache() = default;

  statement_cache(const statement_cache&) = delete;
  statement_cache& operator=(const statement_cache&) = delete;

  SQLite::Database& database() const { return db_; }
  std::size_t size() const { return statements_.size(); }
  std::uint64_t prepares() const { return prepares_; }

 private:
  friend class statement;
  struct entry {
    std::unique_ptr<SQLite::Statement> statement;
    bool in_use = false;
  };
  entry& find_or_prepare(std::string_view sql);

  SQLite::Database& db_;
  std::unordered_map<std::string, entry> statements_;
  std::uint64_t prepares_ = 0;
};

// Makes `cache` current for its connection on this thread until the scope ends (scopes nest;
// the previous one comes back).
class cache_scope {
 public:
  explicit cache_scope(statement_cache& cache);
  ~cache_scope();
  cache_scope(const cache_scope&) = delete;
  cache_scope& operator=(const cache_scope&) = delete;

 private:
  statement_cache* previous_;
};

// One use of a statement: bind, step or exec it through -> or *. When it came from a cache it
// goes back reset and unbound at the end of this object's life; otherwise it is finalized.
// Throws SQLite::Exception when `sql` does not prepare.
class statement {
 public:
  statement(SQLite::Database& db, std::string_view sql);
  ~statement();
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  SQLite::Statement& operator*() { return *get(); }
  SQLite::Statement* operator->() { return get(); }
  bool cached() const { return entry_ != nullptr; }

 private:
  SQLite::Statement* get() { return entry_ != nullptr ? entry_->statement.get() : &*own_; }

  statement_cache::entry* entry_ = nullptr;
  std::optional<SQLite::Statement> own_;
};

}  // namespace switchboard::store
