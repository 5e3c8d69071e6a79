#pragma once
// The committer's view of one database's transactions (issue 12 plan §3.1): what group commit
// needs from an adapter, so that one committer can drive SQLite and PostgreSQL alike. The batch
// runs as begin(), then per job savepoint() + the job + release() (or rollback_to() when it
// threw), then commit(); a batch of one job may skip the savepoint and rollback() on failure.
// When a job or the driver throws, classify() says what that means for the batch.
//
// Implementations: SQLite's (store/committer.cpp, BEGIN IMMEDIATE and SAVEPOINT job on the
// committer's own connection) and PostgreSQL's (store/postgres/transaction_driver.hpp).
//
// Thread-safety: one driver, one owner (the committer's writer thread).

#include "store/session.hpp"

#include <exception>
#include <functional>

namespace switchboard::store {

class transaction_driver {
 public:
  virtual ~transaction_driver() = default;

  // The session the batch's jobs get, over the driver's connection.
  virtual unit_of_work work() = 0;

  // Opens the batch's transaction, first opening a new session when the last one was lost.
  // Throws storage_unavailable (store/port.hpp) when the database cannot be reached.
  virtual void begin() = 0;
  virtual void savepoint() = 0;    // before a job
  virtual void release() = 0;      // after a job that succeeded
  virtual void rollback_to() = 0;  // after a job that threw: undoes that job alone
  // Throws storage_unavailable when nothing was committed for a reason of the storage's, and
  // storage_outcome_unknown when COMMIT was sent and whether it took effect cannot be known.
  virtual void commit() = 0;
  // Ends the transaction without committing; never throws (a lost session rolled back already).
  virtual void rollback() noexcept = 0;

  enum class failure {
    job,          // the job's own error: it alone fails (its savepoint is rolled back)
    retry,        // the batch was rolled back by the database (a deadlock, a serialization
                  // failure): run all its jobs again
    unavailable,  // the storage failed: every job of the batch fails with this error
  };
  // What `error`, thrown inside the transaction by a job or by the driver, means for the batch.
  virtual failure classify(const std::exception_ptr& error) const = 0;

  // What a job's caller is told of `error` (a job's own error, or the batch's): the storage's
  // failures as store::storage_unavailable (store/port.hpp), anything else as it is.
  virtual std::exception_ptr reported(std::exception_ptr error) const { return error; }

  // Runs the committer's write loop on its writer thread, inside whatever the driver keeps per
  // thread (SQLite's prepared-statement cache); returns when the loop does.
  virtual void serve(const std::function<void()>& loop) { loop(); }
};

}  // namespace switchboard::store
