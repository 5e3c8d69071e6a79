#pragma once
// The same integration test on both store adapters, through the real server (issue 12 plan
// §3.4, C5): for_each_server_backend runs its function once in a doctest SUBCASE "sqlite" (a
// database file in a temporary folder of its own) and once in a SUBCASE "postgres" (a schema of
// its own in the cluster SWITCHBOARD_TEST_DATABASE_URL names, dropped after), handing it a
// `server_backend` whose args() start a server_process on that database. A test body is
// written once; restarts reuse the same args() and so the same database.
//
// Without the variable, in a build without SWITCHBOARD_POSTGRES, or where
// SWITCHBOARD_TEST_POSTGRES_SERVERS=0 (tools/dev's sanitizer stage), the postgres subcase says
// "postgres skipped" (or "postgres servers skipped") and passes.
//
// Thread-safety: one test's thread (the args() it returns may be used anywhere).

#include "store/session.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::testing {

namespace postgres {
class test_schema;
}

class server_backend {
 public:
  // SQLite: a file in a fresh temporary folder.
  server_backend();
  // PostgreSQL: a fresh schema of the cluster at `url`.
  explicit server_backend(const std::string& url);
  ~server_backend();
  server_backend(const server_backend&) = delete;
  server_backend& operator=(const server_backend&) = delete;

  // "sqlite" or "postgres".
  std::string_view name() const { return schema_ ? "postgres" : "sqlite"; }
  bool postgres() const { return schema_ != nullptr; }

  // Arguments for a server on this backend's database with `config` (empty: the shipped
  // config/switchboard.toml, copied with its rules path made absolute) and `extra` arguments.
  // SQLite: --db <folder>/switchboard.db. PostgreSQL: no --db; `config` gets `[storage] backend =
  // "postgres"` (added to its [storage] table if it has one; the file is changed in place, once)
  // and the server's environment SWITCHBOARD_DATABASE_URL, in the schema, with an
  // application_name of its own (sb_<schema>) so a test can find the server's sessions.
  server_args args(const std::string& config = "", std::vector<std::string> extra = {}) const;

  // Runs `read` on a session of this backend's database, for the checks a test cannot make
  // through the API (the crash test replays each request's stored events): SQLite's file opened
  // read-only, or a connection in the schema. Call it with no server writing.
  void inspect(const std::function<void(store::read_session)>& read) const;

  // PostgreSQL: the servers' `[storage] lease_seconds` (default: the server's own, 10 s), written
  // beside the backend line. A server restarted after a SIGKILL fires no timers of the shards
  // the dead instance held until its leases lapse, so a test that kills a server and expects
  // timers after the restart sets a short lease. Call it before the first args(). SQLite: no
  // effect (its one server holds every timer).
  void set_lease_seconds(unsigned seconds) { lease_seconds_ = seconds; }

  // The database as `switchboard-cli rules check --db` takes it: the SQLite file, or the
  // PostgreSQL URL in the schema.
  std::string database() const;

  // Runs the server on this backend's database with `config` (listening on 127.0.0.1:0) to
  // completion, for a test that expects it to refuse to start: one that starts runs on.
  run_result refused_start(const std::string& config) const;

 private:
  temp_dir dir_;
  std::string url_;  // PostgreSQL: the server's URL, in the schema
  std::unique_ptr<postgres::test_schema> schema_;
  unsigned lease_seconds_ = 0;  // 0: the server's default
};

// Runs `fn` once per backend, each in its own SUBCASE: call it once per TEST_CASE, at its top,
// with the whole test body inside.
void for_each_server_backend(const std::function<void(server_backend&)>& fn);

}  // namespace switchboard::testing
