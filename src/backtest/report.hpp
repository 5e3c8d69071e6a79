#pragma once
// What a backtest reports (issue 15 plan 2.5, W6): the same inputs replayed under the current
// and the proposed policy, compared. backtest::run drives the two worlds; `compare` builds the
// report from what each side recorded.
//
// Units: instants are whole UTC seconds; durations are business seconds on the clock's calendar.
// Thread-safety: plain values; run() is safe to call from any thread (it starts two of its own).

#include "backtest/history.hpp"
#include "backtest/world.hpp"
#include "engine/engine.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace switchboard::backtest {

// Where one SLA clock stood at the end of a side's replay: met (completed, never breached),
// breached (ever), or open (neither yet). A request without the clock has none.
enum class clock_outcome { met, breached, open };
std::string_view to_string(clock_outcome outcome);

// One notification an escalation sent: its ladder, its level (repeats keep the last level's
// number) and when.
struct notification_sent {
  model::request_id request = 0;
  std::string ladder;
  int level = 0;
  model::instant at{};
  bool operator==(const notification_sent&) const = default;
  auto operator<=>(const notification_sent&) const = default;
};

// One request's outcome on one side, kept small: the routing decision, each clock's outcome
// (with the SLA policy that ran it), the business time left at first response, and the
// notifications sent.
struct request_outcome {
  model::request_id id = 0;
  model::team owner = model::team::se;  // as routed at filing
  std::string rule;                     // the rule that decided, "fallback" for the fallback
  struct clock {
    std::string policy;
    clock_outcome outcome = clock_outcome::open;
  };
  std::map<model::sla_metric, clock> clocks;
  // first_response completed: target - used then (negative when answered late).
  std::optional<std::chrono::seconds> first_response_left;
  std::vector<notification_sent> notifications;
};

// The outcome of `request` after a replay: read from its final state.
request_outcome outcome_of(const model::request& request);

struct side_counts {
  int met = 0;
  int breached = 0;
  int open = 0;
  bool operator==(const side_counts&) const = default;
};

// A clock's first breach on one side: when, for breaches_by_week.
struct breach_seen {
  model::request_id request = 0;
  model::sla_metric metric = model::sla_metric::first_response;
  model::instant at{};
};

struct report {
  model::instant from{};
  model::instant to{};
  model::instant as_of{};
  int requests = 0;         // filed in the window
  int inputs_replayed = 0;  // inputs in the history

  struct owner_change {
    model::team current = model::team::se;
    model::team proposed = model::team::se;
    int count = 0;
  };
  struct rule_change {
    std::string current;
    std::string proposed;
    int count = 0;
  };
  struct changed_request {
    model::request_id id = 0;
    model::team current_owner = model::team::se;
    model::team proposed_owner = model::team::se;
    std::string current_rule;
    std::string proposed_rule;
    // Every proposed rule tried on the request as filed, in order, with why each failed (Q11):
    // recomputed by run() for the changed requests only (traces are never kept for all).
    std::vector<model::rule_evaluation> proposed_trace;
  };
  struct {
    int changed = 0;
    std::vector<owner_change> by_owner;  // by (current, proposed)
    std::vector<rule_change> by_rule;    // by (current, proposed)
    std::vector<changed_request> requests;  // by id
  } routing;

  struct policy_metric {
    std::string policy;
    model::sla_metric metric = model::sla_metric::first_response;
    side_counts current;
    side_counts proposed;
  };
  struct flip {
    model::request_id id = 0;
    std::string policy;  // the proposed side's
    model::sla_metric metric = model::sla_metric::first_response;
  };
  struct {
    std::vector<policy_metric> by_policy_metric;  // by (policy, metric)
    std::vector<flip> to_met;                     // breached under current, met under proposed
    std::vector<flip> to_breached;                // met or open under current, breached under proposed
    // Requests whose first response completed on both sides (Q12); medians by nearest rank.
    int paired = 0;
    std::optional<std::chrono::seconds> current_median_left;
    std::optional<std::chrono::seconds> proposed_median_left;
  } sla;

  struct ladder_level {
    std::string ladder;
    int level = 0;
    int current = 0;
    int proposed = 0;
  };
  struct {
    std::vector<ladder_level> by_ladder_level;       // by (ladder, level)
    std::vector<notification_sent> only_current;     // sent under current only (same ladder, level, instant)
    std::vector<notification_sent> only_proposed;
  } escalations;

  struct {
    int replayed_as_owner = 0;               // proposed side (Q1)
    std::vector<backtest::not_applicable> not_applicable;  // proposed side
  } actions;

  // Open requests per team at each business day's last close on the report calendar (plan 2.5,
  // "Load"), both sides sampled at the same instants: after every input recorded before the
  // close and every firing due by it. A day is a local date (in the calendar's zone) whose last
  // business interval ends by as_of; a calendar open around the clock has no close, and so no
  // samples. closed_in_proposed: the proposed policy's calendar of the same name has no business
  // time on that date (a holiday it adds).
  struct load_day {
    std::string date;  // "2026-12-01", local
    model::instant close{};
    bool closed_in_proposed = false;
    struct team_count {
      model::team team = model::team::se;
      int current = 0;
      int proposed = 0;
    };
    std::vector<team_count> teams;  // in model::team order; teams with none on both sides left out
  };
  std::vector<load_day> load;

  // Breaches (a clock's first sla.breached) of the requests filed in the window, per ISO week
  // (Monday to Sunday) of the report calendar's zone, by week; a week with none on either side
  // between the first and the last is listed with zeros.
  struct week {
    std::string key;  // "2026-W53": the ISO year of its Thursday, and the week number
    model::instant start{};  // Monday 00:00 in the zone
    int current = 0;
    int proposed = 0;
  };
  std::vector<week> breaches_by_week;

  // Requests whose recorded breaches (request, metric) differ from the current side's replay:
  // the config changed while they were open, or the record is not what this build records.
  int drift = 0;
};

// Compares two sides' outcomes over the requests filed in the window (`history.filed`).
// `current` and `proposed` hold every filed request's outcome (a request missing on a side is
// left out of every count).
report compare(const history& history, const std::map<model::request_id, request_outcome>& current,
               const std::map<model::request_id, request_outcome>& proposed, int replayed_as_owner,
               std::vector<not_applicable> skipped, const window& window);

// Adds breaches_by_week to `out` from each side's first breaches (only those of requests in
// out's filed set count), in `zone`.
void count_weeks(report& out, const history& history, const std::vector<breach_seen>& current,
                 const std::vector<breach_seen>& proposed, const std::string& zone);

// The ISO week `at` falls in, in the IANA zone `zone`: its key ("2026-W53") and the instant its
// Monday begins. Throws std::invalid_argument for an unknown zone.
std::pair<std::string, model::instant> iso_week(model::instant at, const std::string& zone);

struct run_options {
  // The calendar of the current policy whose zone defines the weeks (plan Q9).
  std::string calendar = "support";
  // Called from the replaying threads with (inputs done, inputs in total) over both sides, at
  // most every 1,000 inputs and once at the end; must be thread-safe.
  std::function<void(std::size_t, std::size_t)> progress{};
  std::stop_token stop{};  // checked between inputs: a stopped run throws run_stopped
};

struct run_stopped : std::runtime_error {
  run_stopped() : std::runtime_error("the backtest was stopped") {}
};

// Replays `history` under `current` and under `proposed`, one world each on its own thread, up
// to history.as_of, and compares them. The policies and history are shared read-only. Throws
// std::invalid_argument when `current` has no calendar options.calendar.
report run(const history& history, const window& window, const engine::policy& current,
           const engine::policy& proposed, const run_options& options = {});

}  // namespace switchboard::backtest
