#include "store/outbox.hpp"

#include "codec/json.hpp"
#include "store/database.hpp"
#include "store/requests.hpp"
#include "support/policy.hpp"

#include <SQLiteCpp/Transaction.h>
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <set>

using namespace switchboard;
namespace json = boost::json;

namespace {

const model::instant filed_at{std::chrono::seconds{1795000000}};

engine::policy policy_with(std::vector<engine::outbound_route> routes) {
  auto policy = testing::shipped_policy();
  policy.outbound = std::move(routes);
  return policy;
}

store::change file(SQLite::Database& db, const engine::policy& policy) {
  SQLite::Transaction transaction(db);
  auto changed = store::record_new_request(
      db, policy,
      {testing::make_input(model::request_kind::troubleshooting), model::actor{"dana", model::role::ce}}, filed_at);
  transaction.commit();
  return changed;
}

}  // namespace

TEST_SUITE("notify::outbox") {
  TEST_CASE("events are enqueued per matching subscription in the event's transaction") {
    auto db = store::open_database(":memory:");
    const auto policy = policy_with({{"ops", {"request.*"}}, {"routing", {"request.routed"}}, {"none", {"sla.breached"}}});
    const auto changed = file(db, policy);

    const auto all = store::list_deliveries(db, {});
    std::multiset<std::string> seen;
    for (const auto& d : all) seen.insert(d.subscription + " " + d.event_type);
    CHECK(seen == std::multiset<std::string>{"ops request.created", "ops request.routed", "routing request.routed"});

    std::set<std::string> ids;
    for (const auto& d : all) {
      CHECK(d.state == store::delivery_state::pending);
      CHECK(d.webhook_id.starts_with("msg_"));
      CHECK(d.webhook_id.find('.') == std::string::npos);
      ids.insert(d.webhook_id);
      CHECK(d.request_id == changed.request.id);
      // data.event_id is the event's seq in the log, and the envelope is Standard Webhooks'.
      const auto payload = json::parse(d.payload).as_object();
      CHECK(std::string_view(payload.at("type").as_string()) == d.event_type);
      CHECK(std::string_view(payload.at("timestamp").as_string()) == model::format_instant(filed_at));
      const auto& data = payload.at("data").as_object();
      CHECK(data.at("event_id").as_int64() == d.event_seq);
      SQLite::Statement event(db, "SELECT type FROM events WHERE seq = ?");
      event.bind(1, d.event_seq);
      REQUIRE(event.executeStep());
      CHECK(event.getColumn(0).getString() == d.event_type);
      CHECK(std::string_view(data.at("request").at("title").as_string()) == changed.request.input.title);
    }
    CHECK(ids.size() == all.size());
  }

  TEST_CASE("nothing is enqueued when the transaction rolls back, or without subscriptions") {
    auto db = store::open_database(":memory:");
    {
      SQLite::Transaction transaction(db);
      store::record_new_request(
          db, policy_with({{"ops", {"*"}}}),
          {testing::make_input(model::request_kind::how_to), model::actor{"dana", model::role::ce}}, filed_at);
    }  // rolled back
    CHECK(store::list_deliveries(db, {}).empty());
    file(db, testing::shipped_policy());
    CHECK(store::list_deliveries(db, {}).empty());
  }

  TEST_CASE("attempts are logged once, redeliver keeps the webhook-id and re-enables the subscription") {
    auto db = store::open_database(":memory:");
    file(db, policy_with({{"ops", {"request.routed"}}}));
    auto due = store::due_deliveries(db, filed_at, 10);
    REQUIRE(due.size() == 1);
    const auto d = due.front();
    CHECK(*store::next_pending_at(db) == filed_at);

    store::attempt_result failed;
    failed.attempt = {1, filed_at, 503, "HTTP 503", 12};
    failed.next_attempt_at = filed_at + std::chrono::seconds{5};
    CHECK(store::record_attempt(db, d.id, failed));
    CHECK_FALSE(store::record_attempt(db, d.id, failed));  // the same attempt twice is ignored
    CHECK(store::due_deliveries(db, filed_at, 10).empty());
    CHECK(store::due_deliveries(db, filed_at + std::chrono::seconds{5}, 10).size() == 1);

    store::attempt_result gone;
    gone.attempt = {2, filed_at + std::chrono::seconds{5}, 410, "HTTP 410", 3};
    gone.next_state = store::delivery_state::dead;
    gone.dead_reason = "410 Gone";
    CHECK(store::record_attempt(db, d.id, gone));
    store::disable_subscription(db, "ops", "the endpoint answered 410 Gone", filed_at);
    CHECK(store::disabled_subscriptions(db).size() == 1);
    auto dead = *store::find_delivery(db, d.id);
    CHECK(dead.state == store::delivery_state::dead);
    CHECK(dead.last_status == 410);
    CHECK(dead.last_error == "HTTP 410; 410 Gone");
    store::delivery_filter only_dead;
    only_dead.state = store::delivery_state::dead;
    CHECK(store::list_deliveries(db, only_dead).size() == 1);
    store::delivery_filter only_pending;
    only_pending.state = store::delivery_state::pending;
    CHECK(store::list_deliveries(db, only_pending).empty());

    const auto later = filed_at + std::chrono::hours{48};
    CHECK(store::redeliver(db, d.id, later));
    CHECK_FALSE(store::redeliver(db, 9999, later));
    CHECK(store::disabled_subscriptions(db).empty());
    auto again = *store::find_delivery(db, d.id);
    CHECK(again.state == store::delivery_state::pending);
    CHECK(again.webhook_id == d.webhook_id);
    CHECK(again.window_start == later);

    store::attempt_result ok;
    ok.attempt = {3, later, 204, "", 4};
    ok.next_state = store::delivery_state::delivered;
    CHECK(store::record_attempt(db, d.id, ok));
    const auto attempts = store::attempts_of(db, d.id);
    REQUIRE(attempts.size() == 3);
    CHECK(attempts[0].status == 503);
    CHECK(attempts[2].status == 204);
    CHECK(store::find_delivery(db, d.id)->delivered_at == later);
  }
}
