// Firings recorded once (events.firing_key) and a shard's pending timers, on both adapters.
#include "store/timer_leases.hpp"

#include "store/firing_key.hpp"
#include "store/requests.hpp"
#include "support/backends.hpp"
#include "support/events.hpp"
#include "support/policy.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <string>

using namespace switchboard;
using testing::make_input;
using testing::shipped_policy;

namespace {

const model::instant filed_at{std::chrono::seconds{1795000000}};

model::request file(store::unit_of_work db) {
  return store::record_new_request(db, shipped_policy(),
                                   {make_input(model::request_kind::troubleshooting), model::actor{"dana", model::role::ce}},
                                   filed_at)
      .request;
}

std::vector<model::request_id> ids_of(const std::vector<std::pair<model::request_id, model::instant>>& pending) {
  std::vector<model::request_id> out;
  for (const auto& entry : pending) out.push_back(entry.first);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_SUITE("store::timer_leases") {
  TEST_CASE("a firing is stored with its key, and recording the same firing again is refused") {
    testing::for_each_backend([](testing::backend& db) {
      const auto request = file(db);
      // A month later every clock has warned and breached, and the breach escalated.
      const auto fired = store::record_due(db, shipped_policy(), request.id, filed_at + std::chrono::hours{24 * 30});
      REQUIRE(fired);
      std::vector<engine::event> firings;
      for (const auto& e : fired->events)
        if (store::firing_key(e)) firings.push_back(e);
      REQUIRE(!firings.empty());
      CHECK(db.integer("SELECT COUNT(*) FROM events WHERE firing_key IS NOT NULL") ==
            static_cast<std::int64_t>(firings.size()));
      // Events a person causes carry none.
      CHECK(db.integer("SELECT COUNT(*) FROM events WHERE type = 'request.created' AND firing_key IS NULL") == 1);
      const auto breached = std::find_if(firings.begin(), firings.end(),
                                         [](const engine::event& e) { return model::type_name(e) == "sla.breached"; });
      REQUIRE(breached != firings.end());
      const auto key = *store::firing_key(*breached);
      CHECK(key.starts_with(fmt::format("sla.breached:{}:", request.id)));
      CHECK(db.integer(fmt::format("SELECT COUNT(*) FROM events WHERE firing_key = '{}'", key)) == 1);

      // The same firing once more (what a deposed timer holder would do): refused, not stored.
      CHECK_THROWS_AS(store::append_events(db, {*breached}), store::firing_recorded_twice);
      CHECK(db.integer(fmt::format("SELECT COUNT(*) FROM events WHERE firing_key = '{}'", key)) == 1);
      // Firing again at the same instant, from the stored state, records nothing more.
      const auto again = store::record_due(db, shipped_policy(), request.id, filed_at + std::chrono::hours{24 * 30});
      REQUIRE(again);
      CHECK(again->events.empty());
    });
  }

  TEST_CASE("pending timers are read by shard") {
    testing::for_each_backend([](testing::backend& db) {
      CHECK(db.integer("SELECT COUNT(*) FROM timer_leases WHERE holder IS NULL") == store::timer_shards);
      const auto first = file(db).id;
      const auto second = file(db).id;
      const auto third = file(db).id;
      CHECK(store::pending_firings(db, std::vector<int>{}).empty());
      CHECK(ids_of(store::pending_firings(db, {store::shard_of(second)})) == std::vector{second});
      CHECK(ids_of(store::pending_firings(db, {store::shard_of(first), store::shard_of(third)})) ==
            std::vector{first, third});
      std::vector<int> all;
      for (int shard = 0; shard < store::timer_shards; ++shard) all.push_back(shard);
      CHECK(ids_of(store::pending_firings(db, all)) == std::vector{first, second, third});
      CHECK(store::pending_firings(db, all).size() == store::pending_firings(db).size());
      if (db.name() == "sqlite") {
        // One process holds the file: its one local lease holds every shard.
        CHECK(store::holds_lease(db, "anyone", {store::shard_of(first), 0}));
      }
    });
  }
}
