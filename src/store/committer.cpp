// The writer thread: batches queued jobs into one transaction each.
#include "store/committer.hpp"

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

}  // namespace

committer::committer(SQLite::Database connection) : db_(std::move(connection)) {
  sqlite3_busy_handler(db_.getHandle(), &committer::on_busy, this);
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
  // The write connection's prepared statements live as long as this thread's loop: they are
  // finalized when it ends, before the destructor (which joins it) closes the connection.
  statement_cache statements(db_);
  const cache_scope scope(statements);
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
}

void committer::commit_batch(std::vector<pending>& batch) {
  std::vector<std::exception_ptr> errors(batch.size());
  std::exception_ptr batch_error;
  auto roll_back = [this] {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
      // The transaction may already be gone (SQLite ends it on some errors).
    }
  };
  unit_of_work work(db_);
  try {
    for (int runs = 0;; ++runs) {
      std::fill(errors.begin(), errors.end(), nullptr);
      statement(db_, "BEGIN IMMEDIATE")->exec();
      if (batch.size() == 1) {
        // A job alone needs no savepoint: when it fails the whole transaction rolls back, the
        // same outcome, and no statement journal is kept for a savepoint.
        try {
          batch[0].work(work);
        } catch (...) {
          errors[0] = std::current_exception();
        }
        progressed();
      } else {
        for (std::size_t i = 0; i < batch.size(); ++i) {
          statement(db_, "SAVEPOINT job")->exec();
          try {
            batch[i].work(work);
            statement(db_, "RELEASE job")->exec();
          } catch (...) {
            errors[i] = std::current_exception();
            db_.exec("ROLLBACK TO job");
            db_.exec("RELEASE job");
          }
          progressed();
        }
      }
      if (commit_hook_ && commit_hook_(runs) == before_commit::rerun) {
        roll_back();
        continue;
      }
      if (batch.size() == 1 && errors[0])
        roll_back();
      else
        statement(db_, "COMMIT")->exec();
      break;
    }
  } catch (...) {
    batch_error = as_storage_error(std::current_exception());
    roll_back();
  }
  {
    std::lock_guard lock(mutex_);
    stats_.jobs += batch.size();
    if (!batch_error) ++stats_.batches;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(batch_error ? batch_error : as_storage_error(errors[i]));
}

}  // namespace switchboard::store
