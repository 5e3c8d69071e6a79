// JSON encoding and validating decoding of requests and routing decisions.
#include "codec/json.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace switchboard::codec {
namespace json = boost::json;
using namespace model;
namespace {

json::array to_array(const std::vector<std::string>& strings) {
  json::array out;
  for (const auto& s : strings) out.emplace_back(s);
  return out;
}

json::value optional_string(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

// Collects every problem with one JSON object, field by field.
class object_reader {
 public:
  object_reader(const json::object& object, std::string prefix, std::vector<field_error>& errors)
      : object_(object), prefix_(std::move(prefix)), errors_(errors) {}

  void reject_unknown(std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : object_) {
      if (std::find(known.begin(), known.end(), std::string_view(key)) == known.end())
        fail(key, "unknown field");
    }
  }

  // A string field; an empty result means absent, wrong-typed or (when required) empty.
  std::string text(std::string_view key, bool required, std::size_t max_length) {
    const auto* value = object_.if_contains(key);
    if (value == nullptr || value->is_null()) {
      if (required) fail(key, "is required");
      return {};
    }
    if (!value->is_string()) {
      fail(key, "must be a string");
      return {};
    }
    std::string result(value->as_string());
    if (required && result.empty()) fail(key, "must not be empty");
    if (result.size() > max_length) fail(key, fmt::format("must be at most {} bytes", max_length));
    return result;
  }

  template <typename Enum, typename Parse>
  std::optional<Enum> choice(std::string_view key, bool required, Parse parse, std::string_view names) {
    const auto* value = object_.if_contains(key);
    if (value == nullptr || value->is_null()) {
      if (required) fail(key, fmt::format("is required; expected one of {}", names));
      return std::nullopt;
    }
    if (!value->is_string()) {
      fail(key, fmt::format("must be a string, one of {}", names));
      return std::nullopt;
    }
    auto parsed = parse(std::string_view(value->as_string()));
    if (!parsed)
      fail(key, fmt::format("unknown value \"{}\"; expected one of {}", std::string_view(value->as_string()), names));
    return parsed;
  }

  void fail(std::string_view key, std::string message) {
    errors_.push_back({prefix_ + std::string(key), std::move(message)});
  }

 private:
  const json::object& object_;
  std::string prefix_;
  std::vector<field_error>& errors_;
};

std::string string_at(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return {};
  return std::string(value->as_string());
}

// The same without the intermediate std::string: the text is copied once, into its shared buffer.
shared_text shared_text_at(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return {};
  const auto& text = value->as_string();
  return shared_text(std::string_view(text.data(), text.size()));
}

std::vector<std::string> strings_at(const json::object& object, std::string_view key) {
  std::vector<std::string> out;
  if (const auto* value = object.if_contains(key))
    for (const auto& item : value->as_array()) out.emplace_back(item.as_string());
  return out;
}

// A stored "attachments" array (absent in requests stored before there were any).
std::vector<attachment> attachments_from_json(const json::object& object) {
  std::vector<attachment> out;
  if (const auto* value = object.if_contains("attachments"); value != nullptr && !value->is_null())
    for (const auto& item : value->as_array()) {
      const auto& a = item.as_object();
      out.push_back({string_at(a, "name"), string_at(a, "type"), string_at(a, "id")});
    }
  return out;
}

json::array to_array(const std::vector<attachment>& attachments) {
  json::array out;
  for (const auto& a : attachments) out.push_back(json::object{{"name", a.name}, {"type", a.type}, {"id", a.id}});
  return out;
}

template <typename T>
T required(std::optional<T> value, std::string_view what) {
  if (!value) throw std::invalid_argument(fmt::format("stored value has a bad {}", what));
  return *value;
}

}  // namespace

json::object to_json(const customer& value) {
  json::object out{{"id", value.id},
                   {"name", value.name},
                   {"stage", to_string(value.stage)},
                   {"tier", optional_string(value.tier)}};
  // The account team as the directory gave it at filing (the request's concern goes to its CE,
  // its TA watches it), only when it names someone: other documents keep their bytes.
  const auto& team = value.account_team;
  if (!team.ae.empty() || !team.ce.empty() || !team.ta.empty()) {
    json::object members;
    if (!team.ae.empty()) members["ae"] = team.ae;
    if (!team.ce.empty()) members["ce"] = team.ce;
    if (!team.ta.empty()) members["ta"] = team.ta;
    out["account_team"] = std::move(members);
  }
  return out;
}

json::object to_json(const request_input& value) {
  json::object out{{"kind", to_string(value.kind)},
                   {"customer", to_json(value.customer)},
                   {"title", value.title},
                   {"body", value.body},
                   {"source", to_string(value.source)},
                   {"priority", to_string(value.priority)},
                   {"use_case", optional_string(value.use_case)},
                   {"requester", optional_string(value.requester)},
                   {"attachments", to_array(value.attachments)}};
  if (value.email)
    out["email"] = json::object{{"from", value.email->from},
                                {"subject", value.email->subject},
                                {"message_id", optional_string(value.email->message_id)},
                                {"authentication", json::object{{"verdict", value.email->authentication},
                                                                {"method", optional_string(value.email->authenticated_by)},
                                                                {"detail", value.email->authentication_detail}}},
                                {"note", optional_string(value.email->note)}};
  if (value.email && !value.email->reply_to.empty()) out["email"].as_object()["reply_to"] = value.email->reply_to;
  // Only when set, so that inputs stored before Slack threads were kept encode as they were.
  if (value.slack)
    out["slack"] = json::object{
        {"team", value.slack->team}, {"channel", value.slack->channel}, {"thread_ts", value.slack->thread_ts}};
  return out;
}

json::object to_json(const customer_channel& value) {
  if (const auto* slack = std::get_if<slack_thread>(&value))
    return {{"via", "slack"}, {"team", slack->team}, {"channel", slack->channel}, {"thread_ts", slack->thread_ts}};
  const auto& email = std::get<email_thread>(value);
  json::array references;
  for (const auto& id : email.references) references.emplace_back(id);
  return {{"via", "email"},
          {"to", email.to},
          {"subject", email.subject},
          {"last_message_id", optional_string(email.last_message_id)},
          {"references", std::move(references)}};
}

json::object to_json(const routing_decision& value) {
  json::array trace;
  for (const auto& step : value.trace) {
    json::object item{{"rule", step.rule.view()}, {"matched", step.matched}};
    if (step.failure)
      item["failed"] = json::object{{"field", step.failure->field.view()},
                                    {"op", step.failure->op.view()},
                                    {"expected", step.failure->expected.view()},
                                    {"actual", step.failure->actual}};
    trace.push_back(std::move(item));
  }
  return {{"rule", value.rule},
          {"fallback", value.fallback},
          {"owner", to_string(value.owner)},
          {"priority", to_string(value.priority)},
          {"tags", to_array(value.tags)},
          {"watchers", to_array(value.watchers)},
          {"reason", value.reason},
          {"notes", to_array(value.notes)},
          {"trace", std::move(trace)}};
}

json::object to_json(const sla_clock& value) {
  json::array pause_on;
  for (auto status : value.pause_on) pause_on.emplace_back(to_string(status));
  json::object out{{"metric", to_string(value.metric)},
                   {"policy", value.policy},
                   {"calendar", value.calendar},
                   {"state", to_string(value.state)},
                   {"target_seconds", value.target.count()},
                   {"warning_at_seconds", value.warning_at.count()},
                   {"used_seconds", value.used.count()},
                   {"since", format_instant(value.since)}};
  // A paused clock that has not breached has none (sla::pause drops them; they are planned again
  // when it resumes); clocks written before that keep theirs and write out the same bytes (the
  // keys in their old order).
  if (value.deadline != instant{}) out["deadline"] = format_instant(value.deadline);
  if (value.warning_deadline != instant{}) out["warning_deadline"] = format_instant(value.warning_deadline);
  out["warned"] = value.warned;
  out["breached"] = value.breached;
  out["completed"] = value.completed;
  out["pause_on"] = std::move(pause_on);
  if (value.completed) out["completed_at"] = format_instant(value.completed_at);
  // Only when kept: clocks stored before runs existed read back and write out the same.
  if (!value.runs.empty()) {
    json::array runs;
    for (const auto& run : value.runs) {
      json::object item{{"start", format_instant(run.start)}, {"used_seconds", run.used_at_start.count()}};
      if (run.end) item["end"] = format_instant(*run.end);
      runs.push_back(std::move(item));
    }
    out["runs"] = std::move(runs);
  }
  // Only when set, as runs: a clock stored before they were recorded writes out the same bytes.
  if (value.started_at) out["started_at"] = format_instant(*value.started_at);
  if (value.paused_seconds) out["paused_seconds"] = value.paused_seconds->count();
  return out;
}

json::object to_json(const escalation& value) {
  json::array notifications;
  for (const auto& n : value.notifications) {
    json::array roles;
    for (auto r : n.roles) roles.emplace_back(to_string(r));
    notifications.push_back(json::object{
        {"level", n.level}, {"roles", std::move(roles)}, {"at", format_instant(n.at)}, {"why", n.why}});
  }
  json::array related;
  for (auto id : value.related) related.emplace_back(id);
  json::object out{{"id", value.id},
          {"ladder", value.ladder},
          {"reason", value.reason},
          {"state", to_string(value.state)},
          {"triggered_at", format_instant(value.triggered_at)},
          {"next_level", value.next_level},
          {"next_at", value.next_at ? json::value(format_instant(*value.next_at)) : nullptr},
          {"notifications", std::move(notifications)},
          {"closed_by", optional_string(value.closed_by)},
          {"related", std::move(related)},
          {"team", value.team ? json::value(to_string(*value.team)) : nullptr}};
  // Only once it has climbed, so escalations stored before the field read and compare the same.
  if (value.climbed_at) out["climbed_at"] = format_instant(*value.climbed_at);
  return out;
}

json::object to_json(const handoff_context& value) {
  return {{"customer_impact", value.customer_impact},
          {"environment", value.environment},
          {"steps_tried", value.steps_tried},
          {"customer_told", value.customer_told}};
}

json::object to_json(const reply& value) {
  return {{"number", value.number},
          {"via", value.via},
          {"text", value.text},
          {"at", format_instant(value.at)},
          {"state", to_string(value.state)},
          {"seen", value.seen},
          {"settled_at", value.settled_at ? json::value(format_instant(*value.settled_at)) : nullptr},
          {"external_id", optional_string(value.external_id)},
          {"reason", optional_string(value.reason)},
          {"attempts", value.attempts}};
}

reply reply_from_json(const json::value& json) {
  const auto& object = json.as_object();
  reply out;
  out.number = object.at("number").to_number<int>();
  out.via = string_at(object, "via");
  out.text = string_at(object, "text");
  out.at = required(parse_instant(object.at("at").as_string()), "replies[].at");
  const auto state = parse_reply_state(object.at("state").as_string());
  if (!state) throw std::invalid_argument(fmt::format("stored reply has an unknown state {}", json::serialize(object.at("state"))));
  out.state = *state;
  out.seen = object.at("seen").as_bool();
  if (const auto* at = object.if_contains("settled_at"); at && !at->is_null())
    out.settled_at = required(parse_instant(at->as_string()), "replies[].settled_at");
  out.external_id = string_at(object, "external_id");
  out.reason = string_at(object, "reason");
  out.attempts = object.at("attempts").to_number<int>();
  return out;
}

json::object to_json(const request& value) {
  json::object out{{"id", value.id}};
  for (auto& [key, field] : to_json(value.input)) out[key] = std::move(field);
  out["status"] = to_string(value.status);
  out["owner"] = to_string(value.owner);
  out["assignee"] = optional_string(value.assignee);
  out["created_at"] = format_instant(value.created_at);
  out["updated_at"] = format_instant(value.updated_at);
  out["routing"] = to_json(value.routing);
  json::array clocks;
  for (const auto& clock : value.clocks) clocks.push_back(to_json(clock));
  out["clocks"] = std::move(clocks);
  json::array escalations;
  for (const auto& e : value.escalations) escalations.push_back(to_json(e));
  out["escalations"] = std::move(escalations);
  out["parent"] = value.parent ? json::value(*value.parent) : nullptr;
  json::array children;
  for (auto id : value.children) children.emplace_back(id);
  out["children"] = std::move(children);
  out["engineering_engaged"] = value.engineering_engaged;
  out["handoff"] = value.handoff ? json::value(to_json(*value.handoff)) : nullptr;
  // Only when set, so that documents stored before requests kept a channel encode as they were.
  if (value.channel) out["channel"] = to_json(*value.channel);
  // Only once there is one, for the same reason.
  if (!value.replies.empty()) {
    json::array replies;
    for (const auto& r : value.replies) replies.push_back(to_json(r));
    out["replies"] = std::move(replies);
  }
  out["concern_escalates_at"] =
      value.concern_escalates_at ? json::value(format_instant(*value.concern_escalates_at)) : nullptr;
  if (value.concern_counted_from) out["concern_counted_from"] = format_instant(*value.concern_counted_from);
  // Each only when set: documents stored before requests had them encode as they were.
  if (value.review_due_at) out["review_due_at"] = format_instant(*value.review_due_at);
  if (value.review_counted_from) out["review_counted_from"] = format_instant(*value.review_counted_from);
  if (value.review_overdue) out["review_overdue"] = true;
  if (value.closes_at) out["closes_at"] = format_instant(*value.closes_at);
  if (value.close_counted_from) out["close_counted_from"] = format_instant(*value.close_counted_from);
  if (value.follows) out["follows"] = *value.follows;
  if (value.followed_up_by) out["followed_up_by"] = *value.followed_up_by;
  return out;
}

std::variant<request_input, std::vector<field_error>> parse_request_input(
    const json::value& json, const std::vector<std::string>& known_tiers, const customer_directory& directory) {
  std::vector<field_error> errors;
  if (!json.is_object()) return std::vector<field_error>{{"", "the request must be a JSON object"}};
  const auto& object = json.as_object();
  object_reader top(object, "", errors);
  top.reject_unknown({"kind", "customer", "title", "body", "source", "priority", "use_case"});

  request_input input;
  if (auto kind = top.choice<request_kind>("kind", true, parse_request_kind, request_kind_names())) input.kind = *kind;
  input.title = top.text("title", true, input_limits::title_bytes);
  input.body = top.text("body", false, input_limits::body_bytes);
  input.use_case = top.text("use_case", false, input_limits::tag_bytes);
  if (auto source = top.choice<request_source>("source", false, parse_request_source, request_source_names()))
    input.source = *source;
  if (auto p = top.choice<priority>("priority", false, parse_priority, priority_names())) input.priority = *p;

  const auto* customer_value = object.if_contains("customer");
  if (customer_value == nullptr || customer_value->is_null()) {
    top.fail("customer", "is required: an object with id, name, stage and (post-sales) tier");
  } else if (!customer_value->is_object()) {
    top.fail("customer", "must be an object with id, name, stage and (post-sales) tier");
  } else {
    const auto before = errors.size();
    object_reader nested(customer_value->as_object(), "customer.", errors);
    nested.reject_unknown({"id", "name", "stage", "tier"});
    input.customer.id = nested.text("id", true, input_limits::tag_bytes);
    // Reserved for mail whose sender was not authenticated: no filer may claim it.
    if (input.customer.id == "unattributed")
      nested.fail("id", "\"unattributed\" is reserved for e-mail from unauthenticated senders");
    // A customer in the directory needs only its id; what the request gives wins.
    const auto found = directory.find(input.customer.id);
    const customer* listed = found == directory.end() || input.customer.id.empty() ? nullptr : &found->second;
    input.customer.name = nested.text("name", listed == nullptr, input_limits::name_bytes);
    const auto stage = nested.choice<customer_stage>("stage", listed == nullptr, parse_customer_stage,
                                                     customer_stage_names());
    input.customer.tier = nested.text("tier", false, input_limits::tag_bytes);
    if (!input.customer.tier.empty() &&
        std::find(known_tiers.begin(), known_tiers.end(), input.customer.tier) == known_tiers.end())
      nested.fail("tier", fmt::format("unknown tier \"{}\"; expected one of {}", input.customer.tier,
                                      fmt::join(known_tiers, ", ")));
    if (listed != nullptr) {
      if (input.customer.name.empty()) input.customer.name = listed->name;
      // The contract tier goes with the directory's stage: a filer who gives another stage than
      // production gets no tier from it (a trial is not on a premium contract).
      if (input.customer.tier.empty() && (!stage || *stage == customer_stage::production))
        input.customer.tier = listed->tier;
      // Who looks after the customer comes from the directory only, never from the filer.
      input.customer.account_team = listed->account_team;
    }
    if (stage)
      input.customer.stage = *stage;
    else if (listed != nullptr)
      input.customer.stage = listed->stage;
    // A production customer's SLA clocks come from its contract tier: without one it would get
    // none, silently.
    if (errors.size() == before && input.customer.stage == customer_stage::production &&
        input.customer.tier.empty())
      nested.fail("tier", known_tiers.empty()
                              ? std::string("is required for a production customer, and no contract tiers are "
                                            "configured ([customers] tiers)")
                              : fmt::format("is required for a production customer; expected one of {}",
                                            fmt::join(known_tiers, ", ")));
  }

  if (!errors.empty()) return errors;
  return input;
}

routing_decision routing_decision_from_json(const json::value& json) {
  try {
    const auto& object = json.as_object();
    routing_decision decision;
    decision.rule = string_at(object, "rule");
    decision.fallback = object.at("fallback").as_bool();
    decision.owner = required(parse_team(string_at(object, "owner")), "owner");
    decision.priority = required(parse_priority(string_at(object, "priority")), "priority");
    decision.tags = strings_at(object, "tags");
    decision.watchers = strings_at(object, "watchers");
    decision.reason = string_at(object, "reason");
    decision.notes = strings_at(object, "notes");
    for (const auto& item : object.at("trace").as_array()) {
      const auto& step = item.as_object();
      rule_evaluation evaluation{shared_text_at(step, "rule"), step.at("matched").as_bool(), std::nullopt};
      if (const auto* failed = step.if_contains("failed")) {
        const auto& f = failed->as_object();
        evaluation.failure = condition_failure{shared_text_at(f, "field"), shared_text_at(f, "op"),
                                               shared_text_at(f, "expected"), string_at(f, "actual")};
      }
      decision.trace.push_back(std::move(evaluation));
    }
    return decision;
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("stored routing decision is malformed: {}", e.what()));
  }
}

sla_clock sla_clock_from_json(const json::value& json) {
  try {
    const auto& object = json.as_object();
    auto seconds = [&](std::string_view key) { return std::chrono::seconds{object.at(key).to_number<std::int64_t>()}; };
    auto at = [&](std::string_view key) { return required(parse_instant(string_at(object, key)), key); };
    sla_clock clock;
    clock.metric = required(parse_sla_metric(string_at(object, "metric")), "metric");
    clock.policy = string_at(object, "policy");
    clock.calendar = string_at(object, "calendar");
    clock.state = required(parse_clock_state(string_at(object, "state")), "state");
    clock.target = seconds("target_seconds");
    clock.warning_at = seconds("warning_at_seconds");
    clock.used = seconds("used_seconds");
    clock.since = at("since");
    if (object.contains("deadline")) clock.deadline = at("deadline");
    if (object.contains("warning_deadline")) clock.warning_deadline = at("warning_deadline");
    clock.warned = object.at("warned").as_bool();
    // Clocks stored before "breached" existed could only be breached in the breached state.
    const auto* breached = object.if_contains("breached");
    clock.breached = breached ? breached->as_bool() : clock.state == clock_state::breached;
    clock.completed = object.at("completed").as_bool();
    if (clock.completed) clock.completed_at = at("completed_at");
    for (const auto& status : object.at("pause_on").as_array())
      clock.pause_on.push_back(required(parse_request_status(status.as_string()), "pause_on"));
    if (const auto* runs = object.if_contains("runs")) {
      for (const auto& item : runs->as_array()) {
        const auto& run = item.as_object();
        model::clock_run parsed{required(parse_instant(string_at(run, "start")), "runs.start"),
                                std::chrono::seconds{run.at("used_seconds").to_number<std::int64_t>()},
                                std::nullopt};
        if (run.contains("end")) parsed.end = required(parse_instant(string_at(run, "end")), "runs.end");
        clock.runs.push_back(parsed);
      }
    }
    if (object.contains("started_at")) clock.started_at = at("started_at");
    if (object.contains("paused_seconds")) clock.paused_seconds = seconds("paused_seconds");
    return clock;
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("stored clock is malformed: {}", e.what()));
  }
}

escalation escalation_from_json(const json::value& json) {
  try {
    const auto& object = json.as_object();
    escalation out;
    out.id = string_at(object, "id");
    out.ladder = string_at(object, "ladder");
    out.reason = string_at(object, "reason");
    out.state = required(parse_escalation_state(string_at(object, "state")), "state");
    out.triggered_at = required(parse_instant(string_at(object, "triggered_at")), "triggered_at");
    out.next_level = object.at("next_level").to_number<std::size_t>();
    if (const auto& next = object.at("next_at"); !next.is_null())
      out.next_at = required(parse_instant(next.as_string()), "next_at");
    if (const auto* climbed = object.if_contains("climbed_at"); climbed && !climbed->is_null())
      out.climbed_at = required(parse_instant(climbed->as_string()), "climbed_at");
    for (const auto& item : object.at("notifications").as_array()) {
      const auto& n = item.as_object();
      notification parsed{n.at("level").to_number<int>(), {}, required(parse_instant(string_at(n, "at")), "at"),
                          string_at(n, "why")};
      for (const auto& r : n.at("roles").as_array()) parsed.roles.push_back(required(parse_role(r.as_string()), "role"));
      out.notifications.push_back(std::move(parsed));
    }
    out.closed_by = string_at(object, "closed_by");
    for (const auto& id : object.at("related").as_array()) out.related.push_back(id.to_number<request_id>());
    if (const auto* team = object.if_contains("team"); team && !team->is_null()) {
      out.team = required(parse_team(team->as_string()), "team");
    } else if (out.ladder == "capacity") {
      // Stored before escalations named their team: the reason starts with it ("se has 41 open ...").
      out.team = parse_team(std::string_view(out.reason).substr(0, out.reason.find(' ')));
    }
    return out;
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("stored escalation is malformed: {}", e.what()));
  }
}

handoff_context handoff_context_from_json(const json::value& json) {
  const auto& object = json.as_object();
  return {string_at(object, "customer_impact"), string_at(object, "environment"), string_at(object, "steps_tried"),
          string_at(object, "customer_told")};
}

// The e-mail intake is stored beside the input; API clients cannot send it.
email_intake email_intake_from_json(const json::value& json) {
  const auto& object = json.as_object();
  const auto& authentication = object.at("authentication").as_object();
  auto text = [](const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string{};
  };
  return {text(object, "from"),           text(object, "subject"),          text(object, "message_id"),
          text(authentication, "verdict"), text(authentication, "method"), text(authentication, "detail"),
          text(object, "note"),           text(object, "reply_to")};
}

request_input request_input_from_json(const json::value& json) {
  // What was stored always reads back: no input limits here (they apply once, at the edge, to
  // what a client sends), and keys this version does not know are ignored.
  try {
    const auto& object = json.as_object();
    const auto& customer_object = object.at("customer").as_object();
    request_input input;
    input.kind = required(parse_request_kind(string_at(object, "kind")), "kind");
    input.customer.id = string_at(customer_object, "id");
    input.customer.name = string_at(customer_object, "name");
    input.customer.stage = required(parse_customer_stage(string_at(customer_object, "stage")), "customer.stage");
    input.customer.tier = string_at(customer_object, "tier");
    if (const auto* team = customer_object.if_contains("account_team"); team && team->is_object()) {
      input.customer.account_team.ae = string_at(team->as_object(), "ae");
      input.customer.account_team.ce = string_at(team->as_object(), "ce");
      input.customer.account_team.ta = string_at(team->as_object(), "ta");
    }
    input.title = string_at(object, "title");
    input.body = string_at(object, "body");
    if (const auto source = string_at(object, "source"); !source.empty())
      input.source = required(parse_request_source(source), "source");
    if (const auto p = string_at(object, "priority"); !p.empty()) input.priority = required(parse_priority(p), "priority");
    input.use_case = string_at(object, "use_case");
    input.requester = string_at(object, "requester");
    // Attachments are set by the channel that received the files, never sent by API clients.
    input.attachments = attachments_from_json(object);
    // The e-mail intake is stored beside the input; API clients cannot send it.
    if (const auto* email = object.if_contains("email"); email != nullptr && !email->is_null())
      input.email = email_intake_from_json(*email);
    if (const auto* slack = object.if_contains("slack"); slack != nullptr && !slack->is_null()) {
      const auto& thread = slack->as_object();
      input.slack = slack_thread{string_at(thread, "team"), string_at(thread, "channel"), string_at(thread, "thread_ts")};
    }
    return input;
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("stored request is malformed: {}", e.what()));
  }
}

customer_channel customer_channel_from_json(const json::value& json) {
  try {
    const auto& object = json.as_object();
    const auto via = string_at(object, "via");
    if (via == "slack")
      return slack_thread{string_at(object, "team"), string_at(object, "channel"), string_at(object, "thread_ts")};
    if (via != "email") throw std::invalid_argument(fmt::format("stored channel has an unknown via \"{}\"", via));
    return email_thread{string_at(object, "to"), string_at(object, "subject"), string_at(object, "last_message_id"),
                        strings_at(object, "references")};
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("stored channel is malformed: {}", e.what()));
  }
}

request request_from_json(const json::value& json) {
  try {
    const auto& object = json.as_object();
    json::object input_part;
    for (std::string_view key : {"kind", "customer", "title", "body", "source", "priority", "use_case", "requester", "attachments", "email", "slack"})
      if (const auto* value = object.if_contains(key)) input_part[key] = *value;

    request out;
    out.id = object.at("id").to_number<request_id>();
    out.input = request_input_from_json(input_part);
    out.status = required(parse_request_status(string_at(object, "status")), "status");
    out.owner = required(parse_team(string_at(object, "owner")), "owner");
    out.assignee = string_at(object, "assignee");
    out.created_at = required(parse_instant(string_at(object, "created_at")), "created_at");
    out.updated_at = required(parse_instant(string_at(object, "updated_at")), "updated_at");
    out.routing = routing_decision_from_json(object.at("routing"));
    if (const auto* clocks = object.if_contains("clocks"))
      for (const auto& clock : clocks->as_array()) out.clocks.push_back(sla_clock_from_json(clock));
    if (const auto* escalations = object.if_contains("escalations"))
      for (const auto& e : escalations->as_array()) out.escalations.push_back(escalation_from_json(e));
    if (const auto* parent = object.if_contains("parent"); parent && !parent->is_null())
      out.parent = parent->to_number<request_id>();
    if (const auto* children = object.if_contains("children"))
      for (const auto& child : children->as_array()) out.children.push_back(child.to_number<request_id>());
    if (const auto* engaged = object.if_contains("engineering_engaged")) out.engineering_engaged = engaged->as_bool();
    if (const auto* handoff = object.if_contains("handoff"); handoff && !handoff->is_null())
      out.handoff = handoff_context_from_json(*handoff);
    if (const auto* channel = object.if_contains("channel"); channel && !channel->is_null())
      out.channel = customer_channel_from_json(*channel);
    if (const auto* replies = object.if_contains("replies"); replies && !replies->is_null())
      for (const auto& r : replies->as_array()) out.replies.push_back(reply_from_json(r));
    if (const auto* at = object.if_contains("concern_escalates_at"); at && !at->is_null())
      out.concern_escalates_at = required(parse_instant(at->as_string()), "concern_escalates_at");
    if (const auto* from = object.if_contains("concern_counted_from"); from && !from->is_null())
      out.concern_counted_from = required(parse_instant(from->as_string()), "concern_counted_from");
    if (const auto* at = object.if_contains("review_due_at"); at && !at->is_null())
      out.review_due_at = required(parse_instant(at->as_string()), "review_due_at");
    if (const auto* from = object.if_contains("review_counted_from"); from && !from->is_null())
      out.review_counted_from = required(parse_instant(from->as_string()), "review_counted_from");
    if (const auto* overdue = object.if_contains("review_overdue")) out.review_overdue = overdue->as_bool();
    if (const auto* from = object.if_contains("close_counted_from"); from && !from->is_null())
      out.close_counted_from = required(parse_instant(from->as_string()), "close_counted_from");
    if (const auto* at = object.if_contains("closes_at"); at && !at->is_null())
      out.closes_at = required(parse_instant(at->as_string()), "closes_at");
    if (const auto* follows = object.if_contains("follows"); follows && !follows->is_null())
      out.follows = follows->to_number<request_id>();
    if (const auto* by = object.if_contains("followed_up_by"); by && !by->is_null())
      out.followed_up_by = by->to_number<request_id>();
    return out;
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("stored request is malformed: {}", e.what()));
  }
}

}  // namespace switchboard::codec
