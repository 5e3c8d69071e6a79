#pragma once
// The routing rules as loaded from rules/*.toml: an ordered list of rules, each a condition
// tree over request fields plus actions, and the fallback that decides when no rule matches.
//
// A rule_set is built only by rules::load_rules (rules/loader.hpp), which validates every field,
// operator, value and team against the vocabularies and refuses anything the policy forbids
// (see the Engineering guard there). Once built it is immutable: every member function is
// const, and any number of threads may read and evaluate the same rule_set concurrently.

#include "model/enums.hpp"
#include "model/shared_text.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace switchboard::rules {

struct vocabulary;

// The request fields a condition may test.
enum class field {
  kind,            // model::request_kind
  customer_stage,  // "customer.stage", model::customer_stage
  customer_tier,   // "customer.tier", a contract tier from the vocabulary; empty pre-sales
  customer_id,     // "customer.id", exact string
  source,          // model::request_source
  priority,        // model::priority
  use_case,        // exact string, empty when none
  title,           // free text, matched case-insensitively (all of Unicode, after NFC)
  body,            // free text, matched case-insensitively (all of Unicode, after NFC)
  text,            // title or body
};

// Comparison operators. Which ones apply to which field is the loader's business.
enum class op { equals, not_equals, in, not_in, contains, contains_any, present, empty };

// Spellings used in rule files and traces ("customer.stage", "contains_any", ...).
std::string_view to_string(field value);
std::string_view to_string(op value);

// One test of one field, e.g. kind equals feature_request. `values` holds the validated
// operand(s): one for equals/not_equals/contains, one or more for in/not_in/contains_any, none
// for present/empty. Text operands are stored case-folded (util::fold: NFC, then Unicode full
// case folding), and matching folds the request's text the same way.
struct test {
  rules::field field = field::kind;
  rules::op op = op::equals;
  std::vector<std::string> values;
  // Derived by rule_set from the above, once, for the trace: what the test expects
  // ("how_to", "[a, b]", "non-empty") and its description ("kind equals how_to"). The trace
  // shares `expected` rather than copying it.
  model::shared_text expected;
  std::string description;
  // Derived by rule_set for contains and contains_any, once, for the search: the values grouped
  // by a common prefix (at least min_shared_prefix bytes), so that a group is found with one
  // memmem of its prefix and checked only where that occurs; a value that contains another is
  // left out, since wherever it occurs the other does too. Whether any value occurs is exactly
  // whether any group's value does.
  struct search_group {
    std::string prefix;
    std::vector<std::string> values;  // each starts with prefix
  };
  static constexpr std::size_t min_shared_prefix = 3;
  std::vector<search_group> search;
};

struct condition;

// all: every member holds (evaluated in order, stops at the first that does not);
// any: at least one member holds (stops at the first that does). Never empty.
struct group {
  bool any = false;
  std::vector<condition> members;
  // Derived by rule_set from the members, once, for the trace of a failed `any` group: the
  // fields looked at in order of first appearance ("kind, text") and the group's expectation
  // ("at least one of: kind equals x | ..."); and the description ("any(kind equals x; ...)").
  model::shared_text fields;
  model::shared_text expected;
  std::string description;
};

struct condition {
  std::variant<test, group> node;
};

// What happens to a request a rule (or the fallback) decides.
struct action {
  model::team owner = model::team::se;
  std::optional<model::priority> priority;  // overrides the request's priority when set
  std::vector<std::string> tags;
  std::vector<model::team> watchers;
  std::optional<std::string> note;  // added to the decision's notes, e.g. "asked for Engineering"
};

struct rule {
  std::string name;    // unique within the set; never "fallback"
  model::shared_text traced_name;  // the same, set by rule_set, shared by every trace of it
  std::string reason;  // the human sentence returned with the decision
  condition when;      // a single test or a group
  action then;
};

struct fallback {
  std::string reason;
  action then;
};

class rule_set {
 public:
  // In file order; evaluation is first-match in this order.
  const std::vector<rule>& rules() const noexcept { return rules_; }
  const rules::fallback& fallback() const noexcept { return fallback_; }
  // The file the rules came from, as given to the loader (for messages).
  const std::string& source() const noexcept { return source_; }

  std::size_t size() const noexcept { return rules_.size(); }
  std::vector<std::string> names() const;

 private:
  // Defined in rules/loader.cpp: only the loader builds a rule_set (after validating it).
  friend struct rule_set_builder;

  rule_set(std::vector<rule> rules, rules::fallback fallback, std::string source);

  std::vector<rule> rules_;
  rules::fallback fallback_;
  std::string source_;
};

}  // namespace switchboard::rules
