// The real server when its database cannot take a write (issue 12, B6): the command is answered
// 503 storage_unavailable with Retry-After, and nothing of it is stored.
#include "http/client.hpp"
#include "support/api.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <SQLiteCpp/Database.h>
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace switchboard;
namespace json = boost::json;
using testing::troubleshooting_filing;

namespace {

std::int64_t count(const std::string& database, const char* table) {
  SQLite::Database db(database, SQLite::OPEN_READWRITE);  // reads only; WAL readers want the -shm writable
  return db.execAndGet(std::string("SELECT COUNT(*) FROM ") + table).getInt64();
}

}  // namespace

TEST_SUITE("integration::storage") {
  TEST_CASE("a filing the database cannot take is answered 503 storage_unavailable and stores nothing") {
    testing::temp_dir dir;
    const auto database = dir.file("switchboard.db");
    testing::server_process server(database);
    auto client = server.client(model::role::ce);
    const std::vector<std::pair<std::string, std::string>> key{{"Idempotency-Key", "locked-1"}};
    {
      // Another connection holds the write lock longer than the writer waits for it
      // (store::committer::lock_timeout): the batch's BEGIN fails with SQLITE_BUSY.
      SQLite::Database holder(database, SQLite::OPEN_READWRITE);
      holder.setBusyTimeout(10000);  // the server may be writing (its heartbeat) just now
      holder.exec("BEGIN IMMEDIATE");
      const auto refused = client.request("POST", "/v1/requests", troubleshooting_filing("Locked out"), "application/json", key);
      CHECK(refused.status == 503);
      CHECK(refused.header("Retry-After") == "1");
      CHECK(refused.header("Content-Type") == "application/json");
      const auto body = testing::json_of(refused);
      CHECK(body.at("error").at("code").as_string() == "storage_unavailable");
      CHECK_FALSE(body.at("error").at("message").as_string().empty());
      holder.exec("ROLLBACK");
    }
    CHECK(count(database, "requests") == 0);
    CHECK(count(database, "events") == 0);
    CHECK(count(database, "idempotency_keys") == 0);

    // Nothing was stored under the key either: the same request again files it, once.
    const auto retried = client.request("POST", "/v1/requests", troubleshooting_filing("Locked out"), "application/json", key);
    CHECK(retried.status == 201);
    CHECK(retried.header("Idempotent-Replayed").empty());
    CHECK(count(database, "requests") == 1);
    CHECK(count(database, "idempotency_keys") == 1);
  }
}
