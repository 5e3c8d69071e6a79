// The writer thread: batches queued jobs into one transaction each.
#include "store/committer.hpp"

#include "observe/metrics.hpp"
#include "store/failure.hpp"
#include "store/port.hpp"
#include "store/statements.hpp"

#include <SQLiteCpp/Exception.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <future>

namespace switchboard::store {

namespace {

std::int64_t ticks_now() noexcept { return std::chrono::steady_clock::now().time_since_epoch().count(); }

// The busy handler sleeps at most this long between tries, so a wait it last saw longer ago
// than `lock_wait_stale` is over (the lock was taken, or the write gave up).
constexpr std::chrono::milliseconds busy_nap_max{20};
constexpr std::chrono::milliseconds lock_wait_stale{250};

// The storage's own failures become storage_unavailable (store/port.hpp, answered 503): the
// database locked past lock_timeout, full, read-only or failing I/O. Anything else (a
// constraint, a job's own error) stays as it is.
std::exception_ptr as_storage_error(std::exception_ptr error) {
  if (!error) return error;
  try {
    std::rethrow_exception(error);
  } catch (const SQLite::Exception& e) {
    switch (e.getErrorCode() & 0xff) {
      case SQLITE_BUSY:
      case SQLITE_IOERR:
      case SQLITE_FULL:
      case SQLITE_READONLY:
        return std::make_exception_ptr(storage_unavailable(fmt::format("the database cannot take writes now: {}", e.what())));
      default:
        return error;
    }
  } catch (...) {
    return error;
  }
}

// The storage's refusal in `error` (store::is_storage_failure), in words; nullopt for a job's own
// error or a bug.
std::optional<std::string> refusal_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    if (is_storage_failure(e)) return e.what();
  } catch (...) {
  }
  return std::nullopt;
}

// SQLite's transactions: BEGIN IMMEDIATE (the write lock up front, so a batch never fails
// half-way on a lock another connection took), SAVEPOINT job around each job, and the
// connection's prepared statements cached for the writer thread. Every error is the job's own
// (SQLite has no retryable class here and no lost session); the storage's are reported as
// storage_unavailable.
class sqlite_driver final : public transaction_driver {
 public:
  explicit sqlite_driver(SQLite::Database connection) : db_(std::move(connection)) {}

  SQLite::Database& db() { return db_; }

  unit_of_work work() override { return unit_of_work(db_); }
  void begin() override { statement(db_, "BEGIN IMMEDIATE")->exec(); }
  void savepoint() override { statement(db_, "SAVEPOINT job")->exec(); }
  void release() override { statement(db_, "RELEASE job")->exec(); }
  void rollback_to() override {
    db_.exec("ROLLBACK TO job");
    db_.exec("RELEASE job");
  }
  void commit() override { statement(db_, "COMMIT")->exec(); }
  void rollback() noexcept override {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
      // The transaction may already be gone (SQLite ends it on some errors).
    }
  }
  failure classify(const std::exception_ptr&) const override { return failure::job; }
  std::exception_ptr reported(std::exception_ptr error) const override { return as_storage_error(std::move(error)); }
  void serve(const std::function<void()>& loop) override {
    // The write connection's prepared statements live as long as the writer's loop: they are
    // finalized when it ends, before the committer's destructor (which joins it) closes the
    // connection.
    statement_cache statements(db_);
    const cache_scope scope(statements);
    loop();
  }

 private:
  SQLite::Database db_;
};

}  // namespace

committer::committer(SQLite::Database connection) {
  auto driver = std::make_unique<sqlite_driver>(std::move(connection));
  sqlite3_busy_handler(driver->db().getHandle(), &committer::on_busy, this);
  driver_ = std::move(driver);
  writer_ = std::thread([this] { write_loop(); });
}

committer::committer(std::unique_ptr<transaction_driver> driver) : driver_(std::move(driver)) {
  writer_ = std::thread([this] { write_loop(); });
}

int committer::on_busy(void* self, int attempts) noexcept {
  auto& c = *static_cast<committer*>(self);
  const auto now = ticks_now();
  if (attempts == 0) c.lock_wait_started_.store(now);
  const auto waited = std::chrono::steady_clock::duration(now - c.lock_wait_started_.load());
  if (waited >= lock_timeout) {
    c.lock_wait_seen_.store(0);
    return 0;  // give up: the statement fails with SQLITE_BUSY
  }
  c.lock_wait_seen_.store(now);
  // SQLite's own busy timeout naps 1, 2, 5, 10... ms; a short nap keeps the wait visible.
  std::this_thread::sleep_for(std::min(busy_nap_max, std::chrono::milliseconds{1 << std::min(attempts, 5)}));
  return 1;
}

void committer::progressed() noexcept { progress_at_.store(ticks_now()); }

committer::activity committer::current_activity() const {
  using duration = std::chrono::steady_clock::duration;
  const auto now = ticks_now();
  activity a;
  const auto progress = progress_at_.load();
  a.busy = progress != 0;
  if (a.busy) a.since_progress = duration(std::max<std::int64_t>(0, now - progress));
  const auto seen = lock_wait_seen_.load();
  if (seen != 0 && duration(now - seen) < lock_wait_stale)
    a.waiting_for_lock = duration(std::max<std::int64_t>(0, now - lock_wait_started_.load()));
  return a;
}

committer::~committer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
}

void committer::submit(job work, completion done) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({std::move(work), std::move(done)});
  }
  wake_.notify_one();
}

void committer::run(job work) {
  std::promise<void> finished;
  submit(std::move(work), [&finished](std::exception_ptr error) {
    if (error)
      finished.set_exception(error);
    else
      finished.set_value();
  });
  finished.get_future().get();
}

committer::statistics committer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void committer::write_loop() {
  driver_->serve([this] {
    std::vector<pending> batch;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        if (queue_.empty()) progress_at_.store(0);  // idle
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and nothing left to write
        batch.swap(queue_);
        progressed();
      }
      commit_batch(batch);
      batch.clear();
    }
  });
}

void committer::commit_batch(std::vector<pending>& batch) {
  auto& driver = *driver_;
  using failure = transaction_driver::failure;
  std::vector<std::exception_ptr> errors(batch.size());
  std::exception_ptr batch_error;
  unit_of_work work = driver.work();
  int retries = 0;
  for (int runs = 0;; ++runs) {
    try {
      std::fill(errors.begin(), errors.end(), nullptr);
      driver.begin();
      if (batch.size() == 1) {
        // A job alone needs no savepoint: when it fails the whole transaction rolls back, the
        // same outcome, and no statement journal is kept for a savepoint.
        try {
          batch[0].work(work);
        } catch (...) {
          errors[0] = std::current_exception();
        }
        progressed();
        if (errors[0] && driver.classify(errors[0]) != failure::job) std::rethrow_exception(errors[0]);
      } else {
        for (std::size_t i = 0; i < batch.size(); ++i) {
          driver.savepoint();
          try {
            batch[i].work(work);
            driver.release();
          } catch (...) {
            errors[i] = std::current_exception();
            // A lost session or a rolled-back transaction is the batch's failure, not the job's.
            if (driver.classify(errors[i]) != failure::job) std::rethrow_exception(errors[i]);
            driver.rollback_to();
          }
          progressed();
        }
      }
      if (commit_hook_ && commit_hook_(runs) == before_commit::rerun) {
        driver.rollback();
        continue;
      }
      if (batch.size() == 1 && errors[0])
        driver.rollback();
      else
        driver.commit();
      break;
    } catch (...) {
      auto error = std::current_exception();
      driver.rollback();
      const bool retryable = driver.classify(error) == failure::retry;
      if (retryable && batch.size() > 1) {
        // A batch rolled back as a deadlock runs again one job to a transaction: each job takes
        // its rows in one order (its idempotency key, then its team's load...), so jobs alone
        // cannot deadlock with each other, while two batches, each holding a row of one job
        // that another's job waits for, can, again on every rerun under load (three instances
        // on PostgreSQL: the same Idempotency-Key sent to two of them deadlocked on
        // idempotency_keys against team_load, and 3 of 200 filings sent once got 503).
        for (auto& one : batch) {
          std::vector<pending> alone;
          alone.push_back(std::move(one));
          commit_batch(alone);
        }
        return;
      }
      if (retries < max_retries && retryable) {
        ++retries;
        continue;
      }
      batch_error = driver.reported(std::move(error));
      break;
    }
  }
  std::vector<std::exception_ptr> reported(batch.size());
  std::optional<std::string> refused;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    reported[i] = batch_error ? batch_error : driver.reported(errors[i]);
    if (reported[i] && !refused) refused = refusal_of(reported[i]);
  }
  {
    std::lock_guard lock(mutex_);
    stats_.jobs += batch.size();
    if (!batch_error) ++stats_.batches;
    if (refused) {
      storage_failure_at_ = std::chrono::steady_clock::now();
      storage_failure_what_ = std::move(*refused);
    }
  }
  if (auto* sizes = batch_sizes_.load(); sizes != nullptr && !batch_error)
    sizes->observe({}, static_cast<double>(batch.size()));
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(reported[i]);
}

std::optional<committer::storage_failure> committer::last_storage_failure() const {
  std::lock_guard lock(mutex_);
  if (storage_failure_at_ == std::chrono::steady_clock::time_point{}) return std::nullopt;
  return storage_failure{std::chrono::steady_clock::now() - storage_failure_at_, storage_failure_what_};
}

}  // namespace switchboard::store
