#pragma once
// The capacity pass after a recording (issue 15 plan W1): which team a recording took over the
// capacity ladder's threshold, and the escalation that opens on the request that took it over.
// One function, so that the store and a replay decide it alike; they answer its questions
// (load_view) from SQL and from their own counters. No I/O, no clock.

#include "engine/engine.hpp"

#include <cstddef>
#include <vector>

namespace switchboard::engine {

// One request a recording changed, as its recorder keeps it: the request as saved after the
// recording and the events recorded on it (what the engine needs of store::change, or of a
// replay's own record). Refers to the caller's values, which must outlive it.
struct recorded {
  const model::request& request;
  const std::vector<event>& events;
};

// What the capacity pass asks of whoever keeps the team loads: the store answers with SQL, a
// replay (issue 15's backtest world) from its own counters. Loads count the requests a team owns
// that counts_toward_load. Called on the recorder's thread only, within one recording.
class load_view {
 public:
  virtual ~load_view() = default;
  virtual int open_before(model::team team) = 0;  // before the recording's events
  virtual int open_after(model::team team) = 0;   // after them
  // A capacity escalation for `team` is unresolved (open or acknowledged) on some request.
  virtual bool capacity_unresolved(model::team team) = 0;
  // The team's requests that count toward load, by time to breach: the earliest deadline among
  // their open clocks first, those with none last, ties by id. Asked only for a team that crossed.
  virtual std::vector<model::request_id> breach_order(model::team team) = 0;
};

// A capacity escalation the pass decided, on changes[change].request.
struct capacity_escalation {
  std::size_t change = 0;
  outcome escalation;
};

// The capacity pass after a recording (filing, an action, what fell due): for each team, in
// model::team order, whose load the recording raised across the capacity ladder's threshold
// (capacity_crossed), open_capacity_escalation on the change that took it over: the first change
// owned by the team that counts toward load and has events, at its last event's instant. At most
// one per team; empty when none crossed. The caller saves each outcome and merges it into its
// change, so the store and a replay record the same events.
std::vector<capacity_escalation> after_recording(const policy& policy, const std::vector<recorded>& changes,
                                                 load_view& loads);

}  // namespace switchboard::engine
