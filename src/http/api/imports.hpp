#pragma once
// POST /v1/import (admin only): existing tickets from another system, one JSON object per line
// (application/x-ndjson, README "Importing tickets", codec/import_json.hpp), each imported with
// its history (engine/import.hpp) and answered line by line:
//
//   200 {"results": [{"line", "external_id", "outcome": "imported"|"exists"|"refused",
//                     "id", "error": {"code", "message", "fields"}}],
//        "imported": n, "exists": n, "refused": n}
//
// A refused line stores nothing and the others go on. The body is at most max_import_body_bytes
// (413 payload_too_large) and max_import_lines lines (413 too_many_lines), checked with the token
// (401, or 403 for a role other than admin) before it is read, and its tickets' history entries
// at most max_import_actions (413 too_many_actions), counted before any is replayed. A UTF-8 byte
// order mark opening the body is skipped. An Idempotency-Key makes a retried body answer the same
// results. The events an import records are the past: the `changed` callback is told of each
// imported request without them, so no live counter or dashboard feed counts them.

#include "http/api/api.hpp"

#include <cstddef>

namespace switchboard::http::api {

inline constexpr std::size_t max_import_body_bytes = 8 * 1024 * 1024;
// Lines a body may hold (413 too_many_lines past it): every line is replayed in the writer's one
// transaction, which other writes wait for; 500 tickets with a few actions each take about a
// second there. switchboard-cli import sends at most 500 lines a request.
inline constexpr std::size_t max_import_lines = 1000;
// History entries a body's tickets may hold in all (413 too_many_actions past it; a ticket holds
// at most codec::max_import_history): the replay's time in the writer grows with actions, and
// 5000 keep a live filing's wait during an import to about a second (README "Importing tickets").
inline constexpr std::size_t max_import_actions = 5000;

// Adds POST /v1/import to `routes`. `ctx` must outlive the router.
void add_import_routes(router& routes, context& ctx);

}  // namespace switchboard::http::api
