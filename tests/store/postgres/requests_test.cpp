#include "store/postgres/requests.hpp"

#include "store/postgres/schema.hpp"
#include "store/postgres/test_database.hpp"
#include "store/database.hpp"
#include "support/backends.hpp"
#include "support/policy.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <exception>
#include <optional>
#include <thread>
#include <vector>

using namespace switchboard;
using testing::make_input;
using testing::shipped_policy;

namespace {
const model::instant filed_at{std::chrono::seconds{1795000000}};
}  // namespace

TEST_SUITE("store::postgres::requests") {
  TEST_CASE("an action waits for another transaction acting on the same request, then decides on what it committed") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    auto& first = schema.db();
    store::postgres::migrate(first);
    auto second = schema.connect();
    const auto id = store::record_new_request(store::unit_of_work(first), shipped_policy(),
                                              {make_input(model::request_kind::troubleshooting), {"dana", model::role::ce}},
                                              filed_at)
                        .request.id;
    const engine::act_on_request resolve{engine::action_kind::resolve, {}, {"sam", model::role::se}};

    first.exec("BEGIN");
    const auto resolved = store::record_action(store::unit_of_work(first), shipped_policy(), id, resolve,
                                               filed_at + std::chrono::minutes{1});
    REQUIRE(std::holds_alternative<std::vector<store::change>>(resolved));

    // The same action from another session while the first transaction is open: it must wait
    // for the request's row, then see the request resolved and be refused. Without the row lock
    // it would decide on the stale document and record a second request.resolved.
    const int racer_pid = second.backend_pid();
    std::optional<store::action_outcome> raced;
    std::exception_ptr racer_error;
    std::thread racer([&] {
      try {
        raced = store::record_action(store::unit_of_work(second), shipped_policy(), id, resolve,
                                     filed_at + std::chrono::minutes{2});
      } catch (...) {
        racer_error = std::current_exception();
      }
    });
    bool waited = false;
    for (const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
         !waited && std::chrono::steady_clock::now() < deadline;)
      waited = first.exec("SELECT COUNT(*) FROM pg_locks WHERE NOT granted AND pid = $1::int", {racer_pid}).integer(0, 0) > 0;
    first.exec("COMMIT");
    racer.join();
    CHECK(waited);
    if (racer_error) std::rethrow_exception(racer_error);
    REQUIRE(raced);
    CHECK(std::holds_alternative<engine::refusal>(*raced));
    CHECK(first.exec("SELECT COUNT(*) FROM events WHERE type = 'request.resolved'").integer(0, 0) == 1);
    const auto stored = store::find_request(store::read_session(first), id);
    REQUIRE(stored);
    CHECK(stored->status == model::request_status::resolved);
  }

  TEST_CASE("a recording rolled back leaves no rows, and its request id is not handed out twice") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    auto& db = schema.db();
    store::postgres::migrate(db);
    const store::unit_of_work work(db);
    const engine::file_request filing{make_input(model::request_kind::troubleshooting), {"dana", model::role::ce}};
    db.exec("BEGIN");
    CHECK(store::record_new_request(work, shipped_policy(), filing, filed_at).request.id == 1);
    db.exec("ROLLBACK");
    CHECK(db.exec("SELECT COUNT(*) FROM requests").integer(0, 0) == 0);
    CHECK(db.exec("SELECT COUNT(*) FROM events").integer(0, 0) == 0);
    CHECK(db.exec("SELECT COUNT(*) FROM team_load WHERE open_requests <> 0").integer(0, 0) == 0);
    // A sequence is not transactional: the next filing gets a new id (a gap, never a reuse).
    CHECK(store::record_new_request(work, shipped_policy(), filing, filed_at).request.id == 2);
    CHECK(store::open_requests(work, model::team::se) == 1);
  }

  TEST_CASE("both adapters store the same text for the same commands") {
    SWITCHBOARD_POSTGRES_OR_SKIP(url);
    testing::postgres::test_schema schema(url);
    store::postgres::migrate(schema.db());
    auto sqlite = store::open_database(":memory:");
    testing::backend on_sqlite(sqlite);
    testing::backend on_postgres(schema.db());
    auto policy = shipped_policy();
    policy.outbound = {{"ops", {"*"}}};
    for (testing::backend* db : {&on_sqlite, &on_postgres}) {
      CAPTURE(db->name());
      auto t = filed_at;
      const auto next = [&t] { return t += std::chrono::minutes{7}; };
      for (auto kind : {model::request_kind::troubleshooting, model::request_kind::how_to, model::request_kind::feature_request,
                        model::request_kind::troubleshooting})
        store::record_new_request(*db, policy, {make_input(kind), {"dana", model::role::ce}}, next());
      const auto act = [&](model::request_id id, engine::action_kind kind, model::role role, engine::action_input input) {
        const auto outcome = store::record_action(*db, policy, id, {kind, std::move(input), {"sam", role}}, next());
        REQUIRE(std::holds_alternative<std::vector<store::change>>(outcome));
      };
      act(1, engine::action_kind::respond, model::role::se, {.message = "Looking"});
      act(1, engine::action_kind::engage_engineering, model::role::se, {.message = "zoekt panics"});
      act(2, engine::action_kind::route_to_product, model::role::ce, {});
      // Request 4, never answered, breaches and escalates; 5 is the interrupt.
      for (model::request_id id = 1; id <= 5; ++id) store::record_due(*db, policy, id, filed_at + std::chrono::hours{24 * 30});
    }
    // Every stored column but the outbox's random webhook ids, in the same order on both.
    for (const std::string sql :
         {"SELECT id, kind, customer_id, status, owner, created_at, updated_at, document, next_due FROM requests ORDER BY id",
          "SELECT request_id, summary FROM request_summaries ORDER BY request_id",
          "SELECT seq, request_id, type, at, actor, data FROM events ORDER BY seq",
          "SELECT request_id, metric, state, open, deadline, next_due, owner, warned, paused, urgency, breached FROM clocks"
          " ORDER BY request_id, metric",
          "SELECT id, request_id, ladder, state, roles, triggered_at, document, team FROM escalations ORDER BY request_id, triggered_at",
          "SELECT team, open_requests FROM team_load WHERE open_requests <> 0 ORDER BY team",
          "SELECT subscription, event_type, event_seq, request_id, payload, created_at, state FROM outbox ORDER BY id"}) {
      CAPTURE(sql);
      const auto expected = on_sqlite.rows(sql);
      CHECK_FALSE(expected.empty());
      CHECK(on_postgres.rows(sql) == expected);
    }
  }
}
