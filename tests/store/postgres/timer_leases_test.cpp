// Timer leases on PostgreSQL (issue 12 D3): instances split the 64 shards, a dead holder's
// shards are taken over, a clean stop frees them, and a deposed holder records nothing.
#include "store/postgres/timer_leases.hpp"

#include "store/lease_keeper.hpp"
#include "store/postgres/schema.hpp"
#include "store/postgres/test_database.hpp"
#include "store/requests.hpp"
#include "support/events.hpp"
#include "support/policy.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>

using namespace switchboard;
using namespace std::chrono_literals;
namespace pg = store::postgres;

namespace {

const model::instant filed_at{std::chrono::seconds{1795000000}};

std::set<int> shards_of(const std::vector<store::shard_lease>& held) {
  std::set<int> out;
  for (const auto& lease : held) out.insert(lease.shard);
  return out;
}

template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds within = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// What a keeper's listener last said.
struct watched {
  std::mutex mutex;
  std::vector<store::shard_lease> held;
  int live = 0;
  store::lease_keeper::listener listener() {
    return [this](const std::vector<store::shard_lease>& now, int instances) {
      std::lock_guard lock(mutex);
      held = now;
      live = instances;
    };
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return held.size();
  }
};

std::int64_t firings_of(store::pq::connection& db, model::request_id id) {
  return db.exec(fmt::format("SELECT COUNT(*) FROM events WHERE request_id = {} AND firing_key IS NOT NULL", id))
      .integer(0, 0);
}

}  // namespace

TEST_SUITE("store::postgres::timer_leases") {
  TEST_CASE("instances split the 64 shards, and those above their fair share give shards up when one joins") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    pg::migrate(schema.db());
    auto a = schema.connect();
    auto b = schema.connect();
    auto c = schema.connect();

    auto first = pg::renew_leases(a, "A", 60s);
    CHECK(first.held.size() == 64);
    CHECK(first.live_instances == 1);
    CHECK(std::all_of(first.held.begin(), first.held.end(), [](const auto& l) { return l.token == 1; }));

    // B joins: nothing is free yet, but A sees two instances at its next round and frees half.
    auto joined = pg::renew_leases(b, "B", 60s);
    CHECK(joined.held.empty());
    CHECK(joined.live_instances == 2);
    CHECK(joined.fair_share == 32);
    const auto a_after = pg::renew_leases(a, "A", 60s);
    CHECK(a_after.held.size() == 32);
    const auto b_after = pg::renew_leases(b, "B", 60s);
    CHECK(b_after.held.size() == 32);
    std::set<int> both = shards_of(a_after.held);
    for (int shard : shards_of(b_after.held)) CHECK(both.insert(shard).second);  // no shard twice
    CHECK(both.size() == 64);
    // A shard changing hands is claimed under a new token.
    CHECK(std::all_of(b_after.held.begin(), b_after.held.end(), [](const auto& l) { return l.token == 2; }));

    // A third: ceil(64 / 3) = 22 each at most; every shard held once.
    CHECK(pg::renew_leases(c, "C", 60s).fair_share == 22);
    pg::renew_leases(a, "A", 60s);
    pg::renew_leases(b, "B", 60s);
    const auto third = pg::renew_leases(c, "C", 60s);
    CHECK(third.held.size() == 20);
    CHECK(c.exec("SELECT COUNT(DISTINCT shard), COUNT(*) FILTER (WHERE holder IS NULL) FROM timer_leases").text(0, 0) ==
          "64");
    CHECK(c.exec("SELECT holder, COUNT(*) FROM timer_leases GROUP BY holder HAVING COUNT(*) > 22").rows() == 0);
    CHECK(c.exec("SELECT COUNT(*) FROM timer_leases WHERE holder IS NULL").integer(0, 0) == 0);
    CHECK(c.exec("SELECT COUNT(*) FROM instances").integer(0, 0) == 3);
  }

  TEST_CASE("an instance that stops renewing loses its shards to the live one within lease + 1 s") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    pg::migrate(schema.db());
    const auto lease = 1000ms;
    watched seen_a, seen_b;
    auto a = store::lease_keeper::postgres(testing::postgres::url_in_schema(url, schema.name()), "A", lease);
    auto b = store::lease_keeper::postgres(testing::postgres::url_in_schema(url, schema.name()), "B", lease);
    a->start(seen_a.listener());
    CHECK(seen_a.count() == 64);  // the first round runs in start()
    b->start(seen_b.listener());
    // Rebalanced within a few renewals (every lease/10).
    REQUIRE(eventually([&] { return seen_a.count() == 32 && seen_b.count() == 32; }));

    // A stops renewing as if killed: no release. Its leases were renewed at most now.
    a->stop(false);
    const auto stopped = std::chrono::steady_clock::now();
    REQUIRE(eventually([&] { return seen_b.count() == 64; }));
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - stopped);
    MESSAGE("takeover after ", took.count(), " ms with a lease of ", lease.count(), " ms");
    CHECK(took <= lease + 1000ms);
    b->stop(true);
    CHECK(schema.db().exec("SELECT COUNT(*) FROM timer_leases WHERE holder IS NOT NULL").integer(0, 0) == 0);
  }

  TEST_CASE("a clean stop frees the shards at once") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    pg::migrate(schema.db());
    watched seen;
    auto a = store::lease_keeper::postgres(testing::postgres::url_in_schema(url, schema.name()), "A", 60s);
    a->start(seen.listener());
    CHECK(seen.count() == 64);
    a->stop(true);
    // Not after the minute's lease: now.
    auto b = schema.connect();
    const auto round = pg::renew_leases(b, "B", 60s);
    CHECK(round.held.size() == 64);
    CHECK(round.live_instances == 1);
  }

  TEST_CASE("a deposed holder's firing job records nothing, and a fenced shard is claimed only after the firing commits") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    pg::migrate(schema.db());
    auto a = schema.connect();
    auto b = schema.connect();
    auto c = schema.connect();
    const auto& policy = testing::shipped_policy();
    const auto id =
        store::record_new_request(store::unit_of_work(a), policy,
                                  {testing::make_input(model::request_kind::troubleshooting), model::actor{"dana", model::role::ce}},
                                  filed_at)
            .request.id;
    const auto due = filed_at + std::chrono::hours{24 * 30};
    const int shard = store::shard_of(id);

    const auto held_by_a = pg::renew_leases(a, "A", 60s);
    const auto a_lease = *std::find_if(held_by_a.held.begin(), held_by_a.held.end(),
                                       [&](const auto& l) { return l.shard == shard; });
    // A is gone (its lease expired, its heartbeat too) and B claims everything.
    b.exec("UPDATE timer_leases SET expires_at = 0; DELETE FROM instances");
    const auto held_by_b = pg::renew_leases(b, "B", 60s);
    REQUIRE(held_by_b.held.size() == 64);
    const auto b_lease = *std::find_if(held_by_b.held.begin(), held_by_b.held.end(),
                                       [&](const auto& l) { return l.shard == shard; });
    CHECK(b_lease.token == a_lease.token + 1);

    // A's firing job, as the scheduler runs it: the fence fails, nothing is recorded.
    const auto job = [&](store::pq::connection& db, const std::string& holder, const store::shard_lease& lease) {
      store::pq::transaction transaction(db);
      store::unit_of_work work(db);
      bool recorded = false;
      if (store::holds_lease(work, holder, lease)) recorded = store::record_due(work, policy, id, due).has_value();
      transaction.commit();
      return recorded;
    };
    CHECK_FALSE(job(a, "A", a_lease));
    CHECK(firings_of(a, id) == 0);
    // The holder's job records the firings, once.
    CHECK(job(b, "B", b_lease));
    const auto recorded = firings_of(a, id);
    CHECK(recorded > 0);
    CHECK_FALSE(job(a, "A", a_lease));
    CHECK(job(b, "B", b_lease));  // the state has fired: nothing new
    CHECK(firings_of(a, id) == recorded);

    // The fence holds the lease row until the job commits: a claimer skips it meanwhile.
    b.exec(fmt::format("UPDATE timer_leases SET expires_at = (extract(epoch FROM clock_timestamp()) * 1000)::bigint + "
                       "300 WHERE shard = {}",
                       shard));
    {
      store::pq::transaction transaction(b);
      REQUIRE(store::holds_lease(store::unit_of_work(b), "B", b_lease));
      // The lease runs out while the job is still open.
      REQUIRE(eventually([&] {
        return c.exec(fmt::format("SELECT expires_at < (extract(epoch FROM clock_timestamp()) * 1000)::bigint FROM "
                                  "timer_leases WHERE shard = {}",
                                  shard))
                   .text(0, 0) == "t";
      }));
      c.exec("DELETE FROM instances");
      const auto claimed = pg::renew_leases(c, "C", 60s);
      CHECK_FALSE(shards_of(claimed.held).contains(shard));
      transaction.commit();
    }
    const auto after = pg::renew_leases(c, "C", 60s);
    CHECK(shards_of(after.held).contains(shard));
    CHECK_FALSE(store::holds_lease(store::unit_of_work(b), "B", b_lease));
  }
}
