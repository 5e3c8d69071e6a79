#include "store/requests.hpp"

#include "store/database.hpp"
#include "support/policy.hpp"
#include "support/temp_dir.hpp"

#include <SQLiteCpp/Exception.h>
#include <doctest/doctest.h>

using namespace switchboard;
using testing::make_input;
using testing::shipped_policy;

namespace {

const model::instant filed_at{std::chrono::seconds{1795000000}};

model::request file(SQLite::Database& db, model::request_input input) {
  return store::record_new_request(db, shipped_policy(), {std::move(input), model::actor{"dana", model::role::ce}}, filed_at)
      .request;
}

}  // namespace

TEST_SUITE("store::database") {
  TEST_CASE("a database with a schema newer than this build is refused, and left as it was") {
    testing::temp_dir dir;
    const auto path = dir.file("newer.db");
    { auto db = store::open_database(path); db.exec("INSERT INTO schema_migrations (version) VALUES (999)"); }
    try {
      store::open_database(path);
      FAIL("a newer database was opened");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()).find("schema version 999, newer than this build understands") != std::string::npos);
    }
    auto reader = store::open_database(path, store::access::read_only);
    CHECK(store::schema_version(reader) == 999);
  }

  TEST_CASE("the heartbeat write goes through, and fails while another connection holds the write lock") {
    testing::temp_dir dir;
    const auto path = dir.file("heartbeat.db");
    auto db = store::open_database(path);
    store::touch_heartbeat(db);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM heartbeat").getInt() == 1);
    store::touch_heartbeat(db);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM heartbeat").getInt() == 1);

    SQLite::Database other(path, SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");
    db.setBusyTimeout(0);
    CHECK_THROWS_AS(store::touch_heartbeat(db), SQLite::Exception);
    other.exec("ROLLBACK");
    CHECK_NOTHROW(store::touch_heartbeat(db));
  }
}

TEST_SUITE("store::requests") {
  TEST_CASE("migrations bring a new database to the latest schema") {
    auto db = store::open_database(":memory:");
    CHECK(store::schema_version(db) == store::latest_schema_version());
    CHECK(db.tableExists("events"));
    CHECK(db.tableExists("requests"));
    CHECK(db.tableExists("escalations"));
    CHECK(db.tableExists("outbox"));
    CHECK(db.tableExists("inbound_receipts"));
  }

  TEST_CASE("a recorded request has both events and a routed read model") {
    auto db = store::open_database(":memory:");
    const auto saved = file(db, make_input(model::request_kind::troubleshooting));
    CHECK(saved.id == 1);
    CHECK(saved.owner == model::team::se);
    CHECK(saved.status == model::request_status::open);

    const auto events = store::events_of(db, saved.id);
    REQUIRE(events.size() == 3);
    CHECK(events[0].type == "request.created");
    CHECK(events[0].actor == "ce:dana");
    CHECK(events[1].type == "request.routed");
    CHECK(events[1].at == filed_at);
    CHECK(events[2].type == "sla.started");  // a trial customer's troubleshooting: pre-sales first response

    // Replaying the stored events rebuilds exactly the stored read model.
    model::request replayed;
    for (const auto& e : events) engine::apply(replayed, e);
    const auto found = store::find_request(db, saved.id);
    REQUIRE(found);
    CHECK(replayed.owner == found->owner);
    CHECK(replayed.routing.rule == found->routing.rule);
    CHECK(replayed.routing.trace.size() == found->routing.trace.size());
    REQUIRE(replayed.clocks.size() == 1);
    CHECK(replayed.clocks[0].deadline == found->clocks[0].deadline);
    CHECK(found->input.title == "Search results are missing repositories");
  }

  TEST_CASE("the event log refuses updates and deletes") {
    auto db = store::open_database(":memory:");
    file(db, make_input(model::request_kind::how_to));
    CHECK_THROWS_AS(db.exec("UPDATE events SET actor = 'someone else'"), SQLite::Exception);
    CHECK_THROWS_AS(db.exec("DELETE FROM events"), SQLite::Exception);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM events").getInt() == 2);
  }

  TEST_CASE("a request survives closing and reopening the database") {
    testing::temp_dir dir;
    const auto path = dir.file("switchboard.db");
    model::request_id id = 0;
    {
      auto db = store::open_database(path);
      id = file(db, make_input(model::request_kind::feature_request, "globex")).id;
    }
    auto reopened = store::open_database(path);
    CHECK(store::schema_version(reopened) == store::latest_schema_version());
    const auto found = store::find_request(reopened, id);
    REQUIRE(found);
    CHECK(found->input.customer.id == "globex");
    CHECK(found->owner == model::team::product);
    CHECK(store::events_of(reopened, id).size() == 2);
  }

  TEST_CASE("listing is newest first, filtered, and paginated by cursor") {
    auto db = store::open_database(":memory:");
    for (int i = 0; i < 5; ++i) file(db, make_input(model::request_kind::troubleshooting, "acme"));
    for (int i = 0; i < 3; ++i) file(db, make_input(model::request_kind::feature_request, "globex"));

    store::request_filter three;
    three.limit = 3;
    auto first = store::list_requests(db, three);
    REQUIRE(first.requests.size() == 3);
    CHECK(first.requests[0].id == 8);
    CHECK(first.requests[2].id == 6);
    REQUIRE(first.next_before);
    three.before = first.next_before;
    auto second = store::list_requests(db, three);
    CHECK(second.requests.front().id == 5);

    store::request_filter se;
    se.owner = model::team::se;
    auto se_only = store::list_requests(db, se);
    CHECK(se_only.requests.size() == 5);
    CHECK_FALSE(se_only.next_before);
    store::request_filter customer;
    customer.customer_id = "globex";
    auto globex = store::list_requests(db, customer);
    CHECK(globex.requests.size() == 3);
    store::request_filter status;
    status.status = model::request_status::resolved;
    auto resolved = store::list_requests(db, status);
    CHECK(resolved.requests.empty());
  }
}
