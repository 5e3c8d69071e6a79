// The assignment columns and counters (migration 17) on both adapters: requests.assignee,
// person_load and assignment_cursor, kept in the events' transaction, the ?assignee= listing, and
// the automatic assignment recorded with its filing.
#include "store/requests.hpp"

#include "store/database.hpp"
#include "support/backends.hpp"
#include "support/temp_dir.hpp"
#include "model/instant.hpp"
#include "support/policy.hpp"
#include "support/test_policy.hpp"

#include <doctest/doctest.h>

#include <chrono>

using namespace std::chrono_literals;
using namespace switchboard;
using model::role;

namespace {

// 10:00 UTC: lee (20:00-24:00 UTC) is off shift.
const model::instant filed_at = *model::parse_instant("2026-12-01T10:00:00Z");

// The test policy with SE members ana, lee (night) and sam; SE assigned by `strategy` when set.
engine::policy staffed(std::optional<model::assignment_strategy> strategy) {
  auto p = testing::test_policy();
  testing::add_night_calendar(p);
  for (auto person : {testing::person_of("ana", {role::se}, model::team::se, {model::team::se}),
                      testing::person_of("lee", {role::se}, model::team::se, {}, "night"),
                      testing::person_of("sam", {role::se}, model::team::se)})
    p.people.by_id.emplace(person.id, person);
  // The test policy's capacity ladder escalates SE over 2 open requests; it is not what these check.
  p.ladders.erase("capacity");
  if (strategy) p.assignment[model::team::se] = {*strategy, false};
  return p;
}

model::request file(store::unit_of_work db, const engine::policy& policy) {
  return store::record_new_request(db, policy,
                                   {testing::make_input(model::request_kind::troubleshooting), {"dana", role::ce}},
                                   filed_at)
      .request;
}

void act(store::unit_of_work db, const engine::policy& policy, model::request_id id, engine::action_kind kind,
         model::actor who, engine::action_input input = {}) {
  const auto outcome = store::record_action(db, policy, id, {kind, std::move(input), std::move(who)}, filed_at + 1min);
  if (const auto* refused = std::get_if<engine::refusal>(&outcome)) FAIL(refused->code << ": " << refused->message);
  REQUIRE(std::holds_alternative<std::vector<store::change>>(outcome));
}

std::vector<model::request_id> listed(store::unit_of_work db, std::string assignee) {
  store::request_filter filter;
  filter.assignee = std::move(assignee);
  filter.limit = 200;
  std::vector<model::request_id> out;
  for (const auto& r : store::list_requests(db, filter).requests) out.push_back(r.id);
  return out;
}

}  // namespace

TEST_SUITE("store::assignment") {
  TEST_CASE("take and assign keep requests.assignee and person_load in the events' transaction") {
    testing::for_each_backend([](testing::backend& db) {
      const auto policy = staffed(std::nullopt);
      for (int i = 0; i < 3; ++i) file(db, policy);
      CHECK(db.text("SELECT COALESCE(assignee, 'null') FROM requests WHERE id = 1") == "null");
      CHECK(db.integer("SELECT COUNT(*) FROM person_load") == 0);
      act(db, policy, 1, engine::action_kind::take, {"sam", role::se});
      act(db, policy, 2, engine::action_kind::take, {"sam", role::se});
      act(db, policy, 3, engine::action_kind::assign, {"ana", role::se}, {.reason = "knows it", .assignee = "ana"});
      CHECK(db.text("SELECT assignee FROM requests WHERE id = 1") == "sam");
      CHECK(db.integer("SELECT open_assigned FROM person_load WHERE person = 'sam'") == 2);
      CHECK(db.integer("SELECT open_assigned FROM person_load WHERE person = 'ana'") == 1);
      CHECK(listed(db, "sam") == std::vector<model::request_id>{2, 1});
      CHECK(listed(db, "ana") == std::vector<model::request_id>{3});
      CHECK(listed(db, "").empty());
      // Reassigned: the load moves with it. Resolved: it no longer counts.
      act(db, policy, 2, engine::action_kind::assign, {"ana", role::se}, {.reason = "balance", .assignee = "ana"});
      CHECK(db.integer("SELECT open_assigned FROM person_load WHERE person = 'sam'") == 1);
      CHECK(db.integer("SELECT open_assigned FROM person_load WHERE person = 'ana'") == 2);
      act(db, policy, 3, engine::action_kind::resolve, {"ana", role::se}, {.message = "Fixed"});
      CHECK(db.integer("SELECT open_assigned FROM person_load WHERE person = 'ana'") == 1);
      CHECK(db.text("SELECT assignee FROM requests WHERE id = 3") == "ana");  // still shown as its holder
      // A recount equals the counters.
      CHECK(db.integer("SELECT COUNT(*) FROM requests WHERE assignee = 'ana'"
                       " AND status IN ('new', 'open', 'pending_customer', 'escalated')") == 1);
    });
  }

  TEST_CASE("round_robin filings are assigned in their own transaction, skip the person off shift, and move the cursor") {
    testing::for_each_backend([](testing::backend& db) {
      const auto policy = staffed(model::assignment_strategy::round_robin);
      for (int i = 0; i < 4; ++i) {
        const auto r = file(db, policy);
        CHECK(r.assignee == (i % 2 == 0 ? "ana" : "sam"));
      }
      CHECK(db.text("SELECT last_person FROM assignment_cursor WHERE team = 'se'") == "sam");
      CHECK(db.integer("SELECT open_assigned FROM person_load WHERE person = 'ana'") == 2);
      CHECK(db.integer("SELECT open_assigned FROM person_load WHERE person = 'sam'") == 2);
      CHECK(db.integer("SELECT COUNT(*) FROM person_load WHERE person = 'lee'") == 0);
      CHECK(listed(db, "ana") == std::vector<model::request_id>{3, 1});
      const auto* how = "SELECT data FROM events WHERE type = 'request.assigned' AND request_id = 2";
      const auto data = db.text(how);
      CHECK(data.find(R"("how":"auto")") != std::string::npos);
      CHECK(data.find("off shift until 2026-12-01T20:00:00Z") != std::string::npos);
      CHECK(db.text("SELECT actor FROM events WHERE type = 'request.assigned' AND request_id = 2") == "system");
    });
  }

  TEST_CASE("least_loaded with nobody under capacity leaves the request unassigned and listed as none") {
    testing::for_each_backend([](testing::backend& db) {
      auto policy = staffed(model::assignment_strategy::least_loaded);
      policy.people.by_id.at("ana").capacity = 1;
      policy.people.by_id.at("sam").capacity = 1;
      CHECK(file(db, policy).assignee == "ana");
      CHECK(file(db, policy).assignee == "sam");
      CHECK(file(db, policy).assignee.empty());
      CHECK(listed(db, "") == std::vector<model::request_id>{3});
      CHECK(db.integer("SELECT COUNT(*) FROM events WHERE request_id = 3 AND type = 'request.assigned'") == 0);
    });
  }
}

TEST_SUITE("store::assignment") {
  TEST_CASE("migration 17 fills requests.assignee and person_load from requests already stored") {
    testing::temp_dir dir;
    const auto path = dir.file("switchboard.db");
    {
      auto db = store::open_database(path);
      const auto policy = staffed(std::nullopt);
      for (int i = 0; i < 3; ++i) file(db, policy);
      act(db, policy, 1, engine::action_kind::take, {"sam", role::se});
      act(db, policy, 2, engine::action_kind::take, {"sam", role::se});
      act(db, policy, 2, engine::action_kind::resolve, {"sam", role::se}, {.message = "Done"});
      // Back to schema 16, as a database written before this migration looks.
      db.exec("DROP INDEX requests_by_assignee; DROP INDEX requests_unassigned;"
              " ALTER TABLE requests DROP COLUMN assignee; DROP TABLE person_load; DROP TABLE assignment_cursor;"
              " DROP TABLE customer_changes; DROP TABLE customers;"
              " DROP TABLE use_case_load; DROP TABLE decisions; DROP TABLE clock_facts;"
              " DELETE FROM schema_migrations WHERE version >= 17");
      CHECK(store::schema_version(db) == 16);
    }
    auto db = store::open_database(path);
    CHECK(store::schema_version(db) == store::latest_schema_version());
    CHECK(db.execAndGet("SELECT assignee FROM requests WHERE id = 1").getString() == "sam");
    CHECK(db.execAndGet("SELECT assignee FROM requests WHERE id = 2").getString() == "sam");
    CHECK(db.execAndGet("SELECT assignee IS NULL FROM requests WHERE id = 3").getInt() == 1);
    // Request 2 is resolved: only request 1 counts.
    CHECK(db.execAndGet("SELECT open_assigned FROM person_load WHERE person = 'sam'").getInt() == 1);
  }
}
