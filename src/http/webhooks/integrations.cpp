// Loading [integrations] from the config file and the integration secrets from the environment.
#include "http/webhooks/integrations.hpp"

#include "config/people.hpp"
#include "config/toml.hpp"
#include "http/webhooks/signature.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <utility>

namespace switchboard::http::webhooks {
namespace {

const toml::table& table_at(const toml::node& node, std::string_view file, std::string_view what) {
  const auto* table = node.as_table();
  if (table == nullptr) config::fail_at(node, file, fmt::format("{} must be a table", what));
  return *table;
}

std::string string_at(const toml::node& node, std::string_view file, std::string_view what) {
  const auto* value = node.as_string();
  if (value == nullptr || value->get().empty()) config::fail_at(node, file, fmt::format("{} must be a non-empty string", what));
  return value->get();
}

std::vector<std::string> strings_at(const toml::node& node, std::string_view file, std::string_view what) {
  const auto* array = node.as_array();
  if (array == nullptr || array->empty())
    config::fail_at(node, file, fmt::format("{} must be a non-empty array of strings", what));
  std::vector<std::string> out;
  for (const auto& item : *array) out.push_back(string_at(item, file, what));
  return out;
}

model::request_kind kind_at(const toml::node& node, std::string_view file) {
  const auto text = string_at(node, file, "kind");
  const auto kind = model::parse_request_kind(text);
  if (!kind || *kind == model::request_kind::concern)
    config::fail_at(node, file, fmt::format("unknown kind \"{}\"; expected how_to, feature_request, troubleshooting "
                                            "or engineering_interrupt", text));
  return *kind;
}

std::size_t bytes_at(const toml::node& node, std::string_view file, std::string_view what) {
  const auto* value = node.as_integer();
  if (value == nullptr || value->get() <= 0) config::fail_at(node, file, fmt::format("{} must be a positive integer (bytes)", what));
  return static_cast<std::size_t>(value->get());
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string{} : std::string(value);
}

void load_customers(integrations& out, const toml::table& table, std::string_view file,
                    const std::vector<std::string>& tiers) {
  for (const auto& [key, node] : table) {
    const auto& entry = table_at(node, file, fmt::format("[integrations.customers.{}]", key.str()));
    config::reject_unknown_keys(entry, file, {"name", "stage", "tier", "domains", "account_team"}, "a customer");
    model::customer customer;
    customer.id = std::string(key.str());
    customer.name = customer.id;
    if (const auto* name = entry.get("name")) customer.name = string_at(*name, file, "name");
    if (const auto* stage = entry.get("stage")) {
      const auto text = string_at(*stage, file, "stage");
      const auto parsed = model::parse_customer_stage(text);
      if (!parsed)
        config::fail_at(*stage, file, fmt::format("unknown stage \"{}\"; expected one of {}", text,
                                                  model::customer_stage_names()));
      customer.stage = *parsed;
    }
    if (const auto* tier = entry.get("tier")) {
      customer.tier = string_at(*tier, file, "tier");
      if (std::find(tiers.begin(), tiers.end(), customer.tier) == tiers.end())
        config::fail_at(*tier, file, fmt::format("unknown tier \"{}\"; expected one of {}", customer.tier,
                                                 fmt::join(tiers, ", ")));
    }
    // Filing on any channel takes the tier from here; a production customer without one would
    // get no SLA clocks, silently.
    if (customer.stage == model::customer_stage::production && customer.tier.empty())
      config::fail_at(node, file, fmt::format("a production customer needs tier = one of {}", fmt::join(tiers, ", ")));
    if (const auto* team = entry.get("account_team")) {
      const auto& members = table_at(*team, file, "account_team (like { ae = \"ann\", ce = \"dana\", ta = \"tom\" })");
      config::reject_unknown_keys(members, file, {"ae", "ce", "ta"}, "account_team");
      for (const auto& [role_key, person] : members) {
        const auto role = *model::parse_role(role_key.str());
        const auto id = string_at(person, file, fmt::format("account_team.{}", role_key.str()));
        (role == model::role::ae ? customer.account_team.ae
                                 : role == model::role::ce ? customer.account_team.ce : customer.account_team.ta) = id;
        out.account_members.push_back({customer.id, id, role, config::position_of(person, file)});
      }
    }
    if (const auto* domains = entry.get("domains"))
      for (const auto& domain : strings_at(*domains, file, "domains")) out.email_domains[util::ascii_lower(domain)] = customer.id;
    out.customers[customer.id] = std::move(customer);
  }
}

// A Slack user's agent: "<CE person>" or { person = "<person>", role = "ce" | "se" }.
slack_agent agent_at(const toml::node& node, std::string_view file) {
  if (node.is_string())
    return {string_at(node, file, "a Slack user's CE person"), model::role::ce, config::position_of(node, file)};
  if (!node.is_table())
    config::fail_at(node, file, "a Slack user must be \"<CE person>\" or { person = \"<person>\", role = \"ce\" or \"se\" }");
  const auto& entry = *node.as_table();
  config::reject_unknown_keys(entry, file, {"person", "role"}, "a Slack user");
  const auto* person = entry.get("person");
  const auto* role = entry.get("role");
  if (person == nullptr || role == nullptr) config::fail_at(node, file, "a Slack user needs person and role");
  slack_agent agent{string_at(*person, file, "person"), model::role::ce, config::position_of(node, file)};
  const auto text = string_at(*role, file, "role");
  const auto parsed = model::parse_role(text);
  if (!parsed || (*parsed != model::role::ce && *parsed != model::role::se))
    config::fail_at(*role, file, fmt::format("unknown role \"{}\" for a Slack user; expected ce or se", text));
  agent.role = *parsed;
  return agent;
}

void load_slack(integrations& out, const toml::table& table, std::string_view file) {
  config::reject_unknown_keys(table, file, {"channels", "users", "api_base_url"}, "[integrations.slack]");
  if (const auto* channels = table.get("channels")) {
    for (const auto& [key, node] : table_at(*channels, file, "[integrations.slack.channels]")) {
      const auto& entry = table_at(node, file, "a Slack channel");
      config::reject_unknown_keys(entry, file, {"customer", "kind", "file"}, "a Slack channel");
      slack_channel channel;
      const auto* customer = entry.get("customer");
      if (customer == nullptr) config::fail_at(node, file, "a Slack channel needs customer = \"<customer id>\"");
      channel.customer = string_at(*customer, file, "customer");
      if (!out.customers.contains(channel.customer))
        config::fail_at(*customer, file, fmt::format("unknown customer \"{}\"; define it in [integrations.customers]",
                                                     channel.customer));
      if (const auto* kind = entry.get("kind")) channel.kind = kind_at(*kind, file);
      if (const auto* filing = entry.get("file")) {
        const auto text = string_at(*filing, file, "file");
        if (text == "mentions")
          channel.file = slack_filing::mentions;
        else if (text == "all")
          channel.file = slack_filing::all;
        else
          config::fail_at(*filing, file, fmt::format("unknown file \"{}\"; expected \"mentions\" (only messages "
                                                     "that mention the app) or \"all\" (every message)", text));
      }
      out.slack_channels[std::string(key.str())] = std::move(channel);
    }
  }
  if (const auto* users = table.get("users"))
    for (const auto& [key, node] : table_at(*users, file, "[integrations.slack.users]"))
      out.slack_users[std::string(key.str())] = agent_at(node, file);
}

}  // namespace

integrations load_integrations(const std::string& path, const std::vector<std::string>& tiers) {
  integrations out;
  out.slack_signing_secret = env("SWITCHBOARD_SLACK_SIGNING_SECRET");
  out.mailgun_signing_key = env("SWITCHBOARD_MAILGUN_SIGNING_KEY");
  out.postmark_password = env("SWITCHBOARD_POSTMARK_PASSWORD");
  out.reply_address_key = env("SWITCHBOARD_REPLY_ADDRESS_KEY");
  out.crm_webhook_secret = env("SWITCHBOARD_CRM_WEBHOOK_SECRET");
  if (path.empty()) return out;

  const auto root = config::parse_file(path);
  const auto* node = root.get("integrations");
  if (node == nullptr) return out;
  const auto& table = table_at(*node, path, "[integrations]");
  config::reject_unknown_keys(table, path,
                      {"support_address", "postmark_user", "slack_max_body_bytes", "email_max_body_bytes", "email_kind",
                       "kind_rules", "customers", "slack",
                       "trusted_authserv_id"},
                      "[integrations]");
  if (const auto* address = table.get("support_address")) {
    out.support_address = util::ascii_lower(string_at(*address, path, "support_address"));
    if (out.support_address.find('@') == std::string::npos || out.support_address.find('+') != std::string::npos)
      config::fail_at(*address, path, "support_address must be an e-mail address without a +tag");
  }
  if (const auto* user = table.get("postmark_user")) out.postmark_user = string_at(*user, path, "postmark_user");
  if (const auto* id = table.get("trusted_authserv_id")) {
    out.trusted_authserv_id = util::ascii_lower(string_at(*id, path, "trusted_authserv_id"));
    if (out.trusted_authserv_id.find_first_of(" \t;()\"") != std::string::npos)
      config::fail_at(*id, path, "trusted_authserv_id must be one authserv-id, e.g. \"mx.example.com\" (RFC 8601)");
  }
  if (const auto* limit = table.get("slack_max_body_bytes"))
    out.slack_max_body_bytes = bytes_at(*limit, path, "slack_max_body_bytes");
  if (const auto* limit = table.get("email_max_body_bytes"))
    out.email_max_body_bytes = bytes_at(*limit, path, "email_max_body_bytes");
  if (const auto* kind = table.get("email_kind")) out.email_kind = kind_at(*kind, path);
  if (const auto* rules = table.get("kind_rules")) {
    const auto* array = rules->as_array();
    if (array == nullptr) config::fail_at(*rules, path, "kind_rules must be an array of { kind, contains_any }");
    for (const auto& item : *array) {
      const auto& entry = table_at(item, path, "a kind rule");
      config::reject_unknown_keys(entry, path, {"kind", "contains_any"}, "a kind rule");
      const auto* kind = entry.get("kind");
      const auto* phrases = entry.get("contains_any");
      if (kind == nullptr || phrases == nullptr) config::fail_at(item, path, "a kind rule needs kind and contains_any");
      kind_rule rule{kind_at(*kind, path), strings_at(*phrases, path, "contains_any")};
      for (auto& phrase : rule.contains_any) phrase = util::fold(phrase);
      out.kind_rules.push_back(std::move(rule));
    }
  }
  if (const auto* customers = table.get("customers"))
    load_customers(out, table_at(*customers, path, "[integrations.customers]"), path, tiers);
  if (const auto* slack = table.get("slack")) load_slack(out, table_at(*slack, path, "[integrations.slack]"), path);
  return out;
}

void check_slack_people(const integrations& config, const model::people_directory& people) {
  for (const auto& [user, agent] : config.slack_users) {
    config::check_person(people, agent.person, agent.role, agent.at, fmt::format("Slack user {}", user));
    const auto* person = people.find(agent.person);
    if (person != nullptr && !person->slack_user.empty() && person->slack_user != user)
      throw config::error(agent.at, fmt::format("Slack user {} names person \"{}\", whose slack_user in [[people]] is {}",
                                                user, agent.person, person->slack_user));
  }
}

void check_account_teams(const integrations& config, const model::people_directory& people) {
  for (const auto& member : config.account_members)
    config::require_person(people, member.person, member.role, member.at,
                           fmt::format("the account_team of customer {}", member.customer));
}

void check_body_budget(const integrations& config, const std::string& path, std::size_t budget) {
  for (const auto& [key, limit] : {std::pair<std::string_view, std::size_t>{"slack_max_body_bytes", config.slack_max_body_bytes},
                                   std::pair<std::string_view, std::size_t>{"email_max_body_bytes", config.email_max_body_bytes}}) {
    if (limit <= budget) continue;
    const auto message = fmt::format(
        "[server] max_unauthenticated_body_bytes ({} bytes) is below [integrations] {} ({} bytes): a signed "
        "webhook body that large could never be read, and each would be answered 503 busy; expected at least {}",
        budget, key, limit, limit);
    if (path.empty()) throw config::error({path, 0, 0}, message);
    const auto root = config::parse_file(path);
    const toml::node* at = nullptr;
    if (const auto* server = root.get("server"); server != nullptr && server->is_table())
      at = server->as_table()->get("max_unauthenticated_body_bytes");
    if (at == nullptr)
      if (const auto* own = root.get("integrations"); own != nullptr && own->is_table()) at = own->as_table()->get(key);
    if (at != nullptr) config::fail_at(*at, path, message);
    throw config::error({path, 0, 0}, message);
  }
}

std::string reply_to(const integrations& config, model::request_id id) {
  if (config.reply_address_key.empty()) return {};
  return reply_address(config.reply_address_key, config.support_address, id);
}

model::request_kind kind_for(const integrations& config, std::string_view text, model::request_kind fallback) {
  const auto haystack = util::fold(text);
  for (const auto& rule : config.kind_rules)
    for (const auto& phrase : rule.contains_any)
      if (haystack.find(phrase) != std::string::npos) return rule.kind;
  return fallback;
}

}  // namespace switchboard::http::webhooks
