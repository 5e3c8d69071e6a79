#pragma once
// Group commit: one writer thread owns the write connection and commits every job queued
// while the previous commit was being made in one transaction, so concurrent requests share
// one fsync instead of paying one each.
//
// Thread-safety: submit() may be called from any thread. Jobs run on the writer thread, in
// submission order, each inside a savepoint of the batch transaction: a job that throws is
// rolled back alone and its error passed to its completion; the others still commit. The
// storage's own failures (SQLITE_BUSY past lock_timeout, SQLITE_IOERR, SQLITE_FULL,
// SQLITE_READONLY), in a job or in the batch's BEGIN/COMMIT, reach completions as
// store::storage_unavailable (store/port.hpp): nothing of that job (or batch) was committed.
// Completions run on the writer thread after the batch is durable (or has failed): they must
// be quick and must not call back into the committer synchronously.
//
// The writer keeps the connection's prepared statements (store::statement_cache, current while
// jobs run), so store code called from a job prepares each statement once per connection.
//
// Jobs are re-runnable: the committer may roll a batch back and run every job in it again (a
// retryable failure: PostgreSQL's serialization failure and deadlock, up to max_retries; and
// the test seam below). A job therefore assigns what it reports to its caller and never appends
// to an output captured from outside (clear it first), so the run that commits is the one its
// caller sees.
//
// The transactions are an adapter's transaction_driver (store/transaction_driver.hpp): SQLite's
// (BEGIN IMMEDIATE, SAVEPOINT job) when built from a SQLite connection, or the one passed in
// (PostgreSQL's). A job error the driver classifies as the batch's fails every job of the batch
// (a lost PostgreSQL session: storage_unavailable), and a batch the database rolled back (a
// deadlock, a serialization failure) runs again: a batch of several jobs as one transaction per
// job (batches of several instances can deadlock on every rerun; jobs alone do not), a job
// alone at most max_retries times.
//
// Lock waits (SQLite): the connection's busy handler is the committer's own (sqlite3_busy_handler), with
// the 5 s budget open_database's busy timeout gives, so that activity() can tell a writer
// waiting on another connection's write lock from one busy with a large job.

#include "store/session.hpp"
#include "store/transaction_driver.hpp"

#include <SQLiteCpp/Database.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace switchboard::observe {
class histogram_family;
}

namespace switchboard::store {

class committer {
 public:
  using job = std::function<void(unit_of_work&)>;  // the batch's transaction, inside the job's savepoint
  using completion = std::function<void(std::exception_ptr)>;  // null on success

  struct statistics {
    std::uint64_t jobs = 0;
    std::uint64_t batches = 0;  // transactions committed
  };

  // SQLite: the committer owns the write connection.
  explicit committer(SQLite::Database connection);
  // Any adapter: the committer owns the driver and drives it from its writer thread alone.
  explicit committer(std::unique_ptr<transaction_driver> driver);
  ~committer();  // finishes every queued job, then joins the writer thread

  committer(const committer&) = delete;
  committer& operator=(const committer&) = delete;

  void submit(job work, completion done);

  // Runs `work` and waits until it is durable; rethrows its error. Not from the writer thread.
  void run(job work);

  statistics stats() const;

  // Records each committed transaction's number of jobs in `batch_sizes` (no labels; a batch
  // rolled back and run again one job at a time counts as those one-job transactions). Null
  // stops it. Any thread, any time; the family must outlive the committer or be unset first.
  void observe_batch_sizes(observe::histogram_family* batch_sizes) { batch_sizes_.store(batch_sizes); }

  // What the writer thread is doing now (any thread; a snapshot of atomics, so the fields may be
  // a few microseconds apart). Health checks use it to tell a writer that is slow because its
  // job is large from one that is stuck.
  struct activity {
    bool busy = false;  // on a batch (the queue was not empty when it last looked)
    // Since it took its current batch or last finished one of the batch's jobs; zero when idle.
    std::chrono::steady_clock::duration since_progress{};
    // How long it has been waiting for another connection's write lock (SQLite's busy handler is
    // running now); zero when it is not waiting.
    std::chrono::steady_clock::duration waiting_for_lock{};
  };
  activity current_activity() const;

  // The last job the storage itself refused (storage_unavailable: a full disk, a read-only file,
  // an I/O error, a lock waited out, a lost session), how long ago and why; nullopt when none
  // yet. A heartbeat can still commit on a disk too full for a filing (it needs a page or two),
  // so health checks ask this too. Any thread.
  struct storage_failure {
    std::chrono::steady_clock::duration ago{};
    std::string what;
  };
  std::optional<storage_failure> last_storage_failure() const;

  // How long a write waits for another connection's lock before it fails with SQLITE_BUSY.
  static constexpr std::chrono::milliseconds lock_timeout{5000};

  // How many times a job alone the database rolled back (transaction_driver::failure::retry)
  // runs again before it fails with that error (answered 503).
  static constexpr int max_retries = 3;

  // Test seam: called on the writer thread after a batch's jobs ran, just before its COMMIT,
  // with how many times that batch ran before (0 the first time). `rerun` rolls the batch back
  // and runs all its jobs again; throwing fails the whole batch as a failed COMMIT would (every
  // job gets that error, nothing is written). Set it before the first submit().
  enum class before_commit { commit, rerun };
  using commit_hook = std::function<before_commit(int runs_before)>;
  void set_commit_hook_for_testing(commit_hook hook) { commit_hook_ = std::move(hook); }

 private:
  struct pending {
    job work;
    completion done;
  };

  void write_loop();
  void commit_batch(std::vector<pending>& batch);
  void progressed() noexcept;
  static int on_busy(void* self, int attempts) noexcept;  // sqlite3_busy_handler's callback

  std::unique_ptr<transaction_driver> driver_;
  commit_hook commit_hook_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<pending> queue_;
  bool stopping_ = false;
  statistics stats_;
  std::atomic<observe::histogram_family*> batch_sizes_{nullptr};
  std::chrono::steady_clock::time_point storage_failure_at_{};  // under mutex_; epoch: none
  std::string storage_failure_what_;                           // under mutex_
  // steady_clock ticks; 0 for "not now". Written by the writer thread, read by any.
  std::atomic<std::int64_t> progress_at_{0};
  std::atomic<std::int64_t> lock_wait_started_{0};
  std::atomic<std::int64_t> lock_wait_seen_{0};
  std::thread writer_;
};

}  // namespace switchboard::store
