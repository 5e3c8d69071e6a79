// The read connection pool.
#include "store/reader_pool.hpp"

#include "store/database.hpp"
#include "store/port.hpp"
#if SWITCHBOARD_POSTGRES
#include "store/postgres/pq.hpp"
#endif

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace switchboard::store {

struct reader_pool::slot {
  std::unique_ptr<SQLite::Database> sqlite;
#if SWITCHBOARD_POSTGRES
  std::unique_ptr<pq::connection> postgres;
#endif
};

reader_pool::reader_pool(std::string path, std::size_t size) : path_(std::move(path)), size_(std::max<std::size_t>(1, size)) {}

reader_pool::reader_pool(postgres_url url, std::size_t size) : url_(std::move(url.url)), size_(std::max<std::size_t>(1, size)) {
#if !SWITCHBOARD_POSTGRES
  throw std::logic_error("this build has no PostgreSQL adapter (SWITCHBOARD_POSTGRES=OFF)");
#endif
}

reader_pool::~reader_pool() = default;

reader_pool::lease::lease(reader_pool* pool, std::unique_ptr<slot> db) : pool_(pool), db_(std::move(db)) {}

reader_pool::lease::lease(lease&& other) noexcept : pool_(other.pool_), db_(std::move(other.db_)) {}

reader_pool::lease::~lease() {
  if (db_) pool_->give_back(std::move(db_));
}

read_session reader_pool::lease::operator*() const {
#if SWITCHBOARD_POSTGRES
  if (db_->postgres) return read_session(*db_->postgres);
#endif
  return *db_->sqlite;
}

std::unique_ptr<reader_pool::slot> reader_pool::open() const {
  auto db = std::make_unique<slot>();
#if SWITCHBOARD_POSTGRES
  if (!url_.empty()) {
    try {
      db->postgres = std::make_unique<pq::connection>(url_);
    } catch (const pq::error& e) {
      throw storage_unavailable(fmt::format("the PostgreSQL database cannot be reached: {}", e.what()));
    }
    db->postgres->reopen_lost_sessions(true);
    return db;
  }
#endif
  db->sqlite = std::make_unique<SQLite::Database>(open_database(path_, access::read_only));
  return db;
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
    return lease(this, open());
  } catch (...) {
    lock.lock();
    --opened_;
    returned_.notify_one();
    throw;
  }
}

void reader_pool::give_back(std::unique_ptr<slot> db) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(db));
  }
  returned_.notify_one();
}

}  // namespace switchboard::store
