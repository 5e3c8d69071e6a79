// The writer thread: batches queued jobs into one transaction each.
#include "store/committer.hpp"

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
  try {
    db_.exec("BEGIN IMMEDIATE");
    for (std::size_t i = 0; i < batch.size(); ++i) {
      db_.exec("SAVEPOINT job");
      try {
        batch[i].work(db_);
        db_.exec("RELEASE job");
      } catch (...) {
        errors[i] = std::current_exception();
        db_.exec("ROLLBACK TO job");
        db_.exec("RELEASE job");
      }
    }
    db_.exec("COMMIT");
  } catch (...) {
    batch_error = std::current_exception();
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
      // The transaction may already be gone; the batch error is what callers must see.
    }
  }
  {
    std::lock_guard lock(mutex_);
    stats_.jobs += batch.size();
    if (!batch_error) ++stats_.batches;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(batch_error ? batch_error : errors[i]);
}

}  // namespace switchboard::store
