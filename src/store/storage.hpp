#pragma once
// The server's storage, opened from its settings (issue 12 §2): the adapter `[storage] backend`
// names, with everything the server holds open on it: the committer (store/committer.hpp) and
// its write connection, the read pool (store/reader_pool.hpp) for handlers on the worker threads,
// and one read session for the app strand (the scheduler's and the notifier's reads).
//
// SQLite: the file at `path`, held by this process alone (store::exclusive_use), migrated when
// opened. PostgreSQL: the database `url` names (libpq URL, from SWITCHBOARD_DATABASE_URL; several
// hosts with target_session_attrs=read-write find the primary), migrated at start under an
// advisory lock (store/postgres/schema.hpp); a lost session is reopened: the writer's at its next
// batch, with backoff for at most `connect_wait` (store/postgres/transaction_driver.hpp), the
// readers' at their next statement. Every change the writer commits is announced (NOTIFY) with
// `instance`, and changes() listens for the other instances' (issue 12 phase D, D5). Timer and
// outbox leases for several instances are other steps of phase D.
//
// Thread-safety: construct, use setup(), then start() on one thread; after start() writer(),
// readers() and reader() follow their own classes' rules (reader(): the app strand alone).

#include "store/change_feed.hpp"
#include "store/committer.hpp"
#include "store/reader_pool.hpp"
#include "store/session.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace switchboard::store {

struct storage_options {
  enum class backend { sqlite, postgres };
  backend kind = backend::sqlite;
  std::string path;  // SQLite: the database file (":memory:" for tests)
  std::string url;   // PostgreSQL: the connection URL, password and all; never logged
  std::size_t readers = 1;  // connections in the read pool
  std::chrono::milliseconds connect_wait{2000};  // PostgreSQL: how long a batch waits for a lost database
  // PostgreSQL: this instance's id (hostname:pid:random), announced with every change it commits
  // so that its own listen session skips them (store/change_feed.hpp); at most 255 bytes of
  // printable ASCII without '"' or '\'. Empty: announced as "".
  std::string instance;
};

class server_storage {
 public:
  // Opens and migrates the database. Throws std::runtime_error (or SQLite's or libpq's errors,
  // whose messages never hold the password) when it cannot: a file held by another server, a
  // database that cannot be reached, a schema newer than this build, a build without PostgreSQL.
  explicit server_storage(storage_options options);
  ~server_storage();
  server_storage(const server_storage&) = delete;
  server_storage& operator=(const server_storage&) = delete;

  // A read-write session for the start-up checks (clock alignment), before start().
  unit_of_work setup();

  // Opens the committer, the read pool and the app strand's reader; setup() is over.
  void start();

  committer& writer();
  reader_pool& readers();
  read_session reader();

  // PostgreSQL: the session listening for other instances' changes, opened by start(); null on
  // SQLite (one process: it publishes its own changes alone).
  change_feed* changes();

  // What the server is running on, for its start-up line: the file, or the URL without its
  // password.
  std::string describe() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace switchboard::store
