// Spellings of condition fields and operators, and the immutable rule_set container.
#include "rules/rule_set.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace switchboard::rules {
namespace {

std::string join(const std::vector<std::string>& values, std::string_view separator) {
  std::string result;
  for (const auto& each : values) {
    if (!result.empty()) result += separator;
    result += each;
  }
  return result;
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

// The search groups of a contains or contains_any test (see test::search).
std::vector<test::search_group> search_groups_of(const test& check) {
  std::vector<std::string> values;
  for (const auto& value : check.values) {
    const bool implied = std::any_of(check.values.begin(), check.values.end(), [&](const std::string& other) {
      return other.size() < value.size() && value.find(other) != std::string::npos;
    });
    if (!implied) values.push_back(value);
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  std::vector<test::search_group> groups;
  for (auto& value : values) {
    if (!groups.empty()) {
      auto& last = groups.back();
      const auto shared = std::mismatch(last.prefix.begin(), last.prefix.end(), value.begin(), value.end()).first -
                          last.prefix.begin();
      if (static_cast<std::size_t>(shared) >= test::min_shared_prefix) {
        last.prefix.resize(static_cast<std::size_t>(shared));
        last.values.push_back(std::move(value));
        continue;
      }
    }
    groups.push_back({value, {value}});
  }
  return groups;
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

// Fills the trace texts of `node` and its members, bottom-up; returns its description
// ("kind equals feature_request", "any(text contains_any [...]; use_case equals x)").
const std::string& prepare(condition& node) {
  if (auto* check = std::get_if<test>(&node.node)) {
    check->expected = expected_of(*check);
    if (check->op == op::contains || check->op == op::contains_any) check->search = search_groups_of(*check);
    check->description = (check->op == op::present || check->op == op::empty)
                             ? fmt::format("{} {}", to_string(check->field), to_string(check->op))
                             : fmt::format("{} {} {}", to_string(check->field), to_string(check->op), check->expected.view());
    return check->description;
  }
  auto& members = std::get<group>(node.node);
  std::vector<std::string> parts;
  for (auto& member : members.members) parts.push_back(prepare(member));
  std::vector<std::string> fields;
  collect_fields(node, fields);
  members.fields = join(fields, ", ");
  members.expected = "at least one of: " + join(parts, " | ");
  members.description = std::string(members.any ? "any" : "all") + "(" + join(parts, "; ") + ")";
  return members.description;
}

}  // namespace

std::string_view to_string(field value) {
  switch (value) {
    case field::kind: return "kind";
    case field::customer_stage: return "customer.stage";
    case field::customer_tier: return "customer.tier";
    case field::customer_id: return "customer.id";
    case field::source: return "source";
    case field::priority: return "priority";
    case field::use_case: return "use_case";
    case field::title: return "title";
    case field::body: return "body";
    case field::text: return "text";
  }
  return "?";
}

std::string_view to_string(op value) {
  switch (value) {
    case op::equals: return "equals";
    case op::not_equals: return "not_equals";
    case op::in: return "in";
    case op::not_in: return "not_in";
    case op::contains: return "contains";
    case op::contains_any: return "contains_any";
    case op::present: return "present";
    case op::empty: return "empty";
  }
  return "?";
}

rule_set::rule_set(std::vector<rule> rules, rules::fallback fallback, std::string source)
    : rules_(std::move(rules)), fallback_(std::move(fallback)), source_(std::move(source)) {
  for (auto& each : rules_) {
    prepare(each.when);
    each.traced_name = model::shared_text(each.name);
  }
}

std::vector<std::string> rule_set::names() const {
  std::vector<std::string> result;
  result.reserve(rules_.size());
  for (const auto& each : rules_) result.push_back(each.name);
  return result;
}

}  // namespace switchboard::rules
