#pragma once
// A request's row summary (migration 13's request_summaries): what the timers list and the
// dashboard's first screen show of a request, kept beside its document and rewritten with it, so
// a page of rows reads a few hundred bytes a request instead of decoding the whole document
// (about 2.8 KB under the shipped rules, half of it the routing trace; issue 11).
//
// Pure functions; thread-safe.

#include "model/request.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::store {

// The summary's stored form, a JSON object with the document's own keys and shapes: "status",
// "owner", "kind", "customer" ({id, name, stage, tier}), "title", "priority", "assignee" (null
// when none), "created_at" and "clocks" (every clock, open or not). The id is its row's key.
std::string summary_json(const model::request& request);

// A request holding only what a summary shows: `id`; status and owner; the input's kind,
// customer, title and priority; assignee, created_at and clocks. Everything else (body,
// routing, escalations, links...) is left empty. Throws std::invalid_argument when `summary` is
// not one summary_json wrote (or migration 13 filled in).
model::request request_from_summary(model::request_id id, std::string_view summary);

// A request's state on the dashboard's team cards (its board row, migration 22): "breached"
// (a breached open clock, also one paused after it breached), else "warning", "running" or
// "paused" by its worst open clock, or "none" when it has no open clock; nullopt once it is
// resolved or closed (it is on no card).
std::optional<std::string_view> board_state(const model::request& request);

}  // namespace switchboard::store
