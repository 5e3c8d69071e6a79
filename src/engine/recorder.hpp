#pragma once
// Inside the engine: builds one request's events in order, applying each to a working copy so
// later decisions see earlier effects. Not part of the engine's public interface.

#include "engine/engine.hpp"
#include "sla/clock.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::engine {

// Whether a request in `status` is being worked (new, open, pending_customer or escalated): what
// most actions, the review deadline and the DRI's assignment need.
bool active(model::request_status status);

class recorder {
 public:
  recorder(const engine::policy& policy, model::request state);

  // Folds the event into the working copy and keeps it.
  void record(model::instant at, std::string actor, model::event_data data);
  void record_clock(model::clock_change kind, const model::sla_clock& clock, model::instant at);

  // Starts the clocks the request's SLA policy gives it at filing (all but next_response).
  void start_clocks(model::instant now);

  // Records, in time order, everything due by `now`: clock warnings and breaches (a breach
  // opens the sla_breach ladder), escalation levels, the concern deadline.
  void fire_due(model::instant now);

  // Records a clock's warnings and breaches, each at its own instant (a breach opens the
  // sla_breach ladder there). Every event carries `used_seconds` (the business time used at that
  // instant) beside the clock: those from sla::fire_reached lie before the clock's checkpoint,
  // those from sla::fire_due at it.
  void record_firings(const std::vector<sla::firing>& fired);

  // Starts an escalation on `ladder` at `at`; its first level is notified by fire_due.
  void open_escalation(const escalation::ladder& ladder, std::string reason, model::instant at,
                       std::vector<model::request_id> related = {}, std::optional<model::team> team = {});

  // Clocks after an action: which complete, pause, resume, reopen or start. Nothing on a closed
  // request (a customer's reply to one opens a follow-up instead).
  void update_clocks(action_kind kind, model::instant now);

  // After a filing or an action, what the request's state now owes (issue 13 §4, §5): a request
  // with Product and no assignee goes to its use case's DRI (request.assigned, how "dri"), and is
  // owed Product's decision by the product_review ladder's deadline (request.review_due_set); a
  // resolved one closes after [workflow] close_after_days (request.close_due_set).
  // `review_may_start` false (a customer's reply): the reply reopens the request for an answer,
  // not for a new decision, so no review deadline starts.
  void follow_lifecycle(model::instant now, bool review_may_start = true);

  // Pauses and resumes open clocks to follow the request's status at `now` (each clock's
  // pause_on): after an action, and after a ladder opening escalates the request.
  void follow_status(model::instant now);

  // An import replaying history (engine/import.hpp): from here on, no ladder opens for anything
  // that falls due before `instant` (a breach is still recorded at its instant; a concern
  // deadline passes as it does without a concern ladder), so the past pages nobody.
  void open_no_ladders_before(model::instant instant) { quiet_before_ = instant; }

  model::sla_clock* find_clock(model::sla_metric metric);
  model::escalation* find_escalation(std::string_view id);

  const model::request& state() const { return state_; }
  // The events recorded and the state they folded into.
  outcome take() { return {std::move(events_), std::move(state_), std::nullopt, {}}; }

 private:
  void climb(const model::escalation& escalation);
  // Whom a notification of `roles` on `ladder` reaches: the people holding them; on the
  // product_review ladder, Product is the use case's DRI alone when it has one. Sorted ids.
  std::vector<std::string> people_reached(std::string_view ladder, const std::vector<model::role>& roles) const;

  const engine::policy& policy_;
  model::request state_;
  std::vector<event> events_;
  std::optional<model::instant> quiet_before_;  // see open_no_ladders_before
};

}  // namespace switchboard::engine
