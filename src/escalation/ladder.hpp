#pragma once
// Escalation ladders: ordered levels, each "after this much business time from the trigger,
// notify these roles", stopped by an acknowledgement, repeated while the last level stays
// unacknowledged. Loaded from the [escalation] section of the config file by escalation/load.hpp.

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
// Product did not decide on a feature request within review_after_days full business days
// (issue 13 §4): the level notifying `product` reaches the request's use-case DRI (every person
// holding product when it has none), and the ladder's roles may decide in Product's stead.
inline constexpr std::string_view product_review = "product_review";

enum class condition { always, engineering_engaged, engineering_not_engaged };

struct level {
  // Business time from the trigger. 0s is the trigger instant itself, in or out of business
  // hours; more is counted in business time from the trigger (from the next opening when the
  // trigger is outside business hours). See level_due.
  std::chrono::seconds after{0};
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
  // product_review: Product's decision is due at the close of this many full business days on
  // the ladder's calendar after the request reached Product (calendar::close_of_business_days).
  int review_after_days = 3;

  // Every role on the ladder: those who may acknowledge or resolve its escalations.
  std::vector<model::role> roles() const;
};

using ladder_map = std::map<std::string, ladder, std::less<>>;

// When a level `after` the trigger `trigger` is due: `trigger` itself for 0s ("at once", even
// outside business hours), otherwise calendar.add(trigger, after), the instant at which `after`
// business seconds have elapsed since the trigger (so counted from the next opening when the
// trigger falls outside business hours). Throws as calendar::add does.
model::instant level_due(const calendar::business_calendar& calendar, model::instant trigger,
                         std::chrono::seconds after);

// Starts an escalation on `ladder`, triggered at `at`. Its first level is due at level_due.
model::escalation open(const ladder& ladder, const calendar::business_calendar& calendar, std::string id,
                       std::string reason, model::instant at);

// When `escalation` (open) next climbs on `calendar`: the next level's level_due from its
// trigger, or, past the last level, repeat_every of business time after its last climb
// (climbed_at: the previous notification, or the last level's instant when that was skipped)
// while someone was notified; nullopt when nothing is left. climb plans with it, and a restart
// with a changed calendar re-plans open escalations with it (engine::retime).
std::optional<model::instant> plan(const model::escalation& escalation, const ladder& ladder,
                                   const calendar::business_calendar& calendar);

// Climbs at `escalation.next_at`: passes every level due then, skipping silently those whose
// `when` fails, and notifies the first whose condition holds (or, past the last level, repeats
// the last notification); the failing levels due then after it are passed with it, and a second
// level that holds then is left for the next climb (at the same instant). Appends the notification to `escalation.notifications`, sets
// climbed_at to now and plans `next_at` (see plan). Returns the notification, or nullopt when every level due then was
// skipped (the escalation has still moved on).
std::optional<model::notification> climb(model::escalation& escalation, const ladder& ladder,
                                         const calendar::business_calendar& calendar, bool engineering_engaged);

}  // namespace switchboard::escalation
