#pragma once
// Automatic assignment inside a team (issue 13 §3, E5): which member of the owning team gets a
// request, by the team's [assignment.<team>] strategy, among the people inside their working
// hours and under their capacity. A second pass after recording, like the capacity pass
// (engine/capacity.hpp): the store calls it with the counts it keeps (person_load,
// assignment_cursor). No I/O, no clock: `now` is passed in.

#include "engine/engine.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::engine {

// Whether `person` works requests owned by `owner` (their team is it; the engineering
// discussion is worked by SE, Product and Engineering).
bool member_of(const model::person& person, model::team owner);

// The members of `team` in the directory, in id order (whom auto_assign considers).
std::vector<const model::person*> members_of(const policy& policy, model::team team);

// Whether a recording of `events` on `request` should be followed by auto_assign: the request was
// filed, moved to another team (handoff, route_to_product) or reopened by them, is unassigned,
// counts toward load (open, not unattributed), and its team has [assignment.<team>].
bool wants_auto_assignment(const policy& policy, const model::request& request, const std::vector<event>& events);

// What auto_assign needs from whoever keeps the counts (the store, a replay).
struct assignment_inputs {
  // Open assigned requests per person (person_load), for the team's members; absent means 0.
  std::map<std::string, int, std::less<>> open_assigned;
  // round_robin: the person the team's automatic assignment chose last ("" when none yet).
  std::string last_chosen;
};

// An automatic assignment decided: `outcome` holds one request.assigned (how "auto", actor
// "system", at `now`, the request's status unchanged) with its `considered` trace; or, when
// nobody qualified, `person` is empty and it holds one request.left_unassigned with the trace of
// why each member was not chosen.
struct auto_assignment {
  std::string person;
  outcome assigned;
};

// Chooses among the request's owning team's members (members_of) those inside their working
// hours at `now` (their calendar is open) and under capacity (open_assigned < capacity; no
// capacity is no limit). With skills, those whose skills hold the request's use case are
// preferred; when none of them qualifies, any qualifying member may be chosen and their trace
// lines say "lacks skill X" only when a skilled one was chosen. round_robin takes the first
// qualifying member after `last_chosen` in id order, wrapping around; least_loaded the lowest
// open_assigned / capacity (a member without capacity counts as 0), then the fewest open, then the
// lowest id. nullopt when the team has no strategy; when nobody qualifies (or the team has no
// members), an auto_assignment without a person whose event says so: the request stays
// unassigned (GET /v1/requests?assignee=none lists it).
std::optional<auto_assignment> auto_assign(const policy& policy, const model::request& request,
                                           const assignment_inputs& inputs, model::instant now);

}  // namespace switchboard::engine
