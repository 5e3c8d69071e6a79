// The writer thread: batches queued jobs into one transaction each.
#include "store/committer.hpp"

#include "store/statements.hpp"

#include <future>

namespace switchboard::store {

committer::committer(SQLite::Database connection)
    : db_(std::move(connection)), writer_([this] { write_loop(); }) {}

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
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to write
      batch.swap(queue_);
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
  try {
    statement(db_, "BEGIN IMMEDIATE")->exec();
    if (batch.size() == 1) {
      // A job alone needs no savepoint: when it fails the whole transaction rolls back, the
      // same outcome, and no statement journal is kept for a savepoint.
      try {
        batch[0].work(db_);
      } catch (...) {
        errors[0] = std::current_exception();
      }
    } else {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        statement(db_, "SAVEPOINT job")->exec();
        try {
          batch[i].work(db_);
          statement(db_, "RELEASE job")->exec();
        } catch (...) {
          errors[i] = std::current_exception();
          db_.exec("ROLLBACK TO job");
          db_.exec("RELEASE job");
        }
      }
    }
    if (batch.size() == 1 && errors[0])
      roll_back();
    else
      statement(db_, "COMMIT")->exec();
  } catch (...) {
    batch_error = std::current_exception();
    roll_back();
  }
  {
    std::lock_guard lock(mutex_);
    stats_.jobs += batch.size();
    if (!batch_error) ++stats_.batches;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(batch_error ? batch_error : errors[i]);
}

}  // namespace switchboard::store
