// Typed events to and from their stored JSON, key order kept as the engine always wrote it.
#include "codec/event_json.hpp"

#include "codec/json.hpp"
#include "util/overloaded.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <stdexcept>

namespace switchboard::codec {
namespace json = boost::json;
namespace {

using util::overloaded;

json::value instant_or_null(const std::optional<model::instant>& at) {
  return at ? json::value(model::format_instant(*at)) : json::value(nullptr);
}

json::array role_array(const std::vector<model::role>& roles) {
  json::array out;
  for (auto r : roles) out.emplace_back(model::to_string(r));
  return out;
}

json::object step_object(const model::escalation_step& step) {
  return {{"id", step.id},
          {"ladder", step.ladder},
          {"reason", step.reason},
          {"next_level", step.next_level},
          {"next_at", instant_or_null(step.next_at)}};
}

// The keys every action event ends with, in the order record_action appended them: "message",
// then "status" unless the action's own keys already had it.
void finish_action(json::object& out, const model::action_common& common) {
  out["message"] = common.message;
  if (!out.contains("status")) out["status"] = model::to_string(common.status);
}

// A delivery target: the channel's object with "seen" beside it.
json::object delivery_object(const model::delivery& d) {
  auto out = to_json(d.to);
  out["seen"] = d.seen;
  return out;
}

json::object encode(const model::request_created& e) {
  auto out = to_json(e.input);
  if (e.parent) out["parent"] = *e.parent;
  if (e.follows) out["follows"] = *e.follows;
  return out;
}

json::object encode(const model::clock_retimed& e) {
  json::object before{{"calendar", e.before.calendar},
                      {"policy", e.before.policy},
                      {"target_seconds", e.before.target.count()},
                      {"warning_at_seconds", e.before.warning_at.count()}};
  if (e.before.deadline) before["deadline"] = model::format_instant(*e.before.deadline);
  if (e.before.warning_deadline) before["warning_deadline"] = model::format_instant(*e.before.warning_deadline);
  return {{"clock", to_json(e.clock)}, {"before", std::move(before)}, {"reason", e.reason}};
}

json::object encode(const model::escalation_snapshot& e) {
  json::object out;
  if (e.level) {
    out["notified"] = role_array(e.notified);
    out["level"] = *e.level;
    out["why"] = e.why;
  }
  out["escalation"] = to_json(e.whole);
  return out;
}

// --- decoding ---------------------------------------------------------------------------------

[[noreturn]] void bad(std::string_view type, std::string_view what) {
  throw std::invalid_argument(fmt::format("event {} {}", type, what));
}

std::string text(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return {};
  return std::string(v->as_string());
}

model::request_status status_of(std::string_view type, const json::object& o) {
  const auto* status = o.if_contains("status");
  const auto parsed = status && status->is_string() ? model::parse_request_status(status->as_string()) : std::nullopt;
  if (!parsed) bad(type, "has no valid status");
  return *parsed;
}

model::team team_of(std::string_view type, const json::object& o) {
  const auto* owner = o.if_contains("owner");
  const auto team = owner && owner->is_string() ? model::parse_team(owner->as_string()) : std::nullopt;
  if (!team) bad(type, "has a bad owner");
  return *team;
}

model::instant instant_of(std::string_view type, const json::value& v, std::string_view key) {
  const auto at = v.is_string() ? model::parse_instant(v.as_string()) : std::nullopt;
  if (!at) bad(type, fmt::format("has a bad {}", key));
  return *at;
}

std::optional<model::instant> optional_instant(std::string_view type, const json::value& v, std::string_view key) {
  if (v.is_null()) return std::nullopt;
  return instant_of(type, v, key);
}

std::vector<model::role> roles_of(std::string_view type, const json::value& v) {
  std::vector<model::role> out;
  for (const auto& r : v.as_array()) {
    const auto role = r.is_string() ? model::parse_role(r.as_string()) : std::nullopt;
    if (!role) bad(type, "names a bad role");
    out.push_back(*role);
  }
  return out;
}

std::vector<model::wording_warning> warnings_of(const json::object& o) {
  std::vector<model::wording_warning> out;
  const auto* list = o.if_contains("warnings");
  if (list == nullptr || list->is_null()) return out;
  for (const auto& item : list->as_array()) {
    const auto& w = item.as_object();
    model::wording_warning parsed{text(w, "code"), {}, text(w, "message"), text(w, "suggestion")};
    if (const auto* terms = w.if_contains("terms"))
      for (const auto& t : terms->as_array()) parsed.terms.emplace_back(t.as_string());
    out.push_back(std::move(parsed));
  }
  return out;
}

// request.assigned's `considered` (automatic assignment only; absent on take and assign).
std::vector<model::assignment_consideration> considered_of(const json::object& o) {
  std::vector<model::assignment_consideration> out;
  const auto* list = o.if_contains("considered");
  if (list == nullptr || list->is_null()) return out;
  for (const auto& item : list->as_array()) {
    const auto& c = item.as_object();
    const auto* chosen = c.if_contains("chosen");
    out.push_back({text(c, "person"), chosen != nullptr && chosen->is_bool() && chosen->as_bool(), text(c, "why")});
  }
  return out;
}

model::action_common common_of(std::string_view type, const json::object& o) {
  return {status_of(type, o), text(o, "message")};
}

model::escalation_step step_of(std::string_view type, const json::object& change) {
  model::escalation_step step;
  const auto* id = change.if_contains("id");
  if (id == nullptr || !id->is_string()) bad(type, "names no escalation of its request");
  step.id = std::string(id->as_string());
  step.ladder = text(change, "ladder");
  step.reason = text(change, "reason");
  step.next_level = change.at("next_level").to_number<std::size_t>();
  step.next_at = optional_instant(type, change.at("next_at"), "next_at");
  return step;
}

std::optional<model::clock_change> clock_change_of(std::string_view type) {
  using model::clock_change;
  if (type == "sla.started") return clock_change::started;
  if (type == "sla.paused") return clock_change::paused;
  if (type == "sla.resumed") return clock_change::resumed;
  if (type == "sla.met") return clock_change::met;
  if (type == "sla.warning") return clock_change::warning;
  if (type == "sla.breached") return clock_change::breached;
  if (type == "sla.reopened") return clock_change::reopened;
  return std::nullopt;
}

model::event_data decode_escalation(std::string_view type, const json::object& data) {
  const auto& summary = data.at("escalation").as_object();
  const bool notified = type == "escalation.notified";
  if ((notified || type == "escalation.skipped") && summary.contains("notifications")) {
    // Written before notified and skipped events carried only the change: the whole escalation.
    model::escalation_snapshot out{!notified, escalation_from_json(summary), std::nullopt, {}, {}};
    if (const auto* level = data.if_contains("level")) {
      out.level = level->to_number<int>();
      if (const auto* roles = data.if_contains("notified")) out.notified = roles_of(type, *roles);
      out.why = text(data, "why");
    }
    return out;
  }
  if (notified) {
    // "people" came with issue 13 E6; a notification recorded before it has none.
    std::vector<std::string> people;
    if (const auto* ids = data.if_contains("people"))
      for (const auto& id : ids->as_array()) people.emplace_back(id.as_string());
    return model::escalation_notified{step_of(type, summary), data.at("level").to_number<int>(),
                                      roles_of(type, data.at("notified")), text(data, "why"), std::move(people)};
  }
  if (type == "escalation.skipped") return model::escalation_skipped{step_of(type, summary)};
  if (type == "escalation.retimed") {
    const auto* before = data.if_contains("before");
    const auto* before_next = before ? before->as_object().if_contains("next_at") : nullptr;
    return model::escalation_retimed{step_of(type, summary),
                                     before_next ? optional_instant(type, *before_next, "before.next_at") : std::nullopt,
                                     text(data, "why")};
  }
  if (type == "escalation.triggered") return model::escalation_triggered{escalation_from_json(summary), status_of(type, data)};
  if (type == "escalation.brought_in")
    return model::escalation_brought_in{escalation_from_json(summary), roles_of(type, data.at("notified")),
                                        status_of(type, data)};
  if (type == "escalation.acknowledged" || type == "escalation.resolved")
    return model::escalation_closed{type == "escalation.resolved", escalation_from_json(summary), text(data, "message"),
                                    status_of(type, data)};
  bad(type, "is not a known type");
}

model::event_data decode_request(std::string_view type, const json::object& data) {
  if (type == "request.created") {
    // A linked request (interrupt, concern) names its parent beside the input.
    model::request_created out;
    auto input = data;
    if (const auto* parent = data.if_contains("parent"); parent && !parent->is_null())
      out.parent = parent->to_number<model::request_id>();
    if (const auto* follows = data.if_contains("follows"); follows && !follows->is_null())
      out.follows = follows->to_number<model::request_id>();
    input.erase("parent");
    input.erase("follows");
    out.input = request_input_from_json(input);
    return out;
  }
  if (type == "request.routed") return model::request_routed{routing_decision_from_json(data)};
  if (type == "request.responded" || type == "request.pended") {
    std::optional<bool> is_public;
    if (const auto* flag = data.if_contains("public"); flag && !flag->is_null()) {
      if (!flag->is_bool()) bad(type, "has a public that is not true or false");
      is_public = flag->get_bool();
    }
    std::optional<model::delivery> delivery;
    if (const auto* target = data.if_contains("delivery"); target && !target->is_null()) {
      const auto* seen = target->is_object() ? target->get_object().if_contains("seen") : nullptr;
      delivery = model::delivery{customer_channel_from_json(*target), seen != nullptr && seen->is_bool() && seen->get_bool()};
    }
    return model::request_answered{type == "request.pended", common_of(type, data), warnings_of(data), is_public,
                                   std::move(delivery)};
  }
  if (type == "request.customer_replied" || type == "request.reopened") {
    const auto* at = data.if_contains("concern_escalates_at");
    return model::request_returned{type == "request.reopened", common_of(type, data),
                                   at ? optional_instant(type, *at, "concern_escalates_at") : std::nullopt,
                                   text(data, "reference")};
  }
  if (type == "request.resolved" || type == "request.concern_agreed")
    return model::request_resolved{type == "request.concern_agreed", common_of(type, data),
                                   data.contains("concern_escalates_at")};
  if (type == "request.started")
    return model::request_started{common_of(type, data), text(data, "assignee"), text(data, "previous")};
  if (type == "request.assigned")
    return model::request_assigned{common_of(type, data), text(data, "assignee"), text(data, "previous"),
                                   text(data, "how"),         text(data, "reason"),   considered_of(data)};
  if (type == "request.handed_off") {
    const auto* context = data.if_contains("context");
    return model::request_handed_off{common_of(type, data),
                                     team_of(type, data),
                                     text(data, "assignee"),
                                     context && !context->is_null() ? handoff_context_from_json(*context)
                                                                    : model::handoff_context{},
                                     text(data, "first_contact_draft"),
                                     warnings_of(data)};
  }
  if (type == "request.routed_to_product")
    return model::request_routed_to_product{common_of(type, data), team_of(type, data), text(data, "assignee"),
                                            text(data, "note")};
  if (type == "request.accepted" || type == "request.declined") {
    const auto* executive = data.if_contains("executive");
    return model::request_decided{type == "request.accepted", common_of(type, data), text(data, "reason"),
                                  executive != nullptr && executive->is_bool() && executive->get_bool()};
  }
  if (type == "request.asked_engineering_channel")
    return model::request_asked_engineering_channel{common_of(type, data), team_of(type, data), text(data, "note")};
  if (type == "request.engineering_engaged" || type == "request.concern_raised")
    return model::request_linked{type == "request.concern_raised", common_of(type, data),
                                 data.at("child").to_number<model::request_id>()};
  if (type == "request.concern_challenged" || type == "request.concern_stuck")
    return model::request_concern_moved{type == "request.concern_stuck", common_of(type, data)};
  if (type == "request.concern_deadline_set")
    return model::concern_deadline_set{status_of(type, data),
                                       instant_of(type, data.at("concern_escalates_at"), "concern_escalates_at")};
  if (type == "request.concern_deadline_retimed")
    return model::concern_deadline_retimed{
        status_of(type, data), instant_of(type, data.at("concern_escalates_at"), "concern_escalates_at"),
        instant_of(type, data.at("before").as_object().at("concern_escalates_at"), "before.concern_escalates_at"),
        text(data, "why")};
  if (type == "request.concern_deadline_passed") return model::concern_deadline_passed{status_of(type, data)};
  if (type == "request.reply_delivered" || type == "request.reply_failed")
    return model::reply_settled{type == "request.reply_delivered",
                                data.at("reply").to_number<int>(),
                                data.at("reply_seq").to_number<std::int64_t>(),
                                text(data, "channel"),
                                text(data, "to"),
                                text(data, "external_id"),
                                text(data, "text"),
                                text(data, "reason"),
                                data.at("attempts").to_number<int>()};
  if (type == "request.review_due_set")
    return model::review_due_set{instant_of(type, data.at("review_due_at"), "review_due_at")};
  if (type == "request.review_overdue") return model::review_overdue{instant_of(type, data.at("due"), "due")};
  if (type == "request.close_due_set") return model::close_due_set{instant_of(type, data.at("closes_at"), "closes_at")};
  if (type == "request.review_due_retimed")
    return model::review_due_retimed{
        instant_of(type, data.at("review_due_at"), "review_due_at"),
        instant_of(type, data.at("before").as_object().at("review_due_at"), "before.review_due_at"), text(data, "why")};
  if (type == "request.close_due_retimed")
    return model::close_due_retimed{
        optional_instant(type, data.at("closes_at"), "closes_at"),
        instant_of(type, data.at("before").as_object().at("closes_at"), "before.closes_at"), text(data, "why")};
  if (type == "request.closed") return model::request_closed{status_of(type, data)};
  if (type == "request.left_unassigned") {
    model::request_left_unassigned out{text(data, "reason"), {}};
    for (const auto& c : data.at("considered").as_array())
      out.considered.push_back({text(c.as_object(), "person"), c.at("chosen").as_bool(), text(c.as_object(), "why")});
    return out;
  }
  if (type == "request.followed_up")
    return model::request_followed_up{common_of(type, data), data.at("follow_up").to_number<model::request_id>()};
  bad(type, "is not a known type");
}

}  // namespace

json::array to_json(const std::vector<model::wording_warning>& warnings) {
  json::array out;
  for (const auto& w : warnings) {
    json::array terms;
    for (const auto& t : w.terms) terms.emplace_back(t);
    out.push_back(json::object{
        {"code", w.code}, {"terms", std::move(terms)}, {"message", w.message}, {"suggestion", w.suggestion}});
  }
  return out;
}

json::object encode_data(const model::event_data& data) {
  using namespace model;
  return std::visit(
      overloaded{
          [](const request_created& e) { return encode(e); },
          [](const request_routed& e) { return to_json(e.decision); },
          [](const clock_changed& e) {
            json::object out{{"clock", to_json(e.clock)}};
            if (e.used_at) out["used_seconds"] = e.used_at->count();
            return out;
          },
          [](const clock_retimed& e) { return encode(e); },
          [](const escalation_triggered& e) {
            return json::object{{"status", to_string(e.status)}, {"escalation", to_json(e.whole)}};
          },
          [](const escalation_notified& e) {
            json::object out{{"escalation", step_object(e.step)},
                             {"level", e.level},
                             {"notified", role_array(e.notified)},
                             {"why", e.why}};
            // Only when someone was reached: notifications without a directory keep their bytes.
            if (!e.people.empty()) {
              json::array people;
              for (const auto& id : e.people) people.emplace_back(id);
              out["people"] = std::move(people);
            }
            return out;
          },
          [](const escalation_skipped& e) { return json::object{{"escalation", step_object(e.step)}}; },
          [](const escalation_retimed& e) {
            return json::object{{"escalation", step_object(e.step)},
                                {"before", json::object{{"next_at", instant_or_null(e.before_next_at)}}},
                                {"why", e.why}};
          },
          [](const escalation_brought_in& e) {
            return json::object{
                {"notified", role_array(e.notified)}, {"status", to_string(e.status)}, {"escalation", to_json(e.whole)}};
          },
          [](const escalation_closed& e) {
            return json::object{{"message", e.message}, {"status", to_string(e.status)}, {"escalation", to_json(e.whole)}};
          },
          [](const escalation_snapshot& e) { return encode(e); },
          [](const request_answered& e) {
            json::object out{{"status", to_string(e.common.status)}, {"warnings", to_json(e.warnings)}};
            // Answers recorded before the flag existed have neither key, and keep their bytes.
            if (e.is_public) {
              out["public"] = *e.is_public;
              out["delivery"] = e.delivery ? json::value(delivery_object(*e.delivery)) : json::value(nullptr);
            }
            finish_action(out, e.common);
            return out;
          },
          [](const request_returned& e) {
            json::object out{{"status", to_string(e.common.status)}};
            if (e.concern_escalates_at) out["concern_escalates_at"] = format_instant(*e.concern_escalates_at);
            if (!e.reference.empty()) out["reference"] = e.reference;
            finish_action(out, e.common);
            return out;
          },
          [](const request_resolved& e) {
            json::object out{{"status", to_string(e.common.status)}};
            if (e.clears_concern_deadline) out["concern_escalates_at"] = nullptr;
            finish_action(out, e.common);
            return out;
          },
          [](const request_started& e) {
            json::object out{{"assignee", e.assignee}};
            // Only when someone held it: starts recorded before keep their bytes.
            if (!e.previous.empty()) out["previous"] = e.previous;
            finish_action(out, e.common);
            return out;
          },
          [](const request_assigned& e) {
            json::object out{
                {"assignee", e.assignee}, {"previous", e.previous}, {"how", e.how}, {"reason", e.reason}};
            // Only an automatic choice has a trace: take and assign keep their bytes.
            if (!e.considered.empty()) {
              json::array considered;
              for (const auto& c : e.considered)
                considered.push_back(json::object{{"person", c.person}, {"chosen", c.chosen}, {"why", c.why}});
              out["considered"] = std::move(considered);
            }
            finish_action(out, e.common);
            return out;
          },
          [](const request_handed_off& e) {
            json::object out{{"owner", to_string(e.owner)},
                             {"assignee", e.assignee},
                             {"context", to_json(e.context)},
                             {"first_contact_draft", e.first_contact_draft},
                             {"warnings", to_json(e.warnings)}};
            finish_action(out, e.common);
            return out;
          },
          [](const request_routed_to_product& e) {
            json::object out{{"owner", to_string(e.owner)},
                             {"status", to_string(e.common.status)},
                             {"assignee", e.assignee},
                             {"note", e.note}};
            finish_action(out, e.common);
            return out;
          },
          [](const request_decided& e) {
            json::object out{{"status", to_string(e.common.status)}, {"decision", e.accepted ? "accepted" : "declined"}};
            if (!e.accepted || e.executive) out["reason"] = e.reason;
            // Only an executive decision says so: Product's own keep their bytes.
            if (e.executive) out["executive"] = true;
            finish_action(out, e.common);
            return out;
          },
          [](const request_asked_engineering_channel& e) {
            json::object out{{"owner", to_string(e.owner)}, {"note", e.note}};
            finish_action(out, e.common);
            return out;
          },
          [](const request_linked& e) {
            json::object out{{"child", e.child}};
            finish_action(out, e.common);
            return out;
          },
          [](const request_concern_moved& e) {
            json::object out;
            finish_action(out, e.common);
            return out;
          },
          [](const concern_deadline_set& e) {
            return json::object{{"status", to_string(e.status)}, {"concern_escalates_at", format_instant(e.at)}};
          },
          [](const concern_deadline_retimed& e) {
            return json::object{{"status", to_string(e.status)},
                                {"concern_escalates_at", format_instant(e.at)},
                                {"before", json::object{{"concern_escalates_at", format_instant(e.before)}}},
                                {"why", e.why}};
          },
          [](const concern_deadline_passed& e) {
            return json::object{{"status", to_string(e.status)}, {"concern_escalates_at", nullptr}};
          },
          [](const request_left_unassigned& e) {
            json::array considered;
            for (const auto& c : e.considered)
              considered.push_back(json::object{{"person", c.person}, {"chosen", c.chosen}, {"why", c.why}});
            return json::object{{"reason", e.reason}, {"considered", std::move(considered)}};
          },
          [](const review_due_set& e) { return json::object{{"review_due_at", format_instant(e.at)}}; },
          [](const review_overdue& e) { return json::object{{"due", format_instant(e.due)}}; },
          [](const close_due_set& e) { return json::object{{"closes_at", format_instant(e.at)}}; },
          [](const review_due_retimed& e) {
            return json::object{{"review_due_at", format_instant(e.at)},
                                {"before", json::object{{"review_due_at", format_instant(e.before)}}},
                                {"why", e.why}};
          },
          [](const close_due_retimed& e) {
            return json::object{{"closes_at", instant_or_null(e.at)},
                                {"before", json::object{{"closes_at", format_instant(e.before)}}},
                                {"why", e.why}};
          },
          [](const request_closed& e) { return json::object{{"status", to_string(e.status)}}; },
          [](const request_followed_up& e) {
            json::object out{{"follow_up", e.follow_up}};
            finish_action(out, e.common);
            return out;
          },
          [](const reply_settled& e) {
            json::object out{{"reply", e.reply}, {"reply_seq", e.reply_seq}, {"channel", e.channel}, {"to", e.to}};
            if (e.delivered) {
              out["external_id"] = e.external_id;
              out["text"] = e.text;
            } else {
              out["reason"] = e.reason;
            }
            out["attempts"] = e.attempts;
            return out;
          },
      },
      data);
}

model::event_data decode_data(std::string_view type, const json::object& data) {
  try {
    if (const auto change = clock_change_of(type)) {
      model::clock_changed changed{*change, sla_clock_from_json(data.at("clock")), std::nullopt};
      if (const auto* used = data.if_contains("used_seconds")) changed.used_at = std::chrono::seconds(used->to_number<std::int64_t>());
      return changed;
    }
    if (type == "sla.retimed") {
      const auto& stored = data.at("before").as_object();
      const auto* deadline = stored.if_contains("deadline");
      const auto* warning_deadline = stored.if_contains("warning_deadline");
      model::clock_before before{
          text(stored, "calendar"),
          text(stored, "policy"),
          std::chrono::seconds{stored.at("target_seconds").to_number<std::int64_t>()},
          std::chrono::seconds{stored.at("warning_at_seconds").to_number<std::int64_t>()},
          deadline ? optional_instant(type, *deadline, "before.deadline") : std::nullopt,
          warning_deadline ? optional_instant(type, *warning_deadline, "before.warning_deadline") : std::nullopt};
      return model::clock_retimed{sla_clock_from_json(data.at("clock")), std::move(before), text(data, "reason")};
    }
    if (type.starts_with("escalation.")) return decode_escalation(type, data);
    if (type.starts_with("request.")) return decode_request(type, data);
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("event {} is malformed: {}", type, e.what()));
  }
  throw std::invalid_argument(fmt::format("unknown event type {}", type));
}

model::event decode(model::request_id request, std::string_view type, model::instant at, std::string actor,
                    const json::object& data) {
  return model::event{request, at, std::move(actor), decode_data(type, data)};
}

}  // namespace switchboard::codec
