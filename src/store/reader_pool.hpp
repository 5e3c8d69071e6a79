#pragma once
// A bounded pool of read-only SQLite connections for read handlers running on several threads.
//
// SQLite connections are not shared between threads here ("one connection, one owner"): a
// thread takes a connection with acquire(), uses it alone, and gives it back when the lease
// ends. Connections are opened on first need, up to `size`; when all are leased, acquire()
// blocks until one comes back, so at most `size` read queries run at once. Each connection
// reads in WAL mode, so readers never block the writer nor each other, and each statement sees
// the last commit before it began.
//
// Thread-safety: acquire() may be called from any thread; a lease and its connection belong to
// the thread that holds it. The pool must outlive its leases.

#include <SQLiteCpp/Database.h>

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace switchboard::store {

class reader_pool {
 public:
  // `size`: at most this many connections (at least 1), e.g. one per worker thread.
  reader_pool(std::string path, std::size_t size);
  reader_pool(const reader_pool&) = delete;
  reader_pool& operator=(const reader_pool&) = delete;

  class lease {
   public:
    lease(lease&& other) noexcept;
    lease& operator=(lease&&) = delete;
    ~lease();
    SQLite::Database& operator*() const { return *db_; }
    SQLite::Database* operator->() const { return db_.get(); }

   private:
    friend class reader_pool;
    lease(reader_pool* pool, std::unique_ptr<SQLite::Database> db) : pool_(pool), db_(std::move(db)) {}
    reader_pool* pool_;
    std::unique_ptr<SQLite::Database> db_;
  };

  // A connection for this thread alone until the lease ends; waits while all `size` are leased.
  // Throws SQLite::Exception when a new connection cannot be opened.
  lease acquire();

  std::size_t size() const { return size_; }

 private:
  void give_back(std::unique_ptr<SQLite::Database> db);

  std::string path_;
  std::size_t size_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<SQLite::Database>> idle_;
  std::size_t opened_ = 0;
};

}  // namespace switchboard::store
