#pragma once
// A bounded pool of read connections for read handlers running on several threads: read-only
// SQLite connections, or PostgreSQL sessions (store/postgres/pq.hpp) when built with a URL.
//
// SQLite connections are not shared between threads here ("one connection, one owner"): a
// thread takes a connection with acquire(), uses it alone, and gives it back when the lease
// ends. Connections are opened on first need, up to `size`; when all are leased, acquire()
// blocks until one comes back, so at most `size` read queries run at once. Each connection
// reads in WAL mode, so readers never block the writer nor each other, and each statement sees
// the last commit before it began. A PostgreSQL session reads in autocommit (READ COMMITTED: each
// statement sees the last commit before it), and one found lost is reopened and the statement
// sent again (pq::connection::reopen_lost_sessions), so a restarted database or a failover costs
// a reader nothing once the database answers again.
//
// Thread-safety: acquire() may be called from any thread; a lease and its connection belong to
// the thread that holds it. The pool must outlive its leases.

#include "store/session.hpp"

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
  // PostgreSQL: sessions opened from `url` (a libpq URL; SWITCHBOARD_DATABASE_URL). Throws
  // std::logic_error in a build without SWITCHBOARD_POSTGRES.
  struct postgres_url {
    std::string url;
  };
  reader_pool(postgres_url url, std::size_t size);
  ~reader_pool();
  reader_pool(const reader_pool&) = delete;
  reader_pool& operator=(const reader_pool&) = delete;

  struct slot;  // one connection, of either adapter

  class lease {
   public:
    lease(lease&& other) noexcept;
    lease& operator=(lease&&) = delete;
    ~lease();
    // The leased connection as a session for store functions.
    read_session operator*() const;

   private:
    friend class reader_pool;
    lease(reader_pool* pool, std::unique_ptr<slot> db);
    reader_pool* pool_;
    std::unique_ptr<slot> db_;
  };

  // A connection for this thread alone until the lease ends; waits while all `size` are leased.
  // Throws SQLite::Exception (or, on PostgreSQL, store::storage_unavailable) when a new
  // connection cannot be opened.
  lease acquire();

  std::size_t size() const { return size_; }

 private:
  void give_back(std::unique_ptr<slot> db);
  std::unique_ptr<slot> open() const;

  std::string path_;
  std::string url_;  // PostgreSQL when not empty
  std::size_t size_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<slot>> idle_;
  std::size_t opened_ = 0;
};

}  // namespace switchboard::store
