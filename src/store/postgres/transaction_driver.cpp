// The committer's transactions on PostgreSQL, and what a lost COMMIT became.
#include "store/postgres/transaction_driver.hpp"

#include "observe/log.hpp"
#include "store/port.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <thread>

namespace switchboard::store::postgres {

transaction_driver::transaction_driver(pq::connection& db, std::function<void(pq::connection&)> on_session,
                                       std::chrono::milliseconds connect_wait)
    : db_(db), on_session_(std::move(on_session)), connect_wait_(connect_wait) {}

void transaction_driver::reopen() {
  try {
    db_.reconnect();
    if (on_session_) on_session_(db_);
  } catch (const pq::error& e) {
    throw storage_unavailable(fmt::format("the PostgreSQL database cannot be reached: {}", e.what()));
  }
}

// A statement of the driver's own: a lost session means the batch cannot go on.
void transaction_driver::run(const char* sql) {
  try {
    db_.exec(sql);
  } catch (const pq::error& e) {
    if (e.kind() == pq::error_class::connection_lost)
      throw storage_unavailable(fmt::format("the PostgreSQL session was lost: {}", e.what()));
    throw;
  }
}

void transaction_driver::reopen_with_backoff() {
  using namespace std::chrono;
  if (!lost_logged_) {
    observe::log(observe::log_level::error,
                 fmt::format("the PostgreSQL session to {} was lost, reconnecting", db_.describe()));
    lost_logged_ = true;
  }
  const auto deadline = steady_clock::now() + connect_wait_;
  thread_local std::minstd_rand jitter(std::random_device{}());
  milliseconds backoff{50};
  for (;;) {
    try {
      reopen();
      observe::log(observe::log_level::info, fmt::format("reconnected to PostgreSQL at {}", db_.describe()));
      lost_logged_ = false;
      return;
    } catch (const storage_unavailable&) {
      const auto nap = duration_cast<milliseconds>(backoff * std::uniform_real_distribution<double>(0.8, 1.2)(jitter));
      if (steady_clock::now() + nap > deadline) throw;
      std::this_thread::sleep_for(nap);
      backoff = std::min(backoff * 2, milliseconds{2000});
    }
  }
}

void transaction_driver::begin() {
  if (db_.broken()) reopen_with_backoff();
  try {
    db_.exec("BEGIN");
  } catch (const pq::error& e) {
    if (e.kind() != pq::error_class::connection_lost) throw;
    // Found lost only now: nothing of this batch was sent, so a new session may simply begin it.
    reopen_with_backoff();
    run("BEGIN");
  }
  try {
    xid_ = std::string(db_.prepared("SELECT pg_current_xact_id()::text").text(0, 0));
  } catch (const pq::error& e) {
    if (e.kind() == pq::error_class::connection_lost)
      throw storage_unavailable(fmt::format("the PostgreSQL session was lost: {}", e.what()));
    throw;
  }
}

void transaction_driver::savepoint() { run("SAVEPOINT job"); }

void transaction_driver::release() { run("RELEASE SAVEPOINT job"); }

void transaction_driver::rollback_to() {
  run("ROLLBACK TO SAVEPOINT job");
  run("RELEASE SAVEPOINT job");
}

void transaction_driver::commit() {
  // A session lost before COMMIT took the transaction with it: nothing to ask.
  if (db_.broken()) throw storage_unavailable("the PostgreSQL session was lost before COMMIT");
  try {
    const auto answer = db_.exec("COMMIT");
    // A transaction in which a statement failed (outside a rolled-back savepoint) answers COMMIT
    // with ROLLBACK: nothing was written.
    if (answer.command_status() == "ROLLBACK")
      throw pq::error(pq::error_class::other, "25P02", "PostgreSQL: COMMIT rolled back: a statement in the batch failed");
    return;
  } catch (const pq::error& e) {
    if (e.kind() != pq::error_class::connection_lost) throw;
  }
  // COMMIT went out and its answer was lost: ask a new session what became of the transaction.
  std::string status;
  try {
    reopen();
    status = std::string(db_.exec("SELECT pg_xact_status($1::xid8)", {xid_}).text(0, 0));
  } catch (const std::exception& e) {
    throw storage_outcome_unknown(
        fmt::format("the PostgreSQL session was lost at COMMIT and the outcome of transaction {} cannot be read: {}", xid_,
                    e.what()));
  }
  if (status == "committed") return;
  if (status == "aborted")
    throw storage_unavailable(fmt::format("the PostgreSQL session was lost at COMMIT; transaction {} aborted", xid_));
  // NULL (a new primary that never saw it, or too old) or "in progress".
  throw storage_outcome_unknown(
      fmt::format("the PostgreSQL session was lost at COMMIT; transaction {} is {}", xid_, status.empty() ? "unknown" : status));
}

void transaction_driver::rollback() noexcept {
  if (db_.broken()) return;
  try {
    db_.exec("ROLLBACK");
  } catch (...) {
    // A session that cannot roll back is lost, and the server rolls back what it left open.
  }
}

std::exception_ptr transaction_driver::reported(std::exception_ptr error) const {
  if (!error) return error;
  try {
    std::rethrow_exception(error);
  } catch (const pq::error& e) {
    if (e.kind() == pq::error_class::connection_lost)
      return std::make_exception_ptr(storage_unavailable(fmt::format("the PostgreSQL session was lost: {}", e.what())));
    // A lock held past lock_timeout: as SQLite's SQLITE_BUSY, the storage's failure, not the job's.
    if (e.sqlstate() == "55P03")
      return std::make_exception_ptr(storage_unavailable(fmt::format("the database cannot take writes now: {}", e.what())));
    if (e.kind() == pq::error_class::retryable)
      return std::make_exception_ptr(
          storage_unavailable(fmt::format("PostgreSQL rolled the batch back on every try: {}", e.what())));
  } catch (...) {
  }
  return error;
}

store::transaction_driver::failure transaction_driver::classify(const std::exception_ptr& error) const {
  try {
    std::rethrow_exception(error);
  } catch (const storage_unavailable&) {
    return failure::unavailable;
  } catch (const storage_outcome_unknown&) {
    return failure::unavailable;
  } catch (const pq::error& e) {
    switch (e.kind()) {
      case pq::error_class::connection_lost: return failure::unavailable;
      case pq::error_class::retryable: return failure::retry;
      case pq::error_class::other: return failure::job;
    }
    return failure::job;
  } catch (...) {
    return failure::job;
  }
}

}  // namespace switchboard::store::postgres
