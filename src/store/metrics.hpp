#pragma once
// Counts for /metrics, read from the read models: requests by status, open clocks by state (from
// the counters migration 10's triggers keep, a handful of rows, never a scan of clocks),
// escalations by state, outbox rows by channel and state. The HTTP layer formats them; no SQL
// leaves the store (issue 12).
//
// Thread-safety: one connection, one owner: call it on a connection the caller alone uses.

#include "store/session.hpp"
#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <string>
#include <vector>

namespace switchboard::store {

struct counts {
  struct by_label {
    std::string label;
    std::int64_t count = 0;
  };
  struct clocks_by_state {
    // The clock's state with its breach folded out: "running" (a warned running clock is
    // running) or "paused" (a paused breached clock too); `breached` says whether it breached.
    std::string state;
    bool breached = false;
    std::int64_t count = 0;  // > 0
  };
  struct deliveries_by_state {
    std::string channel;  // webhook, slack_reply, slack_dm, email (store/messages.hpp)
    std::string state;
    std::int64_t count = 0;
  };
  std::vector<by_label> requests_by_status;       // ordered by status
  std::vector<clocks_by_state> open_clocks;       // ordered by state, then breached
  std::vector<by_label> escalations_by_state;     // ordered by state
  std::vector<deliveries_by_state> deliveries;    // ordered by channel, then state
};

// One consistent read of every count (one read transaction). Throws SQLite::Exception.
counts read_counts(read_session session);

}  // namespace switchboard::store
