// Databases written by earlier releases (tests/fixtures/compat/<sha>, made by make.sh there with
// that release's binaries) are read back unchanged: this build's server migrates a copy forward
// at start-up and gives every request and every page of its events exactly as that release
// gave them at the same simulated instant, and each stored read model is still the fold of its
// events.
#include "engine/engine.hpp"
#include "http/client.hpp"
#include "codec/json.hpp"
#include "store/database.hpp"
#include "store/requests.hpp"
#include "compat_fixture.hpp"
#include "support/api.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace switchboard;
namespace json = boost::json;

using namespace switchboard::testing::compat;

TEST_SUITE("compat") {
  TEST_CASE("a database written by an earlier release reads back unchanged, every request and every events page") {
    const fixture_secrets secrets;
    for (const auto& sha : releases) {
      CAPTURE(sha);
      testing::temp_dir dir;
      const auto database = dir.file("switchboard.db");
      std::filesystem::copy_file(fixture(sha + "/switchboard.db"), database);
      std::string t_end = testing::read_text(fixture(sha + "/t_end"));
      t_end.erase(t_end.find_last_not_of(" \n") + 1);

      // At the instant the answers were taken, on a clock that moves 0.06 s a wall minute, so
      // whatever the answers compute from "now" (time left on a clock) is computed at T_end too.
      testing::server_process server(
          {fixture("config/final.toml"), database, {"--clock-start", t_end, "--clock-speed", "0.001"}});
      auto client = server.client(model::role::viewer);

      const auto requests = compare_with_release(client, sha);
      CHECK(server.terminate() == 0);

      // The migrated copy's read models are still what their events fold to.
      auto db = store::open_database(database, store::access::read_only);
      for (const auto& want : requests) {
        const auto id = want.as_object().at("id").as_int64();
        CAPTURE(id);
        const auto stored = store::find_request(db, id);
        REQUIRE(stored.has_value());
        model::request replayed;
        for (const auto& e : store::events_of(db, id)) engine::apply(replayed, e);
        const json::value folded = codec::to_json(replayed);
        const json::value read = codec::to_json(*stored);
        const auto difference = first_difference(folded, read);
        CHECK_MESSAGE(difference.empty(), difference);
      }
    }
  }
}
