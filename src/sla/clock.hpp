#pragma once
// SLA clock arithmetic: starting, pausing, resuming and completing a clock, and the warnings
// and breaches that fall due by themselves. Pure: the caller passes the calendar and the time.

#include "calendar/calendar.hpp"
#include "model/request.hpp"
#include "sla/policy.hpp"

#include <chrono>
#include <optional>
#include <vector>

namespace switchboard::sla {

// A running clock for `target` under `owner`, started at `now` (its started_at).
model::sla_clock start(const policy& owner, const metric_target& target, const calendar::business_calendar& calendar,
                       model::instant now);

// Business seconds used by `now` (frozen while paused or once completed).
std::chrono::seconds used(const model::sla_clock& clock, const calendar::business_calendar& calendar,
                          model::instant now);

// Target minus used: negative once overdue. Never more than 0 for a breached clock, which is
// overdue whatever target it has now (a reopen or a re-time may have raised it).
std::chrono::seconds remaining(const model::sla_clock& clock, const calendar::business_calendar& calendar,
                               model::instant now);

// Running or breached -> paused, keeping the business time used (a breached clock still stops
// counting while it waits on the customer; `breached` stays set). A clock that has not breached
// drops its deadline and warning instant (both become model::instant{}: none; resume plans them
// again); a breached one keeps its deadline, the breach instant. No effect on other states;
// returns whether the clock changed.
bool pause(model::sla_clock& clock, const calendar::business_calendar& calendar, model::instant now);

// Paused -> running (or back to breached), with deadlines recomputed from the time left (a
// breached clock's deadline stays its breach instant); the business time the pause lasted is
// added to paused_seconds. No effect on other states; returns whether the clock changed.
bool resume(model::sla_clock& clock, const calendar::business_calendar& calendar, model::instant now);

// The awaited action happened: an open clock completes; it is met unless already breached.
// Completed while paused, the pause's business time is added to paused_seconds.
void complete(model::sla_clock& clock, const calendar::business_calendar& calendar, model::instant now);

// A completed clock starts again from where it stopped (a reopened request's resolution).
// A met clock runs again with the business time it had used; a breached one stays breached,
// its deadline the instant it breached.
void reopen(model::sla_clock& clock, const calendar::business_calendar& calendar, model::instant now);

// reopen() under `owner`, the policy that applies to the request now (policy_set::match, as a
// filing chooses it), whose `target` is for the clock's metric: the clock takes its name,
// calendar (`calendar` is that one), target, warning threshold and pause_on, and keeps the
// business time it had used, its warning and its breach. So a reopen never brings back a
// policy or calendar the config has since dropped or renamed without `replaces`.
void reopen(model::sla_clock& clock, const policy& owner, const metric_target& target,
            const calendar::business_calendar& calendar, model::instant now);

enum class firing_kind { warning, breach };
struct firing {
  firing_kind kind;
  model::instant at;      // the true instant: when the threshold or the target was reached
  model::sla_clock clock;  // the clock just after this firing: from fire_due, `used` is the
                           // business time used at `at` and `since` is `at` (a firing is a
                           // checkpoint); from fire_reached, the clock as it is (`at` is earlier)
  std::chrono::seconds used{0};  // business seconds used at `at`
};

// Records on `clock` the warning and breach that fell due at or before `now`, and returns them
// in order (a breach whose warning was never recorded brings the warning too).
std::vector<firing> fire_due(model::sla_clock& clock, model::instant now);

// Brings an open clock in line with the config `set` after a restart (a calendar or a policy
// changed or was renamed):
// - the calendar and policy names follow `replaces` renames;
// - the target and warning threshold are those its policy now gives its metric (a metric the
//   policy no longer has keeps the clock's own);
// - a running clock's deadline and warning instants are recomputed from the business time it
//   had used at its last checkpoint (`used` at `since`), counted on the calendar as it is now.
// What happened stays: a warned clock does not warn again and a breached one stays breached
// (its breach instant is kept). A paused clock that has not breached is left with no deadline
// nor warning instant (as sla::pause leaves it). pause_on keeps the statuses the clock started with.
// Completed clocks are left alone. Returns whether anything changed. Throws std::out_of_range
// when the calendar or policy is neither configured nor replaced (see missing_names).
bool retime(model::sla_clock& clock, const policy_set& set);

// After retime: the warning and breach an open, not yet breached clock (running or paused) had
// already reached at its last checkpoint because their thresholds were lowered, recorded on
// `clock` and returned in order, each at the instant the threshold was really reached. That
// instant is found in the clock's runs (model::clock_run): the run in which its used time
// passed the threshold, and in it the run's start plus the business seconds still missing at
// the start, on `calendar` (the clock's calendar as configured now), no later than the run's
// end. When the calendar changed too, the used time of each run stays what was counted then
// (the old calendar is gone, and used time is history, as retime keeps it); only the instant
// inside the run is read on the new calendar, and the clamp keeps it inside the run where the
// threshold was passed, so a breach is never placed in a pause or after the restart.
// A threshold reached before the first kept run (a clock stored before runs were kept, or one
// paused more than max_clock_runs times) is not placed: a running clock then has it due at its
// checkpoint (retime plans it there), a paused one when it resumes. A breach brings its warning
// if not yet recorded; when the warning's own instant lies in a dropped run, it is recorded at
// the start of the first kept run, with the business time used there (`used` of the firing:
// more than the threshold, as it truly was at that instant); one clamped to its run's end has the
// business time the run had used by its end. A breach sets the deadline to its instant. A paused
// clock stays paused (`breached` set); a running one becomes breached. `used` and `since` are
// unchanged: the firings lie before the checkpoint. Pure; no effect on other clocks.
std::vector<firing> fire_reached(model::sla_clock& clock, const calendar::business_calendar& calendar);

// The next instant at which fire_due would record something, if any.
std::optional<model::instant> next_firing(const model::sla_clock& clock);

}  // namespace switchboard::sla
