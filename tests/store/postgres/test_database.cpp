// A schema per test case in the test cluster.
#include "store/postgres/test_database.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string_view>

namespace switchboard::testing::postgres {

std::optional<std::string> test_url() {
  const char* url = std::getenv("SWITCHBOARD_TEST_DATABASE_URL");
  if (url == nullptr || *url == '\0') return std::nullopt;
  return std::string(url);
}

bool postgres_servers_skipped() {
  const char* value = std::getenv("SWITCHBOARD_TEST_POSTGRES_SERVERS");
  return value != nullptr && std::string_view(value) == "0";
}

namespace {
std::string next_schema_name() {
  static std::atomic<int> counter{0};
  return fmt::format("t_{}_{}", ::getpid(), ++counter);
}
}  // namespace

test_schema::test_schema(const std::string& url) : url_(url), name_(next_schema_name()), db_(url) {
  db_.exec(fmt::format("DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}", name_));
  enter(db_);
}

test_schema::~test_schema() {
  try {
    if (db_.broken()) db_.reconnect();
    db_.exec(fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", name_));
  } catch (...) {
    // Cleanup only: see the header.
  }
}

store::pq::connection test_schema::connect() const {
  store::pq::connection db(url_);
  enter(db);
  return db;
}

void test_schema::enter(store::pq::connection& db) const { db.exec(fmt::format("SET search_path TO {}", name_)); }

std::string url_in_schema(const std::string& url, const std::string& schema, const std::string& application) {
  const char separator = url.find('?') == std::string::npos ? '?' : '&';
  auto out = url + separator + "options=-csearch_path%3D" + schema;
  if (!application.empty()) out += "&application_name=" + application;
  return out;
}

}  // namespace switchboard::testing::postgres
