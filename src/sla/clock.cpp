// SLA clocks: business time used, pauses, and the instants of warnings and breaches.
#include "sla/clock.hpp"

#include <algorithm>
#include <stdexcept>

namespace switchboard::sla {
namespace {

// When `threshold` business seconds are used, counting from the checkpoint (`used` at
// `since`). A threshold already reached at the checkpoint is due at the checkpoint itself, not
// at the next opening (the calendar's convention for adding zero): that keeps planning
// idempotent, so re-planning from a checkpoint taken at a firing, or at a closing instant such
// as Friday 18:00, gives the same instants again.
model::instant reached(const model::sla_clock& clock, std::chrono::seconds threshold,
                       const calendar::business_calendar& calendar) {
  const auto left = threshold - clock.used;
  return left > std::chrono::seconds{0} ? calendar.add(clock.since, left) : clock.since;
}

// Deadlines follow from the time left at the last checkpoint. A breached clock's deadline is the
// instant it breached, whatever target it has now (a reopen or a re-time may have raised it):
// it is overdue, and its deadline, remaining time and place in the timers list say so.
void plan(model::sla_clock& clock, const calendar::business_calendar& calendar) {
  if (!clock.breached) clock.deadline = reached(clock, clock.target, calendar);
  if (!clock.warned) clock.warning_deadline = reached(clock, clock.warning_at, calendar);
}

// A paused clock that has not breached has no deadline (nor warning instant): they are planned
// again when it resumes. Kept, they would be those from before the pause, stale once a re-time
// changes the target or the calendar. A breached one keeps its breach instant.
void drop_deadlines(model::sla_clock& clock) {
  if (clock.breached) return;
  clock.deadline = {};
  clock.warning_deadline = {};
}

// A checkpoint: business time used up to `at`, counted from there on.
void checkpoint(model::sla_clock& clock, model::instant at, std::chrono::seconds used_then) {
  clock.used = used_then;
  clock.since = at;
}

bool counting(const model::sla_clock& clock) {
  return !clock.completed &&
         (clock.state == model::clock_state::running || clock.state == model::clock_state::breached);
}

// A running stretch begins at `now` with the time used so far. A breached clock keeps none:
// nothing of it is left to place. Past max_clock_runs the oldest goes.
void begin_run(model::sla_clock& clock, model::instant now) {
  if (clock.breached) return;
  if (clock.runs.size() >= model::max_clock_runs)
    clock.runs.erase(clock.runs.begin(), clock.runs.end() - (model::max_clock_runs - 1));
  clock.runs.push_back({now, clock.used, std::nullopt});
}

// A pause that ends at `now` (the clock resumes or completes): its business seconds are what the
// SLA did not count, kept for the reports. `since` is where the pause began.
void end_pause(model::sla_clock& clock, const calendar::business_calendar& calendar, model::instant now) {
  if (clock.completed || clock.state != model::clock_state::paused) return;
  const auto paused = now > clock.since ? calendar.between(clock.since, now) : std::chrono::seconds{0};
  clock.paused_seconds = clock.paused_seconds.value_or(std::chrono::seconds{0}) + paused;
}

void end_run(model::sla_clock& clock, model::instant now) {
  if (!clock.runs.empty() && !clock.runs.back().end) clock.runs.back().end = now;
}

// When the clock's used time reached `threshold`, placed inside the run in which it did: the
// remaining business seconds added from the run's start on `calendar`, no later than the run's
// end (the calendar may have changed since: what a run used is kept as it was counted, so the
// threshold is reached in the same run, and the instant within it is the best the calendar of
// today can say). None when it was reached before the first kept run (runs dropped past
// max_clock_runs, or none kept: clocks stored before runs were) or not at all. With the instant,
// the business time used then: the threshold, or, clamped to the run's end, what the run had
// used by its end (more).
struct reached_at {
  model::instant at;
  std::chrono::seconds used;
};
std::optional<reached_at> reached_in_runs(const model::sla_clock& clock, std::chrono::seconds threshold,
                                              const calendar::business_calendar& calendar) {
  if (clock.runs.empty() || threshold <= clock.runs.front().used_at_start) return std::nullopt;
  for (std::size_t i = 0; i < clock.runs.size(); ++i) {
    const auto& run = clock.runs[i];
    const auto used_by_end = i + 1 < clock.runs.size() ? clock.runs[i + 1].used_at_start : clock.used;
    if (threshold > used_by_end) continue;
    const auto end = run.end.value_or(clock.since);
    const auto at = calendar.add(run.start, threshold - run.used_at_start);
    return at <= end ? reached_at{at, threshold} : reached_at{end, used_by_end};
  }
  return std::nullopt;
}

}  // namespace

model::sla_clock start(const policy& owner, const metric_target& target, const calendar::business_calendar& calendar,
                       model::instant now) {
  model::sla_clock clock;
  clock.metric = target.metric;
  clock.policy = owner.name;
  clock.calendar = owner.calendar;
  clock.state = model::clock_state::running;
  clock.target = target.target;
  clock.warning_at = warning_threshold(target.target, target.warning_millionths);
  clock.since = now;
  clock.pause_on = target.pause_on;
  clock.started_at = now;
  begin_run(clock, now);
  plan(clock, calendar);
  return clock;
}

std::chrono::seconds used(const model::sla_clock& clock, const calendar::business_calendar& calendar,
                          model::instant now) {
  if (!counting(clock) || now <= clock.since) return clock.used;
  return clock.used + calendar.between(clock.since, now);
}

std::chrono::seconds remaining(const model::sla_clock& clock, const calendar::business_calendar& calendar,
                               model::instant now) {
  const auto left = clock.target - used(clock, calendar, now);
  // A breached clock is overdue even when a larger target now leaves time in hand.
  return clock.breached ? std::min(left, std::chrono::seconds{0}) : left;
}

bool pause(model::sla_clock& clock, const calendar::business_calendar& calendar, model::instant now) {
  if (!counting(clock)) return false;
  clock.used = used(clock, calendar, now);
  clock.since = now;
  clock.state = model::clock_state::paused;
  end_run(clock, now);
  drop_deadlines(clock);
  return true;
}

bool resume(model::sla_clock& clock, const calendar::business_calendar& calendar, model::instant now) {
  if (clock.completed || clock.state != model::clock_state::paused) return false;
  end_pause(clock, calendar, now);
  clock.since = now;
  clock.state = clock.breached ? model::clock_state::breached : model::clock_state::running;
  begin_run(clock, now);
  plan(clock, calendar);
  return true;
}

void complete(model::sla_clock& clock, const calendar::business_calendar& calendar, model::instant now) {
  if (clock.completed) return;
  end_pause(clock, calendar, now);
  clock.used = used(clock, calendar, now);
  clock.since = now;
  clock.completed = true;
  clock.completed_at = now;
  end_run(clock, now);
  clock.state = clock.breached ? model::clock_state::breached : model::clock_state::met;
}

void reopen(model::sla_clock& clock, const calendar::business_calendar& calendar, model::instant now) {
  if (!clock.completed) return;
  clock.completed = false;
  clock.since = now;
  clock.state = clock.breached ? model::clock_state::breached : model::clock_state::running;
  begin_run(clock, now);
  plan(clock, calendar);
}

void reopen(model::sla_clock& clock, const policy& owner, const metric_target& target,
            const calendar::business_calendar& calendar, model::instant now) {
  if (!clock.completed) return;
  clock.policy = owner.name;
  clock.calendar = owner.calendar;
  clock.target = target.target;
  clock.warning_at = warning_threshold(target.target, target.warning_millionths);
  clock.pause_on = target.pause_on;
  reopen(clock, calendar, now);
}

std::vector<firing> fire_due(model::sla_clock& clock, model::instant now) {
  std::vector<firing> fired;
  if (clock.completed || clock.state != model::clock_state::running) return fired;
  // At a firing instant the clock has used max(used, threshold): the instant is where the
  // threshold is reached, or the checkpoint itself when it was already reached there.
  if (!clock.warned && clock.warning_deadline <= now) {
    clock.warned = true;
    checkpoint(clock, clock.warning_deadline, std::max(clock.used, clock.warning_at));
    fired.push_back({firing_kind::warning, clock.warning_deadline, clock, clock.used});
  }
  if (clock.deadline <= now) {
    // Keep counting the overdue time: a breached clock stays open until its action happens.
    clock.state = model::clock_state::breached;
    clock.breached = true;
    clock.runs.clear();
    checkpoint(clock, clock.deadline, std::max(clock.used, clock.target));
    fired.push_back({firing_kind::breach, clock.deadline, clock, clock.used});
  }
  return fired;
}

bool retime(model::sla_clock& clock, const policy_set& set) {
  if (clock.completed) return false;
  const auto before = clock;
  const auto calendar_name = set.calendar_name(clock.calendar);
  const auto* owner = set.find(clock.policy);
  if (!calendar_name) throw std::out_of_range("unknown calendar \"" + clock.calendar + "\"");
  if (owner == nullptr) throw std::out_of_range("unknown SLA policy \"" + clock.policy + "\"");
  clock.calendar = *calendar_name;
  clock.policy = owner->name;
  for (const auto& target : owner->metrics)
    if (target.metric == clock.metric) {
      clock.target = target.target;
      clock.warning_at = warning_threshold(target.target, target.warning_millionths);
    }
  // A breached clock keeps its breach instant; a paused one is planned when it resumes (it has
  // none until then: clocks paused before pauses dropped them still carry the old ones).
  const bool running = clock.state == model::clock_state::running;
  if (running) plan(clock, set.calendar(clock.calendar));
  if (clock.state == model::clock_state::paused) drop_deadlines(clock);
  return clock.calendar != before.calendar || clock.policy != before.policy || clock.target != before.target ||
         clock.warning_at != before.warning_at ||
         (running && (clock.deadline != before.deadline ||
                      (!clock.warned && clock.warning_deadline != before.warning_deadline)));
}

std::vector<firing> fire_reached(model::sla_clock& clock, const calendar::business_calendar& calendar) {
  std::vector<firing> fired;
  if (clock.completed || clock.breached ||
      (clock.state != model::clock_state::running && clock.state != model::clock_state::paused))
    return fired;
  const auto breach = clock.used >= clock.target ? reached_in_runs(clock, clock.target, calendar) : std::nullopt;
  auto warning = !clock.warned && clock.used >= clock.warning_at ? reached_in_runs(clock, clock.warning_at, calendar)
                                                                  : std::nullopt;
  // A breach brings its warning (as fire_due does). A warning passed in a dropped stretch
  // cannot be placed: the earliest instant that can be told truthfully is the start of the
  // first kept stretch (the breach lies in a kept one), with the time the clock had used
  // there, not the threshold, which it had already passed.
  if (breach && !clock.warned && !warning) {
    if (!clock.runs.empty() && clock.warning_at <= clock.runs.front().used_at_start)
      warning = reached_at{clock.runs.front().start, clock.runs.front().used_at_start};
    else
      warning = breach;
  }
  if (breach && warning && warning->at > breach->at) warning = breach;
  if (warning) {
    clock.warned = true;
    fired.push_back({firing_kind::warning, warning->at, clock, warning->used});
  }
  if (breach) {
    clock.breached = true;
    clock.runs.clear();
    clock.deadline = breach->at;  // a breached clock's deadline is its breach instant (see plan)
    if (clock.state == model::clock_state::running) clock.state = model::clock_state::breached;
    fired.push_back({firing_kind::breach, breach->at, clock, breach->used});
  }
  return fired;
}

std::optional<model::instant> next_firing(const model::sla_clock& clock) {
  if (clock.completed || clock.state != model::clock_state::running) return std::nullopt;
  return clock.warned ? clock.deadline : std::min(clock.warning_deadline, clock.deadline);
}

}  // namespace switchboard::sla
