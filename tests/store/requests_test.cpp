#include "store/requests.hpp"

#include "store/database.hpp"
#include "store/inbound.hpp"
#include "store/pages.hpp"
#include "support/backends.hpp"
#include "support/events.hpp"
#include "support/policy.hpp"
#include "support/temp_dir.hpp"

#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <boost/json.hpp>
#include <doctest/doctest.h>

using namespace switchboard;
using testing::make_input;
using testing::shipped_policy;

namespace {

const model::instant filed_at{std::chrono::seconds{1795000000}};

model::request file_at(store::unit_of_work db, model::request_input input, model::instant at) {
  return store::record_new_request(db, shipped_policy(), {std::move(input), model::actor{"dana", model::role::ce}}, at)
      .request;
}

model::request file(store::unit_of_work db, model::request_input input) {
  return store::record_new_request(db, shipped_policy(), {std::move(input), model::actor{"dana", model::role::ce}}, filed_at)
      .request;
}

// The shipped policy with small capacity thresholds: SE 2, Product 1, Engineering 1.
const engine::policy& small_capacity_policy() {
  static const engine::policy policy = [] {
    auto p = shipped_policy();
    p.ladders.at("capacity").thresholds = {
        {model::team::se, 2}, {model::team::product, 1}, {model::team::engineering, 1}};
    return p;
  }();
  return policy;
}

// Runs an action as `role`; fails the test if it is refused. Returns the changes.
std::vector<store::change> act(store::unit_of_work db, model::request_id id, engine::action_kind kind, model::role role,
                               engine::action_input fields, model::instant now) {
  auto outcome = store::record_action(db, small_capacity_policy(), id, {kind, std::move(fields), {"someone", role}}, now);
  if (auto* refused = std::get_if<engine::refusal>(&outcome)) FAIL(refused->code << ": " << refused->message);
  REQUIRE(std::holds_alternative<std::vector<store::change>>(outcome));
  return std::get<std::vector<store::change>>(outcome);
}

// Every capacity escalation: (request id, team, when Head of CS was told), oldest first.
struct capacity_alert {
  model::request_id request;
  model::team team;
  model::instant notified;
  bool operator==(const capacity_alert&) const = default;
};
std::vector<capacity_alert> capacity_alerts(store::read_session db) {
  store::escalation_filter all;
  all.limit = 200;
  std::vector<capacity_alert> out;
  for (const auto& [id, e] : store::list_escalations(db, all).escalations)
    if (e.ladder == "capacity") {
      REQUIRE(e.team);
      REQUIRE(e.notifications.size() == 1);
      CHECK(e.notifications[0].roles == std::vector{model::role::head_of_cs});
      out.insert(out.begin(), {id, *e.team, e.notifications[0].at});
    }
  return out;
}

int counted_open(testing::backend& db, model::team team) {
  return static_cast<int>(db.integer("SELECT COUNT(*) FROM requests WHERE owner = '" + std::string(model::to_string(team)) +
                                     "' AND status IN ('new', 'open', 'pending_customer', 'escalated')"));
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
    testing::for_each_backend([](testing::backend& db) {
      const auto saved = file(db, make_input(model::request_kind::troubleshooting));
      CHECK(saved.id == 1);
      CHECK(saved.owner == model::team::se);
      CHECK(saved.status == model::request_status::open);

      const auto events = store::events_of(db, saved.id);
      REQUIRE(events.size() == 3);
      CHECK(testing::type_of(events[0]) == "request.created");
      CHECK(events[0].actor == "ce:dana");
      CHECK(testing::type_of(events[1]) == "request.routed");
      CHECK(events[1].at == filed_at);
      CHECK(testing::type_of(events[2]) == "sla.started");  // a trial customer's troubleshooting: pre-sales first response

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
    });
  }

  TEST_CASE("a filing stores its routing trace once, and its events read back as they were recorded") {
    testing::for_each_backend([](testing::backend& db) {
      const auto filed = store::record_new_request(db, shipped_policy(),
                                                   {make_input(model::request_kind::troubleshooting), {"dana", model::role::ce}},
                                                   filed_at);
      REQUIRE(filed.events.size() >= 2);
      const auto& routed = filed.events[1];
      REQUIRE(testing::type_of(routed) == "request.routed");
      REQUIRE(!testing::data_of(routed).at("trace").as_array().empty());

      // The trace is in the request's document, and not again in the stored event.
      const auto stored = boost::json::parse(
          db.text("SELECT data FROM events WHERE type = 'request.routed'"));
      CHECK_FALSE(stored.as_object().contains("trace"));
      const auto document = boost::json::parse(db.text("SELECT document FROM requests"));
      CHECK(document.at("routing").at("trace") == testing::data_of(routed).at("trace"));

      const auto events = store::events_of(db, filed.request.id);
      REQUIRE(events.size() == filed.events.size());
      for (std::size_t i = 0; i < events.size(); ++i) CHECK(testing::data_of(events[i]) == testing::data_of(filed.events[i]));
      const auto page = store::list_events(db, filed.request.id, 0, 10);
      REQUIRE(page.events.size() == filed.events.size());
      for (std::size_t i = 0; i < page.events.size(); ++i) CHECK(testing::data_of(page.events[i]) == testing::data_of(filed.events[i]));
      CHECK(boost::json::serialize(testing::data_of(page.events[1])) == boost::json::serialize(testing::data_of(routed)));
    });
  }

  TEST_CASE("a filing written the old way, its trace in the event too, reads back unchanged") {
    auto db = store::open_database(":memory:");
    const auto events = engine::decide(shipped_policy(),
                                       {make_input(model::request_kind::troubleshooting), {"dana", model::role::ce}},
                                       7, filed_at).events;
    REQUIRE(events.size() >= 2);
    REQUIRE(testing::type_of(events[1]) == "request.routed");
    // What append_events wrote before issue 11: every event's data in full.
    SQLite::Statement insert(db, "INSERT INTO events (request_id, type, at, actor, data) VALUES (?, ?, ?, ?, ?)");
    model::request folded;
    for (const auto& e : events) {
      insert.bind(1, e.request);
      insert.bind(2, testing::type_of(e));
      insert.bind(3, static_cast<std::int64_t>(e.at.time_since_epoch().count()));
      insert.bind(4, e.actor);
      insert.bind(5, boost::json::serialize(testing::data_of(e)));
      insert.exec();
      insert.reset();
      engine::apply(folded, e);
    }
    store::save_request(db, folded);

    const auto read = store::events_of(db, 7);
    REQUIRE(read.size() == events.size());
    for (std::size_t i = 0; i < read.size(); ++i) {
      CHECK(testing::type_of(read[i]) == testing::type_of(events[i]));
      CHECK(boost::json::serialize(testing::data_of(read[i])) == boost::json::serialize(testing::data_of(events[i])));
    }
    const auto page = store::list_events(db, 7, 0, 10);
    REQUIRE(page.events.size() == events.size());
    CHECK(boost::json::serialize(testing::data_of(page.events[1])) == boost::json::serialize(testing::data_of(events[1])));
    const auto found = store::find_request(db, 7);
    REQUIRE(found);
    CHECK(found->routing.trace.size() == testing::data_of(events[1]).at("trace").as_array().size());
  }

  TEST_CASE("the event log refuses updates and deletes") {
    testing::for_each_backend([](testing::backend& db) {
      file(db, make_input(model::request_kind::how_to));
      CHECK_THROWS(db.exec("UPDATE events SET actor = 'someone else'"));
      CHECK_THROWS(db.exec("DELETE FROM events"));
      CHECK(db.integer("SELECT COUNT(*) FROM events") == 2);
    });
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
    CHECK(store::events_of(reopened, id).size() == 3);  // created, routed, Product's review deadline
  }

  TEST_CASE("listing is newest first, filtered, and paginated by cursor") {
    testing::for_each_backend([](testing::backend& db) {
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
    });
  }

  TEST_CASE("the capacity ladder fires on every transition that takes a team over its threshold, once per crossing") {
    testing::for_each_backend([](testing::backend& db) {
      using kind = engine::action_kind;
      using model::role;
      using model::team;
      const auto& policy = small_capacity_policy();
      auto t = filed_at;
      auto next = [&t] { return t += std::chrono::minutes{7}; };
      auto file_as_ce = [&](model::request_kind k) {
        return store::record_new_request(db, policy, {make_input(k), model::actor{"dana", role::ce}}, next()).request.id;
      };
      auto resolve_capacity = [&](model::request_id on) {
        const auto found = store::find_request(db, on);
        REQUIRE(found);
        const auto capacity = std::find_if(found->escalations.begin(), found->escalations.end(), [](const model::escalation& e) {
          return e.ladder == "capacity" && e.state != model::escalation_state::resolved;
        });
        REQUIRE(capacity != found->escalations.end());
        act(db, on, kind::resolve_escalation, role::head_of_cs, {.escalation = capacity->id}, next());
      };
      std::vector<capacity_alert> expected;

      // Filing: the third open SE request takes SE over 2; a fourth, while that escalation is
      // unresolved, starts no second one.
      const auto t1 = file_as_ce(model::request_kind::troubleshooting);
      const auto t2 = file_as_ce(model::request_kind::troubleshooting);
      CHECK(capacity_alerts(db).empty());
      const auto t3 = file_as_ce(model::request_kind::troubleshooting);
      expected.push_back({t3, team::se, t});
      CHECK(capacity_alerts(db) == expected);
      CHECK(store::find_request(db, t3)->status == model::request_status::escalated);
      const auto t4 = file_as_ce(model::request_kind::troubleshooting);
      CHECK(store::open_requests(db, team::se) == 4);
      CHECK(capacity_alerts(db) == expected);

      // Resolved, and the load still over: a request resolved and reopened is not a crossing.
      resolve_capacity(t3);
      act(db, t4, kind::resolve, role::se, {}, next());
      act(db, t4, kind::reopen, role::se, {}, next());
      CHECK(capacity_alerts(db) == expected);

      // reopen: back down to 2, then a reopen takes SE over again.
      act(db, t4, kind::resolve, role::se, {}, next());
      act(db, t3, kind::resolve, role::se, {}, next());
      CHECK(store::open_requests(db, team::se) == 2);
      act(db, t3, kind::reopen, role::se, {}, next());
      expected.push_back({t3, team::se, t});
      CHECK(capacity_alerts(db) == expected);

      // A customer reply on a resolved request reopens it: another crossing.
      resolve_capacity(t3);
      act(db, t3, kind::resolve, role::se, {}, next());
      act(db, t4, kind::customer_reply, role::integration, {.message = "Still broken"}, next());
      expected.push_back({t4, team::se, t});
      CHECK(capacity_alerts(db) == expected);

      // An interrupt opened: the second open Engineering request takes Engineering over 1; the
      // escalation is on the interrupt, the request Engineering now owns.
      act(db, t1, kind::engage_engineering, role::se, {.message = "zoekt panics"}, next());
      CHECK(store::open_requests(db, team::engineering) == 1);
      const auto engaged = act(db, t2, kind::engage_engineering, role::se, {.message = "gitserver OOM"}, next());
      REQUIRE(engaged.size() == 2);
      const auto interrupt = engaged.back().request.id;
      expected.push_back({interrupt, team::engineering, t});
      CHECK(capacity_alerts(db) == expected);
      CHECK(engaged.back().request.status == model::request_status::escalated);

      // route_to_product: a how-to CE sends to Product, which already has a feature request.
      file_as_ce(model::request_kind::feature_request);
      const auto how_to = file_as_ce(model::request_kind::how_to);
      CHECK(capacity_alerts(db) == expected);
      act(db, how_to, kind::route_to_product, role::ce, {}, next());
      expected.push_back({how_to, team::product, t});
      CHECK(capacity_alerts(db) == expected);

      // handoff: a troubleshooting request CE owns (a deployment's rules may route some to CE
      // first) handed to SE while SE is at its threshold.
      resolve_capacity(t4);
      act(db, t4, kind::resolve, role::se, {}, next());
      CHECK(store::open_requests(db, team::se) == 2);
      auto with_ce = store::find_request(db, file_as_ce(model::request_kind::how_to));
      REQUIRE(with_ce);
      with_ce->input.kind = model::request_kind::troubleshooting;
      store::save_request(db, *with_ce);
      act(db, with_ce->id, kind::handoff, role::ce,
          {.handoff = model::handoff_context{"all users", "5.2", "restart", "SE follows up"}},
          next());
      expected.push_back({with_ce->id, team::se, t});
      CHECK(capacity_alerts(db) == expected);

      // The counters kept along the way agree with a count of the table.
      for (auto each : {team::ce, team::se, team::product, team::engineering, team::engineering_discussion})
        CHECK(store::open_requests(db, each) == counted_open(db, each));
    });
  }

  TEST_CASE("escalations page newest first with a cursor, ties on the instant broken by id") {
    testing::for_each_backend([](testing::backend& db) {
      // Twelve pre-sales requests filed in pairs at the same instant breach in pairs: twelve
      // sla_breach escalations, two per trigger instant.
      for (int i = 0; i < 12; ++i)
        file_at(db, make_input(model::request_kind::troubleshooting), filed_at + std::chrono::minutes{10 * (i / 2)});
      for (model::request_id id = 1; id <= 12; ++id)
        REQUIRE(store::record_due(db, shipped_policy(), id, filed_at + std::chrono::hours{24 * 30}));

      store::escalation_filter everything;
      everything.limit = 200;
      const auto whole = store::list_escalations(db, everything);
      REQUIRE(whole.escalations.size() == 12);
      CHECK_FALSE(whole.next);
      for (std::size_t i = 1; i < whole.escalations.size(); ++i) {
        const auto& newer = whole.escalations[i - 1].second;
        const auto& older = whole.escalations[i].second;
        CHECK((newer.triggered_at > older.triggered_at || (newer.triggered_at == older.triggered_at && newer.id > older.id)));
      }

      store::escalation_filter pages;
      pages.limit = 5;
      std::vector<std::string> paged;
      for (int page = 0; page < 10; ++page) {
        const auto got = store::list_escalations(db, pages);
        for (const auto& [request, e] : got.escalations) paged.push_back(e.id);
        if (!got.next) break;
        // The cursor survives its text form, as the API hands it out.
        pages.after = store::parse_escalation_cursor(store::format_cursor(*got.next));
        REQUIRE(pages.after);
      }
      std::vector<std::string> expected;
      for (const auto& [request, e] : whole.escalations) expected.push_back(e.id);
      CHECK(paged == expected);

      CHECK_FALSE(store::parse_escalation_cursor("12-1"));
      CHECK_FALSE(store::parse_escalation_cursor("x.12-1"));
      CHECK_FALSE(store::parse_escalation_cursor("1795000000."));
      using namespace std::string_view_literals;
      for (const auto text : {"1795000000.x-1"sv, "1795000000.31"sv, "1795000000.31-1-1"sv, "1795000000.31-1\0"sv,
                              "1795000000.31-99999999999999999999"sv, "-1.31-1"sv, "01795000000.31-1"sv, "1795000000.31-0"sv, "1795000000.031-1"sv, "1795000000.31-01"sv})
        CHECK_FALSE(store::parse_escalation_cursor(text));
      const auto good = store::parse_escalation_cursor("1795000000.31-2");
      REQUIRE(good);
      CHECK(good->id == "31-2");
      CHECK(good->triggered_at == model::instant{std::chrono::seconds{1795000000}});
    });
  }

  TEST_CASE("migration 6 counts the open requests and names the team of capacity escalations already stored") {
    testing::temp_dir dir;
    const auto path = dir.file("switchboard.db");
    {
      auto db = store::open_database(path);
      const auto& policy = small_capacity_policy();
      for (int i = 0; i < 3; ++i)
        store::record_new_request(db, policy, {make_input(model::request_kind::troubleshooting), model::actor{"dana", model::role::ce}},
                                  filed_at);
      store::record_new_request(db, policy, {make_input(model::request_kind::how_to), model::actor{"dana", model::role::ce}},
                                filed_at);
      // Back to schema 5, as a database written before this migration looks.
      db.exec("UPDATE escalations SET document = json_remove(document, '$.team');"
              "UPDATE requests SET document = json_remove(document, '$.escalations[0].team');"
              "DROP INDEX escalations_by_team; DROP INDEX escalations_by_time; ALTER TABLE escalations DROP COLUMN team;"
              "DROP TABLE team_load; DROP TABLE heartbeat; DROP TABLE idempotency_keys;"
              "DROP TRIGGER open_clock_counts_insert; DROP TRIGGER open_clock_counts_delete;"
              "DROP TRIGGER open_clock_counts_update_old; DROP TRIGGER open_clock_counts_update_new;"
              "DROP TABLE open_clock_counts; DROP INDEX clocks_by_urgency; DROP INDEX clocks_by_owner_urgency;"
              "DROP INDEX clocks_by_customer_urgency; DROP INDEX clocks_by_kind_urgency;"
              "DROP INDEX clocks_by_priority_urgency; DROP INDEX clocks_by_assignee_urgency;"
              "ALTER TABLE clocks DROP COLUMN owner; ALTER TABLE clocks DROP COLUMN warned;"
              "ALTER TABLE clocks DROP COLUMN paused; ALTER TABLE clocks DROP COLUMN urgency;"
              "ALTER TABLE clocks DROP COLUMN breached;"
              "DROP INDEX escalations_by_request; DROP INDEX email_messages_by_request; DROP TABLE clock_planning;"
              "DROP INDEX requests_by_owner_status; DROP TABLE request_summaries;"
              "DROP TRIGGER outbox_state_counts_insert; DROP TRIGGER outbox_state_counts_delete;"
              " DROP TRIGGER outbox_state_counts_update; DROP INDEX outbox_conversation; ALTER TABLE outbox DROP COLUMN channel; ALTER TABLE outbox DROP COLUMN purpose;"
              "ALTER TABLE outbox DROP COLUMN recipient; ALTER TABLE outbox DROP COLUMN external_id;"
              " DROP INDEX events_by_firing_key; ALTER TABLE events DROP COLUMN firing_key; DROP TABLE timer_leases;"
              " DROP TABLE instances;"
              " ALTER TABLE outbox DROP COLUMN lease_holder; ALTER TABLE outbox DROP COLUMN lease_token;"
              " ALTER TABLE outbox DROP COLUMN lease_until;"
              " DROP INDEX requests_by_assignee; DROP INDEX requests_unassigned;"
              " ALTER TABLE requests DROP COLUMN assignee; DROP TABLE person_load; DROP TABLE assignment_cursor;"
              " DROP TABLE customer_changes; DROP TABLE customers;"
              " DROP TABLE use_case_load; DROP TABLE decisions; DROP TABLE clock_facts;"
              "DELETE FROM schema_migrations WHERE version >= 6");
      CHECK(store::schema_version(db) == 5);
    }
    auto db = store::open_database(path);
    CHECK(store::schema_version(db) == store::latest_schema_version());
    CHECK(store::open_requests(db, model::team::se) == 3);
    CHECK(store::open_requests(db, model::team::ce) == 1);
    CHECK(store::open_requests(db, model::team::product) == 0);
    CHECK(db.execAndGet("SELECT team FROM escalations WHERE ladder = 'capacity'").getString() == "se");
    const auto stored = store::find_request(db, 3);
    REQUIRE(stored);
    REQUIRE(stored->escalations.size() == 1);
    CHECK(stored->escalations[0].team == model::team::se);  // read from the reason of an old document
    // SE back to its threshold and over again: no second escalation while the old one is unresolved.
    act(db, 1, engine::action_kind::resolve, model::role::se, {}, filed_at + std::chrono::minutes{1});
    CHECK(store::open_requests(db, model::team::se) == 2);
    store::record_new_request(db, small_capacity_policy(),
                              {make_input(model::request_kind::troubleshooting), model::actor{"dana", model::role::ce}},
                              filed_at + std::chrono::minutes{2});
    CHECK(store::open_requests(db, model::team::se) == 3);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM escalations WHERE ladder = 'capacity'").getInt() == 1);
  }

  TEST_CASE("migration 11 indexes the rows that refer to a request, so saving one reads no whole table") {
    testing::temp_dir dir;
    const auto path = dir.file("switchboard.db");
    {
      auto db = store::open_database(path);
      file_at(db, make_input(model::request_kind::troubleshooting), filed_at);
      REQUIRE(store::record_due(db, shipped_policy(), 1, filed_at + std::chrono::hours{24 * 30}));
      db.exec("DROP INDEX escalations_by_request; DROP INDEX email_messages_by_request; DROP TABLE clock_planning;"
              "DROP TRIGGER open_clock_counts_insert; DROP TRIGGER open_clock_counts_delete;"
              "DROP TRIGGER open_clock_counts_update_old; DROP TRIGGER open_clock_counts_update_new;"
              "ALTER TABLE clocks DROP COLUMN breached;"
              "DROP INDEX requests_by_owner_status; DROP TABLE request_summaries;"
              "DROP TRIGGER outbox_state_counts_insert; DROP TRIGGER outbox_state_counts_delete;"
              " DROP TRIGGER outbox_state_counts_update; DROP INDEX outbox_conversation; ALTER TABLE outbox DROP COLUMN channel; ALTER TABLE outbox DROP COLUMN purpose;"
              "ALTER TABLE outbox DROP COLUMN recipient; ALTER TABLE outbox DROP COLUMN external_id;"
              " DROP INDEX events_by_firing_key; ALTER TABLE events DROP COLUMN firing_key; DROP TABLE timer_leases;"
              " DROP TABLE instances;"
              " ALTER TABLE outbox DROP COLUMN lease_holder; ALTER TABLE outbox DROP COLUMN lease_token;"
              " ALTER TABLE outbox DROP COLUMN lease_until;"
              " DROP INDEX requests_by_assignee; DROP INDEX requests_unassigned;"
              " ALTER TABLE requests DROP COLUMN assignee; DROP TABLE person_load; DROP TABLE assignment_cursor;"
              " DROP TABLE customer_changes; DROP TABLE customers;"
              " DROP TABLE use_case_load; DROP TABLE decisions; DROP TABLE clock_facts;"
              "DELETE FROM schema_migrations WHERE version >= 11");
      CHECK(store::schema_version(db) == 10);
    }
    auto db = store::open_database(path);
    CHECK(store::schema_version(db) == store::latest_schema_version());
    // Every plan step of what saving a request runs, joined: a SCAN is a whole-table read.
    auto plan = [&](const std::string& sql) {
      SQLite::Statement query(db, "EXPLAIN QUERY PLAN " + sql);
      std::string steps;
      while (query.executeStep()) steps += query.getColumn(3).getString() + "\n";
      return steps;
    };
    CHECK(plan("DELETE FROM escalations WHERE request_id = 1").find("SCAN") == std::string::npos);
    CHECK(plan("DELETE FROM escalations WHERE request_id = 1").find("escalations_by_request") != std::string::npos);
    // Foreign keys: deleting a request looks up its children in every referring table.
    const auto children = plan("DELETE FROM requests WHERE id = 1");
    CHECK(children.find("SCAN") == std::string::npos);
    CHECK(children.find("email_messages_by_request") != std::string::npos);
    // Saving the request again (an update in place) keeps its escalations.
    auto stored = store::find_request(db, 1);
    REQUIRE(stored);
    REQUIRE(stored->escalations.size() == 1);
    store::save_request(db, *stored);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM escalations WHERE request_id = 1").getInt() == 1);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM requests").getInt() == 1);
  }
}

TEST_SUITE("store::requests") {
  TEST_CASE("unattributed e-mail requests do not count toward a team's load and never start the capacity ladder") {
    testing::for_each_backend([](testing::backend& db) {
      const auto& policy = small_capacity_policy();
      auto t = filed_at;
      auto file_for = [&](std::string customer) {
        auto input = make_input(model::request_kind::troubleshooting, std::move(customer));
        return store::record_new_request(db, policy, {std::move(input), model::actor{"mailgun", model::role::integration}},
                                         t += std::chrono::minutes{1})
            .request;
      };
      // Ten unauthenticated mails: over SE's threshold of 2 five times over, and nobody is paged.
      for (int i = 0; i < 10; ++i) {
        const auto filed = file_for(std::string(engine::unattributed_customer));
        CHECK(filed.owner == model::team::se);
        CHECK(filed.status != model::request_status::escalated);
      }
      CHECK(store::open_requests(db, model::team::se) == 0);
      CHECK(capacity_alerts(db).empty());
      // Customers' requests still count from zero: the third takes SE over 2, and its escalation
      // lists only the customers' requests.
      file_for("acme");
      file_for("acme");
      CHECK(capacity_alerts(db).empty());
      const auto third = file_for("acme");
      CHECK(store::open_requests(db, model::team::se) == 3);
      REQUIRE(capacity_alerts(db).size() == 1);
      CHECK(capacity_alerts(db).front().request == third.id);
      // Resolving an unattributed request leaves the count alone.
      auto unattributed_id = model::request_id{1};
      act(db, unattributed_id, engine::action_kind::resolve, model::role::se, {.message = "spam"}, t += std::chrono::minutes{1});
      CHECK(store::open_requests(db, model::team::se) == 3);
    });
  }
}

TEST_SUITE("store::inbound") {
  TEST_CASE("a Message-ID used by two authenticated senders keeps a request for each, oldest first") {
    testing::for_each_backend([](testing::backend& db) {
      const auto stranger = file(db, make_input(model::request_kind::troubleshooting, "evil.test"));
      const auto customer = file(db, make_input(model::request_kind::troubleshooting, "acme"));
      store::remember_message(db, "squat@example.com", "mallory@evil.test", stranger.id);
      store::remember_message(db, "squat@example.com", "alice@customer.test", customer.id);
      store::remember_message(db, "squat@example.com", "alice@customer.test", stranger.id);  // ignored: same sender
      CHECK(store::requests_of_message(db, "squat@example.com") == std::vector<model::request_id>{stranger.id, customer.id});
      CHECK(store::requests_of_message(db, "unknown@example.com").empty());
    });
  }
}

TEST_SUITE("store::database") {
  TEST_CASE("migration 9 keeps a version 8 database's Message-IDs and recounts team load without unattributed mail") {
    testing::temp_dir dir;
    const auto path = dir.file("v8.db");
    {
      // The tables migration 9 reads, as version 8 left them (src/store/database.cpp).
      SQLite::Database old(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      old.exec(R"sql(
        CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL DEFAULT (unixepoch()));
        INSERT INTO schema_migrations (version) VALUES (1), (2), (3), (4), (5), (6), (7), (8);
        CREATE TABLE requests (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, customer_id TEXT NOT NULL,
          status TEXT NOT NULL, owner TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
          document TEXT NOT NULL, next_due INTEGER);
        INSERT INTO requests VALUES (1, 'troubleshooting', 'acme', 'open', 'se', 0, 0, '{}', NULL),
                                    (2, 'troubleshooting', 'unattributed', 'new', 'se', 0, 0, '{}', NULL),
                                    (3, 'troubleshooting', 'unattributed', 'open', 'se', 0, 0, '{}', NULL),
                                    (4, 'feature_request', 'acme', 'resolved', 'product', 0, 0, '{}', NULL);
        CREATE TABLE team_load (team TEXT PRIMARY KEY, open_requests INTEGER NOT NULL);
        INSERT INTO team_load VALUES ('se', 3);
        CREATE TABLE email_messages (message_id TEXT PRIMARY KEY, request_id INTEGER NOT NULL REFERENCES requests (id));
        INSERT INTO email_messages VALUES ('first@customer.test', 1), ('second@customer.test', 3);
        -- What the later migrations (10, 11, 14, 15, 19) read, empty.
        CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, request_id INTEGER NOT NULL, type TEXT NOT NULL,
          at INTEGER NOT NULL, actor TEXT NOT NULL, data TEXT NOT NULL);
        CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, request_id INTEGER, state TEXT NOT NULL);
        CREATE TABLE clocks (request_id INTEGER NOT NULL REFERENCES requests (id), metric TEXT NOT NULL,
          state TEXT NOT NULL, open INTEGER NOT NULL, deadline INTEGER, next_due INTEGER, PRIMARY KEY (request_id, metric));
        CREATE TABLE escalations (id TEXT PRIMARY KEY, request_id INTEGER NOT NULL REFERENCES requests (id),
          ladder TEXT NOT NULL, state TEXT NOT NULL, roles TEXT NOT NULL, triggered_at INTEGER NOT NULL, document TEXT NOT NULL);
      )sql");
    }
    auto db = store::open_database(path);
    CHECK(store::schema_version(db) == store::latest_schema_version());
    CHECK(store::requests_of_message(db, "first@customer.test") == std::vector<model::request_id>{1});
    CHECK(store::requests_of_message(db, "second@customer.test") == std::vector<model::request_id>{3});
    CHECK(db.execAndGet("SELECT COUNT(*) FROM email_messages WHERE sender = ''").getInt() == 2);
    CHECK(store::open_requests(db, model::team::se) == 1);
    CHECK(store::open_requests(db, model::team::product) == 0);
    // New rows are per sender, beside the old ones.
    store::remember_message(db, "first@customer.test", "alice@customer.test", 3);
    CHECK(store::requests_of_message(db, "first@customer.test") == std::vector<model::request_id>{1, 3});
  }
}
