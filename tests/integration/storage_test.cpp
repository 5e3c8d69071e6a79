// The real server when its database cannot take a write (issue 12, B6; issue 11's full disk): the
// command is answered 503 storage_unavailable with Retry-After, nothing of it is stored, and
// /healthz says the database is not writable.
#include "http/client.hpp"
#include "support/api.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <SQLiteCpp/Database.h>
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <set>
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

std::uintmax_t size_of(const std::string& path) {
  std::error_code ignored;
  const auto size = std::filesystem::file_size(path, ignored);
  return ignored ? 0 : size;
}

// Sets the running server's soft file size limit (RLIMIT_FSIZE): a write that would take any
// file of the server's past `bytes` fails with EFBIG (the server ignores SIGXFSZ). The hard
// limit stays, so the soft one can be raised again.
void limit_file_size(pid_t pid, rlim_t bytes) {
  rlimit current{};
  REQUIRE(::prlimit(pid, RLIMIT_FSIZE, nullptr, &current) == 0);
  const rlimit wanted{bytes, current.rlim_max};
  REQUIRE(::prlimit(pid, RLIMIT_FSIZE, &wanted, nullptr) == 0);
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

  TEST_CASE("on a database that cannot grow filings get 503 storage_unavailable and healthz 503 while every acknowledged filing stays readable") {
    testing::temp_dir dir;
    const auto database = dir.file("switchboard.db");
    testing::server_process server(database);
    auto client = server.client(model::role::ce);
    std::set<std::string> acknowledged;
    const auto file = [&](int n) {
      const std::vector<std::pair<std::string, std::string>> key{{"Idempotency-Key", "full-" + std::to_string(n)}};
      return client.request("POST", "/v1/requests", troubleshooting_filing("Full disk " + std::to_string(n)),
                            "application/json", key);
    };
    int n = 0;
    for (; n < 5; ++n) {
      const auto filed = file(n);
      REQUIRE(filed.status == 201);
      acknowledged.insert(std::to_string(testing::json_of(filed).at("id").as_int64()));
    }

    // The disk is full for the server: no file of its may grow past 256 KiB beyond the largest it
    // has now (the write-ahead log grows by a few KiB a filing; the server's log stays far below).
    const auto largest = std::max({size_of(database), size_of(database + "-wal"), size_of(database + "-shm")});
    limit_file_size(server.pid(), static_cast<rlim_t>(largest + 256 * 1024));
    http::client_response refused;
    for (; n < 2000; ++n) {
      auto filed = file(n);
      if (filed.status == 201) {
        acknowledged.insert(std::to_string(testing::json_of(filed).at("id").as_int64()));
        continue;
      }
      refused = std::move(filed);
      break;
    }
    REQUIRE_MESSAGE(refused.status == 503, refused.status, " ", refused.body);
    CHECK(refused.header("Retry-After") == "1");
    CHECK(testing::json_of(refused).at("error").at("code").as_string() == "storage_unavailable");
    const auto refused_key = n;
    const auto log = server.stderr_text();
    const auto logged = log.find("storage unavailable");
    MESSAGE("refused after ", acknowledged.size(), " filings; the server logged: ",
            logged == std::string::npos ? std::string("(not yet)") : log.substr(logged, 200));

    // /healthz says so, with the reason (a write refused just now, or the heartbeat's own failure).
    auto anonymous = http::client(server.url());
    const auto health = anonymous.request("GET", "/healthz");
    CHECK(health.status == 503);
    const auto health_error = testing::json_of(health).at("error").as_object();
    CHECK(health_error.at("code").as_string() == "database_unwritable");
    CHECK_FALSE(health_error.at("message").as_string().empty());
    MESSAGE("/healthz: ", health.body);

    // The same filing again is refused again (nothing was stored under its key), and bad input
    // is answered as bad input, not as a storage failure.
    CHECK(file(refused_key).status == 503);
    CHECK(client.request("POST", "/v1/requests", "{\"title\": ", "application/json").status == 400);
    CHECK(client.request("POST", "/v1/requests", "{\"title\": 7}", "application/json").status == 422);

    // Every acknowledged filing is readable, and nothing else was stored.
    auto viewer = server.client(model::role::viewer);
    std::set<std::string> stored;
    for (const auto& r : testing::all_requests(viewer)) stored.insert(std::to_string(r.at("id").as_int64()));
    CHECK(stored == acknowledged);
    for (const auto& id : acknowledged) CHECK(viewer.request("GET", "/v1/requests/" + id).status == 200);
    CHECK(server.stderr_text().find("error handling") == std::string::npos);  // no 500

    // Room again: the refused filing, sent again with its key, is stored once.
    limit_file_size(server.pid(), RLIM_INFINITY);
    const auto retried = file(refused_key);
    CHECK(retried.status == 201);
    stored.clear();
    for (const auto& r : testing::all_requests(viewer)) stored.insert(std::to_string(r.at("id").as_int64()));
    CHECK(stored.size() == acknowledged.size() + 1);
    server.kill();
    CHECK(count(database, "requests") == static_cast<std::int64_t>(acknowledged.size() + 1));
  }
}
