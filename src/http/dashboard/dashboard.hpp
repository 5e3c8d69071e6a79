#pragma once
// The SE dashboard: the page (built into the binary), its snapshot of every open SLA clock, and
// the live stream of changes (Server-Sent Events through stream::hub).
//
//   GET /, /dashboard               the page (no token needed: it asks for one)
//   GET /dashboard/app.js, app.css  its assets
//   GET /v1/dashboard/clocks        snapshot (any role; Authorization: Bearer): the requests
//                                   holding the `limit` most urgent open clocks (default 200,
//                                   at most 1000) as rows, with the calendars' open intervals,
//                                   the open clocks per team and state ("counts", from counters
//                                   kept with every write: {"team", "state", "breached",
//                                   "clocks"}, a paused clock that breached first counted in
//                                   its own row, state "paused" with "breached": true) and in
//                                   all ("open_clocks"), the
//                                   stream id it is complete up to, and "next_cursor" (null
//                                   when every open clock is in it) for `cursor` to page on
//                                   "request_counts" (requests with an open clock per team,
//                                   by worst clock state, and whether unassigned:
//                                   {"team", "state", "unassigned", "requests"}; one pass over
//                                   the open clocks, store::open_request_counts)
//                                   and "clock_speed" (simulated seconds per real second: 1
//                                   unless the server runs --clock-speed, so the page counts
//                                   down at the server's pace)
//   GET /v1/dashboard/escalations   the unresolved (open or acknowledged) escalations whose
//                                   request is in the view (team, customer, kind, state,
//                                   priority, assignee: <person>, none or me), the open ones
//                                   first, then by level reached (highest first) and age;
//                                   `limit` of them (default 3, at most 200) with each one's
//                                   request summary, and "count" and "open" of all that match.
//                                   Reads every unresolved escalation and its request: its cost
//                                   grows with those, not with the requests stored
//   GET /v1/dashboard/counts        the snapshot's "request_counts", "counts" and "open_clocks"
//                                   alone, for the team cards between snapshots (any role)
//   GET /v1/dashboard/search        ?q= (1 to 200 bytes): {"ids": [...]} of the requests whose
//                                   title, body or customer hold every word of q (as prefixes),
//                                   newest first, `limit` (default 200, at most 1000), the one q
//                                   names by id first (store/search.hpp; any role)
//   GET /v1/me                      the token's person and role, and from the people directory
//                                   (when there is one) name, team and teams led (any role)
//   GET /v1/people                  the people directory without contacts: id, name, team,
//                                   roles, leads (any role)
//   GET /v1/dashboard/stream        text/event-stream of `change` events after Last-Event-ID
//                                   (any role; Authorization: Bearer, so the page reads it
//                                   with fetch(), and the token never appears in a URL or log)
//
// Thread-safety: the snapshot runs on the worker pool (its reads take a connection from
// `readers`; the hub's last_id may be read from any thread); publish and the stream run on the
// app strand, the hub's executor.

#include "config/tokens.hpp"
#include "engine/engine.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/stream/hub.hpp"
#include "store/reader_pool.hpp"
#include "store/requests.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <set>
#include <string>

namespace switchboard::http::dashboard {

struct context {
  const engine::policy& policy;
  store::reader_pool& readers;  // read-only connections, one per snapshot while it reads
  const config::token_table& tokens;
  std::function<model::instant()> clock;
  stream::hub& hub;
  // The snapshot's budget for its rows, in bytes ([server] max_page_bytes, 4 MiB by default).
  std::size_t max_page_bytes = 4 * 1024 * 1024;
  // Simulated seconds per real second (--clock-speed; 1 in production), told to the page.
  double clock_speed = 1.0;
};

// How many open clocks a snapshot holds by default, and at most.
inline constexpr int default_snapshot_clocks = 200;
inline constexpr int max_snapshot_clocks = 1000;

// The longest search (`q` of GET /v1/dashboard/search), in bytes.
inline constexpr std::size_t max_search_bytes = 200;

// How far ahead the page is given each calendar's open intervals.
inline constexpr std::chrono::hours calendar_horizon{24 * 8};

// Adds the page, its assets and the snapshot route. `ctx` must outlive the router.
void add_routes(router& routes, context& ctx);

// The takeover that serves GET /v1/dashboard/stream (declines every other request).
takeover_handler stream_handler(context& ctx);

// Publishes one committed change as a `change` event. Call on the io_context's thread, after
// the commit: from the API's `changed` callback and the scheduler's listener.
void publish(context& ctx, const store::change& change);

// One request as the dashboard shows it: who and what, and its open clocks with the business
// seconds left as of `now` (none once every clock is completed: the page drops its rows).
boost::json::object request_row(const model::request& request, const engine::policy& policy, model::instant now);

// {"<calendar>": {"zone": ..., "intervals": [[open, close], ...]}} in Unix seconds, for the
// open intervals of [now, now + calendar_horizon).
boost::json::object calendars_view(const std::set<std::string, std::less<>>& names, const engine::policy& policy,
                                   model::instant now);

// The built-in page and assets: nullptr when `name` is not one ("index.html", "app.js", ...).
struct asset {
  std::string_view content_type;
  std::string_view body;
};
const asset* find_asset(std::string_view name);

}  // namespace switchboard::http::dashboard
