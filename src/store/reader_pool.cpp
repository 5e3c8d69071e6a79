// The read-only connection pool.
#include "store/reader_pool.hpp"

#include "store/database.hpp"

#include <algorithm>

namespace switchboard::store {

reader_pool::reader_pool(std::string path, std::size_t size) : path_(std::move(path)), size_(std::max<std::size_t>(1, size)) {}

reader_pool::lease::lease(lease&& other) noexcept : pool_(other.pool_), db_(std::move(other.db_)) {}

reader_pool::lease::~lease() {
  if (db_) pool_->give_back(std::move(db_));
}

reader_pool::lease reader_pool::acquire() {
  std::unique_lock lock(mutex_);
  returned_.wait(lock, [this] { return !idle_.empty() || opened_ < size_; });
  if (!idle_.empty()) {
    auto db = std::move(idle_.back());
    idle_.pop_back();
    return lease(this, std::move(db));
  }
  ++opened_;
  lock.unlock();
  try {
    return lease(this, std::make_unique<SQLite::Database>(open_database(path_, access::read_only)));
  } catch (...) {
    lock.lock();
    --opened_;
    returned_.notify_one();
    throw;
  }
}

void reader_pool::give_back(std::unique_ptr<SQLite::Database> db) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(db));
  }
  returned_.notify_one();
}

}  // namespace switchboard::store
