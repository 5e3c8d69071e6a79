// The evaluator against a reference: a plain transcription of the evaluator as it was before
// its trace texts were built at load and its text folded lazily and by stretches (every
// description and expectation formatted per call, title and body folded whole by utf8proc).
// Both must give the same decision and the same trace, word for word, on generated requests.
#include "rules/evaluator.hpp"
#include "rules/loader.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

using namespace switchboard;
using namespace std::literals;

namespace {

using rules::field;
using rules::op;

// Valid UTF-8 only (the generator makes no invalid bytes): NFC + full case folding, whole.
std::string reference_fold(std::string_view text) {
  if (text.empty()) return {};
  utf8proc_uint8_t* mapped = nullptr;
  const auto length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()), static_cast<utf8proc_ssize_t>(text.size()),
                   &mapped, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(mapped, &std::free);
  REQUIRE(length >= 0);
  return std::string(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(length));
}

std::string excerpt(std::string_view text) {
  if (text.empty()) return "(empty)";
  std::size_t cut = text.size();
  if (cut > 48) {
    cut = 48;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  }
  std::string result = "\"";
  for (char c : text.substr(0, cut)) result += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (cut < text.size()) result += "…";
  result += '"';
  return result;
}

std::string join(const std::vector<std::string>& values, std::string_view separator) {
  std::string result;
  for (const auto& each : values) {
    if (!result.empty()) result += separator;
    result += each;
  }
  return result;
}

struct subject {
  const model::request_input& request;
  std::string title;
  std::string body;
};

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

bool holds(const rules::test& check, const subject& in) {
  const auto has = [&](const std::string& needle) {
    return (check.field != field::body && in.title.find(needle) != std::string::npos) ||
           (check.field != field::title && in.body.find(needle) != std::string::npos);
  };
  const auto present = [&] {
    return check.field == field::text ? !in.request.title.empty() || !in.request.body.empty()
                                      : !value_of(check.field, in.request).empty();
  };
  switch (check.op) {
    case op::present: return present();
    case op::empty: return !present();
    case op::contains:
    case op::contains_any: return std::any_of(check.values.begin(), check.values.end(), has);
    default: break;
  }
  const bool listed =
      std::find(check.values.begin(), check.values.end(), value_of(check.field, in.request)) != check.values.end();
  return (check.op == op::equals || check.op == op::in) ? listed : !listed;
}

std::string expected_of(const rules::test& check) {
  switch (check.op) {
    case op::present: return "non-empty";
    case op::empty: return "empty";
    case op::in:
    case op::not_in:
    case op::contains_any: return fmt::format("[{}]", join(check.values, ", "));
    default: return check.values.empty() ? std::string() : check.values.front();
  }
}

std::string actual_of(const rules::test& check, const subject& in) {
  const auto& request = in.request;
  const bool searched = check.op == op::contains || check.op == op::contains_any;
  const std::string prefix = searched ? "no match in " : "";
  switch (check.field) {
    case field::title: return prefix + "title " + excerpt(request.title);
    case field::body: return prefix + "body " + excerpt(request.body);
    case field::text:
      return prefix + "title " + excerpt(request.title) + (searched ? " or " : ", ") + "body " + excerpt(request.body);
    default: {
      const auto value = value_of(check.field, request);
      return value.empty() ? "(empty)" : value;
    }
  }
}

std::string describe(const rules::condition& node) {
  if (const auto* check = std::get_if<rules::test>(&node.node)) {
    if (check->op == op::present || check->op == op::empty)
      return fmt::format("{} {}", to_string(check->field), to_string(check->op));
    return fmt::format("{} {} {}", to_string(check->field), to_string(check->op), expected_of(*check));
  }
  const auto& members = std::get<rules::group>(node.node);
  std::vector<std::string> parts;
  for (const auto& member : members.members) parts.push_back(describe(member));
  return std::string(members.any ? "any" : "all") + "(" + join(parts, "; ") + ")";
}

void collect_fields(const rules::condition& node, std::vector<std::string>& out) {
  if (const auto* check = std::get_if<rules::test>(&node.node)) {
    std::string name(to_string(check->field));
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
    return;
  }
  for (const auto& member : std::get<rules::group>(node.node).members) collect_fields(member, out);
}

std::optional<model::condition_failure> first_failure(const rules::condition& node, const subject& in) {
  if (const auto* check = std::get_if<rules::test>(&node.node)) {
    if (holds(*check, in)) return std::nullopt;
    return model::condition_failure{std::string(to_string(check->field)), std::string(to_string(check->op)),
                                    expected_of(*check), actual_of(*check, in)};
  }
  const auto& members = std::get<rules::group>(node.node);
  if (!members.any) {
    for (const auto& member : members.members)
      if (auto failure = first_failure(member, in)) return failure;
    return std::nullopt;
  }
  std::vector<std::string> seen;
  for (const auto& member : members.members) {
    auto failure = first_failure(member, in);
    if (!failure) return std::nullopt;
    seen.push_back(failure->field.str() + ": " + failure->actual);
  }
  std::vector<std::string> fields;
  collect_fields(node, fields);
  std::vector<std::string> parts;
  for (const auto& member : members.members) parts.push_back(describe(member));
  return model::condition_failure{join(fields, ", "), "any", "at least one of: " + join(parts, " | "),
                                  "none held: " + join(seen, "; ")};
}

void apply(const rules::action& then, const std::string& reason, model::routing_decision& decision) {
  decision.owner = then.owner;
  if (then.priority) decision.priority = *then.priority;
  decision.tags = then.tags;
  decision.watchers.clear();
  for (auto watcher : then.watchers) decision.watchers.emplace_back(model::to_string(watcher));
  decision.reason = reason;
  if (then.note) decision.notes.push_back(*then.note);
}

model::routing_decision reference_evaluate(const rules::rule_set& rules, const model::request_input& request) {
  const subject in{request, reference_fold(request.title), reference_fold(request.body)};
  model::routing_decision decision;
  decision.priority = request.priority;
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

// Words the rules look for, in odd cases and forms (decomposed accents, the Kelvin sign that
// folds to k, long s, sharp s, Turkish dotted I, tabs and newlines), and words they do not.
const std::vector<std::string> words = {
    "engineering", "ENGINEER",  "Dev Team",     "dev\tteam",   "developer",  "eng team",   "\u212Aelvin",
    "engineer\u0301", "E\u0301ngineer", "\u017Fso", "Straße",   "STRASSE",    "İstanbul",   "café",
    "cafe\u0301",  "Müller",    "MU\u0308LLER", "σίσυφος",     "ΣΊΣΥΦΟΣ",    "日本語",     "login",
    "fails",       "SSO",       "search",       "the",         "a",          "\n",         "batch changes",
    "urgent",      "billing",   "ß",            "\u0301",      "x",          "Engi\u212Aeering"};

std::string text(std::mt19937_64& rng, int most) {
  std::string out;
  const int count = static_cast<int>(rng() % static_cast<unsigned>(most + 1));
  for (int i = 0; i < count; ++i) {
    if (!out.empty() && rng() % 4 != 0) out += ' ';
    out += words[rng() % words.size()];
  }
  return out;
}

model::request_input generated(std::mt19937_64& rng) {
  static const char* tiers[] = {"", "standard", "premium", "enterprise"};
  static const char* use_cases[] = {"", "sso", "code-search", "insights"};
  model::request_input input;
  input.kind = static_cast<model::request_kind>(rng() % 5);
  input.customer = {rng() % 3 == 0 ? "" : fmt::format("customer-{}", rng() % 4), "Customer",
                    static_cast<model::customer_stage>(rng() % 3), tiers[rng() % 4]};
  input.title = text(rng, 8);
  input.body = text(rng, 40);
  input.source = static_cast<model::request_source>(rng() % 4);
  input.priority = static_cast<model::priority>(rng() % 4);
  input.use_case = use_cases[rng() % 4];
  return input;
}

void check_same(const model::routing_decision& got, const model::routing_decision& want) {
  CHECK(got.rule == want.rule);
  CHECK(got.fallback == want.fallback);
  CHECK(got.owner == want.owner);
  CHECK(got.priority == want.priority);
  CHECK(got.tags == want.tags);
  CHECK(got.watchers == want.watchers);
  CHECK(got.reason == want.reason);
  CHECK(got.notes == want.notes);
  REQUIRE(got.trace.size() == want.trace.size());
  for (std::size_t i = 0; i < got.trace.size(); ++i) {
    CHECK(got.trace[i].rule == want.trace[i].rule);
    CHECK(got.trace[i].matched == want.trace[i].matched);
    REQUIRE(got.trace[i].failure.has_value() == want.trace[i].failure.has_value());
    if (!got.trace[i].failure) continue;
    CHECK(got.trace[i].failure->field == want.trace[i].failure->field);
    CHECK(got.trace[i].failure->op == want.trace[i].failure->op);
    CHECK(got.trace[i].failure->expected == want.trace[i].failure->expected);
    CHECK(got.trace[i].failure->actual == want.trace[i].failure->actual);
  }
}

// Every field, operator and group shape the loader accepts, nested.
constexpr std::string_view every_shape = R"(
[[rule]]
name = "nested-any"
reason = "Nested any."
when = { any = [
  { all = [ { field = "customer.stage", op = "equals", value = "production" },
            { field = "customer.tier", op = "in", value = ["premium", "enterprise"] },
            { field = "title", op = "contains", value = "SSO" } ] },
  { any = [ { field = "body", op = "contains_any", value = ["Straße", "kelvin"] },
            { field = "use_case", op = "equals", value = "insights" } ] },
] }
then = { owner = "se", priority = "urgent", tags = ["a", "b"], watchers = ["ce", "product"], note = "Nested." }

[[rule]]
name = "negations"
reason = "Negations."
when = { all = [ { field = "source", op = "not_equals", value = "email" },
                 { field = "priority", op = "not_in", value = ["low", "normal"] },
                 { field = "customer.id", op = "present" },
                 { field = "use_case", op = "empty" } ] }
then = { owner = "product" }

[[rule]]
name = "texts"
reason = "Texts."
when = { any = [ { field = "text", op = "empty" }, { field = "body", op = "present" },
                 { field = "customer.tier", op = "empty" } ] }
then = { owner = "ce" }

[fallback]
reason = "Else."
then = { owner = "se", tags = ["unrouted"] }
)";

}  // namespace

TEST_SUITE("rules::evaluator") {
  TEST_CASE("decisions and traces equal the reference evaluator's on generated requests, shipped rules") {
    const auto set = rules::load_rules(std::string(SWITCHBOARD_SOURCE_DIR) + "/rules/routing.toml",
                                       rules::vocabulary{{"standard", "premium", "enterprise"}});
    std::mt19937_64 rng(11);
    int fallbacks = 0;
    for (int i = 0; i < 3000; ++i) {
      const auto input = generated(rng);
      const auto want = reference_evaluate(set, input);
      check_same(rules::evaluate(set, input), want);
      fallbacks += want.fallback ? 1 : 0;
    }
    CHECK(fallbacks == 0);  // the shipped rules cover every kind
  }

  TEST_CASE("decisions and traces equal the reference evaluator's on generated requests, every operator") {
    const auto set = rules::load_rules(toml::parse(every_shape, "shapes.toml"sv), "shapes.toml",
                                       rules::vocabulary{{"standard", "premium", "enterprise"}});
    std::mt19937_64 rng(12);
    std::vector<int> decided(set.size() + 1, 0);
    for (int i = 0; i < 3000; ++i) {
      const auto input = generated(rng);
      const auto want = reference_evaluate(set, input);
      check_same(rules::evaluate(set, input), want);
      ++decided[want.trace.size() - (want.fallback ? 0 : 1)];
    }
    // Every rule and the fallback decided some of them, so every path was compared.
    for (int count : decided) CHECK(count > 0);
  }
}
