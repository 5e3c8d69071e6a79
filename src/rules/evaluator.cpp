// First-match evaluation of a rule_set against a request, recording a trace of every rule tried
// and, for each one that did not match, the first condition that failed and the value it saw.
#include "rules/evaluator.hpp"

#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace switchboard::rules {
namespace {

constexpr std::size_t excerpt_bytes = 48;

// A short, single-line, quoted excerpt of free text, cut on a UTF-8 character boundary.
std::string excerpt(std::string_view text) {
  if (text.empty()) return "(empty)";
  std::size_t cut = text.size();
  if (cut > excerpt_bytes) {
    cut = excerpt_bytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  }
  std::string result = "\"";
  for (char c : text.substr(0, cut)) result += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (cut < text.size()) result += "…";
  result += '"';
  return result;
}

std::string or_empty(std::string_view text) { return text.empty() ? "(empty)" : std::string(text); }

std::string join(const std::vector<std::string>& values, std::string_view separator) {
  std::string result;
  for (const auto& each : values) {
    if (!result.empty()) result += separator;
    result += each;
  }
  return result;
}

// The request as the conditions see it: text fields case-folded (NFC + Unicode full case
// folding, util::fold) once per evaluation, like the rule words were at load.
struct subject {
  const model::request_input& request;
  std::string title;
  std::string body;
};

// The exact value of a non-text field, as a string.
std::string value_of(field which, const model::request_input& request) {
  switch (which) {
    case field::kind: return std::string(model::to_string(request.kind));
    case field::customer_stage: return std::string(model::to_string(request.customer.stage));
    case field::customer_tier: return request.customer.tier;
    case field::customer_id: return request.customer.id;
    case field::source: return std::string(model::to_string(request.source));
    case field::priority: return std::string(model::to_string(request.priority));
    case field::use_case: return request.use_case;
    case field::title: return request.title;
    case field::body: return request.body;
    case field::text: return request.title + "\n" + request.body;
  }
  return {};
}

bool text_has(const subject& in, field which, std::string_view needle) {
  const bool in_title = which != field::body && in.title.find(needle) != std::string::npos;
  const bool in_body = which != field::title && in.body.find(needle) != std::string::npos;
  return in_title || in_body;
}

bool is_present(const subject& in, field which) {
  switch (which) {
    case field::text: return !in.request.title.empty() || !in.request.body.empty();
    default: return !value_of(which, in.request).empty();
  }
}

bool holds(const test& check, const subject& in) {
  const auto& values = check.values;
  switch (check.op) {
    case op::present: return is_present(in, check.field);
    case op::empty: return !is_present(in, check.field);
    case op::contains:
    case op::contains_any:
      return std::any_of(values.begin(), values.end(),
                         [&](const std::string& needle) { return text_has(in, check.field, needle); });
    default: break;
  }
  const std::string actual = value_of(check.field, in.request);
  const bool listed = std::find(values.begin(), values.end(), actual) != values.end();
  switch (check.op) {
    case op::equals:
    case op::in: return listed;
    default: return !listed;  // not_equals, not_in
  }
}

std::string expected_of(const test& check) {
  switch (check.op) {
    case op::present: return "non-empty";
    case op::empty: return "empty";
    case op::in:
    case op::not_in:
    case op::contains_any: return fmt::format("[{}]", join(check.values, ", "));
    default: return check.values.empty() ? std::string() : check.values.front();
  }
}

std::string actual_of(const test& check, const subject& in) {
  const auto& request = in.request;
  const bool searched = check.op == op::contains || check.op == op::contains_any;
  const std::string prefix = searched ? "no match in " : "";
  switch (check.field) {
    case field::title: return prefix + "title " + excerpt(request.title);
    case field::body: return prefix + "body " + excerpt(request.body);
    case field::text:
      return prefix + "title " + excerpt(request.title) + (searched ? " or " : ", ") + "body " + excerpt(request.body);
    default: return or_empty(value_of(check.field, request));
  }
}

// "kind equals feature_request", "any(text contains_any [...]; use_case equals x)".
std::string describe(const condition& node) {
  if (const auto* check = std::get_if<test>(&node.node)) {
    if (check->op == op::present || check->op == op::empty)
      return fmt::format("{} {}", to_string(check->field), to_string(check->op));
    return fmt::format("{} {} {}", to_string(check->field), to_string(check->op), expected_of(*check));
  }
  const auto& members = std::get<group>(node.node);
  std::vector<std::string> parts;
  for (const auto& member : members.members) parts.push_back(describe(member));
  return std::string(members.any ? "any" : "all") + "(" + join(parts, "; ") + ")";
}

// The fields a condition looks at, in order of first appearance.
void collect_fields(const condition& node, std::vector<std::string>& out) {
  if (const auto* check = std::get_if<test>(&node.node)) {
    std::string name(to_string(check->field));
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
    return;
  }
  for (const auto& member : std::get<group>(node.node).members) collect_fields(member, out);
}

// nullopt when the condition holds; otherwise the first failing condition. An `all` group
// reports its first failing member; a failed `any` group reports itself as a whole.
std::optional<model::condition_failure> first_failure(const condition& node, const subject& in) {
  if (const auto* check = std::get_if<test>(&node.node)) {
    if (holds(*check, in)) return std::nullopt;
    return model::condition_failure{std::string(to_string(check->field)), std::string(to_string(check->op)),
                                    expected_of(*check), actual_of(*check, in)};
  }
  const auto& members = std::get<group>(node.node);
  if (!members.any) {
    for (const auto& member : members.members)
      if (auto failure = first_failure(member, in)) return failure;
    return std::nullopt;
  }
  std::vector<std::string> seen;
  for (const auto& member : members.members) {
    auto failure = first_failure(member, in);
    if (!failure) return std::nullopt;
    seen.push_back(failure->field + ": " + failure->actual);
  }
  std::vector<std::string> fields;
  collect_fields(node, fields);
  std::vector<std::string> parts;
  for (const auto& member : members.members) parts.push_back(describe(member));
  return model::condition_failure{join(fields, ", "), "any", "at least one of: " + join(parts, " | "),
                                  "none held: " + join(seen, "; ")};
}

void apply(const action& then, const std::string& reason, model::routing_decision& decision) {
  decision.owner = then.owner;
  if (then.priority) decision.priority = *then.priority;
  decision.tags = then.tags;
  decision.watchers.clear();
  for (auto watcher : then.watchers) decision.watchers.emplace_back(model::to_string(watcher));
  decision.reason = reason;
  if (then.note) decision.notes.push_back(*then.note);
}

}  // namespace

model::routing_decision evaluate(const rule_set& rules, const model::request_input& request) {
  const subject in{request, util::fold(request.title), util::fold(request.body)};
  model::routing_decision decision;
  decision.priority = request.priority;
  decision.trace.reserve(rules.size());
  for (const auto& each : rules.rules()) {
    auto failure = first_failure(each.when, in);
    const bool matched = !failure;
    decision.trace.push_back(model::rule_evaluation{each.name, matched, std::move(failure)});
    if (matched) {
      decision.rule = each.name;
      apply(each.then, each.reason, decision);
      return decision;
    }
  }
  decision.rule = "fallback";
  decision.fallback = true;
  apply(rules.fallback().then, rules.fallback().reason, decision);
  return decision;
}

}  // namespace switchboard::rules
