// The use cases' counters and decisions (migration 19) on both adapters: use_case_load kept in
// the events' transaction equals a recount of the stored requests after every step of a story
// (filings, route_to_product, accept and decline, resolve, reopen, the engine closing a resolved
// request), the decisions are one row per decision event, newest first from an instant, and the
// migration fills both tables in from what was stored before it.
#include "store/use_cases.hpp"

#include "store/database.hpp"
#if SWITCHBOARD_POSTGRES
#include "store/postgres/schema.hpp"
#endif
#include "store/requests.hpp"
#include "support/backends.hpp"
#include "support/policy.hpp"
#include "support/temp_dir.hpp"
#include "support/test_policy.hpp"
#include "model/instant.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <string>
#include <tuple>
#include <vector>

using namespace std::chrono_literals;
using namespace switchboard;
using model::role;
using engine::action_kind;

namespace {

model::instant at(std::string_view iso) { return *model::parse_instant(iso); }

const model::actor ce{"casey", role::ce};
const model::actor se{"sam", role::se};
const model::actor product{"pia", role::product};

// The shipped config with people and use cases (support/policy.hpp).
const engine::policy& with_use_cases() { return testing::shipped_with_use_cases(); }

// The decisions a migration filled in equal those recorded live, field by field and in order.
void check_same_decisions(const std::vector<store::decision>& filled, const std::vector<store::decision>& recorded) {
  REQUIRE(filled.size() == recorded.size());
  for (std::size_t i = 0; i < filled.size(); ++i) {
    CAPTURE(i);
    CHECK(filled[i].request_id == recorded[i].request_id);
    CHECK(filled[i].accepted == recorded[i].accepted);
    CHECK(filled[i].reason == recorded[i].reason);
    CHECK(filled[i].actor == recorded[i].actor);
    CHECK(filled[i].executive == recorded[i].executive);
    CHECK(filled[i].at == recorded[i].at);
  }
}

using counts = std::map<std::tuple<std::string, model::request_kind, model::team>, int>;

counts kept(store::read_session db) {
  counts out;
  for (const auto& row : store::use_case_loads(db)) out[{row.use_case, row.kind, row.owner}] = row.open;
  return out;
}

// What the counters should say, counted from every stored request.
counts recounted(store::read_session db) {
  store::request_filter filter;
  filter.limit = 200;
  counts out;
  for (const auto& r : store::list_requests(db, filter).requests)
    if (!r.input.use_case.empty() && engine::counts_toward_load(r.status, r.input.customer.id))
      ++out[{r.input.use_case, r.input.kind, r.owner}];
  return out;
}

model::request_id file(store::unit_of_work db, model::request_kind kind, std::string use_case, model::instant now,
                       std::string customer = "acme") {
  auto input = testing::make_input(kind, std::move(customer), model::customer_stage::production);
  input.use_case = std::move(use_case);
  return store::record_new_request(db, with_use_cases(), {std::move(input), ce}, now).request.id;
}

void act(store::unit_of_work db, model::request_id id, action_kind kind, const model::actor& who, model::instant now,
         engine::action_input input = {}) {
  const auto outcome = store::record_action(db, with_use_cases(), id, {kind, std::move(input), who}, now);
  if (const auto* refused = std::get_if<engine::refusal>(&outcome)) FAIL(refused->code << ": " << refused->message);
  REQUIRE(std::holds_alternative<std::vector<store::change>>(outcome));
}

// Tuesday 17 November 2026 in support hours, and the story every case here tells: after each
// step the counters equal a recount.
const model::instant start = at("2026-11-17T10:00:00-08:00");

void story(store::unit_of_work db) {
  const auto same = [&](std::string_view step) {
    INFO("after ", step);
    CHECK(kept(db) == recounted(db));
  };
  const auto r1 = file(db, model::request_kind::feature_request, "search", start);
  const auto r2 = file(db, model::request_kind::feature_request, "search", start + 1min);
  const auto r3 = file(db, model::request_kind::how_to, "search", start + 2min);
  const auto r4 = file(db, model::request_kind::troubleshooting, "search", start + 3min);
  const auto r5 = file(db, model::request_kind::troubleshooting, "billing", start + 4min);
  file(db, model::request_kind::troubleshooting, "", start + 5min);                        // no use case: not counted
  file(db, model::request_kind::troubleshooting, "search", start + 6min, "unattributed");  // not counted either
  same("filings");
  REQUIRE(kept(db).size() >= 3);

  act(db, r3, action_kind::route_to_product, ce, start + 10min);
  same("route_to_product");
  act(db, r1, action_kind::accept, product, start + 20min);
  same("accept");
  act(db, r2, action_kind::decline, product, start + 21min, {.reason = "Not this year"});
  same("decline");
  act(db, r4, action_kind::resolve, se, start + 30min, {.message = "Fixed in 5.2.1"});
  same("resolve");
  act(db, r4, action_kind::reopen, se, start + 40min, {.message = "It came back"});
  same("reopen");
  act(db, r4, action_kind::resolve, se, start + 50min, {.message = "Fixed for good"});
  act(db, r5, action_kind::resolve, se, start + 51min, {.message = "Refunded"});
  same("resolve again");
  // Four full business days later the engine closes both resolved requests.
  for (auto id : {r4, r5}) REQUIRE(store::record_due(db, with_use_cases(), id, at("2026-12-01T12:00:00-08:00")));
  CHECK(store::find_request(db, r4)->status == model::request_status::closed);
  same("closing");
}

}  // namespace

TEST_SUITE("store::use_cases") {
  TEST_CASE("use_case_load equals a recount after filings, route_to_product, decisions, resolve, reopen and closing") {
    testing::for_each_backend([](testing::backend& db) {
      story(db);
      // What is left open: r3 (how_to, with Product now). A decision resolves its request, so r1
      // and r2 no longer count; r4 and r5 are closed.
      const auto left = kept(db);
      CHECK(left.at({"search", model::request_kind::how_to, model::team::product}) == 1);
      CHECK(store::find_request(db, 1)->status == model::request_status::resolved);
      CHECK_FALSE(left.contains({"search", model::request_kind::feature_request, model::team::product}));
      CHECK_FALSE(left.contains({"search", model::request_kind::troubleshooting, model::team::se}));
      CHECK_FALSE(left.contains({"billing", model::request_kind::troubleshooting, model::team::se}));
      CHECK(db.integer("SELECT COUNT(*) FROM use_case_load WHERE use_case = ''") == 0);
    });
  }

  TEST_CASE("a decision is a row of its use case, newest first, and only those at or after the instant asked") {
    testing::for_each_backend([](testing::backend& db) {
      story(db);
      const auto all = store::recent_decisions(db, "search", start, 200);
      REQUIRE(all.size() == 2);
      CHECK(all[0].request_id == 2);
      CHECK_FALSE(all[0].accepted);
      CHECK(all[0].reason == "Not this year");
      CHECK(all[0].actor == "product:pia");
      CHECK_FALSE(all[0].executive);
      CHECK(all[0].at == start + 21min);
      CHECK(all[1].request_id == 1);
      CHECK(all[1].accepted);
      CHECK(all[1].reason.empty());  // Product's own acceptance keeps no reason in its event
      CHECK(store::recent_decisions(db, "search", start + 21min, 200).size() == 1);
      CHECK(store::recent_decisions(db, "search", start + 22min, 200).empty());
      CHECK(store::recent_decisions(db, "search", start, 1).size() == 1);
      CHECK(store::recent_decisions(db, "billing", start, 200).empty());
      // One row per decision event, and none for the other events.
      CHECK(db.integer("SELECT COUNT(*) FROM decisions") ==
            db.integer("SELECT COUNT(*) FROM events WHERE type IN ('request.accepted', 'request.declined')"));
      CHECK(db.integer("SELECT COUNT(*) FROM decisions d JOIN events e ON e.seq = d.seq"
                       " WHERE e.type = 'request.' || d.decision AND e.request_id = d.request_id AND e.at = d.at") == 2);
    });
  }

  TEST_CASE("migration 19 fills use_case_load and decisions in from the requests and events stored before it") {
    testing::temp_dir dir;
    const auto path = dir.file("switchboard.db");
    counts before;
    std::vector<store::decision> decided;
    {
      auto db = store::open_database(path);
      story(db);
      before = kept(db);
      decided = store::recent_decisions(db, "search", start, 200);
      // Back to before this migration, as a database written by the previous release looks.
      db.exec("DROP TABLE use_case_load; DROP TABLE decisions; DROP TABLE clock_facts; DELETE FROM schema_migrations WHERE version >= 19");
    }
    auto db = store::open_database(path);
    CHECK(store::schema_version(db) == store::latest_schema_version());
    CHECK(kept(db) == before);
    CHECK(kept(db) == recounted(db));
    const auto filled = store::recent_decisions(db, "search", start, 200);
    check_same_decisions(filled, decided);
  }

  TEST_CASE("migration 19 on PostgreSQL fills the same in") {
    testing::for_each_backend([](testing::backend& db) {
#if SWITCHBOARD_POSTGRES
      if (db.postgres() == nullptr) return;  // SQLite's migration: the case above
      story(db);
      const auto before = kept(db);
      const auto decided = store::recent_decisions(db, "search", start, 200);
      db.exec("DROP TABLE use_case_load; DROP TABLE decisions; DROP TABLE clock_facts; DELETE FROM schema_migrations WHERE version >= 19");
      store::postgres::migrate(*db.postgres());
      CHECK(kept(db) == before);
      const auto filled = store::recent_decisions(db, "search", start, 200);
      check_same_decisions(filled, decided);
#else
      static_cast<void>(db);
#endif
    });
  }
}
