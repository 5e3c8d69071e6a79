#pragma once
// Automatic assignment inside a team (issue 13 §3, E5): how a team's requests are given to its
// people, as configured in [assignment.<team>], and the trace each automatic choice leaves on
// its request.assigned event. Plain values: safe to copy and share read-only between threads.

#include "model/enums.hpp"

#include <map>
#include <string>
#include <vector>

namespace switchboard::model {

enum class assignment_strategy {
  round_robin,   // the next person after the one chosen last (per team), in id order
  least_loaded,  // the lowest share of capacity in use, then the fewest open, then the id
};

// [assignment.<team>]: the team's requests are assigned automatically when filed or moved to it.
struct assignment_settings {
  assignment_strategy strategy = assignment_strategy::round_robin;
  // Prefer people whose skills hold the request's use case; when none of them qualifies, any
  // qualifying member is chosen and the trace says so.
  bool skills = false;
};

using assignment_map = std::map<team, assignment_settings>;

// One member of the team as an automatic assignment considered them: chosen, or why not.
struct assignment_consideration {
  std::string person;
  bool chosen = false;
  std::string why;  // "off shift until 2026-12-03T10:00:00Z", "at capacity (40 of 40 open)", ...
};

}  // namespace switchboard::model
