// Spellings of condition fields and operators, and the immutable rule_set container.
#include "rules/rule_set.hpp"

#include <utility>

namespace switchboard::rules {

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
    : rules_(std::move(rules)), fallback_(std::move(fallback)), source_(std::move(source)) {}

std::vector<std::string> rule_set::names() const {
  std::vector<std::string> result;
  result.reserve(rules_.size());
  for (const auto& each : rules_) result.push_back(each.name);
  return result;
}

}  // namespace switchboard::rules
