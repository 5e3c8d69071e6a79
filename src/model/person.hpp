#pragma once
// The people directory: who works in support, with the roles they hold and how to reach them.
// Loaded from [[people]] in the config (config/people.hpp); immutable once loaded, so safe to
// share between threads. take/assign check membership and leads here; escalations reach the
// people who hold a ladder's roles through their `notify` channels (issue 13 E4, E6).

#include "model/enums.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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
  std::vector<team> leads;             // teams the person leads: they may assign its requests
  // How escalations reach the person: "slack" (a direct message to slack_user) and/or "email".
  // Defaults to every contact the person has; each named channel needs its contact.
  std::vector<std::string> notify;

  bool leads_team(team t) const { return std::find(leads.begin(), leads.end(), t) != leads.end(); }
  bool notified_by(std::string_view channel) const {
    return std::find(notify.begin(), notify.end(), channel) != notify.end();
  }

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
