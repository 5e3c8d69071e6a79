#pragma once
// One policy's replay of recorded inputs (issue 15 plan 2.2, W4): an in-memory discrete-event run
// that records what the live store would have recorded under `policy`, event for event.
//
// What it keeps, as the store keeps it around the engine (store/recording.cpp): each request's
// state, each team's open load (engine::counts_toward_load, as save_request counts it), the
// unresolved capacity escalations per team, the automatic assignment's counts (person_load and
// each team's cursor), and a min-heap of (next_due, id) for the firings a scheduler would make.
// After every recording (a filing, an action, what fell due) it runs the same two passes as the
// store: engine::after_recording (capacity), then engine::auto_assign where
// engine::wants_auto_assignment says so. backtest::world's test (tests/backtest/world_test.cpp)
// holds it to the store, byte for byte, on one story.
//
// Order: replay() first fires everything due by the input's instant (firings before inputs on a
// tie), then decides the input at its recorded instant. The firing clock never goes back: an
// input recorded at an earlier instant than the one before it (two commands straddling a second
// in one commit batch) fires nothing more; its own request's dues fire inside decide, as live.
//
// Inputs the policy refuses (plan 2.1, Q1/Q2): an action refused only for its actor's role (the
// request belongs to another team under this policy) is decided again as the owning team's role,
// same person, and counted (replayed_as_owner); an escalation an input names is mapped to this
// replay's escalation of the same ladder and ordinal on the same request; any other refusal, a
// missing escalation or request is listed as not applicable with why.
//
// A customer's reply to a closed request is replayed as the customer_reply that opens its
// follow-up with the recorded id; the customer directory in force then is not in the record, so
// the follow-up takes the customer as the closed request had it (as the engine does without one).
//
// Units: instants are whole UTC seconds. No I/O, no clock: every instant comes from the inputs.
// Thread-safety: none; one world per thread. The policy and sink must outlive the world.

#include "backtest/history.hpp"
#include "engine/assignment.hpp"
#include "engine/engine.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <queue>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::backtest {

// Where a world's recordings go: each event as recorded, with its request as saved after the
// recording that made it (the same state for every event of one recording's change).
class event_sink {
 public:
  virtual ~event_sink() = default;
  virtual void recorded(const model::event& e, const model::request& after) = 0;
};

// The --verify sink: every event per request, in recording order, to be compared with the
// record (store::events_of). Memory grows with the whole replay: for checks, not for reports.
class keep_events final : public event_sink {
 public:
  void recorded(const model::event& e, const model::request& after) override;
  const std::map<model::request_id, std::vector<model::event>>& events() const { return events_; }

 private:
  std::map<model::request_id, std::vector<model::event>> events_;
};

// An input the replay could not apply under its policy.
struct not_applicable {
  model::request_id request = 0;
  std::int64_t seq = 0;
  model::instant at{};
  std::string action;  // engine::to_string(action_kind), or "file_request"
  std::string why;     // the engine's refusal message, or what is missing
};

class world {
 public:
  world(const engine::policy& policy, event_sink& sink);

  // Fires what is due by in.at, then decides the input (plan 2.1).
  void replay(const input& in);
  // Every firing due at or before `t`, earliest first (ties by request id); the firing clock
  // never goes back.
  void fire_until(model::instant t);

  const model::request* find(model::request_id id) const;
  const std::map<model::request_id, model::request>& requests() const { return requests_; }
  // Open requests per team (counts_toward_load); a team with none may be absent or 0.
  const std::map<model::team, int>& loads() const { return loads_; }
  int replayed_as_owner() const { return replayed_as_owner_; }
  const std::vector<not_applicable>& skipped() const { return skipped_; }

 private:
  struct change {
    model::request request;
    std::vector<model::event> events;
  };
  std::vector<change> save(engine::outcome outcome);
  void record(engine::outcome outcome);
  void save_request(const model::request& request);
  std::vector<model::request_id> breach_order(model::team team) const;
  void act(const input& in, engine::act_on_request command);
  void skip(const input& in, std::string action, std::string why);

  const engine::policy& policy_;
  event_sink& sink_;
  std::map<model::request_id, model::request> requests_;
  std::map<model::team, int> loads_;
  std::map<model::team, std::set<model::request_id>> capacity_unresolved_;  // requests holding one
  std::map<std::string, int, std::less<>> person_load_;
  std::map<model::team, std::string> cursor_;
  using due_entry = std::pair<model::instant, model::request_id>;
  std::priority_queue<due_entry, std::vector<due_entry>, std::greater<>> dues_;
  model::instant clock_{};
  model::request_id next_id_ = 1;
  int replayed_as_owner_ = 0;
  std::vector<not_applicable> skipped_;
};

}  // namespace switchboard::backtest
