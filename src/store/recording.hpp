#pragma once
// The recording both adapters run after a command (store-internal): save its outcome, then the
// capacity pass (engine::after_recording) and the capacity escalations it decides, merged into
// the change they belong to. Each adapter gives its own SQL as the steps, so the order of the
// steps is written once.
//
// Thread-safety: on the writer's session only, inside its transaction.

#include "engine/assignment.hpp"
#include "engine/engine.hpp"
#include "store/requests.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace switchboard::store {

struct recording_steps {
  // Open requests per team as the transaction sees them now (the team_load counters).
  std::function<std::map<model::team, int>()> team_loads;
  // Appends an outcome's events, enqueues what they send and saves the requests they changed.
  std::function<std::vector<change>(engine::outcome)> save_outcome;
  // engine::load_view's two questions, answered by the adapter's SQL.
  std::function<bool(model::team)> capacity_unresolved;
  std::function<std::vector<model::request_id>(model::team)> breach_order;
  // engine::auto_assign's counts: person_load for `people` and the team's assignment_cursor.
  std::function<engine::assignment_inputs(model::team, const std::vector<std::string>& people)> assignment_inputs;
  // Remembers whom the team's automatic assignment chose last (assignment_cursor).
  std::function<void(model::team, const std::string& person)> advance_cursor;
};

// The changes of `outcome` (the acted-on request first, then any it created), each with the
// capacity escalation the command caused, if any, merged in, and then its automatic assignment
// (engine::auto_assign) when the recording filed it or moved it to a team with
// [assignment.<team>].
std::vector<change> record_with_capacity(const engine::policy& policy, engine::outcome outcome,
                                         const recording_steps& steps);

// Saves an import's outcome (store/imports.hpp): its events and read model as every recording
// saves them (the dashboards of other instances are told on PostgreSQL), but nothing is enqueued
// (no outbound webhook, message or notification), and neither the capacity pass nor the
// automatic assignment runs. Defined beside each adapter's save_outcome (store/requests.cpp).
change save_quietly(unit_of_work work, const engine::policy& policy, engine::outcome outcome);

}  // namespace switchboard::store
