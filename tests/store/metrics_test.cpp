#include "store/metrics.hpp"

#include "store/database.hpp"
#include "store/requests.hpp"
#include "support/backends.hpp"
#include "support/policy.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

using namespace switchboard;

TEST_SUITE("store::metrics") {
  TEST_CASE("read_counts counts requests by status and their open clocks from the read models") {
    testing::for_each_backend([](testing::backend& db) {
      const auto empty = store::read_counts(db);
      CHECK(empty.requests_by_status.empty());
      CHECK(empty.open_clocks.empty());
      CHECK(empty.escalations_by_state.empty());
      CHECK(empty.deliveries.empty());

      const model::instant at{std::chrono::seconds{1795000000}};
      model::request_status status{};
      for (int i = 0; i < 3; ++i)
        status = store::record_new_request(db, testing::shipped_policy(),
                                           {testing::make_input(model::request_kind::troubleshooting),
                                            model::actor{"dana", model::role::ce}},
                                           at)
                     .request.status;
      const auto counts = store::read_counts(db);
      REQUIRE(counts.requests_by_status.size() == 1);
      CHECK(counts.requests_by_status[0].label == std::string(model::to_string(status)));
      CHECK(counts.requests_by_status[0].count == 3);
      // Each troubleshooting request starts running clocks, none breached yet.
      REQUIRE_FALSE(counts.open_clocks.empty());
      for (const auto& row : counts.open_clocks) {
        CHECK(row.state == "running");
        CHECK_FALSE(row.breached);
      }
      std::int64_t clocks = 0;
      for (const auto& row : counts.open_clocks) clocks += row.count;
      CHECK(clocks == db.integer("SELECT COUNT(*) FROM clocks WHERE open = 1"));
    });
  }

  TEST_CASE("the counters read_counts reads follow every insert, update and delete as a full count would") {
    // Migration 24's triggers against what COUNT(*) says, after writes of every kind: the upsert
    // save_request does, status and state changes, a change that keeps the status, deletes.
    testing::for_each_backend([](testing::backend& db) {
      const std::vector<std::string> writes = {
          "INSERT INTO requests (id, kind, customer_id, status, owner, created_at, updated_at, document) VALUES "
          "(1, 'how_to', 'acme', 'new', 'se', 0, 0, '{}'), (2, 'how_to', 'acme', 'new', 'se', 0, 0, '{}'),"
          " (3, 'how_to', 'acme', 'open', 'ce', 0, 0, '{}')",
          "INSERT INTO requests (id, kind, customer_id, status, owner, created_at, updated_at, document) VALUES "
          "(1, 'how_to', 'acme', 'open', 'se', 0, 1, '{}') ON CONFLICT (id) DO UPDATE SET status = excluded.status,"
          " updated_at = excluded.updated_at",
          "UPDATE requests SET updated_at = 5 WHERE id = 2",
          "UPDATE requests SET status = 'resolved' WHERE id = 3",
          "INSERT INTO escalations (id, request_id, ladder, state, roles, triggered_at, document) VALUES "
          "('e1', 1, 'sla_breach', 'open', ',se,', 0, '{}'), ('e2', 2, 'sla_breach', 'open', ',se,', 0, '{}')",
          "UPDATE escalations SET state = 'acknowledged' WHERE id = 'e1'",
          "UPDATE escalations SET roles = ',se,head_of_cs,' WHERE id = 'e2'",
          "DELETE FROM escalations WHERE id = 'e2'",
          "INSERT INTO escalations (id, request_id, ladder, state, roles, triggered_at, document) VALUES "
          "('e2', 2, 'sla_breach', 'resolved', ',se,', 0, '{}')",
          "INSERT INTO outbox (webhook_id, subscription, event_type, event_seq, request_id, payload, created_at,"
          " window_start, state, next_attempt_at, channel) VALUES"
          " ('w1', 's', 't', 1, 1, '{}', 0, 0, 'pending', 0, 'webhook'),"
          " ('w2', 's', 't', 2, 1, '{}', 0, 0, 'pending', 0, 'webhook'),"
          " ('w3', 's', 't', 3, 2, '{}', 0, 0, 'pending', 0, 'email')",
          "UPDATE outbox SET state = 'delivered' WHERE webhook_id = 'w1'",
          "UPDATE outbox SET attempts = 2 WHERE webhook_id = 'w2'",
          "UPDATE outbox SET channel = 'slack_dm' WHERE webhook_id = 'w3'",
          "DELETE FROM outbox WHERE webhook_id = 'w2'",
          "DELETE FROM escalations WHERE request_id = 3",
          "DELETE FROM requests WHERE id = 3",
      };
      for (const auto& sql : writes) {
        INFO(sql);
        db.exec(sql);
      }
      const auto counts = store::read_counts(db);
      std::string statuses;
      for (const auto& row : counts.requests_by_status) statuses += row.label + "=" + std::to_string(row.count) + " ";
      std::string counted;
      for (const auto& row : db.rows("SELECT status, COUNT(*) FROM requests GROUP BY status ORDER BY status"))
        counted += row[0] + "=" + row[1] + " ";
      CHECK(statuses == counted);
      CHECK(statuses == "new=1 open=1 ");
      std::string states;
      for (const auto& row : counts.escalations_by_state) states += row.label + "=" + std::to_string(row.count) + " ";
      counted.clear();
      for (const auto& row : db.rows("SELECT state, COUNT(*) FROM escalations GROUP BY state ORDER BY state"))
        counted += row[0] + "=" + row[1] + " ";
      CHECK(states == counted);
      CHECK(states == "acknowledged=1 resolved=1 ");
      std::string deliveries;
      for (const auto& row : counts.deliveries)
        deliveries += row.channel + "/" + row.state + "=" + std::to_string(row.count) + " ";
      counted.clear();
      for (const auto& row :
           db.rows("SELECT channel, state, COUNT(*) FROM outbox GROUP BY channel, state ORDER BY channel, state"))
        counted += row[0] + "/" + row[1] + "=" + row[2] + " ";
      CHECK(deliveries == counted);
      CHECK(deliveries == "slack_dm/pending=1 webhook/delivered=1 ");
    });
  }

  TEST_CASE("migration 24 counts what a database from before it already holds") {
    // A database at migration 23 with rows in every counted table, then migrated: the counters
    // start from the rows already there, not from zero.
    testing::temp_dir dir;
    const auto path = dir.file("switchboard.db");
    {
    auto db = store::open_database(path);
    db.exec("DROP TRIGGER request_status_counts_insert; DROP TRIGGER request_status_counts_delete;"
            "DROP TRIGGER request_status_counts_update; DROP TABLE request_status_counts;"
            "DROP TRIGGER escalation_state_counts_insert; DROP TRIGGER escalation_state_counts_delete;"
            "DROP TRIGGER escalation_state_counts_update; DROP TABLE escalation_state_counts;"
            "DROP TRIGGER outbox_state_counts_insert; DROP TRIGGER outbox_state_counts_delete;"
            "DROP TRIGGER outbox_state_counts_update; DROP TABLE outbox_state_counts;"
            "DELETE FROM schema_migrations WHERE version = 24");
    db.exec("INSERT INTO requests (id, kind, customer_id, status, owner, created_at, updated_at, document) VALUES "
            "(1, 'how_to', 'acme', 'open', 'se', 0, 0, '{}'), (2, 'how_to', 'acme', 'open', 'se', 0, 0, '{}')");
    db.exec("INSERT INTO escalations (id, request_id, ladder, state, roles, triggered_at, document) VALUES "
            "('e1', 1, 'sla_breach', 'open', ',se,', 0, '{}')");
    db.exec("INSERT INTO outbox (webhook_id, subscription, event_type, event_seq, request_id, payload, created_at,"
            " window_start, state, next_attempt_at) VALUES ('w1', 's', 't', 1, 1, '{}', 0, 0, 'dead', 0)");
    }
    auto db = store::open_database(path);  // migrates
    const auto counts = store::read_counts(db);
    REQUIRE(counts.requests_by_status.size() == 1);
    CHECK(counts.requests_by_status[0].count == 2);
    REQUIRE(counts.escalations_by_state.size() == 1);
    CHECK(counts.escalations_by_state[0].label == "open");
    REQUIRE(counts.deliveries.size() == 1);
    CHECK(counts.deliveries[0].channel == "webhook");
    CHECK(counts.deliveries[0].state == "dead");
    db.exec("UPDATE requests SET status = 'resolved' WHERE id = 1");
    CHECK(store::read_counts(db).requests_by_status.size() == 2);
  }
}
