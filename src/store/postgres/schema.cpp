// The PostgreSQL schema: SQLite's migrations 1-14 as one baseline, translated (see
// docs/plans/issue-12.md §3.3 for the table of translations), and the migration runner.
#include "store/postgres/schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string_view>

namespace switchboard::store::postgres {
namespace {

constexpr int baseline = 14;

// SQLite's schema at migration 14, written for PostgreSQL 15. Differences, each on purpose:
// - INTEGER PRIMARY KEY AUTOINCREMENT (events.seq, outbox.id) is an identity column; appends
//   learn their seq from INSERT ... RETURNING, not last_insert_rowid().
// - Integers are BIGINT where they hold ids or Unix seconds, INTEGER for flags and small counts.
// - events: SQLite's two RAISE(ABORT) triggers are one plpgsql trigger (and one for TRUNCATE,
//   which SQLite lacks), and the owner gives up UPDATE, DELETE and TRUNCATE on the table, so
//   the log is append-only twice over.
// - open_clock_counts: SQLite's four triggers with WHEN clauses are one plpgsql row trigger
//   doing the same arithmetic (the old row's state out, the new row's state in).
// - email_messages gets `seq` (an identity): SQLite reads a Message-ID's requests in rowid
//   order, which PostgreSQL rows do not have.
// - requests_id_seq hands out request ids: MAX(id)+1 would race between instances.
// The data backfills of SQLite's migrations (json_extract, renames) have nothing to fill here.
constexpr std::string_view baseline_sql = R"sql(
CREATE TABLE events (
  seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  request_id BIGINT NOT NULL,
  type       TEXT   NOT NULL,
  at         BIGINT NOT NULL,   -- UTC seconds since the epoch
  actor      TEXT   NOT NULL,
  data       TEXT   NOT NULL    -- JSON, as SQLite stores it
);
CREATE INDEX events_by_request ON events (request_id, seq);
CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER events_are_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_are_append_only();
CREATE TRIGGER events_are_append_only_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON events FROM PUBLIC, CURRENT_USER;

CREATE SEQUENCE requests_id_seq AS BIGINT;
CREATE TABLE requests (
  id          BIGINT PRIMARY KEY,
  kind        TEXT   NOT NULL,
  customer_id TEXT   NOT NULL,
  status      TEXT   NOT NULL,
  owner       TEXT   NOT NULL,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  document    TEXT   NOT NULL,   -- the request as the API shows it, JSON
  next_due    BIGINT             -- the next instant anything falls due on it, for the scheduler
);
CREATE INDEX requests_by_owner ON requests (owner, id);
CREATE INDEX requests_by_status ON requests (status, id);
CREATE INDEX requests_by_customer ON requests (customer_id, id);
CREATE INDEX requests_by_next_due ON requests (next_due) WHERE next_due IS NOT NULL;
CREATE INDEX requests_by_owner_status ON requests (owner, status, id);

CREATE TABLE clocks (
  request_id BIGINT  NOT NULL REFERENCES requests (id),
  metric     TEXT    NOT NULL,
  state      TEXT    NOT NULL,
  open       INTEGER NOT NULL,   -- 1 until the awaited action happens
  deadline   BIGINT,             -- UTC seconds, while running or breached
  next_due   BIGINT,             -- the next warning or breach, while one is pending
  owner      TEXT,               -- the request's owning team
  warned     INTEGER NOT NULL DEFAULT 0,
  paused     INTEGER NOT NULL DEFAULT 0,
  urgency    BIGINT,             -- open clocks: deadline (UTC seconds) or, paused, seconds left
  breached   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (request_id, metric)
);
CREATE INDEX clocks_by_next_due ON clocks (next_due) WHERE next_due IS NOT NULL;
CREATE INDEX clocks_by_urgency ON clocks (paused, urgency, request_id, metric) WHERE open = 1;
CREATE INDEX clocks_by_owner_urgency ON clocks (owner, paused, urgency, request_id, metric) WHERE open = 1;

CREATE TABLE open_clock_counts (
  owner  TEXT   NOT NULL,
  state  TEXT   NOT NULL,
  clocks BIGINT NOT NULL,
  PRIMARY KEY (owner, state)
);
CREATE FUNCTION open_clock_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.open = 1 THEN
    UPDATE open_clock_counts SET clocks = clocks - 1
      WHERE owner = COALESCE(OLD.owner, '')
        AND state = CASE WHEN OLD.state = 'running' AND OLD.warned <> 0 THEN 'warning'
                         WHEN OLD.state = 'paused' AND OLD.breached <> 0 THEN 'breached_paused' ELSE OLD.state END;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.open = 1 THEN
    INSERT INTO open_clock_counts AS c (owner, state, clocks)
      VALUES (COALESCE(NEW.owner, ''),
              CASE WHEN NEW.state = 'running' AND NEW.warned <> 0 THEN 'warning'
                   WHEN NEW.state = 'paused' AND NEW.breached <> 0 THEN 'breached_paused' ELSE NEW.state END, 1)
      ON CONFLICT (owner, state) DO UPDATE SET clocks = c.clocks + 1;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER open_clock_counts AFTER INSERT OR UPDATE OR DELETE ON clocks
  FOR EACH ROW EXECUTE FUNCTION open_clock_counts_keep();

CREATE TABLE escalations (
  id           TEXT   PRIMARY KEY,
  request_id   BIGINT NOT NULL REFERENCES requests (id),
  ladder       TEXT   NOT NULL,
  state        TEXT   NOT NULL,
  roles        TEXT   NOT NULL,   -- ",role,role," of everyone notified
  triggered_at BIGINT NOT NULL,
  document     TEXT   NOT NULL,   -- JSON
  team         TEXT               -- the team a capacity escalation is about
);
CREATE INDEX escalations_by_state ON escalations (state, triggered_at);
CREATE INDEX escalations_by_team ON escalations (team, state) WHERE team IS NOT NULL;
CREATE INDEX escalations_by_time ON escalations (triggered_at, id);
CREATE INDEX escalations_by_request ON escalations (request_id);

CREATE TABLE outbox (
  id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  webhook_id      TEXT    NOT NULL UNIQUE,  -- stable across retries
  subscription    TEXT    NOT NULL,
  event_type      TEXT    NOT NULL,
  event_seq       BIGINT  NOT NULL,         -- events.seq of the event it carries
  request_id      BIGINT,
  payload         TEXT    NOT NULL,         -- the Standard Webhooks envelope or message spec, JSON
  created_at      BIGINT  NOT NULL,
  window_start    BIGINT  NOT NULL,         -- retries stop max_age after this (reset by redeliver)
  state           TEXT    NOT NULL,         -- pending, delivered, dead
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT  NOT NULL,
  last_status     INTEGER,
  last_error      TEXT,
  delivered_at    BIGINT,
  channel         TEXT    NOT NULL DEFAULT 'webhook',  -- webhook, slack_reply, slack_dm, email
  purpose         TEXT    NOT NULL DEFAULT 'webhook',  -- webhook, reply, notification
  recipient       TEXT,
  external_id     TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_subscription ON outbox (subscription, id);
CREATE INDEX outbox_conversation ON outbox (request_id, channel, id) WHERE state = 'pending';
CREATE TABLE delivery_attempts (
  outbox_id   BIGINT  NOT NULL REFERENCES outbox (id),
  attempt     INTEGER NOT NULL,
  at          BIGINT  NOT NULL,
  status      INTEGER,                      -- HTTP status, NULL when no answer
  error       TEXT,
  duration_ms BIGINT  NOT NULL,
  PRIMARY KEY (outbox_id, attempt)
);
CREATE TABLE disabled_subscriptions (
  subscription TEXT   PRIMARY KEY,
  reason       TEXT   NOT NULL,
  at           BIGINT NOT NULL
);

CREATE TABLE inbound_receipts (
  source      TEXT   NOT NULL,
  key         TEXT   NOT NULL,
  request_id  BIGINT,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (source, key)
);
CREATE TABLE email_messages (
  message_id TEXT   NOT NULL,
  sender     TEXT   NOT NULL,      -- the authenticated From address, lower case ('' before it was kept)
  request_id BIGINT NOT NULL REFERENCES requests (id),
  seq        BIGINT GENERATED ALWAYS AS IDENTITY,  -- first use first, as SQLite's rowid
  PRIMARY KEY (message_id, sender)
);
CREATE INDEX email_messages_by_request ON email_messages (request_id);
CREATE TABLE request_participants (
  request_id BIGINT NOT NULL REFERENCES requests (id),
  address    TEXT   NOT NULL,       -- lower-case e-mail address or slack:<user>
  PRIMARY KEY (request_id, address)
);

CREATE TABLE team_load (
  team          TEXT   PRIMARY KEY,
  open_requests BIGINT NOT NULL
);

CREATE TABLE heartbeat (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  at BIGINT  NOT NULL               -- UTC seconds of the last probe
);

CREATE TABLE idempotency_keys (
  actor       TEXT    NOT NULL,
  key         TEXT    NOT NULL,
  fingerprint TEXT    NOT NULL,     -- SHA-256 of method, target and body
  status      INTEGER NOT NULL,
  body        TEXT    NOT NULL,
  location    TEXT    NOT NULL,
  created_at  BIGINT  NOT NULL,     -- Unix seconds, real clock
  PRIMARY KEY (actor, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

CREATE TABLE clock_planning (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  fingerprint TEXT    NOT NULL
);

CREATE TABLE request_summaries (
  request_id BIGINT PRIMARY KEY,    -- requests.id
  summary    TEXT   NOT NULL        -- JSON (store/summary.hpp)
);
)sql";

struct migration {
  int version;
  std::string_view sql;
};

// SQLite's migrations after the baseline, by the same numbers; append, never edit one that
// has shipped. Each is applied when not recorded yet, in this order.
constexpr std::array later{
    migration{15, R"sql(
-- Several instances (issue 12 D3): a request's timers belong to shard id % 64, each shard to one
-- instance at a time through a lease it renews (store/timer_leases.hpp). Times are the
-- database's clock (clock_timestamp()), never the engine's simulated one.
CREATE TABLE timer_leases (
  shard      INTEGER PRIMARY KEY,        -- 0-63: requests.id % 64
  holder     TEXT,                       -- the instance id (hostname:pid:random), NULL when free
  token      BIGINT  NOT NULL DEFAULT 0, -- raised at each claim: a deposed holder's token is stale
  expires_at BIGINT                      -- Unix milliseconds
);
INSERT INTO timer_leases (shard) SELECT generate_series(0, 63);
CREATE TABLE instances (
  id           TEXT   PRIMARY KEY,       -- hostname:pid:random
  started_at   BIGINT NOT NULL,          -- Unix milliseconds
  heartbeat_at BIGINT NOT NULL
);
-- A firing is recorded once across instances: its key names it (store/firing_key.hpp).
ALTER TABLE events ADD COLUMN firing_key TEXT;
CREATE UNIQUE INDEX events_by_firing_key ON events (firing_key) WHERE firing_key IS NOT NULL;
)sql"},
    migration{16, R"sql(
-- Outbox leases (store/database.cpp's migration 16): claimed with FOR UPDATE SKIP LOCKED by
-- any instance's notifier; lease_until is Unix milliseconds on the database's clock.
ALTER TABLE outbox ADD COLUMN lease_holder TEXT, ADD COLUMN lease_token BIGINT, ADD COLUMN lease_until BIGINT;
)sql"},
    migration{17, R"sql(
-- Assignment inside a team (store/database.cpp's migration 17): the holder as a column, each
-- person's open assigned requests, and round_robin's last choice per team.
ALTER TABLE requests ADD COLUMN assignee TEXT;
UPDATE requests SET assignee = NULLIF(document::jsonb ->> 'assignee', '');
CREATE INDEX requests_by_assignee ON requests (assignee, id) WHERE assignee IS NOT NULL;
CREATE INDEX requests_unassigned ON requests (id) WHERE assignee IS NULL;
CREATE TABLE person_load (
  person        TEXT    PRIMARY KEY,
  open_assigned INTEGER NOT NULL
);
INSERT INTO person_load (person, open_assigned)
  SELECT assignee, COUNT(*) FROM requests
  WHERE assignee IS NOT NULL AND status IN ('new', 'open', 'pending_customer', 'escalated')
    AND customer_id <> 'unattributed'
  GROUP BY assignee;
CREATE TABLE assignment_cursor (
  team        TEXT PRIMARY KEY,
  last_person TEXT NOT NULL
);
)sql"},
    migration{18, R"sql(
-- Customers as data (store/database.cpp's migration 18): the directory filing reads, and every
-- change of it, append-only as events are (a trigger, and the owner gives up UPDATE, DELETE and
-- TRUNCATE). max(customer_changes.seq) is the directory's version, which every instance polls.
CREATE TABLE customers (
  id         TEXT   PRIMARY KEY,
  document   TEXT   NOT NULL,   -- JSON
  updated_at BIGINT NOT NULL,   -- UTC seconds since the epoch
  updated_by TEXT   NOT NULL,
  source     TEXT   NOT NULL    -- config, api or crm
);
CREATE TABLE customer_changes (
  seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id     TEXT   NOT NULL,
  at              BIGINT NOT NULL,
  actor           TEXT   NOT NULL,
  source          TEXT   NOT NULL,
  before_document TEXT,            -- NULL: created
  after_document  TEXT   NOT NULL
);
CREATE INDEX customer_changes_by_customer ON customer_changes (customer_id, seq);
CREATE FUNCTION customer_changes_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'customer changes are append-only' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER customer_changes_are_append_only BEFORE UPDATE OR DELETE ON customer_changes
  FOR EACH ROW EXECUTE FUNCTION customer_changes_are_append_only();
CREATE TRIGGER customer_changes_are_append_only_truncate BEFORE TRUNCATE ON customer_changes
  FOR EACH STATEMENT EXECUTE FUNCTION customer_changes_are_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON customer_changes FROM PUBLIC, CURRENT_USER;
    )sql"},
    migration{19, R"sql(
-- Use cases (store/database.cpp's migration 19): open requests per (use case, kind, owner), kept
-- by save_request, and a row per Product decision, written with its event.
CREATE TABLE use_case_load (
  use_case TEXT    NOT NULL,
  kind     TEXT    NOT NULL,
  owner    TEXT    NOT NULL,
  open     INTEGER NOT NULL,
  PRIMARY KEY (use_case, kind, owner)
);
INSERT INTO use_case_load (use_case, kind, owner, open)
  SELECT document::jsonb ->> 'use_case', kind, owner, COUNT(*) FROM requests
  WHERE COALESCE(document::jsonb ->> 'use_case', '') <> ''
    AND status IN ('new', 'open', 'pending_customer', 'escalated') AND customer_id <> 'unattributed'
  GROUP BY 1, 2, 3;
CREATE TABLE decisions (
  seq        BIGINT  PRIMARY KEY,   -- events.seq
  request_id BIGINT  NOT NULL,
  use_case   TEXT    NOT NULL,
  decision   TEXT    NOT NULL,
  reason     TEXT    NOT NULL,
  actor      TEXT    NOT NULL,
  executive  INTEGER NOT NULL,
  at         BIGINT  NOT NULL
);
CREATE INDEX decisions_by_use_case ON decisions (use_case, at);
INSERT INTO decisions (seq, request_id, use_case, decision, reason, actor, executive, at)
  SELECT e.seq, e.request_id, COALESCE(r.document::jsonb ->> 'use_case', ''),
         CASE e.type WHEN 'request.accepted' THEN 'accepted' ELSE 'declined' END,
         COALESCE(e.data::jsonb ->> 'reason', ''), e.actor,
         CASE WHEN (e.data::jsonb ->> 'executive') = 'true' THEN 1 ELSE 0 END, e.at
  FROM events e LEFT JOIN requests r ON r.id = e.request_id
  WHERE e.type IN ('request.accepted', 'request.declined');
)sql"},
    migration{20, R"sql(
-- SLA reports (store/database.cpp's migration 20): a row per clock, upserted by save_request,
-- read by one range of clock_facts_by_start; filled in for the clocks stored before.
CREATE TABLE clock_facts (
  request_id     BIGINT  NOT NULL,
  metric         TEXT    NOT NULL,
  policy         TEXT    NOT NULL,
  calendar       TEXT    NOT NULL,
  team           TEXT    NOT NULL,
  customer_id    TEXT    NOT NULL,
  customer_name  TEXT    NOT NULL,
  use_case       TEXT    NOT NULL,
  kind           TEXT    NOT NULL,
  started_at     BIGINT  NOT NULL,
  completed_at   BIGINT,
  state          TEXT    NOT NULL,
  breached       INTEGER NOT NULL,
  used_seconds   BIGINT  NOT NULL,
  paused_seconds BIGINT,
  PRIMARY KEY (request_id, metric)
);
CREATE INDEX clock_facts_by_start ON clock_facts (started_at);
INSERT INTO clock_facts (request_id, metric, policy, calendar, team, customer_id, customer_name, use_case, kind,
                         started_at, completed_at, state, breached, used_seconds, paused_seconds)
  SELECT r.id, c.value ->> 'metric', c.value ->> 'policy', c.value ->> 'calendar', r.owner, r.customer_id,
         COALESCE(r.document::jsonb -> 'customer' ->> 'name', ''), COALESCE(r.document::jsonb ->> 'use_case', ''), r.kind,
         COALESCE(extract(epoch FROM (c.value ->> 'started_at')::timestamptz)::bigint, s.at, r.created_at),
         CASE WHEN (c.value ->> 'completed') = 'true'
              THEN extract(epoch FROM (c.value ->> 'completed_at')::timestamptz)::bigint END,
         CASE WHEN COALESCE((c.value ->> 'breached') = 'true', (c.value ->> 'state') = 'breached') THEN 'breached'
              WHEN (c.value ->> 'completed') = 'true' THEN 'met' ELSE 'open' END,
         CASE WHEN COALESCE((c.value ->> 'breached') = 'true', (c.value ->> 'state') = 'breached') THEN 1 ELSE 0 END,
         (c.value ->> 'used_seconds')::bigint,
         CASE WHEN (c.value ->> 'started_at') IS NOT NULL THEN COALESCE((c.value ->> 'paused_seconds')::bigint, 0) END
  FROM requests r
  CROSS JOIN LATERAL jsonb_array_elements(COALESCE(r.document::jsonb -> 'clocks', '[]'::jsonb)) AS c(value)
  LEFT JOIN (SELECT request_id, data::jsonb -> 'clock' ->> 'metric' AS metric, MIN(at) AS at FROM events
             WHERE type = 'sla.started' GROUP BY 1, 2) s
    ON s.request_id = r.id AND s.metric = c.value ->> 'metric';
)sql"},
    migration{21, R"sql(
-- Search (store/database.cpp's migration 21): the words of title, body and customer (id and
-- name) as a tsvector ('simple': case folded, no stemming), set by the trigger when the request
-- is filed (an upsert of an existing request keeps it), backfilled, with a GIN index. Run again,
-- it recomputes every request's words.
ALTER TABLE requests ADD COLUMN IF NOT EXISTS search tsvector;
CREATE OR REPLACE FUNCTION request_search_words(document TEXT, customer_id TEXT) RETURNS tsvector
  LANGUAGE sql IMMUTABLE AS $$
    SELECT to_tsvector('simple', COALESCE(document::json ->> 'title', '') || ' ' ||
                                 COALESCE(document::json ->> 'body', '') || ' ' || customer_id || ' ' ||
                                 COALESCE(document::json -> 'customer' ->> 'name', ''))
  $$;
UPDATE requests SET search = request_search_words(document, customer_id);
CREATE OR REPLACE FUNCTION request_search_at_filing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM requests WHERE id = NEW.id) THEN
    NEW.search := request_search_words(NEW.document, NEW.customer_id);
  END IF;
  RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS request_search_at_filing ON requests;
CREATE TRIGGER request_search_at_filing BEFORE INSERT ON requests
  FOR EACH ROW EXECUTE FUNCTION request_search_at_filing();
CREATE INDEX IF NOT EXISTS requests_search ON requests USING GIN (search);
)sql"},
    migration{25, R"sql(
-- Imported tickets (store/database.cpp's migration 25): each imported request's external id.
CREATE TABLE IF NOT EXISTS external_ids (
  external_id TEXT   PRIMARY KEY,
  request_id  BIGINT NOT NULL UNIQUE,
  imported_at BIGINT NOT NULL,
  importer    TEXT   NOT NULL
);
)sql"},
    migration{24, R"sql(
-- /metrics' gauges (store/database.cpp's migration 24): requests by status, escalations by state
-- and outbox rows by channel and state, kept by row triggers in the writing transaction, in 16
-- shards by request (or outbox row) id so that concurrent filings of different requests do not
-- queue on one counter row's lock; read as sums.
CREATE TABLE IF NOT EXISTS request_status_counts (
  status   TEXT   NOT NULL,
  shard    INTEGER NOT NULL,
  requests BIGINT NOT NULL,
  PRIMARY KEY (status, shard)
);
DELETE FROM request_status_counts;
INSERT INTO request_status_counts (status, shard, requests) SELECT status, id % 16, COUNT(*) FROM requests GROUP BY 1, 2;
CREATE OR REPLACE FUNCTION request_status_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.status IS NOT DISTINCT FROM NEW.status AND OLD.id = NEW.id THEN RETURN NULL; END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE request_status_counts SET requests = requests - 1 WHERE status = OLD.status AND shard = OLD.id % 16;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO request_status_counts AS c (status, shard, requests) VALUES (NEW.status, NEW.id % 16, 1)
      ON CONFLICT (status, shard) DO UPDATE SET requests = c.requests + 1;
  END IF;
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER request_status_counts AFTER INSERT OR UPDATE OF status OR DELETE ON requests
  FOR EACH ROW EXECUTE FUNCTION request_status_counts_keep();

CREATE TABLE IF NOT EXISTS escalation_state_counts (
  state       TEXT   NOT NULL,
  shard       INTEGER NOT NULL,
  escalations BIGINT NOT NULL,
  PRIMARY KEY (state, shard)
);
DELETE FROM escalation_state_counts;
INSERT INTO escalation_state_counts (state, shard, escalations)
  SELECT state, request_id % 16, COUNT(*) FROM escalations GROUP BY 1, 2;
CREATE OR REPLACE FUNCTION escalation_state_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.state IS NOT DISTINCT FROM NEW.state AND OLD.request_id = NEW.request_id THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE escalation_state_counts SET escalations = escalations - 1
      WHERE state = OLD.state AND shard = OLD.request_id % 16;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO escalation_state_counts AS c (state, shard, escalations) VALUES (NEW.state, NEW.request_id % 16, 1)
      ON CONFLICT (state, shard) DO UPDATE SET escalations = c.escalations + 1;
  END IF;
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER escalation_state_counts AFTER INSERT OR UPDATE OF state, request_id OR DELETE ON escalations
  FOR EACH ROW EXECUTE FUNCTION escalation_state_counts_keep();

CREATE TABLE IF NOT EXISTS outbox_state_counts (
  channel    TEXT   NOT NULL,
  state      TEXT   NOT NULL,
  shard      INTEGER NOT NULL,
  deliveries BIGINT NOT NULL,
  PRIMARY KEY (channel, state, shard)
);
DELETE FROM outbox_state_counts;
INSERT INTO outbox_state_counts (channel, state, shard, deliveries)
  SELECT channel, state, id % 16, COUNT(*) FROM outbox GROUP BY 1, 2, 3;
CREATE OR REPLACE FUNCTION outbox_state_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.channel IS NOT DISTINCT FROM NEW.channel
     AND OLD.state IS NOT DISTINCT FROM NEW.state THEN RETURN NULL; END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE outbox_state_counts SET deliveries = deliveries - 1
      WHERE channel = OLD.channel AND state = OLD.state AND shard = OLD.id % 16;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO outbox_state_counts AS c (channel, state, shard, deliveries) VALUES (NEW.channel, NEW.state, NEW.id % 16, 1)
      ON CONFLICT (channel, state, shard) DO UPDATE SET deliveries = c.deliveries + 1;
  END IF;
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER outbox_state_counts AFTER INSERT OR UPDATE OF channel, state OR DELETE ON outbox
  FOR EACH ROW EXECUTE FUNCTION outbox_state_counts_keep();
)sql"},
    migration{22, R"sql(
-- The dashboard's filters on the server and its request counts (store/database.cpp's migration
-- 22): open clock rows carry their request's customer, kind, priority and assignee, each with an
-- urgency index; board holds one row per active request with its worst open clock, and
-- board_counts (16 shards by request id) is kept from it by a row trigger. Run again, it fills
-- them in afresh.
ALTER TABLE clocks ADD COLUMN IF NOT EXISTS customer_id TEXT;
ALTER TABLE clocks ADD COLUMN IF NOT EXISTS kind TEXT;
ALTER TABLE clocks ADD COLUMN IF NOT EXISTS priority TEXT;
ALTER TABLE clocks ADD COLUMN IF NOT EXISTS assignee TEXT;
UPDATE clocks c SET customer_id = r.customer_id, kind = r.kind,
                    priority = COALESCE(r.document::json ->> 'priority', 'normal'), assignee = r.assignee
  FROM requests r WHERE r.id = c.request_id AND c.open = 1;
CREATE INDEX IF NOT EXISTS clocks_by_customer_urgency ON clocks (customer_id, paused, urgency, request_id, metric)
  WHERE open = 1;
CREATE INDEX IF NOT EXISTS clocks_by_kind_urgency ON clocks (kind, paused, urgency, request_id, metric) WHERE open = 1;
CREATE INDEX IF NOT EXISTS clocks_by_priority_urgency ON clocks (priority, paused, urgency, request_id, metric)
  WHERE open = 1;
CREATE INDEX IF NOT EXISTS clocks_by_assignee_urgency ON clocks (assignee, paused, urgency, request_id, metric)
  WHERE open = 1;

CREATE TABLE IF NOT EXISTS board (
  request_id BIGINT  PRIMARY KEY,
  owner      TEXT    NOT NULL,
  state      TEXT    NOT NULL,
  unassigned INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS board_counts (
  owner      TEXT    NOT NULL,
  state      TEXT    NOT NULL,
  unassigned INTEGER NOT NULL,
  shard      INTEGER NOT NULL,
  requests   BIGINT  NOT NULL,
  PRIMARY KEY (owner, state, unassigned, shard)
);
DROP TRIGGER IF EXISTS board_counts ON board;
DELETE FROM board;
INSERT INTO board (request_id, owner, state, unassigned)
  SELECT r.id, r.owner,
         COALESCE((SELECT CASE MAX(CASE WHEN c.breached = 1 OR c.state = 'breached' THEN 3
                                        WHEN c.state = 'running' AND c.warned = 1 THEN 2
                                        WHEN c.state = 'running' THEN 1 ELSE 0 END)
                            WHEN 3 THEN 'breached' WHEN 2 THEN 'warning' WHEN 1 THEN 'running' WHEN 0 THEN 'paused' END
                   FROM clocks c WHERE c.request_id = r.id AND c.open = 1), 'none'),
         CASE WHEN r.assignee IS NULL THEN 1 ELSE 0 END
  FROM requests r WHERE r.status IN ('new', 'open', 'pending_customer', 'escalated');
DELETE FROM board_counts;
INSERT INTO board_counts (owner, state, unassigned, shard, requests)
  SELECT owner, state, unassigned, request_id % 16, COUNT(*) FROM board GROUP BY 1, 2, 3, 4;
CREATE OR REPLACE FUNCTION board_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.owner = NEW.owner AND OLD.state = NEW.state AND OLD.unassigned = NEW.unassigned
     AND OLD.request_id = NEW.request_id THEN RETURN NULL; END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE board_counts SET requests = requests - 1
      WHERE owner = OLD.owner AND state = OLD.state AND unassigned = OLD.unassigned AND shard = OLD.request_id % 16;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO board_counts AS b (owner, state, unassigned, shard, requests)
      VALUES (NEW.owner, NEW.state, NEW.unassigned, NEW.request_id % 16, 1)
      ON CONFLICT (owner, state, unassigned, shard) DO UPDATE SET requests = b.requests + 1;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER board_counts AFTER INSERT OR UPDATE OR DELETE ON board
  FOR EACH ROW EXECUTE FUNCTION board_counts_keep();
)sql"},
    migration{23, R"sql(
-- A backtest's window (store/database.cpp's migration 23): the requests filed in [from, to) as
-- one index range.
CREATE INDEX IF NOT EXISTS requests_by_created ON requests (created_at, id);
)sql"},
};

}  // namespace

int baseline_version() { return baseline; }

int latest_schema_version() {
  int latest = baseline;
  for (const auto& step : later) latest = std::max(latest, step.version);
  return latest;
}

int schema_version(pq::connection& db) {
  if (db.exec("SELECT to_regclass('schema_migrations') IS NULL").text(0, 0) == "t") return 0;
  return static_cast<int>(db.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").integer(0, 0));
}

void migrate(pq::connection& db) {
  pq::transaction transaction(db);
  // Held until commit; taken before anything is read, so a second instance waits here and then
  // finds the schema the first one made. Keyed on the schema so tests in their own schemas do
  // not wait for each other.
  db.exec("SELECT pg_advisory_xact_lock(hashtext('switchboard-migrate:' || current_schema()))");
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
          " version INTEGER PRIMARY KEY,"
          " applied_at BIGINT NOT NULL DEFAULT extract(epoch FROM now())::bigint)");
  const int current = schema_version(db);
  if (current > latest_schema_version())
    throw std::runtime_error(fmt::format(
        "the PostgreSQL schema at {} has version {}, newer than this build understands ({}): it was written by a "
        "newer switchboard; run that version",
        db.describe(), current, latest_schema_version()));
  if (current < baseline) {
    // The baseline is all or nothing (one transaction), so a database is at 0 or at least at it.
    if (current != 0)
      throw std::runtime_error(fmt::format("the PostgreSQL schema at {} has version {}, inside the baseline (1-{})",
                                           db.describe(), current, baseline));
    db.exec(baseline_sql);
    db.exec("INSERT INTO schema_migrations (version) SELECT generate_series(1, $1::int)", {baseline});
  }
  std::set<std::int64_t> applied;
  const auto recorded = db.exec("SELECT version FROM schema_migrations");
  for (int i = 0; i < recorded.rows(); ++i) applied.insert(recorded.integer(i, 0));
  for (const auto version : applied)
    if (version > baseline &&
        std::none_of(later.begin(), later.end(), [version](const migration& m) { return m.version == version; }))
      throw std::runtime_error(fmt::format(
          "the PostgreSQL schema at {} has migration {}, which this build does not know: it was written by another "
          "switchboard build; run that one",
          db.describe(), version));
  for (const auto& step : later) {
    if (applied.count(step.version) != 0) continue;
    db.exec(step.sql);
    db.exec("INSERT INTO schema_migrations (version) VALUES ($1::int)", {step.version});
  }
  transaction.commit();
}

}  // namespace switchboard::store::postgres
