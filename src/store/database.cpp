// Connection set-up and schema migrations, applied in order at start-up.
#include "store/database.hpp"

#if SWITCHBOARD_POSTGRES
#include "store/postgres/metrics.hpp"
#endif
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <set>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace switchboard::store {
namespace {

struct migration {
  int version;
  std::string_view sql;
  // Run before `sql`, in its transaction: for what SQL alone cannot make safe to run again
  // (ALTER TABLE ADD COLUMN has no IF NOT EXISTS in SQLite; tests rewind schema_migrations).
  void (*prepare)(SQLite::Database&) = nullptr;
};

// Adds each column `table` does not have yet.
void add_missing_columns(SQLite::Database& db, std::string_view table,
                         std::initializer_list<std::pair<std::string_view, std::string_view>> columns) {
  std::set<std::string, std::less<>> have;
  SQLite::Statement query(db, "SELECT name FROM pragma_table_info(?)");
  query.bind(1, std::string(table));
  while (query.executeStep()) have.insert(query.getColumn(0).getString());
  for (const auto& [name, type] : columns)
    if (!have.contains(name)) db.exec(fmt::format("ALTER TABLE {} ADD COLUMN {} {}", table, name, type));
}

// Migration 22's columns of `clocks`: what the dashboard filters open clocks by.
void add_clock_filter_columns(SQLite::Database& db) {
  add_missing_columns(db, "clocks", {{"customer_id", "TEXT"}, {"kind", "TEXT"}, {"priority", "TEXT"}, {"assignee", "TEXT"}});
}

// Append new migrations at the end; never edit one that has shipped.
constexpr std::array migrations{
    migration{1, R"sql(
      CREATE TABLE events (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id INTEGER NOT NULL,
        type       TEXT    NOT NULL,
        at         INTEGER NOT NULL,   -- UTC seconds since the epoch
        actor      TEXT    NOT NULL,
        data       TEXT    NOT NULL    -- JSON
      );
      CREATE INDEX events_by_request ON events (request_id, seq);
      CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
      CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

      CREATE TABLE requests (
        id          INTEGER PRIMARY KEY,
        kind        TEXT    NOT NULL,
        customer_id TEXT    NOT NULL,
        status      TEXT    NOT NULL,
        owner       TEXT    NOT NULL,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        document    TEXT    NOT NULL   -- the request as the API shows it, JSON
      );
      CREATE INDEX requests_by_owner ON requests (owner, id);
      CREATE INDEX requests_by_status ON requests (status, id);
      CREATE INDEX requests_by_customer ON requests (customer_id, id);
    )sql"},
    migration{2, R"sql(
      -- One row per SLA clock, rebuilt with its request's read model: the timer list and the
      -- scheduler's start-up queue are queries here rather than scans of every document.
      CREATE TABLE clocks (
        request_id INTEGER NOT NULL REFERENCES requests (id),
        metric     TEXT    NOT NULL,
        state      TEXT    NOT NULL,
        open       INTEGER NOT NULL,   -- 1 until the awaited action happens
        deadline   INTEGER,            -- UTC seconds, while running or breached
        next_due   INTEGER,            -- the next warning or breach, while one is pending
        PRIMARY KEY (request_id, metric)
      );
      CREATE INDEX clocks_by_next_due ON clocks (next_due) WHERE next_due IS NOT NULL;
    )sql"},
    migration{3, R"sql(
      -- The next instant anything falls due on a request (clock or escalation), for the scheduler.
      ALTER TABLE requests ADD COLUMN next_due INTEGER;
      CREATE INDEX requests_by_next_due ON requests (next_due) WHERE next_due IS NOT NULL;

      -- Escalations as the API lists them, rebuilt with their request's read model.
      CREATE TABLE escalations (
        id           TEXT    PRIMARY KEY,
        request_id   INTEGER NOT NULL REFERENCES requests (id),
        ladder       TEXT    NOT NULL,
        state        TEXT    NOT NULL,
        roles        TEXT    NOT NULL,   -- ",role,role," of everyone notified
        triggered_at INTEGER NOT NULL,
        document     TEXT    NOT NULL    -- JSON
      );
      CREATE INDEX escalations_by_state ON escalations (state, triggered_at);
    )sql"},
    migration{4, R"sql(
      -- Outbound webhooks: one row per (event, subscription), written in the event's transaction.
      CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        webhook_id      TEXT    NOT NULL UNIQUE,  -- stable across retries
        subscription    TEXT    NOT NULL,
        event_type      TEXT    NOT NULL,
        event_seq       INTEGER NOT NULL,         -- events.seq of the event it carries
        request_id      INTEGER,
        payload         TEXT    NOT NULL,         -- the Standard Webhooks envelope, JSON
        created_at      INTEGER NOT NULL,
        window_start    INTEGER NOT NULL,         -- retries stop max_age after this (reset by redeliver)
        state           TEXT    NOT NULL,         -- pending, delivered, dead
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_status     INTEGER,
        last_error      TEXT,
        delivered_at    INTEGER
      );
      CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
      CREATE INDEX outbox_by_subscription ON outbox (subscription, id);
      CREATE TABLE delivery_attempts (
        outbox_id   INTEGER NOT NULL REFERENCES outbox (id),
        attempt     INTEGER NOT NULL,
        at          INTEGER NOT NULL,
        status      INTEGER,                      -- HTTP status, NULL when no answer
        error       TEXT,
        duration_ms INTEGER NOT NULL,
        PRIMARY KEY (outbox_id, attempt)
      );
      CREATE TABLE disabled_subscriptions (
        subscription TEXT PRIMARY KEY,
        reason       TEXT    NOT NULL,
        at           INTEGER NOT NULL
      );
    )sql"},
    migration{5, R"sql(
      -- Inbound integrations: what was received (to answer retries and duplicates once) and the
      -- e-mail Message-IDs that thread replies onto requests.
      CREATE TABLE inbound_receipts (
        source      TEXT    NOT NULL,             -- slack_event, slack_message, slack_command, mailgun_token, email
        key         TEXT    NOT NULL,
        request_id  INTEGER,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (source, key)
      );
      CREATE TABLE email_messages (
        message_id TEXT    PRIMARY KEY,
        request_id INTEGER NOT NULL REFERENCES requests (id)
      );
      CREATE TABLE request_participants (
        request_id INTEGER NOT NULL REFERENCES requests (id),
        address    TEXT    NOT NULL,              -- lower-case e-mail address or slack:<user>
        PRIMARY KEY (request_id, address)
      );
    )sql"},
    migration{6, R"sql(
      -- Each team's open requests (new, open, pending_customer, escalated), kept by save_request
      -- as requests change owner or status, so the capacity ladder costs the same with a million
      -- requests stored as with none.
      CREATE TABLE team_load (
        team          TEXT    PRIMARY KEY,
        open_requests INTEGER NOT NULL
      );
      INSERT INTO team_load (team, open_requests)
        SELECT owner, COUNT(*) FROM requests WHERE status IN ('new', 'open', 'pending_customer', 'escalated')
        GROUP BY owner;

      -- The team a capacity escalation is about (the engine opens one per crossing while none for
      -- the team is unresolved). Earlier ones name it at the start of their reason.
      ALTER TABLE escalations ADD COLUMN team TEXT;
      UPDATE escalations
        SET team = substr(json_extract(document, '$.reason'), 1, instr(json_extract(document, '$.reason'), ' ') - 1)
        WHERE ladder = 'capacity';
      CREATE INDEX escalations_by_team ON escalations (team, state) WHERE team IS NOT NULL;
      -- GET /v1/escalations pages newest first by (triggered_at, id).
      CREATE INDEX escalations_by_time ON escalations (triggered_at, id);
    )sql"},
    migration{7, R"sql(
      -- One row that /healthz rewrites to prove the database takes writes.
      CREATE TABLE heartbeat (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        at INTEGER NOT NULL               -- UTC seconds of the last probe
      );
    )sql"},
    migration{8, R"sql(
      -- idempotency_keys: the answer to a POST under its Idempotency-Key, written in the
      -- command's own transaction; rows older than 24 hours are deleted as new ones arrive.
      CREATE TABLE idempotency_keys (
        actor       TEXT    NOT NULL,   -- who sent it (person or integration)
        key         TEXT    NOT NULL,   -- the Idempotency-Key header
        fingerprint TEXT    NOT NULL,   -- SHA-256 of method, target and body
        status      INTEGER NOT NULL,
        body        TEXT    NOT NULL,
        location    TEXT    NOT NULL,
        created_at  INTEGER NOT NULL,   -- Unix seconds, real clock
        PRIMARY KEY (actor, key)
      );
      CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
    )sql"},
    migration{9, R"sql(
      -- A Message-ID is the sender's claim, not a fact: keyed on it alone, the first
      -- authenticated sender to use one (a stranger's copy) held it, and the customer's real mail
      -- with that id was never remembered. Now each authenticated sender's use is a row; rows
      -- from before have no sender ('').
      CREATE TABLE email_messages_by_sender (
        message_id TEXT    NOT NULL,
        sender     TEXT    NOT NULL,      -- the authenticated From address, lower case
        request_id INTEGER NOT NULL REFERENCES requests (id),
        PRIMARY KEY (message_id, sender)
      );
      INSERT INTO email_messages_by_sender (message_id, sender, request_id)
        SELECT message_id, '', request_id FROM email_messages ORDER BY rowid;
      DROP TABLE email_messages;
      ALTER TABLE email_messages_by_sender RENAME TO email_messages;

      -- Unattributed e-mail (an unauthenticated sender) no longer counts toward a team's load.
      DELETE FROM team_load;
      INSERT INTO team_load (team, open_requests)
        SELECT owner, COUNT(*) FROM requests
        WHERE status IN ('new', 'open', 'pending_customer', 'escalated') AND customer_id <> 'unattributed'
        GROUP BY owner;
    )sql"},
    migration{10, R"sql(
      -- Open clocks by urgency from an index, so GET /v1/sla/timers?limit=100 and the
      -- dashboard's first screen read ~100 rows with a million clocks open: running and breached
      -- clocks (paused = 0) by deadline, then paused ones (paused = 1) by business seconds left.
      ALTER TABLE clocks ADD COLUMN owner TEXT;                         -- the request's owning team
      ALTER TABLE clocks ADD COLUMN warned INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE clocks ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE clocks ADD COLUMN urgency INTEGER;  -- open clocks: deadline (UTC seconds) or, paused, seconds left
      UPDATE clocks SET
        owner = (SELECT owner FROM requests r WHERE r.id = clocks.request_id),
        paused = (state = 'paused'),
        warned = COALESCE((SELECT json_extract(c.value, '$.warned') FROM requests r, json_each(r.document, '$.clocks') c
                           WHERE r.id = clocks.request_id AND json_extract(c.value, '$.metric') = clocks.metric), 0),
        urgency = CASE WHEN state = 'paused' THEN
                    (SELECT json_extract(c.value, '$.target_seconds') - json_extract(c.value, '$.used_seconds')
                     FROM requests r, json_each(r.document, '$.clocks') c
                     WHERE r.id = clocks.request_id AND json_extract(c.value, '$.metric') = clocks.metric)
                  ELSE deadline END;
      CREATE INDEX clocks_by_urgency ON clocks (paused, urgency, request_id, metric) WHERE open = 1;
      CREATE INDEX clocks_by_owner_urgency ON clocks (owner, paused, urgency, request_id, metric) WHERE open = 1;

      -- Open clocks per team and shown state (running, warning, paused, breached), kept by the
      -- triggers below in the transaction that writes the clock rows: the dashboard's counts are
      -- a handful of rows, never a scan. Clock rows must be written with INSERT, UPDATE and
      -- DELETE: the rows REPLACE deletes fire no trigger (unless recursive_triggers is on).
      CREATE TABLE open_clock_counts (
        owner  TEXT    NOT NULL,
        state  TEXT    NOT NULL,
        clocks INTEGER NOT NULL,
        PRIMARY KEY (owner, state)
      );
      INSERT INTO open_clock_counts (owner, state, clocks)
        SELECT COALESCE(owner, ''), CASE WHEN state = 'running' AND warned THEN 'warning' ELSE state END, COUNT(*)
        FROM clocks WHERE open = 1 GROUP BY 1, 2;
      CREATE TRIGGER open_clock_counts_insert AFTER INSERT ON clocks WHEN NEW.open = 1 BEGIN
        INSERT INTO open_clock_counts (owner, state, clocks)
          VALUES (COALESCE(NEW.owner, ''), CASE WHEN NEW.state = 'running' AND NEW.warned THEN 'warning' ELSE NEW.state END, 1)
          ON CONFLICT (owner, state) DO UPDATE SET clocks = clocks + 1;
      END;
      CREATE TRIGGER open_clock_counts_delete AFTER DELETE ON clocks WHEN OLD.open = 1 BEGIN
        UPDATE open_clock_counts SET clocks = clocks - 1
          WHERE owner = COALESCE(OLD.owner, '')
            AND state = CASE WHEN OLD.state = 'running' AND OLD.warned THEN 'warning' ELSE OLD.state END;
      END;
      CREATE TRIGGER open_clock_counts_update_old AFTER UPDATE ON clocks WHEN OLD.open = 1 BEGIN
        UPDATE open_clock_counts SET clocks = clocks - 1
          WHERE owner = COALESCE(OLD.owner, '')
            AND state = CASE WHEN OLD.state = 'running' AND OLD.warned THEN 'warning' ELSE OLD.state END;
      END;
      CREATE TRIGGER open_clock_counts_update_new AFTER UPDATE ON clocks WHEN NEW.open = 1 BEGIN
        INSERT INTO open_clock_counts (owner, state, clocks)
          VALUES (COALESCE(NEW.owner, ''), CASE WHEN NEW.state = 'running' AND NEW.warned THEN 'warning' ELSE NEW.state END, 1)
          ON CONFLICT (owner, state) DO UPDATE SET clocks = clocks + 1;
      END;
    )sql"},
    migration{11, R"sql(
      -- Child rows by request: saving a request replaces its escalation rows, and with foreign
      -- keys on, changing a request row looks up the rows that refer to it. Without these both
      -- read the whole table, so every filing cost more as escalations and e-mails piled up.
      CREATE INDEX escalations_by_request ON escalations (request_id);
      CREATE INDEX email_messages_by_request ON email_messages (request_id);

      -- What open clocks were last checked and re-timed against at start-up (a digest of the
      -- config and the time-zone data): while it is unchanged, a restart need not read them.
      CREATE TABLE clock_planning (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        fingerprint TEXT    NOT NULL
      );
    )sql"},
    migration{12, R"sql(
      -- A clock paused after it breached is still breached: the API, the timers and the page say
      -- so, but the counters put it under plain 'paused', so a dashboard showing only the most
      -- urgent rows counted it as not breached. Clock rows now carry `breached`, and the counters
      -- keep such clocks as 'breached_paused' (read back as paused and breached). Clocks stored
      -- before "breached" existed could only be breached in the breached state. Closed clocks
      -- are counted nowhere, and saving a request rewrites all its rows, so only open ones are
      -- filled in here.
      ALTER TABLE clocks ADD COLUMN breached INTEGER NOT NULL DEFAULT 0;
      UPDATE clocks SET breached = COALESCE(
          (SELECT json_extract(c.value, '$.breached') FROM requests r, json_each(r.document, '$.clocks') c
           WHERE r.id = clocks.request_id AND json_extract(c.value, '$.metric') = clocks.metric),
          state = 'breached')
        WHERE open = 1;

      DROP TRIGGER IF EXISTS open_clock_counts_insert;
      DROP TRIGGER IF EXISTS open_clock_counts_delete;
      DROP TRIGGER IF EXISTS open_clock_counts_update_old;
      DROP TRIGGER IF EXISTS open_clock_counts_update_new;
      DELETE FROM open_clock_counts;
      INSERT INTO open_clock_counts (owner, state, clocks)
        SELECT COALESCE(owner, ''),
               CASE WHEN state = 'running' AND warned THEN 'warning'
                    WHEN state = 'paused' AND breached THEN 'breached_paused' ELSE state END,
               COUNT(*)
        FROM clocks WHERE open = 1 GROUP BY 1, 2;
      CREATE TRIGGER open_clock_counts_insert AFTER INSERT ON clocks WHEN NEW.open = 1 BEGIN
        INSERT INTO open_clock_counts (owner, state, clocks)
          VALUES (COALESCE(NEW.owner, ''),
                  CASE WHEN NEW.state = 'running' AND NEW.warned THEN 'warning'
                       WHEN NEW.state = 'paused' AND NEW.breached THEN 'breached_paused' ELSE NEW.state END, 1)
          ON CONFLICT (owner, state) DO UPDATE SET clocks = clocks + 1;
      END;
      CREATE TRIGGER open_clock_counts_delete AFTER DELETE ON clocks WHEN OLD.open = 1 BEGIN
        UPDATE open_clock_counts SET clocks = clocks - 1
          WHERE owner = COALESCE(OLD.owner, '')
            AND state = CASE WHEN OLD.state = 'running' AND OLD.warned THEN 'warning'
                             WHEN OLD.state = 'paused' AND OLD.breached THEN 'breached_paused' ELSE OLD.state END;
      END;
      CREATE TRIGGER open_clock_counts_update_old AFTER UPDATE ON clocks WHEN OLD.open = 1 BEGIN
        UPDATE open_clock_counts SET clocks = clocks - 1
          WHERE owner = COALESCE(OLD.owner, '')
            AND state = CASE WHEN OLD.state = 'running' AND OLD.warned THEN 'warning'
                             WHEN OLD.state = 'paused' AND OLD.breached THEN 'breached_paused' ELSE OLD.state END;
      END;
      CREATE TRIGGER open_clock_counts_update_new AFTER UPDATE ON clocks WHEN NEW.open = 1 BEGIN
        INSERT INTO open_clock_counts (owner, state, clocks)
          VALUES (COALESCE(NEW.owner, ''),
                  CASE WHEN NEW.state = 'running' AND NEW.warned THEN 'warning'
                       WHEN NEW.state = 'paused' AND NEW.breached THEN 'breached_paused' ELSE NEW.state END, 1)
          ON CONFLICT (owner, state) DO UPDATE SET clocks = clocks + 1;
      END;
    )sql"},    migration{13, R"sql(
      -- What a list row shows of a request (store/summary.hpp), kept beside its document and
      -- rewritten with it: the timers list and the dashboard's first screen read these few
      -- hundred bytes per request instead of decoding its whole document (about 2.8 KB, half of
      -- it the routing trace). A table of its own rather than a column of requests: filling it
      -- in for the rows stored before writes only the summaries, not every request row again.
      CREATE TABLE request_summaries (
        request_id INTEGER PRIMARY KEY,   -- requests.id
        summary    TEXT    NOT NULL       -- JSON: status, owner, kind, customer, title, priority, assignee, created_at, clocks
      );
      INSERT INTO request_summaries (request_id, summary)
        SELECT id, json_object(
            'status', status,
            'owner', owner,
            'kind', document ->> '$.kind',
            'customer', document -> '$.customer',
            'title', document ->> '$.title',
            'priority', document ->> '$.priority',
            'assignee', document -> '$.assignee',
            'created_at', document ->> '$.created_at',
            'clocks', document -> '$.clocks')
        FROM requests ORDER BY id;

      -- GET /v1/requests?team=..&status=.. newest first: one index range, stopping after a page,
      -- rather than walking a team's requests by id and skipping the other statuses.
      CREATE INDEX requests_by_owner_status ON requests (owner, status, id);
    )sql"},
    migration{14, R"sql(
      -- One outbox, several channels (issue 13, M-a): besides webhooks, messages to a person or
      -- customer through Slack (a thread reply, a direct message) or e-mail. Existing rows are
      -- webhooks. For a message row, subscription is "slack" or "email" (so the delivery log's
      -- filters keep working) and payload is the channel's message spec, fixed at enqueue.
      ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'webhook';  -- webhook, slack_reply, slack_dm, email
      ALTER TABLE outbox ADD COLUMN purpose TEXT NOT NULL DEFAULT 'webhook';  -- webhook, reply, notification
      ALTER TABLE outbox ADD COLUMN recipient TEXT;    -- Slack channel or user, e-mail address; NULL for webhooks
      ALTER TABLE outbox ADD COLUMN external_id TEXT;  -- once delivered: Slack's ts, the e-mail's Message-ID
      -- Conversation order: a message is not started while an earlier one of the same request and
      -- channel is pending (store/messages.hpp due_messages); this finds that earlier one.
      CREATE INDEX outbox_conversation ON outbox (request_id, channel, id) WHERE state = 'pending';
    )sql"},
    migration{15, R"sql(
      -- Several instances (issue 12 D3). A request's timers belong to shard id % 64, and each
      -- shard to one instance at a time through a lease it renews (store/timer_leases.hpp). On
      -- this database one process holds the file, so its one local lease covers every shard and
      -- these rows stay as made; the table exists so both databases have one schema.
      CREATE TABLE timer_leases (
        shard      INTEGER PRIMARY KEY,        -- 0-63: requests.id % 64
        holder     TEXT,                       -- the instance id (hostname:pid:random), NULL when free
        token      INTEGER NOT NULL DEFAULT 0, -- raised at each claim: a deposed holder's token is stale
        expires_at INTEGER                     -- Unix milliseconds on the database's clock
      );
      WITH RECURSIVE n(shard) AS (SELECT 0 UNION ALL SELECT shard + 1 FROM n WHERE shard < 63)
        INSERT INTO timer_leases (shard) SELECT shard FROM n;
      -- Which instances are alive, for the fair share of shards (and for people looking).
      CREATE TABLE instances (
        id           TEXT    PRIMARY KEY,      -- hostname:pid:random
        started_at   INTEGER NOT NULL,         -- Unix milliseconds, database clock
        heartbeat_at INTEGER NOT NULL
      );
      -- A firing (a warning, a breach, an escalation level, a concern deadline) is recorded once:
      -- its key names the firing (store/firing_key.hpp) and a second recording is refused.
      ALTER TABLE events ADD COLUMN firing_key TEXT;
      CREATE UNIQUE INDEX events_by_firing_key ON events (firing_key) WHERE firing_key IS NOT NULL;
    )sql"},
    migration{16, R"sql(
      -- Outbox leases (issue 12 plan D4): the notifier of one instance claims a due row for a
      -- while before sending it, so that several instances drain one outbox without sending a row
      -- twice at once. lease_token grows by one on every claim; an attempt is recorded only with
      -- the token of the claim that sent it, so a holder whose lease ran out and was taken over
      -- records nothing. lease_until is Unix milliseconds on the database's clock.
      ALTER TABLE outbox ADD COLUMN lease_holder TEXT;      -- the instance that claimed it; NULL: free
      ALTER TABLE outbox ADD COLUMN lease_token INTEGER;    -- NULL until first claimed
      ALTER TABLE outbox ADD COLUMN lease_until INTEGER;    -- NULL: free
    )sql"},
    migration{17, R"sql(
      -- Assignment inside a team (issue 13 M-b, E5). requests.assignee is the person holding the
      -- request (folded from request.assigned, request.started, handoffs), NULL when nobody does,
      -- so ?assignee=<person> and ?assignee=none read an index range rather than every document.
      ALTER TABLE requests ADD COLUMN assignee TEXT;
      UPDATE requests SET assignee = NULLIF(json_extract(document, '$.assignee'), '');
      -- Pages newest first read straight from these: a person's by (assignee, id), the unassigned by id.
      CREATE INDEX requests_by_assignee ON requests (assignee, id) WHERE assignee IS NOT NULL;
      CREATE INDEX requests_unassigned ON requests (id) WHERE assignee IS NULL;
      -- Each person's open assigned requests (those counting toward a team's load), kept by
      -- save_request in the events' transaction like team_load: least_loaded and capacity read
      -- it instead of counting.
      CREATE TABLE person_load (
        person        TEXT    PRIMARY KEY,
        open_assigned INTEGER NOT NULL
      );
      INSERT INTO person_load (person, open_assigned)
        SELECT assignee, COUNT(*) FROM requests
        WHERE assignee IS NOT NULL AND status IN ('new', 'open', 'pending_customer', 'escalated')
          AND customer_id <> 'unattributed'
        GROUP BY assignee;
      -- round_robin: the person each team's automatic assignment chose last.
      CREATE TABLE assignment_cursor (
        team        TEXT PRIMARY KEY,
        last_person TEXT NOT NULL
      );
    )sql"},
    migration{18, R"sql(
      -- Customers as data (issue 13 §5, E12): the customer directory filing reads, seeded from
      -- [integrations.customers] and changed by PUT /v1/customers/{id} (a person or a CRM).
      -- document is the customer as the API shows it (JSON: id, name, stage, tier,
      -- account_team); source says who last set it: "config" (seeded or re-seeded from the
      -- config file), "api" (a token) or "crm" (the signed CRM webhook). A row last set by the API
      -- or the CRM wins over the config at start-up.
      CREATE TABLE customers (
        id         TEXT    PRIMARY KEY,
        document   TEXT    NOT NULL,   -- JSON
        updated_at INTEGER NOT NULL,   -- UTC seconds since the epoch
        updated_by TEXT    NOT NULL,   -- the actor's person, "crm" or "config"
        source     TEXT    NOT NULL    -- config, api or crm
      );
      -- Every change of a customers row, append-only: before is NULL when the change created the
      -- customer. Its highest seq is the directory's version, which instances on one database
      -- compare to learn of each other's changes.
      CREATE TABLE customer_changes (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        customer_id TEXT    NOT NULL,
        at          INTEGER NOT NULL,   -- UTC seconds since the epoch
        actor       TEXT    NOT NULL,
        source      TEXT    NOT NULL,   -- config, api or crm
        before_document TEXT,           -- JSON; NULL: created
        after_document  TEXT    NOT NULL
      );
      CREATE INDEX customer_changes_by_customer ON customer_changes (customer_id, seq);
      CREATE TRIGGER customer_changes_are_append_only_update BEFORE UPDATE ON customer_changes
        BEGIN SELECT RAISE(ABORT, 'customer changes are append-only'); END;
      CREATE TRIGGER customer_changes_are_append_only_delete BEFORE DELETE ON customer_changes
        BEGIN SELECT RAISE(ABORT, 'customer changes are append-only'); END;
    )sql"},
    migration{19, R"sql(
      -- Use cases (issue 13 M-c, E10). Each use case's open requests by kind and owning team, kept
      -- by save_request in the events' transaction like team_load (the same statuses count), so
      -- GET /v1/use_cases reads a few rows instead of counting requests. A request without a use
      -- case is not counted. Its use case and kind are fixed at filing (request.created).
      CREATE TABLE use_case_load (
        use_case TEXT    NOT NULL,
        kind     TEXT    NOT NULL,
        owner    TEXT    NOT NULL,
        open     INTEGER NOT NULL,
        PRIMARY KEY (use_case, kind, owner)
      );
      INSERT INTO use_case_load (use_case, kind, owner, open)
        SELECT json_extract(document, '$.use_case'), kind, owner, COUNT(*) FROM requests
        WHERE json_extract(document, '$.use_case') IS NOT NULL AND json_extract(document, '$.use_case') <> ''
          AND status IN ('new', 'open', 'pending_customer', 'escalated') AND customer_id <> 'unattributed'
        GROUP BY 1, 2, 3;
      -- Product's decisions (request.accepted, request.declined), a row per event, written with the
      -- event; a use case's decisions of the last 90 days are one range of decisions_by_use_case.
      -- seq is the event's: it orders two decisions of one second and ties the row to the log.
      CREATE TABLE decisions (
        seq        INTEGER PRIMARY KEY,   -- events.seq of the request.accepted/declined event
        request_id INTEGER NOT NULL,
        use_case   TEXT    NOT NULL,      -- the request's, '' when it has none
        decision   TEXT    NOT NULL,      -- accepted, declined
        reason     TEXT    NOT NULL,      -- as the event stores it: '' for Product's own acceptance
        actor      TEXT    NOT NULL,      -- the event's actor, role:person
        executive  INTEGER NOT NULL,      -- 1: decided in Product's stead once its review was overdue
        at         INTEGER NOT NULL       -- UTC seconds since the epoch, the event's
      );
      CREATE INDEX decisions_by_use_case ON decisions (use_case, at);
      INSERT INTO decisions (seq, request_id, use_case, decision, reason, actor, executive, at)
        SELECT e.seq, e.request_id, COALESCE(json_extract(r.document, '$.use_case'), ''),
               CASE e.type WHEN 'request.accepted' THEN 'accepted' ELSE 'declined' END,
               COALESCE(json_extract(e.data, '$.reason'), ''), e.actor,
               CASE WHEN json_extract(e.data, '$.executive') THEN 1 ELSE 0 END, e.at
        FROM events e LEFT JOIN requests r ON r.id = e.request_id
        WHERE e.type IN ('request.accepted', 'request.declined');
    )sql"},
    migration{20, R"sql(
      -- SLA reports (issue 14 §2): a row per clock of a request (store/reports.hpp), upserted by
      -- save_request in the events' transaction, so GET /v1/reports/sla reads one range of
      -- clock_facts_by_start instead of decoding request documents. state: open, met (completed,
      -- never breached) or breached (ever). team: the owner when the clock completed, frozen then.
      CREATE TABLE clock_facts (
        request_id     INTEGER NOT NULL,
        metric         TEXT    NOT NULL,
        policy         TEXT    NOT NULL,
        calendar       TEXT    NOT NULL,
        team           TEXT    NOT NULL,
        customer_id    TEXT    NOT NULL,
        customer_name  TEXT    NOT NULL,
        use_case       TEXT    NOT NULL,   -- '' when none
        kind           TEXT    NOT NULL,
        started_at     INTEGER NOT NULL,   -- UTC seconds since the epoch
        completed_at   INTEGER,            -- set once completed
        state          TEXT    NOT NULL,
        breached       INTEGER NOT NULL,
        used_seconds   INTEGER NOT NULL,   -- business seconds used at completion (or last checkpoint)
        paused_seconds INTEGER,            -- business seconds paused; NULL for clocks from before it was kept
        PRIMARY KEY (request_id, metric)
      );
      CREATE INDEX clock_facts_by_start ON clock_facts (started_at);
      -- The clocks stored before: a clock's start is its request's first sla.started event for its
      -- metric (one scan of the events, whose type has no index), its team the owner today.
      INSERT INTO clock_facts (request_id, metric, policy, calendar, team, customer_id, customer_name, use_case, kind,
                               started_at, completed_at, state, breached, used_seconds, paused_seconds)
        SELECT r.id, c.value ->> '$.metric', c.value ->> '$.policy', c.value ->> '$.calendar', r.owner, r.customer_id,
               COALESCE(r.document ->> '$.customer.name', ''), COALESCE(r.document ->> '$.use_case', ''), r.kind,
               COALESCE(unixepoch(c.value ->> '$.started_at'), s.at, r.created_at),
               CASE WHEN c.value ->> '$.completed' THEN unixepoch(c.value ->> '$.completed_at') END,
               CASE WHEN COALESCE(c.value ->> '$.breached', c.value ->> '$.state' = 'breached') THEN 'breached'
                    WHEN c.value ->> '$.completed' THEN 'met' ELSE 'open' END,
               CASE WHEN COALESCE(c.value ->> '$.breached', c.value ->> '$.state' = 'breached') THEN 1 ELSE 0 END,
               c.value ->> '$.used_seconds',
               -- as store::fact_of: a clock that records its start and was never paused has 0
               CASE WHEN c.value ->> '$.started_at' IS NOT NULL THEN COALESCE(c.value ->> '$.paused_seconds', 0) END
        FROM requests r JOIN json_each(r.document, '$.clocks') c
        LEFT JOIN (SELECT request_id, data ->> '$.clock.metric' AS metric, MIN(at) AS at FROM events
                   WHERE type = 'sla.started' GROUP BY 1, 2) s
          ON s.request_id = r.id AND s.metric = c.value ->> '$.metric';
    )sql"},
    migration{21, R"sql(
      -- Search (issue 14 §1, store/search.hpp): the words of every request's title, body and
      -- customer (id and name). FTS5, contentless (the text stays in requests.document), case and
      -- diacritics folded. Written by the trigger when the request's row is first inserted (its
      -- filing), in the events' transaction: title, body and customer do not change afterwards,
      -- and an upsert's update path fires no INSERT trigger. Not copied to PostgreSQL (copy.cpp),
      -- which keeps its own. Run again (tests replay migrations), it rebuilds the index whole.
      DROP TRIGGER IF EXISTS request_search_insert;
      DROP TABLE IF EXISTS request_search;
      CREATE VIRTUAL TABLE request_search USING fts5(title, body, customer, content = '',
                                                     tokenize = 'unicode61 remove_diacritics 2');
      INSERT INTO request_search (rowid, title, body, customer)
        SELECT id, COALESCE(json_extract(document, '$.title'), ''), COALESCE(json_extract(document, '$.body'), ''),
               customer_id || ' ' || COALESCE(json_extract(document, '$.customer.name'), '')
        FROM requests;
      CREATE TRIGGER request_search_insert AFTER INSERT ON requests BEGIN
        INSERT INTO request_search (rowid, title, body, customer)
          VALUES (NEW.id, COALESCE(json_extract(NEW.document, '$.title'), ''),
                  COALESCE(json_extract(NEW.document, '$.body'), ''),
                  NEW.customer_id || ' ' || COALESCE(json_extract(NEW.document, '$.customer.name'), ''));
      END;
    )sql"},
    migration{25, R"sql(
      -- Imported tickets (issue 14 §4, POST /v1/import): the ticket system's id of each request
      -- an import brought in, so that importing the same line again answers "exists" with the
      -- request it made instead of making another. IF NOT EXISTS: tests that take a database back
      -- to an older schema (DELETE FROM schema_migrations WHERE version >= n) keep this table.
      CREATE TABLE IF NOT EXISTS external_ids (
        external_id TEXT    PRIMARY KEY,   -- as the import line gave it, e.g. "zendesk:4711"
        request_id  INTEGER NOT NULL UNIQUE,
        imported_at INTEGER NOT NULL,      -- UTC seconds since the epoch
        importer    TEXT    NOT NULL       -- the importing token's person
      );
    )sql"},
    migration{24, R"sql(
      -- /metrics' gauges of requests by status, escalations by state and outbox rows by channel
      -- and state, kept by triggers in the transaction that writes the rows (as open_clock_counts
      -- since migration 10): a scrape reads a few dozen rows where it counted every request,
      -- escalation and delivery ever stored (issue 11, "reads are bounded"). Each count is split
      -- over 16 shards by the row's request (or outbox row) id and summed when read, so that two
      -- instances filing at once on PostgreSQL do not wait for each other's commit on one
      -- counter row; SQLite has the same tables. Rows are written with INSERT, UPDATE and DELETE
      -- (save_request's upsert is an UPDATE), never REPLACE. Safe to run again over its own
      -- tables (a test that rewinds schema_migrations): the counts are recomputed from the rows.
      CREATE TABLE IF NOT EXISTS request_status_counts (
        status   TEXT    NOT NULL,
        shard    INTEGER NOT NULL,   -- the request's id % 16
        requests INTEGER NOT NULL,
        PRIMARY KEY (status, shard)
      );
      DELETE FROM request_status_counts;
      INSERT INTO request_status_counts (status, shard, requests)
        SELECT status, id % 16, COUNT(*) FROM requests GROUP BY 1, 2;
      CREATE TRIGGER IF NOT EXISTS request_status_counts_insert AFTER INSERT ON requests BEGIN
        INSERT INTO request_status_counts (status, shard, requests) VALUES (NEW.status, NEW.id % 16, 1)
          ON CONFLICT (status, shard) DO UPDATE SET requests = requests + 1;
      END;
      CREATE TRIGGER IF NOT EXISTS request_status_counts_delete AFTER DELETE ON requests BEGIN
        UPDATE request_status_counts SET requests = requests - 1 WHERE status = OLD.status AND shard = OLD.id % 16;
      END;
      CREATE TRIGGER IF NOT EXISTS request_status_counts_update AFTER UPDATE OF status ON requests
        WHEN OLD.status IS NOT NEW.status BEGIN
        UPDATE request_status_counts SET requests = requests - 1 WHERE status = OLD.status AND shard = OLD.id % 16;
        INSERT INTO request_status_counts (status, shard, requests) VALUES (NEW.status, NEW.id % 16, 1)
          ON CONFLICT (status, shard) DO UPDATE SET requests = requests + 1;
      END;

      CREATE TABLE IF NOT EXISTS escalation_state_counts (
        state       TEXT    NOT NULL,
        shard       INTEGER NOT NULL,   -- the escalation's request id % 16
        escalations INTEGER NOT NULL,
        PRIMARY KEY (state, shard)
      );
      DELETE FROM escalation_state_counts;
      INSERT INTO escalation_state_counts (state, shard, escalations)
        SELECT state, request_id % 16, COUNT(*) FROM escalations GROUP BY 1, 2;
      CREATE TRIGGER IF NOT EXISTS escalation_state_counts_insert AFTER INSERT ON escalations BEGIN
        INSERT INTO escalation_state_counts (state, shard, escalations) VALUES (NEW.state, NEW.request_id % 16, 1)
          ON CONFLICT (state, shard) DO UPDATE SET escalations = escalations + 1;
      END;
      CREATE TRIGGER IF NOT EXISTS escalation_state_counts_delete AFTER DELETE ON escalations BEGIN
        UPDATE escalation_state_counts SET escalations = escalations - 1
          WHERE state = OLD.state AND shard = OLD.request_id % 16;
      END;
      CREATE TRIGGER IF NOT EXISTS escalation_state_counts_update AFTER UPDATE OF state, request_id ON escalations
        WHEN OLD.state IS NOT NEW.state OR OLD.request_id IS NOT NEW.request_id BEGIN
        UPDATE escalation_state_counts SET escalations = escalations - 1
          WHERE state = OLD.state AND shard = OLD.request_id % 16;
        INSERT INTO escalation_state_counts (state, shard, escalations) VALUES (NEW.state, NEW.request_id % 16, 1)
          ON CONFLICT (state, shard) DO UPDATE SET escalations = escalations + 1;
      END;

      CREATE TABLE IF NOT EXISTS outbox_state_counts (
        channel    TEXT    NOT NULL,
        state      TEXT    NOT NULL,
        shard      INTEGER NOT NULL,   -- the outbox row's id % 16
        deliveries INTEGER NOT NULL,
        PRIMARY KEY (channel, state, shard)
      );
      DELETE FROM outbox_state_counts;
      INSERT INTO outbox_state_counts (channel, state, shard, deliveries)
        SELECT channel, state, id % 16, COUNT(*) FROM outbox GROUP BY 1, 2, 3;
      CREATE TRIGGER IF NOT EXISTS outbox_state_counts_insert AFTER INSERT ON outbox BEGIN
        INSERT INTO outbox_state_counts (channel, state, shard, deliveries) VALUES (NEW.channel, NEW.state, NEW.id % 16, 1)
          ON CONFLICT (channel, state, shard) DO UPDATE SET deliveries = deliveries + 1;
      END;
      CREATE TRIGGER IF NOT EXISTS outbox_state_counts_delete AFTER DELETE ON outbox BEGIN
        UPDATE outbox_state_counts SET deliveries = deliveries - 1
          WHERE channel = OLD.channel AND state = OLD.state AND shard = OLD.id % 16;
      END;
      CREATE TRIGGER IF NOT EXISTS outbox_state_counts_update AFTER UPDATE OF channel, state ON outbox
        WHEN OLD.channel IS NOT NEW.channel OR OLD.state IS NOT NEW.state BEGIN
        UPDATE outbox_state_counts SET deliveries = deliveries - 1
          WHERE channel = OLD.channel AND state = OLD.state AND shard = OLD.id % 16;
        INSERT INTO outbox_state_counts (channel, state, shard, deliveries) VALUES (NEW.channel, NEW.state, NEW.id % 16, 1)
          ON CONFLICT (channel, state, shard) DO UPDATE SET deliveries = deliveries + 1;
      END;
    )sql"},
    migration{22, R"sql(
      -- The dashboard's filters on the server (issue 14 §1). Open clock rows carry their
      -- request's customer, kind, priority and assignee (the columns come from
      -- add_clock_filter_columns; save_clocks writes them with the others, in the events'
      -- transaction), so a filtered snapshot is one walk of an urgency index with plain column
      -- predicates: it reads open clocks, never the requests stored. One partial index per filter
      -- in urgency order, like clocks_by_owner_urgency; state needs none (breached clocks lead
      -- clocks_by_urgency, paused ones close it). Only open rows are filled in: closed ones are
      -- read by nothing here, and saving a request rewrites all its rows.
      UPDATE clocks SET
        customer_id = (SELECT r.customer_id FROM requests r WHERE r.id = clocks.request_id),
        kind = (SELECT r.kind FROM requests r WHERE r.id = clocks.request_id),
        priority = (SELECT COALESCE(json_extract(r.document, '$.priority'), 'normal') FROM requests r
                    WHERE r.id = clocks.request_id),
        assignee = (SELECT r.assignee FROM requests r WHERE r.id = clocks.request_id)
        WHERE open = 1;
      CREATE INDEX IF NOT EXISTS clocks_by_customer_urgency ON clocks (customer_id, paused, urgency, request_id, metric)
        WHERE open = 1;
      CREATE INDEX IF NOT EXISTS clocks_by_kind_urgency ON clocks (kind, paused, urgency, request_id, metric)
        WHERE open = 1;
      CREATE INDEX IF NOT EXISTS clocks_by_priority_urgency ON clocks (priority, paused, urgency, request_id, metric)
        WHERE open = 1;
      CREATE INDEX IF NOT EXISTS clocks_by_assignee_urgency ON clocks (assignee, paused, urgency, request_id, metric)
        WHERE open = 1;

      -- The team cards count requests, not clocks: one board row per active request (new, open,
      -- pending_customer, escalated), with or without an open clock, written by save_request
      -- (deleted once the request is resolved or closed); `state` is its worst open clock
      -- (breached, also paused after a breach; then warning, running, paused) or 'none'.
      -- board_counts is kept from it by the triggers below, split over 16 shards by request id
      -- as migration 24's counters are (two PostgreSQL instances filing at once do not wait on
      -- one row). Safe to run again: both are recomputed from the rows.
      CREATE TABLE IF NOT EXISTS board (
        request_id INTEGER PRIMARY KEY,
        owner      TEXT    NOT NULL,
        state      TEXT    NOT NULL,   -- breached, warning, running, paused or none
        unassigned INTEGER NOT NULL    -- 1: no assignee
      );
      CREATE TABLE IF NOT EXISTS board_counts (
        owner      TEXT    NOT NULL,
        state      TEXT    NOT NULL,
        unassigned INTEGER NOT NULL,
        shard      INTEGER NOT NULL,   -- the request's id % 16
        requests   INTEGER NOT NULL,
        PRIMARY KEY (owner, state, unassigned, shard)
      );
      DELETE FROM board;
      INSERT INTO board (request_id, owner, state, unassigned)
        SELECT r.id, r.owner,
               COALESCE((SELECT CASE MAX(CASE WHEN c.breached = 1 OR c.state = 'breached' THEN 3
                                              WHEN c.state = 'running' AND c.warned = 1 THEN 2
                                              WHEN c.state = 'running' THEN 1 ELSE 0 END)
                                  WHEN 3 THEN 'breached' WHEN 2 THEN 'warning' WHEN 1 THEN 'running' WHEN 0 THEN 'paused' END
                         FROM clocks c WHERE c.request_id = r.id AND c.open = 1), 'none'),
               r.assignee IS NULL
        FROM requests r WHERE r.status IN ('new', 'open', 'pending_customer', 'escalated');
      DELETE FROM board_counts;
      INSERT INTO board_counts (owner, state, unassigned, shard, requests)
        SELECT owner, state, unassigned, request_id % 16, COUNT(*) FROM board GROUP BY 1, 2, 3, 4;
      CREATE TRIGGER IF NOT EXISTS board_counts_insert AFTER INSERT ON board BEGIN
        INSERT INTO board_counts (owner, state, unassigned, shard, requests)
          VALUES (NEW.owner, NEW.state, NEW.unassigned, NEW.request_id % 16, 1)
          ON CONFLICT (owner, state, unassigned, shard) DO UPDATE SET requests = requests + 1;
      END;
      CREATE TRIGGER IF NOT EXISTS board_counts_delete AFTER DELETE ON board BEGIN
        UPDATE board_counts SET requests = requests - 1
          WHERE owner = OLD.owner AND state = OLD.state AND unassigned = OLD.unassigned AND shard = OLD.request_id % 16;
      END;
      CREATE TRIGGER IF NOT EXISTS board_counts_update AFTER UPDATE ON board
        WHEN OLD.owner IS NOT NEW.owner OR OLD.state IS NOT NEW.state OR OLD.unassigned IS NOT NEW.unassigned BEGIN
        UPDATE board_counts SET requests = requests - 1
          WHERE owner = OLD.owner AND state = OLD.state AND unassigned = OLD.unassigned AND shard = OLD.request_id % 16;
        INSERT INTO board_counts (owner, state, unassigned, shard, requests)
          VALUES (NEW.owner, NEW.state, NEW.unassigned, NEW.request_id % 16, 1)
          ON CONFLICT (owner, state, unassigned, shard) DO UPDATE SET requests = requests + 1;
      END;
    )sql", add_clock_filter_columns},
    migration{23, R"sql(
      -- A backtest's window (issue 15, store/backtest_reads.hpp): the requests filed in [from, to)
      -- as one index range instead of a scan of every request. IF NOT EXISTS: tests that take a
      -- database back to an older schema run it again.
      CREATE INDEX IF NOT EXISTS requests_by_created ON requests (created_at, id);
    )sql"},
};

void migrate(SQLite::Database& db) {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
          " version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL DEFAULT (unixepoch()))");
  const int current = schema_version(db);
  if (current > latest_schema_version())
    throw std::runtime_error(fmt::format(
        "the database {} has schema version {}, newer than this build understands ({}): it was written by a newer "
        "switchboard; run that version, or restore a backup made for this one",
        db.getFilename(), current, latest_schema_version()));
  // Every step not recorded yet, not every step above the highest recorded one: migrations made
  // on separate branches may be merged out of order (16 applied before 15 is written).
  std::set<int> applied;
  for (SQLite::Statement recorded(db, "SELECT version FROM schema_migrations"); recorded.executeStep();)
    applied.insert(recorded.getColumn(0).getInt());
  for (const int version : applied)
    if (std::none_of(migrations.begin(), migrations.end(), [version](const migration& m) { return m.version == version; }))
      throw std::runtime_error(fmt::format(
          "the database {} has schema migration {}, which this build does not know: it was written by another "
          "switchboard build; run that one",
          db.getFilename(), version));
  for (const auto& step : migrations) {
    if (applied.count(step.version) != 0) continue;
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    if (step.prepare) step.prepare(db);
    db.exec(std::string(step.sql));
    SQLite::Statement record(db, "INSERT INTO schema_migrations (version) VALUES (?)");
    record.bind(1, step.version);
    record.exec();
    transaction.commit();
  }
}

}  // namespace

SQLite::Database open_database(const std::string& path, access mode) {
  const int flags = mode == access::read_write ? SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE
                                               : SQLite::OPEN_READONLY;
  SQLite::Database db(path, flags, 5000);
  if (mode == access::read_write) {
    // SQLite opens a write-protected file read-only without a word; every write would fail.
    if (sqlite3_db_readonly(db.getHandle(), "main") == 1)
      throw std::runtime_error(fmt::format("the database {} is read-only: switchboard needs to write it", path));
    db.exec("PRAGMA journal_mode = WAL");
    // FULL: a commit is on disk before the request is acknowledged, even on power loss.
    db.exec("PRAGMA synchronous = FULL");
    migrate(db);
  }
  db.exec("PRAGMA foreign_keys = ON");
  // Statement journals (a savepoint's undo log) and sorts stay in memory instead of spilling to
  // a temporary file on every batch of filings.
  db.exec("PRAGMA temp_store = MEMORY");
  return db;
}

void touch_heartbeat(unit_of_work work) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::touch_heartbeat(*pg);
#endif
  SQLite::Database& db = work.connection();
  db.exec("INSERT INTO heartbeat (id, at) VALUES (1, unixepoch()) ON CONFLICT (id) DO UPDATE SET at = excluded.at");
}

int latest_schema_version() {
  int latest = 0;
  for (const auto& step : migrations) latest = std::max(latest, step.version);
  return latest;
}

int schema_version(SQLite::Database& db) {
  if (!db.tableExists("schema_migrations")) return 0;
  return db.execAndGet("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").getInt();
}

exclusive_use::exclusive_use(const std::string& database_path) {
  if (database_path == ":memory:" || database_path.empty()) return;
  fd_ = ::open(database_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  // A file this process cannot open for writing is refused by open_database, with its own reason.
  if (fd_ < 0) return;
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK)
      throw std::runtime_error(fmt::format(
          "another Switchboard server is using the database {}: one server per SQLite file (stop it, or give "
          "this one another --db; several instances need PostgreSQL)",
          database_path));
    throw std::runtime_error(fmt::format("cannot lock database {}: {}", database_path, std::strerror(error)));
  }
}

exclusive_use::~exclusive_use() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

}  // namespace switchboard::store
