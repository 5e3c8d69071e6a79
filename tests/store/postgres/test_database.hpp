#pragma once
// The PostgreSQL half of the store tests: the cluster is named by SWITCHBOARD_TEST_DATABASE_URL
// (tools/pg start or tools/pg run make one; tools/dev test passes it), and each test case works
// in a schema of its own, so cases running in parallel (ctest -j) never see each other's rows.
// Without the variable a case says "postgres skipped" and passes: the ledger still counts it run.

#include "store/postgres/pq.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>

namespace switchboard::testing::postgres {

// SWITCHBOARD_TEST_DATABASE_URL when set and not empty.
std::optional<std::string> test_url();

// True when SWITCHBOARD_TEST_POSTGRES_SERVERS is "0": tools/dev's sanitizer stage sets it, so
// the cases that run real servers on PostgreSQL (seconds each, several times that under ASan)
// run once, in the release stage, while the store's PostgreSQL cases run in both.
bool postgres_servers_skipped();

// CREATE SCHEMA t_<pid>_<n> on construction, DROP SCHEMA ... CASCADE on destruction (errors
// there are ignored: a cluster the test broke is thrown away by tools/pg anyway).
// `url` in `schema` (search_path, so that every session opened from it, and reopened, is in it)
// and, when not empty, named `application` (so a test can find and kill those sessions in
// pg_stat_activity without touching other tests'): what a server under test is given.
std::string url_in_schema(const std::string& url, const std::string& schema, const std::string& application = "");

class test_schema {
 public:
  explicit test_schema(const std::string& url);
  ~test_schema();
  test_schema(const test_schema&) = delete;
  test_schema& operator=(const test_schema&) = delete;

  const std::string& name() const { return name_; }
  // A connection of the schema's own, already in it (search_path).
  store::pq::connection& db() { return db_; }
  // Another connection in the schema.
  store::pq::connection connect() const;
  // Puts `db` into the schema (after a reconnect, which forgets session settings).
  void enter(store::pq::connection& db) const;

 private:
  std::string url_;
  std::string name_;
  store::pq::connection db_;
};

}  // namespace switchboard::testing::postgres

// Opens a test case that needs PostgreSQL: binds `url` to the cluster's URL, or says why the
// case is skipped and returns.
#define SWITCHBOARD_POSTGRES_OR_SKIP(url)                                          \
  const auto url##_optional = ::switchboard::testing::postgres::test_url();        \
  if (!url##_optional) {                                                           \
    MESSAGE("postgres skipped: SWITCHBOARD_TEST_DATABASE_URL is not set");         \
    return;                                                                        \
  }                                                                                \
  const std::string url = *url##_optional

// Opens a test case that runs real servers on PostgreSQL: as SWITCHBOARD_POSTGRES_OR_SKIP, and
// also skipped (and counted run) where postgres_servers_skipped() says so.
#define SWITCHBOARD_POSTGRES_SERVERS_OR_SKIP(url)                                  \
  if (::switchboard::testing::postgres::postgres_servers_skipped()) {              \
    MESSAGE("postgres servers skipped: SWITCHBOARD_TEST_POSTGRES_SERVERS=0");      \
    return;                                                                        \
  }                                                                                \
  SWITCHBOARD_POSTGRES_OR_SKIP(url)
