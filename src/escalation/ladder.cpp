// Escalation ladders: climbing one level at a time in business time (loading them is
// escalation/load.cpp).
#include "escalation/ladder.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace switchboard::escalation {
namespace {

std::string why_of(const ladder& ladder, std::size_t index) {
  const auto& level = ladder.levels[index];
  return fmt::format("{}: level {} after {} of business time{}", ladder.name, index + 1,
                     sla::format_duration(level.after),
                     level.when == condition::engineering_engaged       ? ", Engineering is engaged"
                     : level.when == condition::engineering_not_engaged ? ", Engineering is not engaged"
                                                                        : "");
}

}  // namespace

std::vector<model::role> ladder::roles() const {
  std::vector<model::role> out;
  for (const auto& l : levels)
    for (auto r : l.notify)
      if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  return out;
}

// When a level `after` the trigger falls due. "At once" (0s) is the trigger instant itself, even
// outside business hours: the calendar's zero-duration convention (the next opening) would hold
// a breach at Friday 18:00 back until Monday. A positive `after` is that much business time
// counted from the trigger, which outside business hours means from the next opening: the
// people on the earlier levels get that much working time to act before the next are told.
model::instant level_due(const calendar::business_calendar& calendar, model::instant trigger,
                         std::chrono::seconds after) {
  return after.count() == 0 ? trigger : calendar.add(trigger, after);
}

model::escalation open(const ladder& ladder, const calendar::business_calendar& calendar, std::string id,
                       std::string reason, model::instant at) {
  model::escalation e;
  e.id = std::move(id);
  e.ladder = ladder.name;
  e.reason = std::move(reason);
  e.triggered_at = at;
  e.next_level = 0;
  e.next_at = level_due(calendar, at, ladder.levels.front().after);
  return e;
}

std::optional<model::notification> climb(model::escalation& escalation, const ladder& ladder,
                                         const calendar::business_calendar& calendar, bool engineering_engaged) {
  if (!escalation.next_at || escalation.state != model::escalation_state::open) return std::nullopt;
  const auto now = *escalation.next_at;
  auto due_at = [&](std::size_t index) { return level_due(calendar, escalation.triggered_at, ladder.levels[index].after); };

  std::optional<model::notification> sent;
  if (escalation.next_level >= ladder.levels.size()) {
    // A repeat goes to whoever was told last, under that level's number.
    if (!escalation.notifications.empty()) {
      const auto& last = escalation.notifications.back();
      sent = model::notification{last.level, last.roles, now,
                                 fmt::format("{}: still unacknowledged, repeating level {}", ladder.name, last.level)};
    }
  } else {
    // Every level due now is passed in order; those whose condition fails are skipped without a
    // trace, and the first whose condition holds is notified. The failing levels due at the same
    // instant after it are passed in this climb too, whatever their order: left for a climb of
    // their own they would record an escalation.skipped beside the real alert. A second level
    // that holds stays for the next climb, at this same instant (a notification of its own).
    while (escalation.next_level < ladder.levels.size() && due_at(escalation.next_level) <= now) {
      const auto index = escalation.next_level;
      const auto& level = ladder.levels[index];
      const bool holds = level.when == condition::always ||
                         (level.when == condition::engineering_engaged) == engineering_engaged;
      if (holds && sent) break;
      ++escalation.next_level;
      if (holds) sent = model::notification{static_cast<int>(index + 1), level.notify, now, why_of(ladder, index)};
    }
  }
  if (sent) escalation.notifications.push_back(*sent);
  escalation.climbed_at = now;
  escalation.next_at = plan(escalation, ladder, calendar);
  return sent;
}

std::optional<model::instant> plan(const model::escalation& escalation, const ladder& ladder,
                                   const calendar::business_calendar& calendar) {
  if (escalation.state != model::escalation_state::open) return std::nullopt;
  if (escalation.next_level < ladder.levels.size())
    return level_due(calendar, escalation.triggered_at, ladder.levels[escalation.next_level].after);
  if (ladder.repeat_every.count() <= 0 || escalation.notifications.empty())
    return std::nullopt;  // nothing left to notify, or nobody to repeat to
  // From the last climb: the previous notification, or the last level's instant when it was
  // skipped. Escalations stored before climbed_at existed fall back to the last notification.
  const auto from = escalation.climbed_at.value_or(escalation.notifications.back().at);
  return calendar.add(from, ladder.repeat_every);
}

}  // namespace switchboard::escalation
