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

}  // namespace switchboard::engine
