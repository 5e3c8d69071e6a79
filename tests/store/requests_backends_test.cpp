// What the PostgreSQL adapter adds to the request store's contract (ids from a sequence, rows
// locked for an action) and the byte budgets of its pages, on both adapters.
#include "store/requests.hpp"

#include "store/database.hpp"
#include "store/inbound.hpp"
#include "store/outbox.hpp"
#include "store/pages.hpp"
#include "support/backends.hpp"
#include "support/events.hpp"
#include "support/policy.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include <stdexcept>
#include <string>

using namespace switchboard;
using testing::make_input;
using testing::shipped_policy;

namespace {

const model::instant filed_at{std::chrono::seconds{1795000000}};

model::request file(store::unit_of_work db, model::request_kind kind, model::instant at = filed_at) {
  return store::record_new_request(db, shipped_policy(), {make_input(kind), model::actor{"dana", model::role::ce}}, at)
      .request;
}

std::vector<store::change> act(store::unit_of_work db, model::request_id id, engine::action_kind kind, model::role role,
                               engine::action_input fields, model::instant at) {
  auto outcome = store::record_action(db, shipped_policy(), id, {kind, std::move(fields), {"someone", role}}, at);
  if (auto* refused = std::get_if<engine::refusal>(&outcome)) FAIL(refused->code << ": " << refused->message);
  REQUIRE(std::holds_alternative<std::vector<store::change>>(outcome));
  return std::get<std::vector<store::change>>(outcome);
}

}  // namespace

TEST_SUITE("store::requests") {
  TEST_CASE("request ids run on without gaps, and an action that opens a request takes the next one") {
    testing::for_each_backend([](testing::backend& db) {
      CHECK(file(db, model::request_kind::troubleshooting).id == 1);
      CHECK(file(db, model::request_kind::troubleshooting).id == 2);
      // Actions that open nothing take no id.
      act(db, 1, engine::action_kind::respond, model::role::se, {.message = "Looking"}, filed_at + std::chrono::minutes{1});
      act(db, 2, engine::action_kind::pend, model::role::se, {.message = "Logs?"}, filed_at + std::chrono::minutes{2});
      CHECK(file(db, model::request_kind::how_to).id == 3);
      const auto engaged = act(db, 1, engine::action_kind::engage_engineering, model::role::se,
                               {.message = "zoekt panics"}, filed_at + std::chrono::minutes{3});
      REQUIRE(engaged.size() == 2);
      CHECK(engaged[1].request.id == 4);
      CHECK(engaged[1].request.parent == 1);
      const auto interrupt = store::find_request(db, 4);
      REQUIRE(interrupt);
      CHECK(interrupt->input.kind == model::request_kind::engineering_interrupt);
      CHECK(store::events_of(db, 4).size() == engaged[1].events.size());
      CHECK(file(db, model::request_kind::how_to).id == 5);
      CHECK(db.integer("SELECT COUNT(*) FROM requests") == 5);
    });
  }

  TEST_CASE("an action or a firing on a request that does not exist writes nothing") {
    testing::for_each_backend([](testing::backend& db) {
      file(db, model::request_kind::troubleshooting);
      const auto events = db.integer("SELECT COUNT(*) FROM events");
      const auto outcome = store::record_action(db, shipped_policy(), 9,
                                                {engine::action_kind::respond, {.message = "hello"}, {"sam", model::role::se}},
                                                filed_at);
      CHECK(std::holds_alternative<store::not_found>(outcome));
      CHECK_FALSE(store::record_due(db, shipped_policy(), 9, filed_at + std::chrono::hours{24 * 30}));
      CHECK(db.integer("SELECT COUNT(*) FROM events") == events);
      CHECK(db.integer("SELECT COUNT(*) FROM requests") == 1);
      CHECK_FALSE(store::find_request(db, 9));
    });
  }

  TEST_CASE("the newest event, the pending firings and the open counts read what was recorded") {
    testing::for_each_backend([](testing::backend& db) {
      CHECK_FALSE(store::newest_event_at(db));
      CHECK(store::pending_firings(db).empty());
      file(db, model::request_kind::troubleshooting, filed_at);
      file(db, model::request_kind::feature_request, filed_at + std::chrono::minutes{5});
      CHECK(store::newest_event_at(db) == filed_at + std::chrono::minutes{5});
      auto firings = store::pending_firings(db);
      std::sort(firings.begin(), firings.end());
      // The troubleshooting request's first-response clock, and Product's review deadline on the
      // feature request (the shipped product_review ladder).
      REQUIRE(firings.size() == 2);
      CHECK(firings[0].first == 1);
      CHECK(firings[0].second > filed_at);
      CHECK(firings[1].first == 2);
      CHECK(firings[1].second == store::find_request(db, 2)->review_due_at);
      CHECK(store::open_requests(db, model::team::se) == 1);
      CHECK(store::open_requests(db, model::team::product) == 1);
      CHECK(store::open_requests(db, model::team::engineering) == 0);
      act(db, 1, engine::action_kind::resolve, model::role::se, {}, filed_at + std::chrono::minutes{9});
      CHECK(store::open_requests(db, model::team::se) == 0);
      // Resolved, the first request now waits only for its closing ([workflow] close_after_days).
      firings = store::pending_firings(db);
      std::sort(firings.begin(), firings.end());
      REQUIRE(firings.size() == 2);
      CHECK(firings[0].first == 1);
      CHECK(firings[0].second == store::find_request(db, 1)->closes_at);
    });
  }

  TEST_CASE("pages of requests and of events stop before their byte budget, and hold at least one row") {
    testing::for_each_backend([](testing::backend& db) {
      for (int i = 0; i < 3; ++i) file(db, model::request_kind::troubleshooting);
      const auto size = [&](int id) {
        return db.text("SELECT document FROM requests WHERE id = " + std::to_string(id)).size();  // in bytes
      };
      store::request_filter filter;
      filter.max_bytes = size(3) + size(2) - 1;
      const auto first = store::list_requests(db, filter);
      REQUIRE(first.requests.size() == 1);
      CHECK(first.requests[0].id == 3);
      CHECK(first.next_before == 3);
      filter.max_bytes = size(3) + size(2);
      const auto two = store::list_request_documents(db, filter);
      REQUIRE(two.documents.size() == 2);
      CHECK(two.documents[1].first == 2);
      CHECK(two.documents[1].second == db.text("SELECT document FROM requests WHERE id = 2"));
      CHECK(two.next_before == 2);
      filter.max_bytes = 1;  // smaller than any row: one row a page all the same
      filter.before = 2;
      const auto last = store::list_requests(db, filter);
      REQUIRE(last.requests.size() == 1);
      CHECK(last.requests[0].id == 1);
      CHECK_FALSE(last.next_before);

      const auto all = store::events_of(db, 1);
      REQUIRE(all.size() >= 3);
      std::vector<std::string> walked;
      std::int64_t after = 0;
      for (int pages = 0; pages < 100; ++pages) {
        const auto page = store::list_events(db, 1, after, 100, 1);
        REQUIRE(page.events.size() == 1);
        walked.push_back(testing::type_of(page.events[0]));
        if (!page.next_after) break;
        after = *page.next_after;
      }
      REQUIRE(walked.size() == all.size());
      for (std::size_t i = 0; i < all.size(); ++i) CHECK(walked[i] == testing::type_of(all[i]));
    });
  }

  TEST_CASE("a PostgreSQL session refuses to hand out a SQLite connection") {
    testing::for_each_backend([](testing::backend& db) {
      if (db.postgres() == nullptr) return;  // nothing to refuse on SQLite
      file(db, model::request_kind::troubleshooting);
      // What a store function without a PostgreSQL version would reach for: a logic_error, never
      // SQLite's SQL on PostgreSQL (every function the server calls has one now).
      CHECK_THROWS_AS(db.connection(), std::logic_error);
    });
  }
}

TEST_SUITE("store::inbound") {
  TEST_CASE("a receipt is claimed once and names its request, and a participant is added once") {
    testing::for_each_backend([](testing::backend& db) {
      const auto id = file(db, model::request_kind::troubleshooting).id;
      CHECK(store::claim_receipt(db, "slack", "Ev1", filed_at));
      CHECK_FALSE(store::claim_receipt(db, "slack", "Ev1", filed_at + std::chrono::seconds{1}));  // a retry
      CHECK(store::claim_receipt(db, "mailgun", "Ev1", filed_at));  // another source, another key
      CHECK_FALSE(store::receipt_request(db, "slack", "Ev1"));      // claimed, not linked yet
      store::link_receipt(db, "slack", "Ev1", id);
      CHECK(store::receipt_request(db, "slack", "Ev1") == id);
      CHECK_FALSE(store::receipt_request(db, "slack", "Ev2"));
      CHECK(db.integer("SELECT COUNT(*) FROM inbound_receipts") == 2);

      CHECK_FALSE(store::is_participant(db, id, "alice@customer.test"));
      store::add_participant(db, id, "alice@customer.test");
      store::add_participant(db, id, "alice@customer.test");
      CHECK(store::is_participant(db, id, "alice@customer.test"));
      CHECK_FALSE(store::is_participant(db, id, "mallory@evil.test"));
      CHECK(db.integer("SELECT COUNT(*) FROM request_participants") == 1);
    });
  }
}

TEST_SUITE("store::database") {
  TEST_CASE("the heartbeat write keeps one row with the database's clock") {
    testing::for_each_backend([](testing::backend& db) {
      store::touch_heartbeat(db);
      store::touch_heartbeat(db);
      CHECK(db.integer("SELECT COUNT(*) FROM heartbeat") == 1);
      CHECK(db.integer("SELECT at FROM heartbeat WHERE id = 1") > 1'700'000'000);  // real time, not a test instant
    });
  }
}
