#pragma once
// Group commit: one writer thread owns the write connection and commits every job queued
// while the previous commit was being made in one transaction, so concurrent requests share
// one fsync instead of paying one each.
//
// Thread-safety: submit() may be called from any thread. Jobs run on the writer thread, in
// submission order, each inside a savepoint of the batch transaction: a job that throws is
// rolled back alone and its error passed to its completion; the others still commit.
// Completions run on the writer thread after the batch is durable (or has failed): they must
// be quick and must not call back into the committer synchronously.
//
// The writer keeps the connection's prepared statements (store::statement_cache, current while
// jobs run), so store code called from a job prepares each statement once per connection.

#include <SQLiteCpp/Database.h>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace switchboard::store {

class committer {
 public:
  using job = std::function<void(SQLite::Database&)>;
  using completion = std::function<void(std::exception_ptr)>;  // null on success

  struct statistics {
    std::uint64_t jobs = 0;
    std::uint64_t batches = 0;  // transactions committed
  };

  explicit committer(SQLite::Database connection);
  ~committer();  // finishes every queued job, then joins the writer thread

  committer(const committer&) = delete;
  committer& operator=(const committer&) = delete;

  void submit(job work, completion done);

  // Runs `work` and waits until it is durable; rethrows its error. Not from the writer thread.
  void run(job work);

  statistics stats() const;

 private:
  struct pending {
    job work;
    completion done;
  };

  void write_loop();
  void commit_batch(std::vector<pending>& batch);

  SQLite::Database db_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<pending> queue_;
  bool stopping_ = false;
  statistics stats_;
  std::thread writer_;
};

}  // namespace switchboard::store
