// Validating routing rules from TOML into a rule_set: every error names file:line:col and what
// was expected; nothing unknown is accepted, and nothing is routed to Engineering directly.
#include "rules/loader.hpp"

#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <map>
#include <optional>
#include <utility>

namespace switchboard::rules {
namespace {

constexpr std::string_view engineering_policy =
    "Any other request for help from engineering should go through SE (for troubleshooting) or "
    "product (for feature requests) and not to engineering directly.";

constexpr std::array all_fields{field::kind,     field::customer_stage, field::customer_tier, field::customer_id,
                                field::source,   field::priority,       field::use_case,      field::title,
                                field::body,     field::text};
constexpr std::array all_ops{op::equals,   op::not_equals,   op::in,      op::not_in,
                             op::contains, op::contains_any, op::present, op::empty};

constexpr std::array enum_ops{op::equals, op::not_equals, op::in, op::not_in};
constexpr std::array string_ops{op::equals, op::not_equals, op::in, op::not_in, op::present, op::empty};
constexpr std::array text_ops{op::contains, op::contains_any, op::present, op::empty};

// How many operands an operator takes: none, one string, or a non-empty array of strings.
enum class arity { none, one, many };

arity arity_of(op value) {
  switch (value) {
    case op::present:
    case op::empty: return arity::none;
    case op::in:
    case op::not_in:
    case op::contains_any: return arity::many;
    default: return arity::one;
  }
}

std::vector<op> ops_for(field subject) {
  switch (subject) {
    case field::kind:
    case field::customer_stage:
    case field::source:
    case field::priority: return {enum_ops.begin(), enum_ops.end()};
    case field::customer_tier:
    case field::customer_id:
    case field::use_case: return {string_ops.begin(), string_ops.end()};
    case field::title:
    case field::body:
    case field::text: return {text_ops.begin(), text_ops.end()};
  }
  return {};
}

template <typename Range>
std::string join_names(const Range& values) {
  std::string result;
  for (const auto& each : values) {
    if (!result.empty()) result += ", ";
    result += to_string(each);
  }
  return result;
}

std::string join(const std::vector<std::string>& values) {
  std::string result;
  for (const auto& each : values) {
    if (!result.empty()) result += ", ";
    result += each;
  }
  return result;
}

// Reads one rules document; `file_` names it in every error.
class reader : config::file_errors {
 public:
  reader(std::string_view file, const vocabulary& known) : config::file_errors(file), known_(known) {}

  std::vector<rule> read_rules(const toml::table& root) {
    check_keys(root, {"rule", "fallback"}, "the rules file");
    std::vector<rule> result;
    const toml::node* list = root.get("rule");
    if (list == nullptr) return result;
    const auto* array = list->as_array();
    if (array == nullptr)
      fail(*list, fmt::format("\"rule\" must be an array of tables ([[rule]]), found {}", config::type_name(*list)));
    std::map<std::string, int, std::less<>> first_line;
    for (const auto& element : *array) {
      const auto& table = table_of(element, "each rule");
      rule parsed = read_rule(table, result.size() + 1);
      const auto& name_node = *table.get("name");
      if (auto seen = first_line.find(parsed.name); seen != first_line.end())
        fail(name_node, fmt::format("duplicate rule name \"{}\"; first defined at line {}; rule names must be unique",
                                    parsed.name, seen->second));
      first_line.emplace(parsed.name, static_cast<int>(name_node.source().begin.line));
      result.push_back(std::move(parsed));
    }
    return result;
  }

  rules::fallback read_fallback(const toml::table& root) {
    const toml::node* node = root.get("fallback");
    if (node == nullptr)
      fail(root,
           "missing [fallback] section; expected [fallback] with reason = \"...\" and then = { owner = ... } "
           "to decide requests that no rule matches");
    const auto& table = table_of(*node, "\"fallback\"");
    check_keys(table, {"reason", "then"}, "[fallback]");
    rules::fallback result;
    result.reason = non_empty_string(require(table, "reason", "[fallback]"), "reason");
    result.then = read_action(table_of(require(table, "then", "[fallback]"), "\"then\""), "the fallback");
    return result;
  }

 private:
  const toml::node& require(const toml::table& table, std::string_view key, std::string_view where) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) fail(table, fmt::format("missing \"{}\" in {}", key, where));
    return *node;
  }

  const toml::table& table_of(const toml::node& node, std::string_view what) const {
    const auto* table = node.as_table();
    if (table == nullptr) fail(node, fmt::format("{} must be a table, found {}", what, config::type_name(node)));
    return *table;
  }

  const toml::array& array_of(const toml::node& node, std::string_view what) const {
    const auto* array = node.as_array();
    if (array == nullptr) fail(node, fmt::format("{} must be an array, found {}", what, config::type_name(node)));
    return *array;
  }

  std::string string_of(const toml::node& node, std::string_view what) const {
    const auto* text = node.as_string();
    if (text == nullptr) fail(node, fmt::format("{} must be a string, found {}", what, config::type_name(node)));
    return text->get();
  }

  std::string non_empty_string(const toml::node& node, std::string_view key) const {
    std::string text = string_of(node, fmt::format("\"{}\"", key));
    if (text.empty()) fail(node, fmt::format("\"{}\" must not be empty", key));
    return text;
  }

  rule read_rule(const toml::table& table, std::size_t number) const {
    check_keys(table, {"name", "reason", "when", "then"}, "a rule");
    const std::string anonymous = fmt::format("rule #{}", number);
    rule result;
    result.name = non_empty_string(require(table, "name", anonymous), "name");
    if (result.name == "fallback")
      fail(*table.get("name"), "rule name \"fallback\" is reserved for the [fallback] section; choose another name");
    const std::string where = fmt::format("rule \"{}\"", result.name);
    result.reason = non_empty_string(require(table, "reason", where), "reason");
    result.when = read_condition(table_of(require(table, "when", where), "\"when\""));
    result.then = read_action(table_of(require(table, "then", where), "\"then\""), where);
    return result;
  }

  // A test { field, op, value } or a group { all = [...] } / { any = [...] }.
  condition read_condition(const toml::table& table) const {
    const bool has_all = table.contains("all");
    const bool has_any = table.contains("any");
    if (has_all && has_any) {
      for (const auto& [key, value] : table)
        if (key.str() == "any") fail(key, "a condition group has either \"all\" or \"any\", not both");
    }
    if (has_all || has_any) {
      const std::string_view kind = has_any ? "any" : "all";
      check_keys(table, {kind}, fmt::format("a condition group (\"{}\")", kind));
      const auto& members = array_of(*table.get(kind), fmt::format("\"{}\"", kind));
      if (members.empty())
        fail(members, fmt::format("empty \"{}\" group; a group needs at least one condition", kind));
      group result;
      result.any = has_any;
      for (const auto& member : members)
        result.members.push_back(read_condition(table_of(member, fmt::format("each member of \"{}\"", kind))));
      return condition{std::move(result)};
    }
    if (table.contains("field") || table.contains("op") || table.contains("value"))
      return condition{read_test(table)};
    if (!table.empty()) check_keys(table, {"field", "op", "value", "all", "any"}, "a condition");
    fail(table,
         "expected a condition { field = \"...\", op = \"...\", value = ... } or a group { all = [...] } / "
         "{ any = [...] }");
  }

  test read_test(const toml::table& table) const {
    check_keys(table, {"field", "op", "value"}, "a condition");
    const auto& field_node = require(table, "field", "a condition");
    const std::string field_name = string_of(field_node, "\"field\"");
    const auto subject = std::find_if(all_fields.begin(), all_fields.end(),
                                      [&](field each) { return to_string(each) == field_name; });
    if (subject == all_fields.end())
      fail(field_node, fmt::format("unknown field \"{}\"; expected one of {}", field_name, join_names(all_fields)));

    const auto& op_node = require(table, "op", "a condition");
    const std::string op_name = string_of(op_node, "\"op\"");
    const auto operation =
        std::find_if(all_ops.begin(), all_ops.end(), [&](op each) { return to_string(each) == op_name; });
    if (operation == all_ops.end())
      fail(op_node, fmt::format("unknown operator \"{}\"; expected one of {}", op_name, join_names(all_ops)));
    const auto valid = ops_for(*subject);
    if (std::find(valid.begin(), valid.end(), *operation) == valid.end())
      fail(op_node, fmt::format("operator \"{}\" does not apply to field \"{}\"; expected one of {}", op_name,
                                field_name, join_names(valid)));

    test result;
    result.field = *subject;
    result.op = *operation;
    const toml::node* value = table.get("value");
    switch (arity_of(*operation)) {
      case arity::none:
        if (value != nullptr) fail(*value, fmt::format("operator \"{}\" takes no value", op_name));
        break;
      case arity::one:
        if (value == nullptr)
          fail(table, fmt::format("missing \"value\" in a condition; operator \"{}\" needs a string", op_name));
        result.values.push_back(read_value(*subject, *value, fmt::format("\"value\" of operator \"{}\"", op_name)));
        break;
      case arity::many: {
        if (value == nullptr)
          fail(table,
               fmt::format("missing \"value\" in a condition; operator \"{}\" needs an array of strings", op_name));
        const auto* list = value->as_array();
        if (list == nullptr)
          fail(*value, fmt::format("\"value\" of operator \"{}\" must be an array of strings, found {}", op_name,
                                   config::type_name(*value)));
        if (list->empty())
          fail(*value, fmt::format("\"value\" of operator \"{}\" must not be an empty array", op_name));
        for (const auto& element : *list)
          result.values.push_back(
              read_value(*subject, element, fmt::format("each element of \"value\" of operator \"{}\"", op_name)));
        break;
      }
    }
    return result;
  }

  // Validates one operand against the field's vocabulary; text operands are case-folded
  // once here (util::fold), so evaluation folds only the request.
  std::string read_value(field subject, const toml::node& node, std::string_view what) const {
    std::string text = string_of(node, what);
    auto unknown = [&](std::string_view noun, std::string_view names) {
      fail(node, fmt::format("unknown {} \"{}\"; expected one of {}", noun, text, names));
    };
    switch (subject) {
      case field::kind:
        if (!model::parse_request_kind(text)) unknown("kind", model::request_kind_names());
        return text;
      case field::customer_stage:
        if (!model::parse_customer_stage(text)) unknown("customer stage", model::customer_stage_names());
        return text;
      case field::source:
        if (!model::parse_request_source(text)) unknown("source", model::request_source_names());
        return text;
      case field::priority:
        if (!model::parse_priority(text)) unknown("priority", model::priority_names());
        return text;
      case field::customer_tier:
        if (std::find(known_.tiers.begin(), known_.tiers.end(), text) == known_.tiers.end()) {
          if (known_.tiers.empty())
            fail(node, fmt::format("unknown tier \"{}\"; no contract tiers are configured ([customers] tiers)", text));
          fail(node, fmt::format("unknown tier \"{}\"; expected one of {} (the configured [customers] tiers)", text,
                                 join(known_.tiers)));
        }
        return text;
      case field::customer_id:
      case field::use_case:
        if (text.empty())
          fail(node, fmt::format("empty value for field \"{}\"; to test for no value use op = \"empty\"",
                                 to_string(subject)));
        if (subject == field::use_case && known_.use_cases &&
            std::find(known_.use_cases->begin(), known_.use_cases->end(), text) == known_.use_cases->end()) {
          if (known_.use_cases->empty()) fail(node, fmt::format("unknown use case \"{}\"; [use_cases] is empty", text));
          fail(node, fmt::format("unknown use case \"{}\"; expected one of {} (the configured [use_cases])", text,
                                 join(*known_.use_cases)));
        }
        return text;
      case field::title:
      case field::body:
      case field::text:
        if (text.empty())
          fail(node, fmt::format("empty text for field \"{}\" would match everything; expected some text",
                                 to_string(subject)));
        return util::fold(text);
    }
    return text;
  }

  model::team read_team(const toml::node& node, std::string_view what, std::string_view who,
                        std::string_view role) const {
    const std::string name = string_of(node, what);
    const auto parsed = model::parse_team(name);
    if (!parsed) fail(node, fmt::format("unknown team \"{}\"; expected one of {}", name, model::team_names()));
    if (*parsed == model::team::engineering)
      fail(node, fmt::format("{} hands work to engineering directly ({}); the policy says: \"{}\" "
                             "Route it to se or product instead",
                             who, role, engineering_policy));
    return *parsed;
  }

  std::vector<std::string> read_strings(const toml::node& node, std::string_view key) const {
    std::vector<std::string> result;
    const auto& list = array_of(node, fmt::format("\"{}\"", key));
    for (const auto& element : list) {
      std::string text = string_of(element, fmt::format("each element of \"{}\"", key));
      if (text.empty()) fail(element, fmt::format("empty string in \"{}\"", key));
      result.push_back(std::move(text));
    }
    return result;
  }

  action read_action(const toml::table& table, std::string_view who) const {
    check_keys(table, {"owner", "priority", "tags", "watchers", "note"}, "\"then\"");
    action result;
    result.owner = read_team(require(table, "owner", fmt::format("\"then\" of {}", who)), "\"owner\"", who, "as owner");
    if (const auto* node = table.get("priority")) {
      const std::string name = string_of(*node, "\"priority\"");
      const auto parsed = model::parse_priority(name);
      if (!parsed)
        fail(*node, fmt::format("unknown priority \"{}\"; expected one of {}", name, model::priority_names()));
      result.priority = *parsed;
    }
    if (const auto* node = table.get("tags")) result.tags = read_strings(*node, "tags");
    if (const auto* node = table.get("watchers")) {
      for (const auto& element : array_of(*node, "\"watchers\""))
        result.watchers.push_back(read_team(element, "each element of \"watchers\"", who, "as a watcher"));
    }
    if (const auto* node = table.get("note")) result.note = non_empty_string(*node, "note");
    return result;
  }

  const vocabulary& known_;
};

}  // namespace

struct rule_set_builder {
  static rule_set build(std::vector<rule> rules, rules::fallback fallback, std::string source) {
    return rule_set(std::move(rules), std::move(fallback), std::move(source));
  }
};

rule_set load_rules(const std::string& path, const vocabulary& known) {
  const toml::table root = config::parse_file(path);
  return load_rules(root, path, known);
}

rule_set load_rules(const toml::table& root, std::string_view file, const vocabulary& known) {
  reader in(file, known);
  std::vector<rule> rules = in.read_rules(root);
  rules::fallback fallback = in.read_fallback(root);
  return rule_set_builder::build(std::move(rules), std::move(fallback), std::string(file));
}

}  // namespace switchboard::rules
