// Reading a backtest's window (store/backtest_reads.hpp, issue 15 W2): the window's bounds, the
// requests its filings opened, the horizon seq, the input types only, and an older read-only
// database read by a scan.
#include "store/backtest_reads.hpp"

#include "store/database.hpp"
#include "store/requests.hpp"
#include "support/backends.hpp"
#include "support/policy.hpp"
#include "support/temp_dir.hpp"
#include "support/test_policy.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

using namespace switchboard;
using namespace std::chrono_literals;
using testing::make_input;
using testing::test_policy;

namespace {

const model::instant t0{std::chrono::seconds{1795000000}};

model::request_id file(store::unit_of_work db, model::instant at, model::request_kind kind = model::request_kind::troubleshooting) {
  return store::record_new_request(db, test_policy(), {make_input(kind), model::actor{"dana", model::role::ce}}, at)
      .request.id;
}

std::vector<store::change> act(store::unit_of_work db, model::request_id id, engine::action_kind kind, model::role role,
                               engine::action_input fields, model::instant at) {
  auto outcome = store::record_action(db, test_policy(), id, {kind, std::move(fields), {"sam", role}}, at);
  if (auto* refused = std::get_if<engine::refusal>(&outcome)) FAIL(refused->code << ": " << refused->message);
  REQUIRE(std::holds_alternative<std::vector<store::change>>(outcome));
  return std::get<std::vector<store::change>>(outcome);
}

std::vector<model::request_id> requests_of(const backtest::history& h) {
  std::vector<model::request_id> out;
  for (const auto& in : h.inputs) out.push_back(in.request);
  return out;
}

bool sorted_by_seq(const backtest::history& h) {
  return std::is_sorted(h.inputs.begin(), h.inputs.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
}

std::string query_plan(SQLite::Database& db, const std::string& sql) {
  SQLite::Statement plan(db, "EXPLAIN QUERY PLAN " + sql);
  std::string out;
  while (plan.executeStep()) out += plan.getColumn(3).getString() + "\n";
  return out;
}

}  // namespace

TEST_SUITE("store::backtest_reads") {
  TEST_CASE("the window is from inclusive to exclusive, with the requests its filings opened after it") {
    testing::for_each_backend([](testing::backend& db) {
      const auto before = file(db, t0 - 1s);
      const auto first = file(db, t0);           // at `from`: in
      const auto second = file(db, t0 + 1h);
      const auto at_to = file(db, t0 + 2h);      // at `to`: out
      act(db, first, engine::action_kind::respond, model::role::se, {.message = "Looking"}, t0 + 10min);
      act(db, before, engine::action_kind::respond, model::role::se, {.message = "Looking"}, t0 + 11min);
      // After `to`, the filed request opens an interrupt: its id is later than at_to's.
      const auto engaged = act(db, second, engine::action_kind::engage_engineering, model::role::se,
                               {.message = "zoekt panics"}, t0 + 3h);
      REQUIRE(engaged.size() == 2);
      const auto child = engaged[1].request.id;
      act(db, child, engine::action_kind::respond, model::role::engineering, {.message = "on it"}, t0 + 4h);

      const auto h = store::read_history(db, {t0, t0 + 2h, std::nullopt}, {.chunk_ids = 1});
      CHECK(h.filed == std::vector<model::request_id>{first, second});
      CHECK(h.linked == std::vector<model::request_id>{child});
      CHECK(child > at_to);
      CHECK_FALSE(h.scanned);
      CHECK(h.horizon_seq == db.integer("SELECT MAX(seq) FROM events"));
      CHECK(h.as_of == t0 + 4h);
      CHECK(sorted_by_seq(h));
      // The filings, the respond, the engage (with the child's id) and the child's respond: what
      // the system recorded (routing, clocks) and the child's own request.created are no input.
      CHECK(requests_of(h) == std::vector<model::request_id>{first, second, first, second, child});
      REQUIRE(h.inputs.size() == 5);
      CHECK(std::holds_alternative<engine::file_request>(h.inputs[0].command));
      CHECK(h.inputs[0].actor == "ce:dana");
      CHECK(h.inputs[0].at == t0);
      const auto* engage = std::get_if<engine::act_on_request>(&h.inputs[3].command);
      REQUIRE(engage != nullptr);
      CHECK(engage->kind == engine::action_kind::engage_engineering);
      CHECK(h.inputs[3].child == child);
      CHECK(h.inputs[3].at == t0 + 3h);
      CHECK_FALSE(h.inputs[4].child);

      // `until` stands for the newest event.
      CHECK(store::read_history(db, {t0, t0 + 2h, t0 + 30h}).as_of == t0 + 30h);
      // An empty window reads nothing.
      const auto none = store::read_history(db, {t0 + 5h, t0 + 6h, std::nullopt});
      CHECK(none.filed.empty());
      CHECK(none.inputs.empty());
    });
  }

  TEST_CASE("only the input types are decoded, and breaches and escalations come from the record") {
    testing::for_each_backend([](testing::backend& db) {
      const auto id = file(db, t0);
      // Past the first response's hour: the breach opens the sla_breach ladder.
      act(db, id, engine::action_kind::respond, model::role::se, {.message = "Sorry for the wait"}, t0 + 2h);
      const auto escalation = db.text("SELECT id FROM escalations WHERE request_id = " + std::to_string(id));
      REQUIRE_FALSE(escalation.empty());
      act(db, id, engine::action_kind::acknowledge_escalation, model::role::head_of_cs,
          {.message = "on it", .escalation = escalation}, t0 + 3h);
      // A stored event of another type that would not decode is never parsed.
      db.exec("INSERT INTO events (request_id, type, at, actor, data) VALUES (" + std::to_string(id) +
              ", 'request.routed', 1795000000, 'system', '{not json')");

      const auto h = store::read_history(db, {t0, t0 + 1h, std::nullopt});
      REQUIRE(h.inputs.size() == 3);
      const auto& ack = h.inputs[2];
      const auto* command = std::get_if<engine::act_on_request>(&ack.command);
      REQUIRE(command != nullptr);
      CHECK(command->kind == engine::action_kind::acknowledge_escalation);
      REQUIRE(ack.escalation);
      CHECK(ack.escalation->recorded_id == escalation);
      CHECK(ack.escalation->ladder == "sla_breach");
      CHECK(ack.escalation->ordinal == 1);
      CHECK(h.recorded_breaches.count({id, model::sla_metric::first_response}) == 1);
      CHECK(h.recorded_breaches.count({id, model::sla_metric::resolution}) == 0);

      // A stored input that does not decode is an error naming it, not a silent gap.
      db.exec("INSERT INTO events (request_id, type, at, actor, data) VALUES (" + std::to_string(id) +
              ", 'request.responded', 1795000000, 'se:sam', '{not json')");
      CHECK_THROWS_AS(store::read_history(db, {t0, t0 + 1h, std::nullopt}), std::invalid_argument);
    });
  }

  TEST_CASE("events appended while the window is read, past the horizon seq, are not read") {
    testing::for_each_backend([](testing::backend& db) {
      const auto first = file(db, t0);
      const auto second = file(db, t0 + 1min);
      const auto horizon = db.integer("SELECT MAX(seq) FROM events");
      int chunks = 0;
      store::history_read_options options;
      options.chunk_ids = 1;
      // After the first chunk (request `first`), a writer acts on both requests.
      options.after_chunk = [&] {
        if (++chunks != 1) return;
        act(db, first, engine::action_kind::respond, model::role::se, {.message = "late"}, t0 + 5min);
        act(db, second, engine::action_kind::respond, model::role::se, {.message = "late"}, t0 + 5min);
        act(db, second, engine::action_kind::engage_engineering, model::role::se, {.message = "late"}, t0 + 6min);
      };
      const auto h = store::read_history(db, {t0, t0 + 1h, std::nullopt}, options);
      CHECK(chunks >= 2);
      CHECK(h.horizon_seq == horizon);
      CHECK(h.as_of == t0 + 1min);
      CHECK(requests_of(h) == std::vector<model::request_id>{first, second});
      CHECK(h.linked.empty());
      for (const auto& in : h.inputs) CHECK(in.seq <= horizon);
    });
  }

  TEST_CASE("the window's filings are a range of requests_by_created and their events one of events_by_request") {
    testing::temp_dir dir;
    const auto path = dir.file("plan.db");
    SQLite::Database db = store::open_database(path);
    const std::string created = "SELECT id FROM requests WHERE created_at >= 1 AND created_at < 2 ORDER BY id";
    CHECK(query_plan(db, created).find("USING COVERING INDEX requests_by_created") != std::string::npos);
    const std::string inputs =
        "SELECT request_id, seq, type, at, actor, data FROM events WHERE request_id BETWEEN 1 AND 5 AND seq <= 9"
        " AND type IN (" + std::string("'request.created', 'request.responded'") + ") ORDER BY request_id, seq";
    const auto plan = query_plan(db, inputs);
    CHECK(plan.find("USING INDEX events_by_request") != std::string::npos);
    CHECK(plan.find("TEMP B-TREE") == std::string::npos);
    // Migration 23 runs again over its own index (tests rewind schema_migrations).
    db.exec("DELETE FROM schema_migrations WHERE version = 23");
    CHECK_NOTHROW(store::open_database(path));
    CHECK(store::schema_version(db) == store::latest_schema_version());
  }

  TEST_CASE("an older database opened read-only is read by a scan, and left as it was") {
    testing::temp_dir dir;
    const auto path = dir.file("compat.db");
    std::filesystem::copy_file(testing::source_path("tests/fixtures/compat/dde1aca/switchboard.db"), path);
    const auto bytes = testing::read_text(path);
    {
      SQLite::Database db = store::open_database(path, store::access::read_only);
      REQUIRE(store::schema_version(db) == 11);
      // Every request of the fixture was filed at one frozen instant.
      const model::instant filed_at{std::chrono::seconds{db.execAndGet("SELECT MIN(created_at) FROM requests").getInt64()}};
      const auto h = store::read_history(db, {filed_at, filed_at + 1s, std::nullopt}, {.chunk_ids = 4});
      CHECK(h.scanned);
      // Computed here from the log itself: filings without a parent or a request they follow,
      // requests with one, and every input the record holds (each person's or integration's
      // event of an input type, but no linked request's or follow-up's filing).
      CHECK(h.filed.size() ==
            static_cast<std::size_t>(db.execAndGet("SELECT COUNT(*) FROM events WHERE type = 'request.created'"
                                                   " AND json_extract(data, '$.parent') IS NULL AND json_extract(data, '$.follows') IS NULL").getInt64()));
      CHECK(h.linked.size() ==
            static_cast<std::size_t>(db.execAndGet("SELECT COUNT(*) FROM events WHERE type = 'request.created'"
                                                   " AND (json_extract(data, '$.parent') IS NOT NULL"
                                                   " OR json_extract(data, '$.follows') IS NOT NULL)").getInt64()));
      std::string types;
      for (const auto& type : store::input_types()) types += (types.empty() ? "'" : ", '") + type + "'";
      CHECK(h.inputs.size() ==
            static_cast<std::size_t>(db.execAndGet("SELECT COUNT(*) FROM events WHERE type IN (" + types + ")"
                                                   " AND actor <> 'system' AND NOT (type = 'request.created' AND"
                                                   " (json_extract(data, '$.parent') IS NOT NULL"
                                                   " OR json_extract(data, '$.follows') IS NOT NULL))").getInt64()));
      CHECK(h.recorded_breaches.size() ==
            static_cast<std::size_t>(db.execAndGet("SELECT COUNT(DISTINCT request_id || json_extract(data, '$.clock.metric'))"
                                                   " FROM events WHERE type = 'sla.breached'").getInt64()));
      CHECK(h.horizon_seq == db.execAndGet("SELECT MAX(seq) FROM events").getInt64());
      CHECK(sorted_by_seq(h));
      CHECK(store::schema_version(db) == 11);
    }
    CHECK(testing::read_text(path) == bytes);
    CHECK_FALSE(std::filesystem::exists(path + "-wal"));
    CHECK_FALSE(std::filesystem::exists(path + "-journal"));
  }
}
