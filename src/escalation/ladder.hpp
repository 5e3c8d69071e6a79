#pragma once
// Escalation ladders: ordered levels, each "after this much business time from the trigger,
// notify these roles", stopped by an acknowledgement, repeated while the last level stays
// unacknowledged. Loaded from the [escalation] section of the config file.

#include "config/toml.hpp"
#include "model/request.hpp"
#include "sla/policy.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::escalation {

// The ladders the engine knows how to trigger.
inline constexpr std::string_view sla_breach = "sla_breach";  // a clock breached
inline constexpr std::string_view concern = "concern";        // a concern is stuck or unresolved
inline constexpr std::string_view capacity = "capacity";      // a team's open load crossed its threshold

enum class condition { always, engineering_engaged, engineering_not_engaged };

struct level {
  std::chrono::seconds after{0};  // business time from the trigger
  std::vector<model::role> notify;
  escalation::condition when = condition::always;  // a level whose condition fails is skipped
};

struct ladder {
  std::string name;
  std::string calendar;
  std::vector<level> levels;  // ordered by `after`
  std::chrono::seconds repeat_every{0};  // 0: the last level is notified once
  std::optional<std::chrono::seconds> trigger_after;  // concern: unresolved this long escalates
  std::map<model::team, int> thresholds;              // capacity: open requests per team

  // Every role on the ladder: those who may acknowledge or resolve its escalations.
  std::vector<model::role> roles() const;
};

using ladder_map = std::map<std::string, ladder, std::less<>>;

// Loads [[escalation.ladder]] tables:
//
//   [[escalation.ladder]]
//   name = "sla_breach"             # sla_breach, concern or capacity
//   calendar = "support"
//   repeat_every = "4h"             # optional
//   trigger_after = "8h"            # concern only
//   thresholds = { se = 25 }        # capacity only
//   levels = [ { after = "0s", notify = ["head_of_cs"], when = "engineering_engaged" } ]
//
// Unknown keys, ladders, calendars, roles, conditions, bad durations, levels out of order and
// keys that do not belong to the ladder are config::error at file:line:col.
ladder_map load_ladders(const toml::table& escalation, std::string_view file, const sla::calendar_map& calendars);

// Starts an escalation on `ladder`, triggered at `at`. Its first level is due at once or later.
model::escalation open(const ladder& ladder, const calendar::business_calendar& calendar, std::string id,
                       std::string reason, model::instant at);

// Notifies the level due at `escalation.next_at` (or repeats the last one) and plans the next.
// Returns the notification, or nullopt when the level's condition skipped it.
std::optional<model::notification> climb(model::escalation& escalation, const ladder& ladder,
                                         const calendar::business_calendar& calendar, bool engineering_engaged);

}  // namespace switchboard::escalation
