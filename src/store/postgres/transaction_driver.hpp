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
// Not yet: reconnect backoff and the connect wait of [storage] connect_wait_ms (step C4); a
// lost session is reopened once, at the next begin().
//
// Thread-safety: one driver, one owner (the committer's writer thread), over a connection it
// borrows.

#include "store/postgres/pq.hpp"
#include "store/transaction_driver.hpp"

#include <functional>
#include <string>

namespace switchboard::store::postgres {

class transaction_driver final : public store::transaction_driver {
 public:
  // `on_session` runs on each session the driver opens again after a loss (PQreset forgets
  // session settings such as a test's search_path); it may be empty.
  explicit transaction_driver(pq::connection& db, std::function<void(pq::connection&)> on_session = {});

  unit_of_work work() override { return unit_of_work(db_); }
  void begin() override;
  void savepoint() override;
  void release() override;
  void rollback_to() override;
  void commit() override;
  void rollback() noexcept override;
  failure classify(const std::exception_ptr& error) const override;

  // The open (or last) batch's transaction id, as text; empty before the first begin().
  const std::string& xid() const { return xid_; }

 private:
  void run(const char* sql);
  void reopen();
  pq::connection& db_;
  std::function<void(pq::connection&)> on_session_;
  std::string xid_;
};

}  // namespace switchboard::store::postgres
