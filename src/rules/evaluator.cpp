// First-match evaluation of a rule_set against a request, recording a trace of every rule tried
// and, for each one that did not match, the first condition that failed and the value it saw.
#include "rules/evaluator.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace switchboard::rules {
namespace {

constexpr std::size_t excerpt_bytes = 48;

// Appends a short, single-line, quoted excerpt of free text, cut on a UTF-8 character boundary.
void append_excerpt(std::string_view text, std::string& out) {
  if (text.empty()) {
    out += "(empty)";
    return;
  }
  std::size_t cut = text.size();
  if (cut > excerpt_bytes) {
    cut = excerpt_bytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  }
  out += '"';
  for (char c : text.substr(0, cut)) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (cut < text.size()) out += "…";
  out += '"';
}

// The request as the conditions see it. The text fields are case-folded (NFC + Unicode full
// case folding, util::fold, like the rule words were at load) on first use only, so an
// evaluation decided before any text test (under the shipped rules, every engineering
// interrupt) folds nothing, and one that tests only the title folds only the title.
class subject {
 public:
  explicit subject(const model::request_input& request) : request(request) {}

  const model::request_input& request;

  const std::string& title() const {
    if (!title_) title_ = util::fold(request.title);
    return *title_;
  }
  const std::string& body() const {
    if (!body_) body_ = util::fold(request.body);
    return *body_;
  }

 private:
  mutable std::optional<std::string> title_;
  mutable std::optional<std::string> body_;
};

// The exact value of a non-text field; title and body unfolded (text is never compared whole).
std::string_view value_of(field which, const model::request_input& request) {
  switch (which) {
    case field::kind: return model::to_string(request.kind);
    case field::customer_stage: return model::to_string(request.customer.stage);
    case field::customer_tier: return request.customer.tier;
    case field::customer_id: return request.customer.id;
    case field::source: return model::to_string(request.source);
    case field::priority: return model::to_string(request.priority);
    case field::use_case: return request.use_case;
    case field::title: return request.title;
    case field::body: return request.body;
    case field::text: break;
  }
  return {};
}

// glibc's memmem (a two-way search, hashed for short needles) skips ahead where
// std::string::find stops at every occurrence of the needle's first letter.
// Whether any value of the groups occurs in `haystack`: one memmem per group for its prefix,
// then each value compared where the prefix occurs.
bool has_any(std::string_view haystack, const std::vector<test::search_group>& groups) {
  const char* const end = haystack.data() + haystack.size();
  for (const auto& group : groups) {
    const char* at = haystack.data();
    while (const void* found = ::memmem(at, static_cast<std::size_t>(end - at), group.prefix.data(), group.prefix.size())) {
      const char* const start = static_cast<const char*>(found);
      const auto left = static_cast<std::size_t>(end - start);
      for (const auto& value : group.values)
        if (value.size() <= left && std::memcmp(start, value.data(), value.size()) == 0) return true;
      at = start + 1;
    }
  }
  return false;
}

bool text_has_any(const subject& in, field which, const std::vector<test::search_group>& groups) {
  return (which != field::body && has_any(in.title(), groups)) || (which != field::title && has_any(in.body(), groups));
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
    case op::contains_any: return text_has_any(in, check.field, check.search);
    default: break;
  }
  const std::string_view actual = value_of(check.field, in.request);
  const bool listed = std::find(values.begin(), values.end(), actual) != values.end();
  switch (check.op) {
    case op::equals:
    case op::in: return listed;
    default: return !listed;  // not_equals, not_in
  }
}

std::string actual_of(const test& check, const subject& in) {
  const auto& request = in.request;
  const bool searched = check.op == op::contains || check.op == op::contains_any;
  std::string out;
  switch (check.field) {
    case field::title:
    case field::body:
    case field::text: {
      out.reserve(2 * excerpt_bytes + 40);
      if (searched) out += "no match in ";
      if (check.field != field::body) {
        out += "title ";
        append_excerpt(request.title, out);
      }
      if (check.field == field::text) out += searched ? " or " : ", ";
      if (check.field != field::title) {
        out += "body ";
        append_excerpt(request.body, out);
      }
      return out;
    }
    default: {
      const std::string_view value = value_of(check.field, request);
      return value.empty() ? std::string("(empty)") : std::string(value);
    }
  }
}

// nullopt when the condition holds; otherwise the first failing condition. An `all` group
// reports its first failing member; a failed `any` group reports itself as a whole. The trace
// texts that depend only on the rules were built at load (rule_set); only what the request
// shows is built here, and only for conditions that fail.
std::optional<model::condition_failure> first_failure(const condition& node, const subject& in) {
  if (const auto* check = std::get_if<test>(&node.node)) {
    if (holds(*check, in)) return std::nullopt;
    return model::condition_failure{model::shared_text::literal(to_string(check->field)),
                                    model::shared_text::literal(to_string(check->op)), check->expected,
                                    actual_of(*check, in)};
  }
  const auto& members = std::get<group>(node.node);
  if (!members.any) {
    for (const auto& member : members.members)
      if (auto failure = first_failure(member, in)) return failure;
    return std::nullopt;
  }
  std::string seen = "none held: ";
  bool first = true;
  for (const auto& member : members.members) {
    auto failure = first_failure(member, in);
    if (!failure) return std::nullopt;
    if (!first) seen += "; ";
    first = false;
    seen += failure->field.view();
    seen += ": ";
    seen += failure->actual;
  }
  return model::condition_failure{members.fields, model::shared_text::literal("any"), members.expected,
                                  std::move(seen)};
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
  const subject in(request);
  model::routing_decision decision;
  decision.priority = request.priority;
  decision.trace.reserve(rules.size());
  for (const auto& each : rules.rules()) {
    auto failure = first_failure(each.when, in);
    const bool matched = !failure;
    decision.trace.push_back(model::rule_evaluation{each.traced_name, matched, std::move(failure)});
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
