#pragma once
// The committer's transactions on PostgreSQL (issue 12 plan §3.3, "Connections, failover, retry,
// 503"): BEGIN (READ COMMITTED; repositories lock rows they decide on), a savepoint per job, and a
// COMMIT whose outcome is asked of the server when its answer is lost: the batch's transaction id
// is read at BEGIN (pg_current_xact_id), and after a lost COMMIT a new session asks
// pg_xact_status (PostgreSQL 13+, "System Information Functions"): committed means the jobs
// succeeded, aborted means storage_unavailable, anything else storage_outcome_unknown.
//
// SQLSTATE classes (pq::classify): a lost session is `unavailable`, a deadlock or serialization
// failure (40P01, 40001) is `retry`, anything else is the job's own error.
//
// A lost session (step C4) is reopened at the next begin(): libpq learns of a loss only when it
// next sends, so a BEGIN that finds the session gone reconnects and begins again, and the batch
// never notices. A database that cannot be reached is tried again with backoff (50 ms doubling
// to 2 s, +-20 % jitter) for at most `connect_wait`, after which the batch fails with
// storage_unavailable (503) and the next batch tries again. libpq itself walks a multi-host URL's
// hosts on every attempt, so with target_session_attrs=read-write a failover is a reconnect.
// The loss and the recovery are logged once each on stderr, with the URL without its password.
//
// Thread-safety: one driver, one owner (the committer's writer thread), over a connection it
// borrows.

#include "store/postgres/pq.hpp"
#include "store/transaction_driver.hpp"

#include <chrono>
#include <functional>
#include <string>

namespace switchboard::store::postgres {

class transaction_driver final : public store::transaction_driver {
 public:
  // `on_session` runs on each session the driver opens again after a loss (PQreset forgets
  // session settings such as a test's search_path); it may be empty.
  explicit transaction_driver(pq::connection& db, std::function<void(pq::connection&)> on_session = {},
                              std::chrono::milliseconds connect_wait = std::chrono::milliseconds{2000});

  unit_of_work work() override { return unit_of_work(db_); }
  void begin() override;
  void savepoint() override;
  void release() override;
  void rollback_to() override;
  void commit() override;
  void rollback() noexcept override;
  failure classify(const std::exception_ptr& error) const override;
  // Lost sessions, rolled-back transactions past their retries and a lock waited for past the
  // session's lock_timeout (55P03): storage_unavailable.
  std::exception_ptr reported(std::exception_ptr error) const override;

  // The open (or last) batch's transaction id, as text; empty before the first begin().
  const std::string& xid() const { return xid_; }

 private:
  void run(const char* sql);
  void reopen();
  void reopen_with_backoff();
  pq::connection& db_;
  std::function<void(pq::connection&)> on_session_;
  std::chrono::milliseconds connect_wait_;
  bool lost_logged_ = false;
  std::string xid_;
};

}  // namespace switchboard::store::postgres
