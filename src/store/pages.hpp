#pragma once
// Paged reads for the API and the dashboard: open SLA clocks by urgency, the dashboard's open-clock
// counts, and a request's events. Each page is one indexed range scan of `limit` (+1) rows, so
// its cost does not grow with the number of rows stored.
//
// Thread-safety: as the connection passed in (one connection, one thread at a time; see
// store::reader_pool for a connection per reading thread).

#include "store/session.hpp"
#include "engine/engine.hpp"
#include "model/request.hpp"

#include <SQLiteCpp/Database.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::store {

// An open clock's place in urgency order: running and breached clocks (paused = false) by
// deadline, in UTC seconds (breached ones, whose deadline has passed, come first); then paused
// clocks by business seconds left (negative when overdue; frozen while paused). Ties by
// request id, then metric name: every open clock has exactly one place, so a cursor is stable.
struct clock_cursor {
  bool paused = false;
  std::int64_t urgency = 0;
  model::request_id request = 0;
  std::string metric;
  auto operator<=>(const clock_cursor&) const = default;
};

// The cursor's text form in the API: "<paused 0|1>.<urgency>.<request id>.<metric>", and back;
// nullopt for text this API did not make.
std::string format_cursor(const clock_cursor& cursor);
std::optional<clock_cursor> parse_clock_cursor(std::string_view text);

struct open_clock_filter {
  std::optional<model::team> owner;   // only clocks of requests this team owns
  std::optional<clock_cursor> after;  // the cursor: only clocks after this place
  int limit = 100;                    // clocks per page, at least 1
  // Read each request only as far as a list row shows it, from its stored summary (store/summary.hpp:
  // id, status, owner, the input's kind, customer, title and priority, assignee, created_at and
  // clocks; body, routing, escalations, links and the rest are left empty). The timers list and
  // the dashboard's first screen set it.
  bool summaries = false;
  // With summaries, a page's budget in bytes (0: none) of what every row of the timers list and
  // the dashboard shows of a request: its title and customer id and name, counted once per
  // request on the page, a lower bound of either answer's rows. Reading stops at the first clock
  // of another request once the page is past it (the clocks of requests already read still
  // come, as the dashboard pages by request): no more than the budget and one request is read,
  // and the caller's own budget (http::api::page_rows) ends the page where it did before.
  std::size_t max_bytes = 0;
  // The dashboard's filters (migration 22's columns, each with its urgency index; declared last,
  // so positional initialisers of the members above stay valid): only clocks of requests of
  // this customer id, kind, priority, and assignee (an empty string: requests with none).
  // Unset members match everything. Each has an initializer, so that initialisers naming only
  // the members above raise no -Wmissing-field-initializers.
  std::optional<std::string> customer = std::nullopt;
  std::optional<model::request_kind> kind = std::nullopt;
  std::optional<model::priority> priority = std::nullopt;
  std::optional<std::string> assignee = std::nullopt;
  // Only clocks in this shown state: "running" (not warned), "warning" (running and warned),
  // "paused" (also one that breached before it paused) or "breached" (also breached, then paused).
  std::optional<std::string> state = std::nullopt;
  // Only clocks of requests search_requests would find for these words (store/search.hpp: title,
  // body, customer; "12" also that id, "#12" that id alone). Its cost grows with the matches.
  std::optional<std::string> q = std::nullopt;
};

struct open_clock {
  clock_cursor place;
  std::shared_ptr<const model::request> request;  // shared by its clocks on the same page
  const model::sla_clock* clock = nullptr;        // in *request
};

struct open_clock_page {
  std::vector<open_clock> clocks;     // most urgent first
  std::optional<clock_cursor> next;   // set when more remain
};

// The SQL condition (" AND ...", on clock rows aliased c) for open_clock_filter::state, shared by
// both stores' list_open_clocks. Throws std::invalid_argument for any other state.
std::string state_condition(std::string_view state);

// Open clocks in urgency order, a page at a time, from the clocks_by_urgency index (migration 10).
open_clock_page list_open_clocks(read_session session, const open_clock_filter& filter);

// Open clocks per owning team and shown state ("running", "warning" (running and warned),
// "paused", "breached"), from the counters migration 10's triggers keep: a handful of rows.
struct open_clock_count {
  std::string owner;
  std::string state;     // running, warning, paused or breached
  bool breached = false;  // breached clocks, and paused ones that breached before they paused (counted apart)
  std::int64_t clocks = 0;
};
std::vector<open_clock_count> open_clock_counts(read_session session);

// Active requests (new, open, pending_customer, escalated) per owning team, by their worst open
// clock ("breached", also when paused after it breached; then "warning", "running", "paused"; or
// "none" without an open clock), and whether they have no assignee: the dashboard's team cards
// count requests, not clocks. From the counters migration 22's triggers keep (board_counts): a
// few dozen rows, whatever the number of requests.
struct open_request_count {
  std::string owner;
  std::string state;  // breached, warning, running, paused or none
  bool unassigned = false;
  std::int64_t requests = 0;
};
std::vector<open_request_count> open_request_counts(read_session session);

struct event_page {
  std::vector<engine::event> events;      // oldest first
  std::optional<std::int64_t> next_after;  // the log sequence number to continue after, when more remain
};

// The events of request `id` after log sequence number `after` (0: from the first), oldest
// first, `limit` (at least 1) at a time, and, when `max_bytes` is not 0, no more events than fit
// in that many bytes of stored data (but at least one).
event_page list_events(read_session session, model::request_id id, std::int64_t after, int limit,
                       std::size_t max_bytes = 0);

// An event row as read from the events table, before it is decoded.
struct stored_event {
  std::string type;
  model::instant at{};
  std::string actor;
  std::string data;  // JSON, as codec::encode_data wrote it (or an earlier release did)
};

// Decodes an event of request `id` as it was recorded (codec::decode). Since issue 11 a
// request.routed event's routing trace is stored only in the request's document (the stored
// event has "trace_in": "request" instead), and this puts it back first; request.routed events
// stored with their trace (written before) are read as they are. list_events and events_of call
// it. Throws std::runtime_error when the request's document is missing, std::invalid_argument
// for data its type cannot have.
engine::event read_event(read_session session, model::request_id id, std::string_view type, model::instant at,
                         std::string actor, std::string_view data);

}  // namespace switchboard::store
