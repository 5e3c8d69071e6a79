#include "store/metrics.hpp"

#include "store/database.hpp"
#include "store/requests.hpp"
#include "support/backends.hpp"
#include "support/policy.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>

using namespace switchboard;

TEST_SUITE("store::metrics") {
  TEST_CASE("read_counts counts requests by status and their open clocks from the read models") {
    testing::for_each_backend([](testing::backend& db) {
      const auto empty = store::read_counts(db);
      CHECK(empty.requests_by_status.empty());
      CHECK(empty.open_clocks.empty());
      CHECK(empty.escalations_by_state.empty());
      CHECK(empty.deliveries.empty());

      const model::instant at{std::chrono::seconds{1795000000}};
      model::request_status status{};
      for (int i = 0; i < 3; ++i)
        status = store::record_new_request(db, testing::shipped_policy(),
                                           {testing::make_input(model::request_kind::troubleshooting),
                                            model::actor{"dana", model::role::ce}},
                                           at)
                     .request.status;
      const auto counts = store::read_counts(db);
      REQUIRE(counts.requests_by_status.size() == 1);
      CHECK(counts.requests_by_status[0].label == std::string(model::to_string(status)));
      CHECK(counts.requests_by_status[0].count == 3);
      // Each troubleshooting request starts running clocks, none breached yet.
      REQUIRE_FALSE(counts.open_clocks.empty());
      for (const auto& row : counts.open_clocks) {
        CHECK(row.state == "running");
        CHECK_FALSE(row.breached);
      }
      std::int64_t clocks = 0;
      for (const auto& row : counts.open_clocks) clocks += row.count;
      CHECK(clocks == db.integer("SELECT COUNT(*) FROM clocks WHERE open = 1"));
    });
  }
}
