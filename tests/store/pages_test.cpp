#include "store/pages.hpp"

#include "store/database.hpp"
#include "sla/clock.hpp"
#include "store/reader_pool.hpp"
#include "store/requests.hpp"
#include "codec/json.hpp"
#include "store/summary.hpp"
#include "support/backends.hpp"
#include "support/events.hpp"
#include "support/policy.hpp"
#include "support/temp_dir.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>
#include <tuple>

using namespace switchboard;
namespace json = boost::json;
using testing::make_input;
using testing::shipped_policy;

namespace {

const model::instant filed_at{std::chrono::seconds{1795000000}};

model::request file(store::unit_of_work db, model::request_input input, model::instant at) {
  return store::record_new_request(db, shipped_policy(), {std::move(input), model::actor{"dana", model::role::ce}}, at)
      .request;
}

// The role that works requests `team` owns.
model::role worker_of(model::team team) {
  switch (team) {
    case model::team::ce: return model::role::ce;
    case model::team::product: return model::role::product;
    case model::team::se: return model::role::se;
    default: return model::role::engineering;
  }
}

void act(store::unit_of_work db, model::request_id id, engine::action_kind kind, model::role role, model::instant at) {
  auto outcome = store::record_action(db, shipped_policy(), id, {kind, {}, {"someone", role}}, at);
  if (auto* refused = std::get_if<engine::refusal>(&outcome)) FAIL(refused->code << ": " << refused->message);
}

// A mix: troubleshooting and how-to requests of trial and production customers filed an hour
// apart (so deadlines differ and some tie), some answered and waiting on the customer (their
// clocks paused), some resolved (no open clock).
void fill(store::unit_of_work db, int count) {
  for (int i = 0; i < count; ++i) {
    const auto at = filed_at + std::chrono::minutes{37 * (i % 9)};
    const auto kind = i % 3 == 0 ? model::request_kind::how_to : model::request_kind::troubleshooting;
    const auto stage = i % 2 == 0 ? model::customer_stage::trial : model::customer_stage::production;
    const auto request = file(db, make_input(kind, "customer-" + std::to_string(i % 4), stage), at);
    const auto role = worker_of(request.owner);
    if (i % 5 == 1) act(db, request.id, engine::action_kind::pend, role, at + std::chrono::minutes{3 + i});
    if (i % 7 == 3) act(db, request.id, engine::action_kind::resolve, role, at + std::chrono::minutes{5 + i});
  }
}

// Every open clock's place, computed from the stored requests by the definition (not the SQL):
// running and breached by deadline, then paused by business time left; ties by id and metric.
std::vector<store::clock_cursor> expected_order(store::read_session db, std::optional<model::team> owner) {
  std::vector<store::clock_cursor> out;
  for (const auto& request : store::requests_with_open_clocks(db, owner))
    for (const auto& clock : request.clocks) {
      if (clock.completed) continue;
      const bool paused = clock.state == model::clock_state::paused;
      const auto& calendar = shipped_policy().sla.calendar(clock.calendar);
      const auto key = paused ? sla::remaining(clock, calendar, filed_at).count() : clock.deadline.time_since_epoch().count();
      out.push_back({paused, key, request.id, std::string(model::to_string(clock.metric))});
    }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<store::clock_cursor> walk(store::read_session db, std::optional<model::team> owner, int limit) {
  std::vector<store::clock_cursor> seen;
  store::open_clock_filter filter{owner, std::nullopt, limit};
  for (int pages = 0; pages < 10000; ++pages) {
    const auto page = store::list_open_clocks(db, filter);
    CHECK(static_cast<int>(page.clocks.size()) <= limit);
    for (const auto& open : page.clocks) {
      CHECK(open.request->id == open.place.request);
      CHECK(model::to_string(open.clock->metric) == open.place.metric);
      CHECK_FALSE(open.clock->completed);
      seen.push_back(open.place);
    }
    if (!page.next) return seen;
    CHECK(static_cast<int>(page.clocks.size()) == limit);
    // The cursor goes through its text form, as the API's clients hand it back.
    filter.after = store::parse_clock_cursor(store::format_cursor(*page.next));
    REQUIRE(filter.after);
  }
  FAIL("the walk did not end");
  return seen;
}

std::map<std::pair<std::string, std::string>, std::int64_t> counted_by_scan(testing::backend& db) {
  std::map<std::pair<std::string, std::string>, std::int64_t> out;
  for (const auto& row : db.rows("SELECT r.owner, CASE WHEN c.state = 'running' AND c.warned <> 0 THEN 'warning'"
                                 " WHEN c.state = 'paused' AND c.breached <> 0 THEN 'breached_paused' ELSE c.state END,"
                                 " COUNT(*) FROM clocks c JOIN requests r ON r.id = c.request_id WHERE c.open = 1"
                                 " GROUP BY 1, 2"))
    out[{row.at(0), row.at(1)}] = std::stoll(row.at(2));
  return out;
}

std::map<std::pair<std::string, std::string>, std::int64_t> counted_by_scan(SQLite::Database& db) {
  testing::backend sqlite(db);
  return counted_by_scan(sqlite);
}

std::map<std::pair<std::string, std::string>, std::int64_t> counted_by_counters(store::read_session db) {
  std::map<std::pair<std::string, std::string>, std::int64_t> out;
  for (const auto& c : store::open_clock_counts(db)) {
    CHECK(c.breached == (c.state == "breached" || (c.state == "paused" && c.breached)));
    out[{c.owner, c.breached && c.state == "paused" ? "breached_paused" : c.state}] = c.clocks;
  }
  return out;
}

std::string query_plan(SQLite::Database& db, const std::string& sql) {
  SQLite::Statement plan(db, "EXPLAIN QUERY PLAN " + sql);
  std::string out;
  while (plan.executeStep()) out += plan.getColumn(3).getString() + "\n";
  return out;
}

}  // namespace

TEST_SUITE("store::pages") {
  TEST_CASE("a walk over open clocks by cursor returns every open clock once, in urgency order") {
    testing::for_each_backend([](testing::backend& db) {
      fill(db, 60);
      const auto expected = expected_order(db, std::nullopt);
      REQUIRE(expected.size() > 40);
      REQUIRE(std::any_of(expected.begin(), expected.end(), [](const auto& c) { return c.paused; }));
      for (const int limit : {1, 7, 200}) {
        CAPTURE(limit);
        CHECK(walk(db, std::nullopt, limit) == expected);
      }
      // Only one team's clocks, in the same order.
      const auto se = expected_order(db, model::team::se);
      REQUIRE_FALSE(se.empty());
      CHECK(walk(db, model::team::se, 4) == se);
    });
  }

  TEST_CASE("a breached clock sorts with the overdue, even paused under a target that leaves time in hand") {
    using namespace std::chrono_literals;
    testing::for_each_backend([](testing::backend& db) {
      auto production = make_input(model::request_kind::troubleshooting, "acme", model::customer_stage::production);
      production.customer.tier = "premium";
      auto breached = file(db, production, filed_at);
      auto on_time = file(db, production, filed_at);
      auto resolution = [](model::request& request) -> model::sla_clock& {
        auto it = std::find_if(request.clocks.begin(), request.clocks.end(),
                               [](const auto& c) { return c.metric == model::sla_metric::resolution; });
        REQUIRE(it != request.clocks.end());
        return *it;
      };
      // Breached at a 1 h target, then re-timed (or reopened) to 40 h with 3 h used, and paused:
      // 37 h "left" on paper, but it is overdue.
      auto& late = resolution(breached);
      late.state = model::clock_state::paused;
      late.breached = late.warned = true;
      late.target = 40h;
      late.used = 3h;
      late.deadline = filed_at + 1h;
      late.runs.clear();
      // Paused in time with 1 h left.
      auto& close = resolution(on_time);
      close.state = model::clock_state::paused;
      close.target = 40h;
      close.used = 39h;
      close.deadline = close.warning_deadline = {};
      store::save_request(db, breached);
      store::save_request(db, on_time);

      const auto seen = walk(db, std::nullopt, 100);
      CHECK(seen == expected_order(db, std::nullopt));
      std::vector<store::clock_cursor> paused;
      std::copy_if(seen.begin(), seen.end(), std::back_inserter(paused), [](const auto& c) { return c.paused; });
      CHECK(paused == std::vector<store::clock_cursor>{{true, 0, breached.id, "resolution"},
                                                       {true, 3600, on_time.id, "resolution"}});
    });
  }

  TEST_CASE("a page of open clocks is an index range read, never a sort of every clock") {
    auto db = store::open_database(":memory:");
    const std::string page_sql =
        "SELECT paused, urgency, request_id, metric FROM clocks WHERE open = 1"
        " AND (paused, urgency, request_id, metric) > (0, 0, 0, '') ORDER BY paused, urgency, request_id, metric LIMIT 101";
    const auto plan = query_plan(db, page_sql);
    CAPTURE(plan);
    CHECK(plan.find("clocks_by_urgency") != std::string::npos);
    CHECK(plan.find("TEMP B-TREE") == std::string::npos);
    const auto team_plan = query_plan(db,
                                      "SELECT paused, urgency, request_id, metric FROM clocks WHERE open = 1 AND owner = 'se'"
                                      " ORDER BY paused, urgency, request_id, metric LIMIT 101");
    CAPTURE(team_plan);
    CHECK(team_plan.find("clocks_by_owner_urgency") != std::string::npos);
    CHECK(team_plan.find("TEMP B-TREE") == std::string::npos);
  }

  TEST_CASE("cursors this store did not make are refused") {
    CHECK(store::parse_clock_cursor("0.1795000000.12.first_response"));
    CHECK(store::parse_clock_cursor("1.-300.12.resolution"));
    for (const auto* bad : {"", "0", "2.1.1.first_response", "0.x.1.first_response", "0.1.0.first_response",
                            "0.1.1.lunch", "0.1.1.first_response.more", "0.1..first_response"}) {
      CAPTURE(bad);
      CHECK_FALSE(store::parse_clock_cursor(bad));
    }
  }

  TEST_CASE("open clock counts per team and state equal a count of the clock rows, after every kind of change") {
    testing::for_each_backend([](testing::backend& db) {
      fill(db, 40);
      CHECK_FALSE(counted_by_counters(db).empty());
      CHECK(counted_by_counters(db) == counted_by_scan(db));
      // Warnings and breaches fall due: the scheduler's path.
      for (model::request_id id = 1; id <= 40; ++id) store::record_due(db, shipped_policy(), id, filed_at + std::chrono::hours{30});
      CHECK(counted_by_counters(db) == counted_by_scan(db));
      const auto counts = counted_by_counters(db);
      CHECK(std::any_of(counts.begin(), counts.end(), [](const auto& c) { return c.first.second == "breached"; }));
      for (model::request_id id = 1; id <= 40; id += 3)
        store::record_action(db, shipped_policy(), id, {engine::action_kind::resolve, {}, {"someone", model::role::se}},
                             filed_at + std::chrono::hours{31});
      CHECK(counted_by_counters(db) == counted_by_scan(db));
      // Breached, then paused: counted apart from clocks paused in time, as the API calls them.
      auto breached_paused = [&] {
        std::int64_t n = 0;
        for (const auto& c : store::open_clock_counts(db))
          if (c.breached && c.state == "paused") n += c.clocks;
        return n;
      };
      CHECK(breached_paused() == 0);
      int pended = 0;
      const auto late = filed_at + std::chrono::hours{300};  // past every shipped resolution target
      for (model::request_id id = 2; id <= 40; id += 3) {
        store::record_due(db, shipped_policy(), id, late);
        const auto request = store::find_request(db, id);
        REQUIRE(request);
        const bool breached = std::any_of(request->clocks.begin(), request->clocks.end(), [](const model::sla_clock& c) {
          return !c.completed && c.state == model::clock_state::breached && c.metric == model::sla_metric::resolution;
        });
        if (!breached || (request->status != model::request_status::open && request->status != model::request_status::escalated))
          continue;
        auto outcome = store::record_action(db, shipped_policy(), id,
                                            {engine::action_kind::pend, {}, {"someone", worker_of(request->owner)}}, late);
        if (std::holds_alternative<std::vector<store::change>>(outcome)) ++pended;
      }
      REQUIRE(pended > 0);
      CHECK(breached_paused() > 0);
      CHECK(counted_by_counters(db) == counted_by_scan(db));
    });
  }

  TEST_CASE("migration 12 counts clocks breached then paused apart, for clocks stored before it") {
    testing::temp_dir dir;
    const auto path = dir.file("old.db");
    std::map<std::pair<std::string, std::string>, std::int64_t> before;
    {
      auto db = store::open_database(path);
      fill(db, 30);
      const auto late = filed_at + std::chrono::hours{300};  // past every shipped resolution target
      for (model::request_id id = 1; id <= 30; ++id) store::record_due(db, shipped_policy(), id, late);
      // SE's production requests (even ids) wait on the customer: their breached resolution clocks pause.
      for (model::request_id id = 2; id <= 30; id += 2) {
        const auto request = store::find_request(db, id);
        if (request && request->owner == model::team::se &&
            (request->status == model::request_status::open || request->status == model::request_status::escalated))
          (void)store::record_action(db, shipped_policy(), id, {engine::action_kind::pend, {}, {"someone", model::role::se}},
                                     late);
      }
      before = counted_by_counters(db);
      REQUIRE(std::any_of(before.begin(), before.end(), [](const auto& c) { return c.first.second == "breached_paused"; }));
      // Back to the schema before migration 12: no breached column, every paused clock counted as paused.
      db.exec("DROP TRIGGER open_clock_counts_insert; DROP TRIGGER open_clock_counts_delete;"
              " DROP TRIGGER open_clock_counts_update_old; DROP TRIGGER open_clock_counts_update_new;"
              " ALTER TABLE clocks DROP COLUMN breached;"
              " DELETE FROM open_clock_counts; INSERT INTO open_clock_counts (owner, state, clocks)"
              "   SELECT COALESCE(owner, ''), CASE WHEN state = 'running' AND warned THEN 'warning' ELSE state END, COUNT(*)"
              "   FROM clocks WHERE open = 1 GROUP BY 1, 2;"
              " DROP INDEX requests_by_owner_status; DROP TABLE request_summaries;"
              " DROP TRIGGER outbox_state_counts_insert; DROP TRIGGER outbox_state_counts_delete;"
              " DROP TRIGGER outbox_state_counts_update; DROP INDEX outbox_conversation; ALTER TABLE outbox DROP COLUMN channel; ALTER TABLE outbox DROP COLUMN purpose;"
              " ALTER TABLE outbox DROP COLUMN recipient; ALTER TABLE outbox DROP COLUMN external_id;"
              " DROP INDEX events_by_firing_key; ALTER TABLE events DROP COLUMN firing_key; DROP TABLE timer_leases;"
              " DROP TABLE instances;"
              " ALTER TABLE outbox DROP COLUMN lease_holder; ALTER TABLE outbox DROP COLUMN lease_token;"
              " ALTER TABLE outbox DROP COLUMN lease_until;"
              " DROP INDEX requests_by_assignee; DROP INDEX requests_unassigned;"
              " ALTER TABLE requests DROP COLUMN assignee; DROP TABLE person_load; DROP TABLE assignment_cursor;"
              " DROP TABLE customer_changes; DROP TABLE customers;"
              " DROP TABLE use_case_load; DROP TABLE decisions; DROP TABLE clock_facts;"
              " DELETE FROM schema_migrations WHERE version >= 12");
    }
    auto db = store::open_database(path);
    CHECK(store::schema_version(db) == store::latest_schema_version());
    CHECK(counted_by_counters(db) == before);
    CHECK(counted_by_counters(db) == counted_by_scan(db));
  }

  TEST_CASE("migration 10 fills the urgency columns and the counters for clocks stored before it") {
    testing::temp_dir dir;
    const auto path = dir.file("old.db");
    std::vector<store::clock_cursor> before;
    {
      auto db = store::open_database(path);
      fill(db, 30);
      before = expected_order(db, std::nullopt);
      // Back to the schema before migration 10, keeping the clock rows.
      db.exec("DROP INDEX clocks_by_customer_urgency; DROP INDEX clocks_by_kind_urgency;"
              " DROP INDEX clocks_by_priority_urgency; DROP INDEX clocks_by_assignee_urgency;"
              " DROP TRIGGER open_clock_counts_insert; DROP TRIGGER open_clock_counts_delete;"
              " DROP TRIGGER open_clock_counts_update_old; DROP TRIGGER open_clock_counts_update_new;"
              " DROP TABLE open_clock_counts; DROP INDEX clocks_by_urgency; DROP INDEX clocks_by_owner_urgency;"
              " ALTER TABLE clocks DROP COLUMN owner; ALTER TABLE clocks DROP COLUMN warned;"
              " ALTER TABLE clocks DROP COLUMN paused; ALTER TABLE clocks DROP COLUMN urgency;"
              " ALTER TABLE clocks DROP COLUMN breached;"
              " DROP INDEX escalations_by_request; DROP INDEX email_messages_by_request; DROP TABLE clock_planning;"
              " DROP INDEX requests_by_owner_status; DROP TABLE request_summaries;"
              " DROP TRIGGER outbox_state_counts_insert; DROP TRIGGER outbox_state_counts_delete;"
              " DROP TRIGGER outbox_state_counts_update; DROP INDEX outbox_conversation; ALTER TABLE outbox DROP COLUMN channel; ALTER TABLE outbox DROP COLUMN purpose;"
              " ALTER TABLE outbox DROP COLUMN recipient; ALTER TABLE outbox DROP COLUMN external_id;"
              " DROP INDEX events_by_firing_key; ALTER TABLE events DROP COLUMN firing_key; DROP TABLE timer_leases;"
              " DROP TABLE instances;"
              " ALTER TABLE outbox DROP COLUMN lease_holder; ALTER TABLE outbox DROP COLUMN lease_token;"
              " ALTER TABLE outbox DROP COLUMN lease_until;"
              " DROP INDEX requests_by_assignee; DROP INDEX requests_unassigned;"
              " ALTER TABLE requests DROP COLUMN assignee; DROP TABLE person_load; DROP TABLE assignment_cursor;"
              " DROP TABLE customer_changes; DROP TABLE customers;"
              " DROP TABLE use_case_load; DROP TABLE decisions; DROP TABLE clock_facts;"
              " DELETE FROM schema_migrations WHERE version >= 10");
    }
    auto db = store::open_database(path);
    CHECK(store::schema_version(db) == store::latest_schema_version());
    CHECK(walk(db, std::nullopt, 9) == before);
    CHECK(counted_by_counters(db) == counted_by_scan(db));
  }

  TEST_CASE("a request's events page oldest first, by log sequence number") {
    testing::for_each_backend([](testing::backend& db) {
      fill(db, 3);
      const auto all = store::events_of(db, 2);
      REQUIRE(all.size() >= 3);
      std::vector<engine::event> walked;
      std::int64_t after = 0;
      for (int pages = 0; pages < 100; ++pages) {
        auto page = store::list_events(db, 2, after, 2);
        CHECK(page.events.size() <= 2);
        walked.insert(walked.end(), page.events.begin(), page.events.end());
        if (!page.next_after) break;
        after = *page.next_after;
      }
      REQUIRE(walked.size() == all.size());
      for (std::size_t i = 0; i < all.size(); ++i) {
        CHECK(testing::type_of(walked[i]) == testing::type_of(all[i]));
        CHECK(walked[i].at == all[i].at);
      }
      CHECK(store::list_events(db, 99, 0, 10).events.empty());
    });
  }

  TEST_CASE("timer rows read from the stored summary show what the whole request shows") {
    testing::for_each_backend([](testing::backend& db) {
      fill(db, 40);
      // An assignee, so the summary's is not always empty.
      act(db, 3, engine::action_kind::start, model::role::ce, filed_at + std::chrono::hours{6});
      store::open_clock_filter whole{std::nullopt, std::nullopt, 500, false};
      store::open_clock_filter summaries = whole;
      summaries.summaries = true;
      const auto from_documents = store::list_open_clocks(db, whole);
      const auto from_summaries = store::list_open_clocks(db, summaries);
      REQUIRE(from_documents.clocks.size() > 20);
      REQUIRE(from_summaries.clocks.size() == from_documents.clocks.size());
      bool assigned = false;
      for (std::size_t i = 0; i < from_documents.clocks.size(); ++i) {
        const auto& want = *from_documents.clocks[i].request;
        const auto& got = *from_summaries.clocks[i].request;
        CAPTURE(want.id);
        CHECK(from_summaries.clocks[i].place == from_documents.clocks[i].place);
        CHECK(got.id == want.id);
        CHECK(got.status == want.status);
        CHECK(got.owner == want.owner);
        CHECK(got.input.kind == want.input.kind);
        CHECK(json::value(codec::to_json(got.input.customer)) == json::value(codec::to_json(want.input.customer)));
        CHECK(got.input.title == want.input.title);
        CHECK(got.input.priority == want.input.priority);
        CHECK(got.assignee == want.assignee);
        CHECK(got.created_at == want.created_at);
        REQUIRE(got.clocks.size() == want.clocks.size());
        for (std::size_t c = 0; c < want.clocks.size(); ++c)
          CHECK(json::value(codec::to_json(got.clocks[c])) == json::value(codec::to_json(want.clocks[c])));
        CHECK(json::value(codec::to_json(*from_summaries.clocks[i].clock)) ==
              json::value(codec::to_json(*from_documents.clocks[i].clock)));
        // The summary holds nothing a timer row does not show.
        CHECK(got.input.body.empty());
        CHECK(got.routing.trace.empty());
        assigned = assigned || !got.assignee.empty();
      }
      CHECK(assigned);
    });
  }

  TEST_CASE("timer rows read again after their request changed show the change, in any database") {
    // Decoded summaries are reused while a row's stored text is unchanged; a change, or another
    // database with the same ids, must never be answered from an earlier read.
    store::open_clock_filter summaries{std::nullopt, std::nullopt, 500, true};
    const auto row_of = [&](SQLite::Database& db, model::request_id id) -> std::shared_ptr<const model::request> {
      for (const auto& open : store::list_open_clocks(db, summaries).clocks)
        if (open.request->id == id) return open.request;
      return nullptr;
    };
    auto db = store::open_database(":memory:");
    const auto first = file(
        db, make_input(model::request_kind::troubleshooting, "customer-1", model::customer_stage::production), filed_at);
    REQUIRE(row_of(db, first.id));
    CHECK(row_of(db, first.id)->status != model::request_status::pending_customer);
    CHECK(row_of(db, first.id)->assignee.empty());

    act(db, first.id, engine::action_kind::start, model::role::ce, filed_at + std::chrono::minutes{5});
    const auto started = row_of(db, first.id);
    REQUIRE(started);
    CHECK_FALSE(started->assignee.empty());
    act(db, first.id, engine::action_kind::pend, worker_of(first.owner), filed_at + std::chrono::minutes{9});
    const auto pending = row_of(db, first.id);
    REQUIRE(pending);
    CHECK(pending->status == model::request_status::pending_customer);
    CHECK(std::any_of(pending->clocks.begin(), pending->clocks.end(),
                      [](const model::sla_clock& c) { return c.state == model::clock_state::paused; }));

    auto other = store::open_database(":memory:");
    const auto same_id = file(
        other, make_input(model::request_kind::troubleshooting, "customer-2", model::customer_stage::production), filed_at);
    REQUIRE(same_id.id == first.id);
    const auto elsewhere = row_of(other, same_id.id);
    REQUIRE(elsewhere);
    CHECK(elsewhere->assignee.empty());
    CHECK(elsewhere->input.customer.id == "customer-2");
    CHECK(row_of(db, first.id)->status == model::request_status::pending_customer);
  }

  TEST_CASE("migration 13 fills in the summaries of requests stored before it") {
    testing::temp_dir dir;
    const auto path = dir.file("old.db");
    std::vector<store::clock_cursor> before;
    {
      auto db = store::open_database(path);
      fill(db, 30);
      before = expected_order(db, std::nullopt);
      // Back to the schema before migration 13, keeping the rows.
      db.exec("DROP INDEX requests_by_owner_status; DROP TABLE request_summaries;"
              " DROP TRIGGER outbox_state_counts_insert; DROP TRIGGER outbox_state_counts_delete;"
              " DROP TRIGGER outbox_state_counts_update; DROP INDEX outbox_conversation; ALTER TABLE outbox DROP COLUMN channel; ALTER TABLE outbox DROP COLUMN purpose;"
              " ALTER TABLE outbox DROP COLUMN recipient; ALTER TABLE outbox DROP COLUMN external_id;"
              " DROP INDEX events_by_firing_key; ALTER TABLE events DROP COLUMN firing_key; DROP TABLE timer_leases;"
              " DROP TABLE instances;"
              " ALTER TABLE outbox DROP COLUMN lease_holder; ALTER TABLE outbox DROP COLUMN lease_token;"
              " ALTER TABLE outbox DROP COLUMN lease_until;"
              " DROP INDEX requests_by_assignee; DROP INDEX requests_unassigned;"
              " ALTER TABLE requests DROP COLUMN assignee; DROP TABLE person_load; DROP TABLE assignment_cursor;"
              " DROP TABLE customer_changes; DROP TABLE customers;"
              " DROP TABLE use_case_load; DROP TABLE decisions; DROP TABLE clock_facts;"
              " DELETE FROM schema_migrations WHERE version >= 13");
    }
    auto db = store::open_database(path);
    CHECK(store::schema_version(db) == store::latest_schema_version());
    SQLite::Statement rows(db, "SELECT request_id, summary FROM request_summaries ORDER BY request_id");
    int checked = 0;
    while (rows.executeStep()) {
      const auto id = rows.getColumn(0).getInt64();
      CAPTURE(id);
      REQUIRE_FALSE(rows.getColumn(1).isNull());
      const auto stored = store::find_request(db, id);
      REQUIRE(stored);
      // What SQL filled in reads as what save_request writes.
      CHECK(json::parse(rows.getColumn(1).getString()) == json::parse(store::summary_json(*stored)));
      ++checked;
    }
    CHECK(checked == 30);
    store::open_clock_filter filter{std::nullopt, std::nullopt, 9, true};
    std::vector<store::clock_cursor> walked;
    for (;;) {
      const auto page = store::list_open_clocks(db, filter);
      for (const auto& open : page.clocks) walked.push_back(open.place);
      if (!page.next) break;
      filter.after = page.next;
    }
    CHECK(walked == before);
  }

  TEST_CASE("the dashboard's filters select open clocks in urgency order, as the definition does") {
    auto db = store::open_database(":memory:");
    for (int i = 0; i < 40; ++i) {
      const auto kind = i % 3 == 0 ? model::request_kind::how_to : model::request_kind::troubleshooting;
      auto input = make_input(kind, "customer-" + std::to_string(i % 4),
                              i % 2 == 0 ? model::customer_stage::trial : model::customer_stage::production);
      input.priority = i % 5 == 0 ? model::priority::urgent : model::priority::normal;
      input.title = i == 17 ? "Zeppelin mirror" : "Slow search";
      const auto request = file(db, std::move(input), filed_at + std::chrono::minutes{37 * (i % 9)});
      if (i % 5 == 1) act(db, request.id, engine::action_kind::pend, worker_of(request.owner), filed_at + std::chrono::minutes{90});
    }
    const auto all = expected_order(db, std::nullopt);
    const auto expect = [&](auto keep) {
      std::vector<store::clock_cursor> out;
      for (const auto& place : all) {
        const auto request = store::find_request(db, place.request);
        REQUIRE(request);
        const auto clock = std::find_if(request->clocks.begin(), request->clocks.end(),
                                        [&](const model::sla_clock& c) { return model::to_string(c.metric) == place.metric; });
        REQUIRE(clock != request->clocks.end());
        if (keep(*request, *clock)) out.push_back(place);
      }
      return out;
    };
    const auto walked = [&](store::open_clock_filter filter) {
      filter.limit = 7;
      std::vector<store::clock_cursor> out;
      for (int pages = 0; pages < 1000; ++pages) {
        const auto page = store::list_open_clocks(db, filter);
        for (const auto& open : page.clocks) out.push_back(open.place);
        if (!page.next) break;
        filter.after = page.next;
      }
      return out;
    };
    store::open_clock_filter filter;
    filter.customer = "customer-1";
    auto expected = expect([](const model::request& r, const model::sla_clock&) { return r.input.customer.id == "customer-1"; });
    CHECK_FALSE(expected.empty());
    CHECK(walked(filter) == expected);
    filter = {};
    filter.kind = model::request_kind::troubleshooting;
    filter.priority = model::priority::urgent;
    expected = expect([](const model::request& r, const model::sla_clock&) {
      return r.input.kind == model::request_kind::troubleshooting && r.input.priority == model::priority::urgent;
    });
    CHECK_FALSE(expected.empty());
    CHECK(walked(filter) == expected);
    filter = {};
    filter.state = "paused";
    expected = expect([](const model::request&, const model::sla_clock& c) { return c.state == model::clock_state::paused; });
    CHECK_FALSE(expected.empty());
    CHECK(walked(filter) == expected);
    filter = {};
    filter.assignee = "";
    CHECK(walked(filter) == all);  // nobody took any
    filter.assignee = "sam";
    CHECK(walked(filter).empty());
    filter = {};
    filter.q = "zeppelin";
    expected = expect([](const model::request& r, const model::sla_clock&) { return r.input.title == "Zeppelin mirror"; });
    CHECK_FALSE(expected.empty());
    CHECK(walked(filter) == expected);
    filter.q = "#" + std::to_string(all.back().request);
    expected = expect([&](const model::request& r, const model::sla_clock&) { return r.id == all.back().request; });
    CHECK(walked(filter) == expected);
    filter.q = "-- ::";  // no word: nothing
    CHECK(walked(filter).empty());
  }

  TEST_CASE("a filtered page of open clocks walks that filter's urgency index, never a sort") {
    auto db = store::open_database(":memory:");
    for (const auto& filter : std::vector<std::pair<std::string, std::string>>{
             {"customer_id", "clocks_by_customer_urgency"},
             {"kind", "clocks_by_kind_urgency"},
             {"priority", "clocks_by_priority_urgency"},
             {"assignee", "clocks_by_assignee_urgency"}}) {
      const std::string& column = filter.first;
      const std::string& index = filter.second;
      const auto plan = query_plan(db, "SELECT c.paused, c.urgency, c.request_id, c.metric FROM clocks c WHERE c.open = 1"
                                       " AND c." + column + " = 'x' ORDER BY c.paused, c.urgency, c.request_id, c.metric"
                                       " LIMIT 201");
      CAPTURE(plan);
      CHECK(plan.find(index) != std::string::npos);
      CHECK(plan.find("TEMP B-TREE") == std::string::npos);
    }
  }

  TEST_CASE("migration 22 fills the filter columns and the board for requests stored before it") {
    testing::temp_dir dir;
    const auto path = dir.file("old.db");
    std::vector<store::open_request_count> before;
    {
      auto db = store::open_database(path);
      fill(db, 30);
      before = store::open_request_counts(db);
      // Back to the schema before migration 22, keeping the rows.
      db.exec("DROP TABLE board; DROP TABLE board_counts;"
              " UPDATE clocks SET customer_id = NULL, kind = NULL, priority = NULL, assignee = NULL;"
              " DELETE FROM schema_migrations WHERE version = 22");
    }
    auto db = store::open_database(path);
    CHECK(store::schema_version(db) == store::latest_schema_version());
    // The counts as the definition has them: every request not resolved or closed, by board_state.
    std::map<std::tuple<std::string, std::string, bool>, std::int64_t> recount, counted, counted_before;
    for (model::request_id id = 1; id <= 30; ++id) {
      const auto request = store::find_request(db, id);
      REQUIRE(request);
      if (const auto state = store::board_state(*request))
        recount[{std::string(model::to_string(request->owner)), std::string(*state), request->assignee.empty()}] += 1;
    }
    for (const auto& c : store::open_request_counts(db)) counted[{c.owner, c.state, c.unassigned}] = c.requests;
    for (const auto& c : before) counted_before[{c.owner, c.state, c.unassigned}] = c.requests;
    CHECK(counted == recount);
    CHECK(counted == counted_before);
    CHECK(recount.size() > 1);
    // A resolved request leaves the board (fill resolves some); the open clocks carry their
    // request's customer, kind and priority.
    SQLite::Statement rows(db, "SELECT c.request_id, c.customer_id, c.kind, c.priority FROM clocks c WHERE c.open = 1");
    int checked = 0;
    while (rows.executeStep()) {
      const auto request = store::find_request(db, rows.getColumn(0).getInt64());
      REQUIRE(request);
      CHECK(rows.getColumn(1).getString() == request->input.customer.id);
      CHECK(rows.getColumn(2).getString() == model::to_string(request->input.kind));
      CHECK(rows.getColumn(3).getString() == model::to_string(request->input.priority));
      ++checked;
    }
    CHECK(checked > 0);
    // Run twice over its own tables (tests rewind schema_migrations), it counts the same.
    db.exec("DELETE FROM schema_migrations WHERE version = 22");
    store::open_database(path);
    counted.clear();
    for (const auto& c : store::open_request_counts(db)) counted[{c.owner, c.state, c.unassigned}] = c.requests;
    CHECK(counted == recount);
  }

  TEST_CASE("a filtered page of requests is one index range read, never a sort") {
    auto db = store::open_database(":memory:");
    const auto plan = query_plan(db,
                                 "SELECT document, id FROM requests WHERE 1 = 1 AND owner = 'se' AND status = 'open'"
                                 " ORDER BY id DESC LIMIT 51");
    CAPTURE(plan);
    CHECK(plan.find("requests_by_owner_status (owner=? AND status=?)") != std::string::npos);
    CHECK(plan.find("TEMP B-TREE") == std::string::npos);
    const auto cursor_plan = query_plan(db,
                                        "SELECT document, id FROM requests WHERE 1 = 1 AND owner = 'se' AND status = 'open'"
                                        " AND id < 1000 ORDER BY id DESC LIMIT 51");
    CAPTURE(cursor_plan);
    CHECK(cursor_plan.find("requests_by_owner_status (owner=? AND status=? AND id<?)") != std::string::npos);
    // The timers page reads its requests by primary key.
    const auto by_id = query_plan(db, "SELECT request_id, summary FROM request_summaries WHERE request_id IN (?, ?, ?)");
    CAPTURE(by_id);
    CHECK(by_id.find("USING INTEGER PRIMARY KEY") != std::string::npos);
  }
}

TEST_SUITE("store::reader_pool") {
  TEST_CASE("each lease has a connection to itself, reused once given back, and sees the last commit") {
    testing::temp_dir dir;
    const auto path = dir.file("pool.db");
    auto writer = store::open_database(path);
    store::reader_pool pool(path, 2);
    SQLite::Database* first = nullptr;
    {
      auto a = pool.acquire();
      auto b = pool.acquire();
      CHECK(&(*a).connection() != &(*b).connection());
      first = &(*a).connection();
      CHECK(store::list_requests(*a, {}).requests.empty());
    }
    file(writer, make_input(model::request_kind::troubleshooting), filed_at);
    // Several threads at once, more than the pool holds: each waits its turn and reads the commit.
    std::atomic<int> found{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i)
      threads.emplace_back([&] {
        for (int j = 0; j < 20; ++j) {
          auto lease = pool.acquire();
          if (store::find_request(*lease, 1)) ++found;
        }
      });
    for (auto& t : threads) t.join();
    CHECK(found == 120);
    auto again = pool.acquire();
    auto other = pool.acquire();
    CHECK((&(*again).connection() == first || &(*other).connection() == first));
  }
}
