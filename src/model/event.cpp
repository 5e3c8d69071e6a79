// The one table from typed events to their stored type names.
#include "model/event.hpp"

#include "util/overloaded.hpp"

namespace switchboard::model {
namespace {

using util::overloaded;

std::string_view clock_type(clock_change kind) {
  switch (kind) {
    case clock_change::started: return "sla.started";
    case clock_change::paused: return "sla.paused";
    case clock_change::resumed: return "sla.resumed";
    case clock_change::met: return "sla.met";
    case clock_change::warning: return "sla.warning";
    case clock_change::breached: return "sla.breached";
    case clock_change::reopened: return "sla.reopened";
  }
  return "sla.started";
}

}  // namespace

std::optional<customer_channel> channel_of(const request_input& input) {
  if (input.slack) return *input.slack;
  if (input.email && !input.email->reply_to.empty()) {
    email_thread thread{input.email->reply_to, input.email->subject, input.email->message_id, {}};
    if (!thread.last_message_id.empty()) thread.references.push_back(thread.last_message_id);
    return thread;
  }
  return std::nullopt;
}

std::string_view type_name(const event_data& data) {
  return std::visit(
      overloaded{
          [](const request_created&) -> std::string_view { return "request.created"; },
          [](const request_routed&) -> std::string_view { return "request.routed"; },
          [](const clock_changed& e) -> std::string_view { return clock_type(e.kind); },
          [](const clock_retimed&) -> std::string_view { return "sla.retimed"; },
          [](const escalation_triggered&) -> std::string_view { return "escalation.triggered"; },
          [](const escalation_notified&) -> std::string_view { return "escalation.notified"; },
          [](const escalation_skipped&) -> std::string_view { return "escalation.skipped"; },
          [](const escalation_retimed&) -> std::string_view { return "escalation.retimed"; },
          [](const escalation_brought_in&) -> std::string_view { return "escalation.brought_in"; },
          [](const escalation_closed& e) -> std::string_view {
            return e.resolved ? "escalation.resolved" : "escalation.acknowledged";
          },
          [](const escalation_snapshot& e) -> std::string_view {
            return e.skipped ? "escalation.skipped" : "escalation.notified";
          },
          [](const request_answered& e) -> std::string_view {
            return e.pended ? "request.pended" : "request.responded";
          },
          [](const request_returned& e) -> std::string_view {
            return e.reopened ? "request.reopened" : "request.customer_replied";
          },
          [](const request_resolved& e) -> std::string_view {
            return e.agreed ? "request.concern_agreed" : "request.resolved";
          },
          [](const request_started&) -> std::string_view { return "request.started"; },
          [](const request_assigned&) -> std::string_view { return "request.assigned"; },
          [](const request_handed_off&) -> std::string_view { return "request.handed_off"; },
          [](const request_routed_to_product&) -> std::string_view { return "request.routed_to_product"; },
          [](const request_decided& e) -> std::string_view {
            return e.accepted ? "request.accepted" : "request.declined";
          },
          [](const request_asked_engineering_channel&) -> std::string_view {
            return "request.asked_engineering_channel";
          },
          [](const request_linked& e) -> std::string_view {
            return e.concern ? "request.concern_raised" : "request.engineering_engaged";
          },
          [](const request_concern_moved& e) -> std::string_view {
            return e.stuck ? "request.concern_stuck" : "request.concern_challenged";
          },
          [](const concern_deadline_set&) -> std::string_view { return "request.concern_deadline_set"; },
          [](const concern_deadline_retimed&) -> std::string_view { return "request.concern_deadline_retimed"; },
          [](const concern_deadline_passed&) -> std::string_view { return "request.concern_deadline_passed"; },
          [](const reply_settled& e) -> std::string_view {
            return e.delivered ? "request.reply_delivered" : "request.reply_failed";
          },
          [](const review_due_set&) -> std::string_view { return "request.review_due_set"; },
          [](const review_overdue&) -> std::string_view { return "request.review_overdue"; },
          [](const close_due_set&) -> std::string_view { return "request.close_due_set"; },
          [](const request_closed&) -> std::string_view { return "request.closed"; },
          [](const request_followed_up&) -> std::string_view { return "request.followed_up"; },
          [](const request_left_unassigned&) -> std::string_view { return "request.left_unassigned"; },
          [](const review_due_retimed&) -> std::string_view { return "request.review_due_retimed"; },
          [](const close_due_retimed&) -> std::string_view { return "request.close_due_retimed"; },
      },
      data);
}

bool is_action_event(const event_data& data) {
  return !std::holds_alternative<request_created>(data) && !std::holds_alternative<request_routed>(data) &&
         !std::holds_alternative<clock_changed>(data) && !std::holds_alternative<clock_retimed>(data) &&
         !std::holds_alternative<escalation_triggered>(data) && !std::holds_alternative<escalation_notified>(data) &&
         !std::holds_alternative<escalation_skipped>(data) && !std::holds_alternative<escalation_retimed>(data) &&
         !std::holds_alternative<escalation_brought_in>(data) && !std::holds_alternative<escalation_closed>(data) &&
         !std::holds_alternative<escalation_snapshot>(data) && !std::holds_alternative<reply_settled>(data) &&
         !std::holds_alternative<review_due_set>(data) && !std::holds_alternative<review_overdue>(data) &&
         !std::holds_alternative<close_due_set>(data) && !std::holds_alternative<request_left_unassigned>(data) &&
         !std::holds_alternative<review_due_retimed>(data) && !std::holds_alternative<close_due_retimed>(data);
}

}  // namespace switchboard::model
