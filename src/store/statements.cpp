// The per-connection statement cache and the thread's current one.
#include "store/statements.hpp"

namespace switchboard::store {
namespace {

// The cache made current by the innermost cache_scope on this thread, if any.
thread_local statement_cache* current = nullptr;

}  // namespace

statement_cache::entry& statement_cache::find_or_prepare(std::string_view sql) {
  auto found = statements_.find(std::string(sql));
  if (found == statements_.end()) {
    found = statements_.emplace(std::string(sql), entry{std::make_unique<SQLite::Statement>(db_, std::string(sql))})
                .first;
    ++prepares_;
  }
  return found->second;
}

cache_scope::cache_scope(statement_cache& cache) : previous_(current) { current = &cache; }

cache_scope::~cache_scope() { current = previous_; }

statement::statement(SQLite::Database& db, std::string_view sql) {
  if (current != nullptr && &current->database() == &db) {
    auto& found = current->find_or_prepare(sql);
    if (!found.in_use) {
      found.in_use = true;
      entry_ = &found;
      return;
    }
  }
  own_.emplace(db, std::string(sql));
}

statement::~statement() {
  if (entry_ == nullptr) return;
  // tryReset: a statement whose last step failed reports that error again here, and a
  // destructor must not throw.
  entry_->statement->tryReset();
  try {
    entry_->statement->clearBindings();  // sqlite3_clear_bindings always returns SQLITE_OK
  } catch (...) {
    // Unreachable; the statement is still reset.
  }
  entry_->in_use = false;
}

}  // namespace switchboard::store
