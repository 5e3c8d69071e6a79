#pragma once
// A window of recorded history, as a backtest replays it (issue 15 plan 2.1 and 2.4): the inputs
// (filings and people's actions, each rebuilt as the command that recorded it), which requests
// were filed in the window, how recorded escalation ids map to ladders, and the breaches the
// record holds (drift). Plain values: the store reads them (store/backtest_reads.hpp), the replay
// (backtest/world.hpp) consumes them; no I/O here.
//
// Units: instants are whole UTC seconds; seq is the event log's global, commit-ordered number.
// Thread-safety: plain values; a history is shared read-only by the worlds replaying it.

#include "engine/commands.hpp"
#include "model/request.hpp"

#include <charconv>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::backtest {

// Which requests a backtest replays: those filed in [from, to), replayed up to `until` (default:
// the newest recorded event, history::as_of).
struct window {
  model::instant from{};
  model::instant to{};
  std::optional<model::instant> until;
};

// An escalation an action named, as the record knew it: the `ordinal`-th (1-based) escalation of
// the request on `ladder`. A replay names its own k-th escalation on that ladder of the same
// request (plan 2.1, "escalation mapping"), whose id may differ.
struct escalation_ref {
  std::string recorded_id;  // "<request>-<n>" as the action named it
  std::string ladder;
  int ordinal = 0;
};

// The n of an escalation id "<request>-<n>" (engine/recorder.cpp numbers a request's escalations
// 1, 2, ... as they open); 0 for another shape.
inline int escalation_number(std::string_view id) {
  const auto dash = id.rfind('-');
  if (dash == std::string_view::npos) return 0;
  int n = 0;
  const auto tail = id.substr(dash + 1);
  const auto [end, error] = std::from_chars(tail.data(), tail.data() + tail.size(), n);
  return error == std::errc{} && end == tail.data() + tail.size() ? n : 0;
}

// One input: a recorded event by a person (or an integration) that a replay decides again, at
// its recorded instant, in seq order.
struct input {
  model::request_id request = 0;
  std::int64_t seq = 0;
  model::instant at{};
  std::string actor;        // as recorded ("ce:dana", "integration:mailgun")
  engine::command command;  // engine::command_of the event
  // engage_engineering and raise_concern: the id the recorded action gave the request it opened
  // (decide's next_id), from request_linked::child; a customer_reply that opened a follow-up
  // (recorded as request.followed_up), the follow-up's id.
  std::optional<model::request_id> child;
  // acknowledge_escalation, resolve_escalation and bring_in: the escalation they named, mapped to
  // its ladder and ordinal; unset when the record has no such escalation.
  std::optional<escalation_ref> escalation;
};

struct history {
  std::vector<input> inputs;              // by seq
  std::vector<model::request_id> filed;   // filed in [from, to) with no parent, ascending
  // Requests opened by the filed ones' actions (interrupts, concerns, follow-ups of a reply to a
  // closed request, and theirs), ascending: created by a replay of their parent's action, maybe
  // after `to`.
  std::vector<model::request_id> linked;
  // (request, metric) of every sla.breached the record holds for the requests read, up to
  // horizon_seq: compared with a replay under the current config (drift).
  std::set<std::pair<model::request_id, model::sla_metric>> recorded_breaches;
  model::instant as_of{};         // window::until, or else the newest recorded event's instant
  std::int64_t horizon_seq = 0;   // the newest seq when the read started: nothing later is read
  // The requests filed in the window were found by a scan of every request: the database has no
  // requests_by_created index (schema older than 23, opened read-only so not migrated).
  bool scanned = false;
};

}  // namespace switchboard::backtest
