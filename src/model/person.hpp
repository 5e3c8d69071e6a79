#pragma once
// The people directory: who works in support, with the roles they hold and how to reach them.
// Loaded from [[people]] in the config (config/people.hpp); immutable once loaded, so safe to
// share between threads. Nothing here notifies or assigns anyone yet (issue 13, later steps).

#include "model/enums.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::model {

struct person {
  std::string id;                // [a-z0-9._-]+, unique; what tokens and Slack users name
  std::string name;              // display name, non-empty
  std::vector<role> roles;       // at least one, no repeats
  std::optional<team> team_of;   // the team the person works in; none for leads outside a team
  std::string email;             // an RFC 5322 addr-spec, or empty
  std::string slack_user;        // a Slack user id (U… or W…), or empty
  std::string calendar;          // a calendar of the config ([calendars.NAME]): working hours
  std::vector<std::string> skills;     // use-case tags, not yet checked against configured use cases
  std::optional<int> capacity;         // open requests the person may hold (>= 0); none: no limit

  bool holds(role r) const { return std::find(roles.begin(), roles.end(), r) != roles.end(); }
};

// People by id. Empty when the config declares none: then tokens and Slack users name people
// freely, as before the directory existed.
struct people_directory {
  std::map<std::string, person, std::less<>> by_id;

  bool empty() const { return by_id.empty(); }
  const person* find(std::string_view id) const {
    const auto found = by_id.find(id);
    return found == by_id.end() ? nullptr : &found->second;
  }
};

}  // namespace switchboard::model
