// Outbox leases (issue 12 plan D4) and Idempotency-Key claims (D2) in the store: a claimed row is
// its holder's until the lease runs out, only the claim's token records an attempt, PostgreSQL
// claims from two sessions take different rows without waiting, and a second claim of an
// Idempotency-Key waits for the first one's commit and then reads its answer.
#include "store/outbox.hpp"

#include "store/idempotency.hpp"
#include "support/backends.hpp"
#if SWITCHBOARD_POSTGRES
#include "store/postgres/schema.hpp"
#include "store/postgres/test_database.hpp"
#endif

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <thread>

using namespace switchboard;
using namespace std::chrono_literals;

namespace {

const model::instant t0{std::chrono::seconds{1'800'000'000}};

// Inserts a pending row due at t0 and returns its id.
std::int64_t pending_row(testing::backend& db, int n, std::string_view channel = "webhook") {
  db.exec(fmt::format("INSERT INTO outbox (webhook_id, subscription, event_type, event_seq, request_id, payload,"
                      " created_at, window_start, state, next_attempt_at, channel) VALUES ('msg_{0}', 'hooks',"
                      " 'request.routed', {0}, {0}, '{{}}', 1800000000, 1800000000, 'pending', 1800000000, '{1}')",
                      n, channel));
  return db.integer(fmt::format("SELECT id FROM outbox WHERE webhook_id = 'msg_{}'", n));
}

store::lease_claim claim_by(std::string holder, int limit, std::chrono::milliseconds lease = 60s) {
  return store::lease_claim{std::move(holder), lease, t0, limit};
}

store::attempt_result delivered(std::optional<std::int64_t> token) {
  store::attempt_result r;
  r.attempt = store::delivery_attempt{1, t0, 204, "", 5};
  r.next_state = store::delivery_state::delivered;
  r.lease_token = token;
  return r;
}

std::vector<std::int64_t> ids_of(const std::vector<store::delivery>& rows) {
  std::vector<std::int64_t> out;
  for (const auto& d : rows) out.push_back(d.id);
  return out;
}

}  // namespace

TEST_SUITE("store::outbox_lease") {
  TEST_CASE("a claimed row is its holder's until the lease runs out, and only the claim's token records it") {
    testing::for_each_backend([](testing::backend& db) {
      const auto first = pending_row(db, 1);
      const auto second = pending_row(db, 2);
      const auto third = pending_row(db, 3);
      const auto message = pending_row(db, 4, "email");

      const auto a = store::claim_due(db, store::outbox_queue::webhooks, claim_by("a", 2));
      CHECK(ids_of(a) == std::vector<std::int64_t>{first, second});
      for (const auto& d : a) {
        CHECK(d.lease_holder == "a");
        CHECK(d.lease_token == 1);
        CHECK(d.lease_until_ms.has_value());
      }
      // Held rows are nobody else's: b gets the third only, and the message queue its own row.
      CHECK(ids_of(store::claim_due(db, store::outbox_queue::webhooks, claim_by("b", 10))) ==
            std::vector<std::int64_t>{third});
      CHECK(store::claim_due(db, store::outbox_queue::webhooks, claim_by("c", 10)).empty());
      CHECK(ids_of(store::claim_due(db, store::outbox_queue::messages, claim_by("c", 10))) ==
            std::vector<std::int64_t>{message});

      // The first row's attempt: refused without the token, recorded with it, the lease freed.
      CHECK_FALSE(store::record_attempt(db, first, delivered(std::nullopt)));
      CHECK_FALSE(store::record_attempt(db, first, delivered(2)));
      CHECK(store::record_attempt(db, first, delivered(1)));
      CHECK(db.text(fmt::format("SELECT state FROM outbox WHERE id = {}", first)) == "delivered");
      CHECK(db.text(fmt::format("SELECT lease_holder FROM outbox WHERE id = {}", first)).empty());

      // a's lease on the second row runs out (as if a's instance died sending it): b takes it over
      // with the next token, and a's late record and dead letter change nothing.
      db.exec(fmt::format("UPDATE outbox SET lease_until = 0 WHERE id = {}", second));
      const auto taken = store::claim_due(db, store::outbox_queue::webhooks, claim_by("b", 10));
      REQUIRE(ids_of(taken) == std::vector<std::int64_t>{second});
      CHECK(taken.front().lease_holder == "b");
      CHECK(taken.front().lease_token == 2);
      CHECK_FALSE(store::record_attempt(db, second, delivered(1)));
      store::dead_letter(db, second, "stale holder", 1);
      CHECK(db.text(fmt::format("SELECT state FROM outbox WHERE id = {}", second)) == "pending");
      CHECK(db.integer(fmt::format("SELECT COUNT(*) FROM delivery_attempts WHERE outbox_id = {}", second)) == 0);
      CHECK(store::record_attempt(db, second, delivered(2)));
      CHECK(db.integer(fmt::format("SELECT COUNT(*) FROM delivery_attempts WHERE outbox_id = {}", second)) == 1);

      // A graceful stop frees b's leases: the third row is due again at once, with a new token.
      CHECK(store::release_leases(db, std::string_view("b")) == 1);
      const auto again = store::claim_due(db, store::outbox_queue::webhooks, claim_by("d", 10));
      REQUIRE(ids_of(again) == std::vector<std::int64_t>{third});
      CHECK(again.front().lease_token == 2);
      store::dead_letter(db, third, "gone", 2);
      CHECK(db.text(fmt::format("SELECT state FROM outbox WHERE id = {}", third)) == "dead");
      // Every lease (a SQLite file's at start): the message row is free again.
      CHECK(store::release_leases(db, std::nullopt) == 1);
    });
  }

  TEST_CASE("an Idempotency-Key is claimed before the work, answered once stored, and freed for a 5xx") {
    testing::for_each_backend([](testing::backend& db) {
      const std::int64_t now = 1'800'000'000;
      CHECK_FALSE(store::claim_key(db, "ce:alice", "k1", "fp", now));  // claimed: run the work
      store::store_result(db, "ce:alice", "k1", {"fp", 201, R"({"id":1})", "/v1/requests/1"}, now);
      const auto replay = store::claim_key(db, "ce:alice", "k1", "fp", now + 1);
      REQUIRE(replay);
      CHECK(replay->status == 201);
      CHECK(replay->body == R"({"id":1})");
      CHECK_FALSE(store::claim_key(db, "se:bob", "k1", "fp", now));  // keys are per actor

      CHECK_FALSE(store::claim_key(db, "ce:alice", "k2", "fp", now));
      store::release_key(db, "ce:alice", "k2");  // a 5xx: a retry runs again
      CHECK_FALSE(store::claim_key(db, "ce:alice", "k2", "fp", now));

      // After 24 hours the key is claimed anew.
      CHECK_FALSE(store::claim_key(db, "ce:alice", "k1", "fp", now + 24 * 3600));
    });
  }

#if SWITCHBOARD_POSTGRES
  TEST_CASE("on PostgreSQL, claims from two sessions at once take different rows and never wait") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    store::postgres::migrate(schema.db());
    testing::backend setup(schema.db());
    for (int n = 1; n <= 10; ++n) pending_row(setup, n);

    auto first = schema.connect();
    auto second = schema.connect();
    store::pq::transaction open(first);
    const auto a = store::claim_due(store::unit_of_work(first), store::outbox_queue::webhooks, claim_by("a", 4));
    CHECK(a.size() == 4);
    // a's claim is not committed: its rows are locked, and b's claim passes over them at once
    // (a wait here would block this thread until a's commit, below, and the test would hang).
    const auto b = store::claim_due(store::unit_of_work(second), store::outbox_queue::webhooks, claim_by("b", 10));
    CHECK(b.size() == 6);
    std::set<std::int64_t> all;
    for (const auto& d : a) all.insert(d.id);
    for (const auto& d : b) all.insert(d.id);
    CHECK(all.size() == 10);
    open.commit();
    CHECK(store::claim_due(store::unit_of_work(second), store::outbox_queue::webhooks, claim_by("b", 10)).empty());
    CHECK(schema.db().exec("SELECT COUNT(*) FROM outbox WHERE lease_holder = 'a'").integer(0, 0) == 4);
  }

  TEST_CASE("on PostgreSQL, a second claim of an Idempotency-Key waits for the first's commit and reads its answer") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    store::postgres::migrate(schema.db());
    const std::int64_t now = 1'800'000'000;

    for (const bool commits : {true, false}) {
      CAPTURE(commits);
      const std::string key = commits ? "committed" : "rolled-back";
      auto first = schema.connect();
      auto second = schema.connect();
      store::pq::transaction open(first);
      CHECK_FALSE(store::claim_key(store::unit_of_work(first), "ce:alice", key, "fp", now));
      std::atomic<bool> returned{false};
      auto waiting = std::async(std::launch::async, [&] {
        store::pq::transaction other(second);
        auto got = store::claim_key(store::unit_of_work(second), "ce:alice", key, "fp", now);
        returned = true;
        other.commit();
        return got;
      });
      // It waits on the first's uncommitted row: PostgreSQL shows it waiting for a lock.
      const auto deadline = std::chrono::steady_clock::now() + 10s;
      while (schema.db()
                 .exec("SELECT COUNT(*) FROM pg_locks WHERE NOT granted AND pid = $1::int", {second.backend_pid()})
                 .integer(0, 0) == 0 &&
             std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
      CHECK_FALSE(returned.load());
      if (commits) {
        store::store_result(store::unit_of_work(first), "ce:alice", key, {"fp", 201, R"({"id":7})", "/v1/requests/7"},
                            now);
        open.commit();
        const auto got = waiting.get();
        REQUIRE(got);  // the answer to replay, not a second run
        CHECK(got->status == 201);
        CHECK(got->body == R"({"id":7})");
      } else {
        open.rollback();
        CHECK_FALSE(waiting.get());  // the first gave up: the second claims the key and runs
      }
    }
  }
#endif
}
