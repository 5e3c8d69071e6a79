// One subcase per store adapter for tests of the real server: a SQLite file, or a PostgreSQL
// schema of the test cluster.
#include "support/server_backends.hpp"

#include "store/database.hpp"
#include "support/configs.hpp"
#if SWITCHBOARD_POSTGRES
#include "store/postgres/pq.hpp"
#include "store/postgres/test_database.hpp"
#endif

#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <stdexcept>

namespace switchboard::testing {

#if !SWITCHBOARD_POSTGRES
namespace postgres {
class test_schema {};  // never made in such a build; complete so that unique_ptr can delete it
}  // namespace postgres
#endif

namespace {

constexpr std::string_view postgres_line = "backend = \"postgres\"";

// `config` with [storage] backend = "postgres" (and lease_seconds = `lease_seconds` unless 0):
// added to its [storage] table when it has one, else a table of that name appended. Done once: a
// restart's args() find it there.
void use_postgres(const std::string& config, unsigned lease_seconds) {
  auto text = read_text(config);
  // A line of its own: the shipped config mentions it in a comment.
  if (text.starts_with(postgres_line) || text.find("\n" + std::string(postgres_line)) != std::string::npos) return;
  auto lines = std::string(postgres_line) + "\n";
  if (lease_seconds > 0) lines += "lease_seconds = " + std::to_string(lease_seconds) + "\n";
  const auto table = text.find("\n[storage]\n");
  if (table != std::string::npos)
    text.insert(table + std::string_view("\n[storage]\n").size(), lines);
  else
    text += "\n[storage]\n" + lines;
  write_file(config, text);
}

}  // namespace

server_backend::server_backend() = default;

#if SWITCHBOARD_POSTGRES
server_backend::server_backend(const std::string& url) : schema_(std::make_unique<postgres::test_schema>(url)) {
  url_ = postgres::url_in_schema(url, schema_->name(), "sb_" + schema_->name());
}
#else
server_backend::server_backend(const std::string&) { throw std::logic_error("built without SWITCHBOARD_POSTGRES"); }
#endif

server_backend::~server_backend() = default;

server_args server_backend::args(const std::string& config, std::vector<std::string> extra) const {
  if (!postgres()) return server_args{config, dir_.file("switchboard.db"), std::move(extra)};
  auto file = config;
  if (file.empty()) {
    file = dir_.file("switchboard.toml");
    if (!std::filesystem::exists(file)) file = shipped_config_with(dir_, "");
  }
  use_postgres(file, lease_seconds_);
  return server_args{file, "", std::move(extra), {{"SWITCHBOARD_DATABASE_URL", url_}}};
}

std::string server_backend::database() const { return postgres() ? url_ : dir_.file("switchboard.db"); }

run_result server_backend::refused_start(const std::string& config) const {
  const auto server = args(config);
  std::vector<std::string> argv{SWITCHBOARD_SERVER_PATH, "--config", server.config};
  if (!server.database.empty()) {
    argv.emplace_back("--db");
    argv.push_back(server.database);
  }
  argv.emplace_back("--listen");
  argv.emplace_back("127.0.0.1:0");
  return run_program(argv, server.environment);
}

void server_backend::inspect(const std::function<void(store::read_session)>& read) const {
#if SWITCHBOARD_POSTGRES
  if (schema_) {
    auto db = schema_->connect();
    read(store::read_session(db));
    return;
  }
#endif
  auto db = store::open_database(dir_.file("switchboard.db"), store::access::read_only);
  read(db);
}

void for_each_server_backend(const std::function<void(server_backend&)>& fn) {
  SUBCASE("sqlite") {
    server_backend sqlite;
    fn(sqlite);
  }
  SUBCASE("postgres") {
#if SWITCHBOARD_POSTGRES
    if (postgres::postgres_servers_skipped()) {
      MESSAGE("postgres servers skipped: SWITCHBOARD_TEST_POSTGRES_SERVERS=0");
      return;
    }
    const auto url = postgres::test_url();
    if (!url) {
      MESSAGE("postgres skipped: SWITCHBOARD_TEST_DATABASE_URL is not set");
      return;
    }
    server_backend pg(*url);
    fn(pg);
#else
    MESSAGE("postgres skipped: built without SWITCHBOARD_POSTGRES");
#endif
  }
}

}  // namespace switchboard::testing
