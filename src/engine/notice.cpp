// The words of an escalation's notice to a person: one function, so Slack and e-mail say the same.
#include "engine/notice.hpp"

#include "model/instant.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace switchboard::engine {

notice escalation_notice(const model::request& request, const model::escalation_notified& notified,
                         const model::person& person, model::instant at) {
  const auto& step = notified.step;
  std::vector<std::string_view> theirs;
  for (const auto r : notified.notified)
    if (person.holds(r)) theirs.push_back(model::to_string(r));
  std::vector<std::string_view> all;
  for (const auto r : notified.notified) all.push_back(model::to_string(r));

  notice out;
  // Customers write titles and names, and reasons quote them: each goes in as one visible line
  // (util::visible_text), so it can neither add a line that passes for one of ours ("To
  // acknowledge it: reply to ...") nor reorder what the reader sees with bidi controls.
  const auto title = util::visible_text(request.input.title);
  const auto customer = util::visible_text(request.input.customer.name.empty() ? request.input.customer.id
                                                                               : request.input.customer.name);
  out.subject = fmt::format("Escalation {} ({}, level {}) on request {}: {}", step.id, step.ladder, notified.level,
                            request.id, title);

  auto& text = out.text;
  text += fmt::format("Escalation {} on request {} reached level {} of the {} ladder at {}.\n", step.id, request.id,
                      notified.level, step.ladder, model::format_instant(at));
  text += fmt::format("Request {}: \"{}\" ({}, {}, {} priority, owned by {}, status {}{}).\n", request.id,
                      title, customer,
                      model::to_string(request.input.kind), model::to_string(request.input.priority),
                      model::to_string(request.owner), model::to_string(request.status),
                      request.assignee.empty() ? std::string(", unassigned")
                                               : fmt::format(", assigned to {}", util::visible_text(request.assignee)));
  if (!step.reason.empty()) text += fmt::format("Why it escalated: {}\n", util::visible_text(step.reason));
  if (!notified.why.empty()) text += fmt::format("Why now: {}\n", util::visible_text(notified.why));
  text += fmt::format("You are told as {} (this level notifies {}).\n", fmt::join(theirs, ", "), fmt::join(all, ", "));
  if (step.next_at)
    text += fmt::format("Unless it is acknowledged, the next step is due at {}.\n", model::format_instant(*step.next_at));
  text += fmt::format(
      "To acknowledge it (this stops the ladder): switchboard-cli escalation ack {}\n"
      "or POST /v1/escalations/{}/events with {{\"type\": \"acknowledge_escalation\"}} and a token of one of its roles.\n",
      step.id, step.id);
  return out;
}

namespace {

// "Request 12: "Search is down" (Acme Corp, troubleshooting, normal priority, owned by se, status open)."
std::string request_line(const model::request& request) {
  const auto customer = util::visible_text(request.input.customer.name.empty() ? request.input.customer.id
                                                                               : request.input.customer.name);
  return fmt::format("Request {}: \"{}\" ({}, {}, {} priority, owned by {}, status {}).\n", request.id,
                     util::visible_text(request.input.title), customer, model::to_string(request.input.kind),
                     model::to_string(request.input.priority), model::to_string(request.owner),
                     model::to_string(request.status));
}

}  // namespace

notice assignment_notice(const model::request& request, const model::request_assigned& assigned, model::instant at) {
  notice out;
  const auto title = util::visible_text(request.input.title);
  out.subject = fmt::format("Request {} is yours: {}", request.id, title);
  auto& text = out.text;
  text += fmt::format("Request {} was assigned to you at {}.\n", request.id, model::format_instant(at));
  text += request_line(request);
  if (!assigned.reason.empty()) text += fmt::format("Why you: {}\n", util::visible_text(assigned.reason));
  if (request.review_due_at)
    text += fmt::format("Product's decision (accept or decline) is due by {}; past it, the product_review ladder "
                        "escalates.\n",
                        model::format_instant(*request.review_due_at));
  if (request.concern_escalates_at)
    text += fmt::format("Agree with or challenge the decision it is about; unresolved, it escalates at {}.\n",
                        model::format_instant(*request.concern_escalates_at));
  text += fmt::format("See it: switchboard-cli show {} or GET /v1/requests/{}\n", request.id, request.id);
  return out;
}

notice watch_notice(const model::request& request, const std::string& what, model::instant at) {
  notice out;
  const auto title = util::visible_text(request.input.title);
  out.subject = fmt::format("Request {} of an account you watch: {}", request.id, title);
  auto& text = out.text;
  text += fmt::format("On request {} at {}: {}.\n", request.id, model::format_instant(at), util::visible_text(what));
  text += request_line(request);
  text += "You are told as the account's technical account manager (TA), who watches its requests; nothing is asked "
          "of you here: the escalation's roles act on it.\n";
  text += fmt::format("See it: switchboard-cli show {} or GET /v1/requests/{}\n", request.id, request.id);
  return out;
}

}  // namespace switchboard::engine
