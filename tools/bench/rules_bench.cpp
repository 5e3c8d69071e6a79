// Routing throughput of the shipped rules through Switchboard's evaluator, for
// tools/bench/rules.sh (which runs json-rules-engine on the same requests and compares).
//
//   build/tools/rules_bench CONFIG WORKDIR generate N     writes WORKDIR/requests.jsonl: N varied
//                                                         requests from a fixed seed
//   build/tools/rules_bench CONFIG WORKDIR run PASSES     evaluates every request PASSES times;
//                                                         prints "ours <requests routed per second>"
//                                                         and writes WORKDIR/ours.owners (one team a line)
//
// The rules are those CONFIG names ([server] rules, rules/routing.toml as shipped), loaded by
// the server's loader; evaluation is rules::evaluate, trace included, exactly as a filing runs it.
#include "config/settings.hpp"
#include "model/enums.hpp"
#include "rules/evaluator.hpp"
#include "rules/loader.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace switchboard;

namespace {

// Words that the shipped rules look for, in several cases, and words they do not.
const std::vector<std::string> asks = {"engineering", "Engineer", "DEV TEAM", "developer", "eng team",
                                       "Engineering", "our developers", "the Eng Team"};
const std::vector<std::string> filler = {
    "search",   "results",  "are",     "missing",   "repositories", "since", "the",    "upgrade", "to",
    "5.2",      "login",    "fails",   "with",      "SSO",          "after", "rotating", "keys",  "how",
    "do",       "I",        "configure", "batch",   "changes",      "for",   "monorepo", "café", "Müller",
    "timeout",  "on",       "large",   "diffs",     "please",       "add",   "support",  "GitLab", "self-hosted",
    "customer", "reports",  "slow",    "indexing",  "a",            "bug",   "in",       "insights", "dashboards"};

std::string words(std::mt19937_64& rng, int count, bool ask) {
  std::string out;
  const int at = ask ? static_cast<int>(rng() % static_cast<unsigned>(count + 1)) : -1;
  for (int i = 0; i <= count; ++i) {
    if (i == at) {
      if (!out.empty()) out += ' ';
      out += asks[rng() % asks.size()];
    }
    if (i == count) break;
    if (!out.empty()) out += ' ';
    out += filler[rng() % filler.size()];
  }
  return out;
}

boost::json::object generate_one(std::mt19937_64& rng, int i) {
  static const char* kinds[] = {"how_to", "feature_request", "troubleshooting", "engineering_interrupt", "concern"};
  static const char* stages[] = {"prospect", "trial", "production"};
  static const char* tiers[] = {"standard", "premium", "enterprise"};
  static const char* sources[] = {"api", "cli", "slack", "email"};
  static const char* priorities[] = {"low", "normal", "high", "urgent"};
  static const char* use_cases[] = {"", "", "code-search", "batch-changes", "insights", "onboarding"};
  const std::string stage = stages[rng() % 3];
  boost::json::object customer{{"id", fmt::format("customer-{}", rng() % 500)},
                               {"name", fmt::format("Customer {}", i % 500)},
                               {"stage", stage},
                               {"tier", stage == "production" ? tiers[rng() % 3] : ""}};
  const bool ask_in_title = rng() % 6 == 0;
  const bool ask_in_body = rng() % 6 == 0;
  const bool has_body = rng() % 8 != 0;
  return {{"kind", kinds[rng() % 5]},
          {"customer", std::move(customer)},
          {"title", words(rng, 3 + static_cast<int>(rng() % 8), ask_in_title)},
          {"body", has_body ? words(rng, static_cast<int>(rng() % 120), ask_in_body) : std::string()},
          {"source", sources[rng() % 4]},
          {"priority", priorities[rng() % 4]},
          {"use_case", use_cases[rng() % 6]}};
}

std::string text(const boost::json::object& o, std::string_view key) { return std::string(o.at(key).as_string()); }

model::request_input decode(const boost::json::object& o) {
  model::request_input in;
  in.kind = *model::parse_request_kind(text(o, "kind"));
  const auto& c = o.at("customer").as_object();
  in.customer = {text(c, "id"), text(c, "name"), *model::parse_customer_stage(text(c, "stage")), text(c, "tier")};
  in.title = text(o, "title");
  in.body = text(o, "body");
  in.source = *model::parse_request_source(text(o, "source"));
  in.priority = *model::parse_priority(text(o, "priority"));
  in.use_case = text(o, "use_case");
  return in;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    fmt::print(stderr, "usage: rules_bench CONFIG WORKDIR generate N | run PASSES\n");
    return 2;
  }
  const auto settings = config::load_settings(argv[1]);
  const std::string work = argv[2];
  const std::string mode = argv[3];
  const int count = std::max(1, std::atoi(argv[4]));

  if (mode == "generate") {
    std::mt19937_64 rng(20261130);
    std::ofstream out(work + "/requests.jsonl");
    for (int i = 0; i < count; ++i) out << boost::json::serialize(generate_one(rng, i)) << '\n';
    return out ? 0 : 1;
  }

  const auto rules = rules::load_rules(settings.rules_path, {settings.tiers});
  std::vector<model::request_input> requests;
  {
    std::ifstream in(work + "/requests.jsonl");
    for (std::string line; std::getline(in, line);) requests.push_back(decode(boost::json::parse(line).as_object()));
  }
  std::vector<model::team> owners(requests.size());
  const auto started = std::chrono::steady_clock::now();
  for (int pass = 0; pass < count; ++pass)
    for (std::size_t i = 0; i < requests.size(); ++i) owners[i] = rules::evaluate(rules, requests[i]).owner;
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  fmt::print("ours {:.1f}\n", static_cast<double>(requests.size()) * count / took.count());
  std::ofstream out(work + "/ours.owners");
  for (auto owner : owners) out << model::to_string(owner) << '\n';
  return out ? 0 : 1;
}
