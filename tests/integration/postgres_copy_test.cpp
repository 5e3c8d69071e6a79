// A database written by an earlier release, moved into PostgreSQL with `switchboard-cli store
// copy` (issue 12: an organisation that outgrows one machine keeps its history), reads back
// through the server on PostgreSQL exactly as that release answered (the compat fixtures).
#include "compat_fixture.hpp"
#include "store/database.hpp"
#include "store/postgres/test_database.hpp"
#include "support/temp_dir.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <filesystem>
#include <fstream>

using namespace switchboard;
using namespace switchboard::testing::compat;

TEST_SUITE("integration::postgres_copy") {
  TEST_CASE("store copy moves an earlier release's database into PostgreSQL, where it reads back unchanged") {
    SWITCHBOARD_POSTGRES_SERVERS_OR_SKIP(url);
    const fixture_secrets secrets;
    for (const auto& sha : releases) {
      CAPTURE(sha);
      testing::temp_dir dir;
      const auto database = dir.file("switchboard.db");
      std::filesystem::copy_file(fixture(sha + "/switchboard.db"), database);
      store::open_database(database);  // migrated forward, as a start of this release's server does
      std::string t_end = testing::read_text(fixture(sha + "/t_end"));
      t_end.erase(t_end.find_last_not_of(" \n") + 1);

      // The fixture's config beside its rules and tokens, on PostgreSQL.
      const auto config_dir = std::filesystem::path(dir.file("config"));
      std::filesystem::copy(fixture("config"), config_dir);
      const auto config = (config_dir / "final.toml").string();
      std::ofstream(config, std::ios::app) << "\n[storage]\nbackend = \"postgres\"\n";

      testing::postgres::test_schema schema(url);
      const auto target = testing::postgres::url_in_schema(url, schema.name(), "sb_" + schema.name());
      ::setenv("SWITCHBOARD_DATABASE_URL", target.c_str(), 1);
      const auto copied = testing::run_program({SWITCHBOARD_CLI_PATH, "--config", config, "store", "copy", "--from", database});
      CHECK_MESSAGE(copied.exit_code == 0, copied.err);
      CHECK(copied.out.find("copied ") == 0);
      // A second copy into the same (now full) database is refused and changes nothing.
      const auto events = schema.db().exec("SELECT COUNT(*) FROM events").integer(0, 0);
      const auto again = testing::run_program({SWITCHBOARD_CLI_PATH, "--config", config, "store", "copy", "--from", database});
      CHECK(again.exit_code == 1);
      CHECK_MESSAGE(again.err.find("copy into an empty database") != std::string::npos, again.err);
      CHECK(schema.db().exec("SELECT COUNT(*) FROM events").integer(0, 0) == events);
      {
        auto source = store::open_database(database, store::access::read_only);
        SQLite::Statement count(source, "SELECT COUNT(*) FROM events");
        REQUIRE(count.executeStep());
        CHECK(events == count.getColumn(0).getInt64());
        // Migration 17's column and counters come along (filled from the stored requests), and
        // migration 18's customers (seeded from the config) with their changes.
        for (const std::string sql : {"SELECT COUNT(*) FROM requests WHERE assignee IS NOT NULL",
                                      "SELECT COALESCE(SUM(open_assigned), 0) FROM person_load",
                                      "SELECT COUNT(*) FROM assignment_cursor",
                                      "SELECT COUNT(*) FROM customers WHERE source = 'config'",
                                      "SELECT COUNT(*) FROM customer_changes"}) {
          CAPTURE(sql);
          SQLite::Statement held(source, sql);
          REQUIRE(held.executeStep());
          CHECK(schema.db().exec(sql).integer(0, 0) == held.getColumn(0).getInt64());
        }
      }

      testing::server_process server({config, "", {"--clock-start", t_end, "--clock-speed", "0.001"}});
      ::unsetenv("SWITCHBOARD_DATABASE_URL");
      auto client = server.client(model::role::viewer);
      const auto requests = compare_with_release(client, sha);
      // New requests continue after the copied ids and events after the copied seqs.
      auto ce = server.client(model::role::ce);
      const auto filed = ce.post_json("/v1/requests", R"({"kind":"how_to","customer":{"id":"acme","name":"Acme",)"
                                                      R"("stage":"production","tier":"premium"},"title":"After the copy"})");
      CHECK_MESSAGE(filed.status == 201, filed.body);
      std::int64_t highest = 0;
      for (const auto& r : requests) highest = std::max(highest, r.as_object().at("id").as_int64());
      if (filed.status == 201) CHECK(json::parse(filed.body).at("id").as_int64() == highest + 1);
      CHECK(schema.db().exec("SELECT COUNT(*) FROM events").integer(0, 0) > events);
      CHECK(server.terminate() == 0);
    }
  }
}
