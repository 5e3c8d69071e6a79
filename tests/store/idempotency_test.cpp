// Stored answers under Idempotency-Keys: per actor, and forgotten after 24 hours.
#include "store/idempotency.hpp"

#include "store/database.hpp"
#include "support/backends.hpp"

#include <doctest/doctest.h>

using namespace switchboard;

TEST_SUITE("store::idempotency") {
  TEST_CASE("a stored answer is found by actor and key until it is 24 hours old") {
    testing::for_each_backend([](testing::backend& db) {
      const std::int64_t t0 = 1'800'000'000;
      store::store_result(db, "ce:alice", "k1", {"fp", 201, R"({"id":1})", "/v1/requests/1"}, t0);

      const auto found = store::find_result(db, "ce:alice", "k1", t0 + 60);
      REQUIRE(found);
      CHECK(found->fingerprint == "fp");
      CHECK(found->status == 201);
      CHECK(found->body == R"({"id":1})");
      CHECK(found->location == "/v1/requests/1");
      CHECK_FALSE(store::find_result(db, "se:bob", "k1", t0 + 60));
      CHECK_FALSE(store::find_result(db, "ce:alice", "k2", t0 + 60));

      const std::int64_t day = 24 * 60 * 60;
      CHECK(store::find_result(db, "ce:alice", "k1", t0 + day - 1));
      CHECK_FALSE(store::find_result(db, "ce:alice", "k1", t0 + day));

      // A later store forgets expired rows, and may reuse the key.
      store::store_result(db, "ce:alice", "k1", {"fp2", 200, "{}", ""}, t0 + day + 5);
      CHECK(db.integer("SELECT COUNT(*) FROM idempotency_keys") == 1);
      CHECK(store::find_result(db, "ce:alice", "k1", t0 + day + 6)->fingerprint == "fp2");
    });
  }
}
