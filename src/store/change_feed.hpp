#pragma once
// Other instances' committed changes (issue 12 plan §4 D5), so that every dashboard viewer sees
// every instance's events. On PostgreSQL, the unit of work that records events announces them
// inside its transaction (NOTIFY switchboard_changes, delivered on commit, in commit order:
// store/postgres/announce.hpp), and each instance keeps one LISTEN session, this feed. SQLite has
// no feed: one process writes the file (store::exclusive_use), and it publishes its own changes.
//
// An announcement names the instance that committed it and, per request, the range of event
// sequence numbers that commit appended. read_announced() turns one range into the change the
// dashboard publishes: the request as stored now and the events of that range.
//
// Notifications sent while the session is down are lost (PostgreSQL keeps none for a session
// that is not listening): after reopen(), whoever relays the feed must tell its viewers to
// reload (the dashboard hub's resync).
//
// Thread-safety: one feed, one owner: take() and native_handle() on one thread at a time;
// reopen() (which blocks while it connects) may run on another thread while nothing else
// touches the feed.

#include "model/request.hpp"
#include "store/requests.hpp"
#include "store/session.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::store {

// Events first_seq..last_seq (both included: the events table's seq) of one request, appended
// by one commit. Other requests' events may lie between them.
struct announced_range {
  model::request_id request = 0;
  std::int64_t first_seq = 0;
  std::int64_t last_seq = 0;
  friend bool operator==(const announced_range&, const announced_range&) = default;
};

struct announcement {
  std::string origin;  // the committing instance's id; empty when it gave none (a tool, a test)
  std::vector<announced_range> ranges;
  friend bool operator==(const announcement&, const announcement&) = default;
};

class change_feed {
 public:
  virtual ~change_feed() = default;

  // The session's socket: readable when announcements may have arrived. It changes with
  // reopen(); the feed owns it (never close it; an Asio descriptor over it must be released).
  virtual int native_handle() const = 0;

  // Every announcement received so far, in commit order; empty when none (never blocks).
  // Throws storage_unavailable (store/port.hpp) when the session is lost.
  virtual std::vector<announcement> take() = 0;

  // Opens a new session and listens again. Blocks while it connects (libpq's connect_timeout).
  // Throws storage_unavailable when the database cannot be reached.
  virtual void reopen() = 0;

  // The server process serving the session (pg_stat_activity.pid), 0 when lost. For logs.
  virtual int backend_pid() const = 0;
};

// The change one announced range stands for: the request as stored now (it may already hold
// later changes, which their own announcements publish again) and the range's events in order;
// nullopt when the request is not stored. Reads with `session` alone (no transaction: each
// statement sees what was committed before it). PostgreSQL only: a SQLite session throws
// std::logic_error (SQLite has no other instances).
std::optional<change> read_announced(read_session session, const announced_range& range);

}  // namespace switchboard::store
