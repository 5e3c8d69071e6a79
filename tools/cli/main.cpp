// switchboard-cli: file and read requests through the API, and check or explain the rules offline.
#include "app/version.hpp"
#include "cli/backtest.hpp"
#include "cli/completion.hpp"
#include "cli/import.hpp"
#include "cli/token.hpp"
#include "config/error.hpp"
#include "config/people.hpp"
#include "config/settings.hpp"
#include "config/tokens.hpp"
#include "config/use_cases.hpp"
#include "engine/engine.hpp"
#include "http/client.hpp"
#include "http/customer_book.hpp"
#include "http/webhooks/integrations.hpp"
#include "codec/json.hpp"
#include "outbound/config.hpp"
#include "outbound/email_message.hpp"
#include "outbound/slack_api.hpp"
#include "outbound/smtp.hpp"
#include "policy/load.hpp"
#include "rules/evaluator.hpp"
#include "sla/policy.hpp"
#include "store/clocks.hpp"
#include "store/copy.hpp"
#include "store/customers.hpp"
#include "store/inspect.hpp"

#include "util/text.hpp"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>
#include <filesystem>
#include <iostream>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace {

using namespace switchboard;
namespace json = boost::json;

std::string environment(const char* name, std::string fallback = {}) {
  const char* value = std::getenv(name);
  return value ? value : fallback;
}

struct options {
  std::string server = environment("SWITCHBOARD_URL", "http://127.0.0.1:8080");
  std::string token = environment("SWITCHBOARD_TOKEN");
  std::string config = "config/switchboard.toml";
  bool json = false;
  int timeout_seconds = 30;  // for each API call: no answer by then is an error (exit 1)
};

// Stored text as a terminal may show it (util::visible_text): a title cannot move the cursor,
// recolour or retitle the terminal, hide what it says, or start a line of its own that passes
// for one of ours ("Status:   resolved").
std::string terminal_safe(std::string_view text, bool keep_line_breaks = false) {
  return util::visible_text(text, keep_line_breaks);
}

std::string text_of(const json::value& value) {
  if (value.is_string()) return terminal_safe(value.as_string());
  if (value.is_null()) return "-";
  return terminal_safe(json::serialize(value));
}

std::string join_strings(const json::value& array) {
  std::string out;
  for (const auto& item : array.as_array()) out += (out.empty() ? "" : ", ") + text_of(item);
  return out.empty() ? "-" : out;
}

void print_trace(const json::object& routing) {
  fmt::print("Rules evaluated:\n");
  for (const auto& step_value : routing.at("trace").as_array()) {
    const auto& step = step_value.as_object();
    if (step.at("matched").as_bool()) {
      fmt::print("  + {} matched\n", text_of(step.at("rule")));
    } else if (const auto* failed = step.if_contains("failed")) {
      const auto& f = failed->as_object();
      fmt::print("  - {}: {} {} {} failed (actual: {})\n", text_of(step.at("rule")), text_of(f.at("field")),
                 text_of(f.at("op")), text_of(f.at("expected")), text_of(f.at("actual")));
    }
  }
  if (routing.at("fallback").as_bool()) fmt::print("  no rule matched: the fallback decided\n");
}

void print_decision(const json::object& routing) {
  fmt::print("Owner:    {}\n", text_of(routing.at("owner")));
  fmt::print("Rule:     {}\n", text_of(routing.at("rule")));
  fmt::print("Why:      {}\n", text_of(routing.at("reason")));
  fmt::print("Priority: {}\n", text_of(routing.at("priority")));
  fmt::print("Tags:     {}\n", join_strings(routing.at("tags")));
  fmt::print("Watchers: {}\n", join_strings(routing.at("watchers")));
  for (const auto& note : routing.at("notes").as_array()) fmt::print("Note:     {}\n", text_of(note));
}

void print_request(const json::object& request) {
  const auto& customer = request.at("customer").as_object();
  fmt::print("Request {}: {}\n", text_of(request.at("id")), text_of(request.at("title")));
  fmt::print("Kind:     {}\n", text_of(request.at("kind")));
  fmt::print("Customer: {} ({}, {}{})\n", text_of(customer.at("name")), text_of(customer.at("id")),
             text_of(customer.at("stage")), customer.at("tier").is_null() ? "" : ", " + text_of(customer.at("tier")));
  fmt::print("Status:   {}\n", text_of(request.at("status")));
  if (const auto* assignee = request.if_contains("assignee"))
    fmt::print("Assignee: {}\n", assignee->is_null() ? std::string("unassigned") : text_of(*assignee));
  // What the request waits for, and where its conversation went (each only when it has one).
  if (const auto* due = request.if_contains("review_due_at")) fmt::print("Review:   Product's decision due {}\n", text_of(*due));
  if (request.contains("review_overdue"))
    fmt::print("Review:   overdue: the product_review ladder escalates; its roles may decide\n");
  if (const auto* closes = request.if_contains("closes_at")) fmt::print("Closes:   {}\n", text_of(*closes));
  if (const auto* follows = request.if_contains("follows")) fmt::print("Follows:  request {}\n", text_of(*follows));
  if (const auto* by = request.if_contains("followed_up_by"))
    fmt::print("Followed up by: request {}\n", text_of(*by));
  // Who asked, and where replies go (null: unknown, or no reply address key configured).
  if (const auto* requester = request.if_contains("requester")) fmt::print("Requester: {}\n", text_of(*requester));
  if (const auto* reply_to = request.if_contains("reply_to")) fmt::print("Reply-To: {}\n", text_of(*reply_to));
  print_decision(request.at("routing").as_object());
  print_trace(request.at("routing").as_object());
}

// Prints an API answer; returns the exit code (0 for 2xx).
int report(const http::client_response& res, const options& opts, const std::function<void(const json::value&)>& print) {
  json::error_code ec;
  auto body = json::parse(res.body, ec);
  if (res.status >= 200 && res.status < 300 && !ec) {
    if (opts.json)
      fmt::print("{}\n", json::serialize(body));
    else
      print(body);
    return 0;
  }
  if (opts.json) {
    fmt::print("{}", res.body);
  } else if (!ec && body.is_object() && body.as_object().contains("error")) {
    const auto& error = body.at("error").as_object();
    fmt::print(stderr, "error ({} {}): {}\n", res.status, text_of(error.at("code")), text_of(error.at("message")));
  } else {
    fmt::print(stderr, "error: HTTP {}: {}\n", res.status, terminal_safe(res.body, true));
  }
  return 1;
}

http::client connect(const options& opts) {
  http::client client(opts.server, std::chrono::seconds{opts.timeout_seconds});
  if (!opts.token.empty()) client.set_token(opts.token);
  return client;
}

void print_action_notes(const json::object& answer) {
  if (const auto* note = answer.if_contains("note")) fmt::print("Note:     {}\n", text_of(*note));
  if (const auto* draft = answer.if_contains("first_contact_draft")) {
    // The draft spans lines: each is shown indented, every other control escaped.
    std::string shown = draft->is_string() ? terminal_safe(draft->as_string(), true) : text_of(*draft);
    for (auto at = shown.find('\n'); at != std::string::npos; at = shown.find('\n', at + 3)) shown.replace(at, 1, "\n  ");
    fmt::print("\nSE's first contact, drafted:\n  {}\n", shown);
  }
  if (const auto* created = answer.if_contains("created"))
    fmt::print("\nCreated request {} ({}, owner {})\n", text_of(created->at("id")), text_of(created->at("kind")),
               text_of(created->at("owner")));
  if (const auto* warnings = answer.if_contains("warnings"))
    for (const auto& w : warnings->as_array()) {
      fmt::print(stderr, "warning: {}: {}\n", text_of(w.at("message")), join_strings(w.at("terms")));
      fmt::print(stderr, "  suggested: {}\n", text_of(w.at("suggestion")));
    }
}

// How many of a use case's listed decisions (the last 90 days) were `decision`.
std::size_t decided(const json::object& use_case, std::string_view decision) {
  const auto& all = use_case.at("decisions").as_array();
  return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [&](const json::value& d) {
    return d.at("decision").as_string() == decision;
  }));
}

void print_use_cases(const json::object& answer) {
  if (!answer.at("configured").as_bool()) {
    fmt::print("No use cases are configured ([use_cases.<tag>] in the config): use_case is a free tag.\n");
    return;
  }
  fmt::print("{:<20} {:<16} {:>5} {:>9} {:>9}   (decisions since {})\n", "TAG", "DRI", "OPEN", "ACCEPTED", "DECLINED",
             text_of(answer.at("decisions_since")));
  for (const auto& item : answer.at("use_cases").as_array()) {
    const auto& u = item.as_object();
    fmt::print("{:<20} {:<16} {:>5} {:>9} {:>9}\n", text_of(u.at("tag")), text_of(u.at("dri")),
               text_of(u.at("open").at("total")), decided(u, "accepted"), decided(u, "declined"));
  }
}

void print_use_case(const json::object& answer) {
  const auto& u = answer.at("use_case").as_object();
  fmt::print("Use case: {} ({})\n", text_of(u.at("tag")), text_of(u.at("name")));
  if (const auto& description = u.at("description").as_string(); !description.empty())
    fmt::print("About:    {}\n", text_of(u.at("description")));
  fmt::print("DRI:      {}\n", text_of(u.at("dri")));
  const auto& open = u.at("open").as_object();
  const auto counts = [](const json::value& by) {
    std::string out;
    for (const auto& [key, value] : by.as_object()) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", key, text_of(value));
    return out.empty() ? std::string("-") : out;
  };
  fmt::print("Open:     {} (by kind: {}; by team: {})\n", text_of(open.at("total")), counts(open.at("by_kind")),
             counts(open.at("by_team")));
  fmt::print("Decisions since {}: {} accepted, {} declined\n", text_of(answer.at("decisions_since")),
             decided(u, "accepted"), decided(u, "declined"));
  for (const auto& item : u.at("decisions").as_array()) {
    const auto& d = item.as_object();
    fmt::print("  {}  request {:<6} {:<8} by {}{}{}\n", text_of(d.at("at")), text_of(d.at("request_id")),
               text_of(d.at("decision")), text_of(d.at("actor")), d.at("executive").as_bool() ? " (executive)" : "",
               d.at("reason").as_string().empty() ? "" : ": " + text_of(d.at("reason")));
  }
}

void print_escalations(const json::array& escalations) {
  fmt::print("{:<8} {:>7}  {:<14} {:<13} {}\n", "ID", "REQUEST", "LADDER", "STATE", "LAST NOTIFIED");
  for (const auto& item : escalations) {
    const auto& e = item.as_object();
    std::string last = "-";
    if (const auto& notifications = e.at("notifications").as_array(); !notifications.empty())
      last = fmt::format("{} at {}", join_strings(notifications.back().at("roles")),
                         text_of(notifications.back().at("at")));
    fmt::print("{:<8} {:>7}  {:<14} {:<13} {}\n", text_of(e.at("id")),
               e.contains("request_id") ? text_of(e.at("request_id")) : "-", text_of(e.at("ladder")),
               text_of(e.at("state")), last);
  }
}

// A customer document's fields: "stage production, tier premium, name Acme, account team ...".
std::string customer_fields(const json::object& customer) {
  const auto& team = customer.at("account_team").as_object();
  return fmt::format("stage {}, tier {}, name {}, account team ae {} ce {} ta {}", text_of(customer.at("stage")),
                     text_of(customer.at("tier")), text_of(customer.at("name")), text_of(team.at("ae")),
                     text_of(team.at("ce")), text_of(team.at("ta")));
}

// What a recorded change changed, field by field ("stage trial -> production, tier - -> premium").
std::string customer_diff(const json::value& before, const json::object& after) {
  if (before.is_null()) return "created: " + customer_fields(after);
  std::string out;
  const auto add = [&](std::string_view name, const json::value& was, const json::value& now) {
    if (was != now) out += fmt::format("{}{} {} -> {}", out.empty() ? "" : ", ", name, text_of(was), text_of(now));
  };
  const auto& was = before.as_object();
  for (const auto* key : {"name", "stage", "tier"}) add(key, was.at(key), after.at(key));
  for (const auto* key : {"ae", "ce", "ta"})
    add(fmt::format("account_team.{}", key), was.at("account_team").at(key), after.at("account_team").at(key));
  return out.empty() ? "no change" : out;
}

void print_customer(const json::object& customer) {
  fmt::print("Customer {}: {}\n", text_of(customer.at("id")), text_of(customer.at("name")));
  fmt::print("Stage:    {}\n", text_of(customer.at("stage")));
  fmt::print("Tier:     {}\n", text_of(customer.at("tier")));
  const auto& team = customer.at("account_team").as_object();
  fmt::print("Account:  ae {}, ce {}, ta {}\n", text_of(team.at("ae")), text_of(team.at("ce")), text_of(team.at("ta")));
  fmt::print("Updated:  {} by {} ({})\n", text_of(customer.at("updated_at")), text_of(customer.at("updated_by")),
             text_of(customer.at("source")));
  if (const auto* changed = customer.if_contains("changed"))
    fmt::print("{}\n", changed->as_bool() ? "Changed: requests filed from now on take it; those filed before keep theirs"
                                          : "Unchanged: it already held these values");
  if (const auto* changes = customer.if_contains("changes")) {
    fmt::print("Changes, newest first:\n");
    for (const auto& item : changes->as_array()) {
      const auto& change = item.as_object();
      fmt::print("  {} {} ({}): {}\n", text_of(change.at("at")), text_of(change.at("actor")), text_of(change.at("source")),
                 customer_diff(change.at("before"), change.at("after").as_object()));
    }
    if (customer.at("more_changes").as_bool()) fmt::print("  ... older changes: --json with ?limit, or the API\n");
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot read {}", path));
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string percent_encode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

// Business seconds as a person reads them in a table: 45s, 12m05s, 3h20m; "-" for none.
std::string duration_text(const json::value& seconds) {
  if (!seconds.is_int64() && !seconds.is_uint64()) return "-";
  const auto s = seconds.to_number<std::int64_t>();
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

// `report sla`: one line per group, then the total.
void print_sla_report(const json::object& answer) {
  fmt::print("SLA report {} to {}, by {} ({})\n", text_of(answer.at("from")), text_of(answer.at("to")),
             text_of(answer.at("group_by")), text_of(answer.at("tz")));
  fmt::print("{:<24} {:>7} {:>6} {:>8} {:>6} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "GROUP", "STARTED", "MET",
             "BREACHED", "OPEN", "%MET", "FR MED", "FR P90", "RES MED", "RES P90", "PAUSED");
  auto line = [](const json::object& row) {
    auto key = text_of(row.at("key"));
    if (const auto* name = row.if_contains("name"); name && !name->as_string().empty())
      key += " (" + text_of(*name) + ")";
    if (key.empty()) key = "(none)";
    fmt::print("{:<24} {:>7} {:>6} {:>8} {:>6} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}\n", key,
               text_of(row.at("clocks_started")), text_of(row.at("met")), text_of(row.at("breached")),
               text_of(row.at("open")),
               row.at("percent_met").is_null() ? std::string("-")
                                               : fmt::format("{:.1f}", row.at("percent_met").to_number<double>()),
               duration_text(row.at("first_response").at("median_seconds")),
               duration_text(row.at("first_response").at("p90_seconds")),
               duration_text(row.at("resolution").at("median_seconds")),
               duration_text(row.at("resolution").at("p90_seconds")),
               duration_text(row.at("paused").at("total_seconds")));
  };
  for (const auto& row : answer.at("groups").as_array()) line(row.as_object());
  line(answer.at("total").as_object());
}

// "?key=value&..." for the non-empty values.
std::string query_string(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [key, value] : params)
    if (!value.empty()) out += (out.empty() ? "?" : "&") + key + "=" + percent_encode(value);
  return out;
}

}  // namespace

// `outbound test-email`: the config's SMTP settings, tried end to end with one message marked
// Auto-Submitted (RFC 3834), so an intake or auto-responder that loops it back files nothing.
int send_test_email(const options& opts, const std::string& to) {
  const auto settings = config::load_settings(opts.config);
  const auto integrations = http::webhooks::load_integrations(settings.file, settings.tiers);
  const auto email = outbound::load_email_settings_file(settings.file, integrations.support_address);
  if (!email) {
    fmt::print(stderr, "error: {} has no [outbound.email] section (smtp_url, username, from: README \"Sending e-mail "
                       "(SMTP)\")\n", settings.file);
    return 1;
  }
  if (!email->smtp.username.empty() && email->smtp.password.empty()) {
    fmt::print(stderr, "error: [outbound.email] username is \"{}\" but SWITCHBOARD_SMTP_PASSWORD is not set\n",
               email->smtp.username);
    return 1;
  }
  const auto from_address = outbound::address_of(email->from);
  const auto to_address = outbound::address_of(to);
  unsigned char random[8];
  if (RAND_bytes(random, sizeof random) != 1) throw std::runtime_error("no random bytes for the Message-ID");
  outbound::email_spec spec;
  spec.from = email->from;
  spec.to = {to};
  spec.subject = "Switchboard test e-mail";
  spec.message_id = fmt::format("sb.test.{:02x}@{}", fmt::join(random, random + sizeof random, ""),
                                from_address.substr(from_address.find('@') + 1));
  spec.text = fmt::format("This message checks Switchboard's SMTP settings ({} as {}).\nNothing needs to be done.",
                          email->smtp.url, email->smtp.username.empty() ? "no AUTH user" : email->smtp.username);
  spec.kind = outbound::email_kind::notification;
  const auto verdict = outbound::submit(email->smtp, from_address, {to_address},
                                        outbound::compose(spec, std::chrono::system_clock::now()));
  const bool delivered = verdict.outcome == outbound::smtp_outcome::delivered;
  if (opts.json)
    fmt::print("{}\n", json::serialize(json::object{{"outcome", outbound::to_string(verdict.outcome)},
                                                    {"code", verdict.code},
                                                    {"text", verdict.text},
                                                    {"message_id", spec.message_id},
                                                    {"smtp_url", email->smtp.url}}));
  else
    fmt::print(delivered ? stdout : stderr, "{}: {} (Message-ID <{}> to {} via {})\n",
               outbound::to_string(verdict.outcome), verdict.text, spec.message_id, to_address, email->smtp.url);
  return delivered ? 0 : 1;
}

int main(int argc, char** argv) {
  CLI::App app{"switchboard-cli: file and inspect support requests, check and explain routing rules"};
  app.set_version_flag("--version", build_info::version_text("switchboard-cli"), "print the version and the commit built from");
  app.require_subcommand(1);
  app.fallthrough();
  options opts;
  app.add_option("--server", opts.server, "server address (or SWITCHBOARD_URL)")->capture_default_str();
  app.add_option("--config", opts.config, "config file, for the offline rules commands")->capture_default_str();
  app.add_flag("--json", opts.json, "print JSON for scripts");
  app.add_option("--token", opts.token, "API token (or SWITCHBOARD_TOKEN)");
  app.add_option("--timeout", opts.timeout_seconds,
                 "seconds each call may take in all (connect, send, the whole answer); then exit 1, \"timed out\" "
                 "(POSTs carry an Idempotency-Key, so retrying one after a timeout never files twice)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  std::string kind, customer_id, customer_name, stage, tier, title, body, priority, use_case;
  auto* file = app.add_subcommand("file", "file a request (as a Customer Engineer, source cli)");
  file->add_option("--kind", kind, "how_to, feature_request, troubleshooting, engineering_interrupt or concern")
      ->required();
  file->add_option("--customer", customer_id, "customer id (name, stage and tier come from the server's "
                                             "[integrations.customers] when it is listed there)")
      ->required();
  file->add_option("--customer-name", customer_name, "customer name (required unless the customer is listed)");
  file->add_option("--stage", stage, "prospect, trial or production (required unless the customer is listed)");
  file->add_option("--tier", tier, "contract tier (required for production unless the customer is listed)");
  file->add_option("--title", title, "one-line summary")->required();
  file->add_option("--body", body, "details");
  file->add_option("--priority", priority, "low, normal, high or urgent");
  file->add_option("--use-case", use_case, "use-case tag");

  std::string id;
  auto* show = app.add_subcommand("show", "show a request with its routing decision and trace");
  show->add_option("ID", id, "request id")->required();

  std::string team, status, cursor, assignee;
  int limit = 0;
  auto* list = app.add_subcommand("list", "list requests, newest first");
  list->add_option("--team", team, "owning team: ce, se, product, engineering, engineering_discussion");
  list->add_option("--status", status, "status");
  list->add_option("--customer", customer_id, "customer id");
  list->add_option("--assignee", assignee, "held by this person (a [[people]] id), none (nobody) or mine (you)");
  list->add_option("--limit", limit, "at most this many (1-200)");
  list->add_option("--cursor", cursor, "continue from a previous page's next_cursor");

  auto* rules = app.add_subcommand("rules", "the routing rules, offline");
  rules->require_subcommand(1);
  std::string request_file;
  auto* explain = rules->add_subcommand("explain", "run the rules on a request JSON file and print the decision");
  explain->add_option("REQUEST.json", request_file, "a request as POST /v1/requests takes it")->required();
  auto* check = rules->add_subcommand(
      "check", "validate the rules, the config and the tokens file; exit 1 with file:line:col");
  std::string check_database;
  std::string check_tokens;
  check->add_option("--tokens", check_tokens, "the tokens file to check instead of [auth] tokens_file, as the server's --tokens");
  check->add_option("--db", check_database,
                    "also check that every calendar and SLA policy the open clocks of this database use is still "
                    "configured (or replaced): a SQLite file, or a PostgreSQL URL such as \"$SWITCHBOARD_DATABASE_URL\" "
                    "(read only)");

  auto* sla_command = app.add_subcommand("sla", "business-time arithmetic on the configured calendars, offline");
  sla_command->require_subcommand(1);
  std::string calendar_name, start, duration, from, to;
  auto* deadline = sla_command->add_subcommand("deadline", "the instant a business duration from START ends");
  deadline->add_option("--calendar", calendar_name, "calendar name from the config")->required();
  deadline->add_option("--start", start, "ISO-8601 instant with an offset, e.g. 2026-11-20T17:30:00-08:00 or 2026-11-21T01:30Z")
      ->required();
  deadline->add_option("--duration", duration, "business duration: 1h, 90m, 1h30m, 45s")->required();
  auto* between = sla_command->add_subcommand("between", "business seconds from FROM to TO");
  between->add_option("--calendar", calendar_name, "calendar name from the config")->required();
  between->add_option("--from", from, "ISO-8601 instant with an offset")->required();
  between->add_option("--to", to, "ISO-8601 instant with an offset")->required();

  std::string action, message;
  std::vector<std::string> fields;
  auto* act = app.add_subcommand("act", "act on a request: respond, pend, handoff, engage_engineering, ...");
  act->add_option("ID", id, "request id")->required();
  act->add_option("TYPE", action, std::string("one of ") + std::string(engine::action_kind_names()))->required();
  act->add_option("--message,-m", message, "the message (customer-facing for respond and pend)");
  act->add_option("--field,-f", fields, "another field as key=value, e.g. -f customer_impact=\"...\" "
                                        "(roles=a,b for bring_in)");
  bool internal = false, confirm_unverified = false;
  act->add_flag("--internal", internal,
                "respond, pend: an internal note (\"public\": false), never sent to the customer");
  act->add_flag("--confirm-unverified", confirm_unverified,
                "respond, pend: answer an e-mail sender who was not authenticated (\"confirm_unverified\": true)");

  std::string assign_to, assign_reason;
  auto* take_command = app.add_subcommand("take", "take a request: assign it to yourself (a member of its owning team)");
  take_command->add_option("ID", id, "request id")->required();
  take_command->add_option("--reason,-r", assign_reason, "why, for the request's history");
  auto* assign_command = app.add_subcommand(
      "assign", "assign a request to a member of its owning team (as a lead of that team, head_of_cs or admin)");
  assign_command->add_option("ID", id, "request id")->required();
  assign_command->add_option("--to", assign_to, "the person's id in [[people]]")->required();
  assign_command->add_option("--reason,-r", assign_reason, "why it goes to them, for the request's history")->required();

  std::string customer_ref, customer_stage, customer_tier, customer_name_to_set;
  auto* customer_command = app.add_subcommand("customer", "a customer's stage, tier and recorded changes");
  customer_command->require_subcommand(1);
  auto* customer_show = customer_command->add_subcommand("show", "show a customer as stored, with its newest changes");
  customer_show->add_option("ID", customer_ref, "customer id")->required();
  auto* customer_set = customer_command->add_subcommand(
      "set", "set a customer's stage and tier (admin or integration token): requests filed after it take them, those "
             "filed before keep theirs and their clocks");
  customer_set->add_option("ID", customer_ref, "customer id (a new one is created; give --name)")->required();
  customer_set->add_option("--stage", customer_stage, "prospect, trial or production")->required();
  customer_set->add_option("--tier", customer_tier, "contract tier (required for production; none when not given)");
  customer_set->add_option("--name", customer_name_to_set, "the customer's name (required to create one; kept when not given)");

  std::string use_case_tag;
  auto* use_cases = app.add_subcommand(
      "use-cases", "the configured use cases: DRI, open requests, Product's decisions of the last 90 days");
  use_cases->add_option("TAG", use_case_tag, "one use case, with its open requests by kind and team and its decisions");

  std::string report_from, report_to, report_group_by = "team", report_tz;
  bool report_csv = false;
  auto* report_command = app.add_subcommand("report", "reports from the API");
  report_command->require_subcommand(1);
  auto* report_sla = report_command->add_subcommand(
      "sla", "clocks started, met, breached, % met, median and p90 time to first response and resolution, paused");
  report_sla->add_option("--from", report_from, "start, inclusive: 2026-11-01 or an RFC 3339 instant (default: 12 weeks before --to)");
  report_sla->add_option("--to", report_to, "end, exclusive: 2026-12-01 or an RFC 3339 instant (default: now)");
  report_sla->add_option("--group-by", report_group_by, "team, policy, customer, use_case or week")
      ->check(CLI::IsMember({"team", "policy", "customer", "use_case", "week"}));
  report_sla->add_option("--tz", report_tz, "IANA time zone for dates and weeks (default UTC)");
  report_sla->add_flag("--csv", report_csv, "print the CSV (RFC 4180) as the server sends it");

  std::string escalation_state, escalation_role;
  auto* escalations = app.add_subcommand("escalations", "list escalations, newest first");
  escalations->add_option("--state", escalation_state, "open, acknowledged or resolved");
  escalations->add_option("--role", escalation_role, "only those that notified this role");
  int escalation_page_size = 200;
  escalations->add_option("--page-size", escalation_page_size, "escalations fetched per request (1-200); every page is listed")
      ->check(CLI::Range(1, 200));
  auto* escalation = app.add_subcommand("escalation", "acknowledge or resolve an escalation");
  escalation->require_subcommand(1);
  std::string escalation_id;
  auto* acknowledge = escalation->add_subcommand("ack", "acknowledge: stops the ladder");
  acknowledge->add_option("ID", escalation_id, "escalation id, e.g. 12-1")->required();
  acknowledge->add_option("--message,-m", message, "a note");
  auto* close = escalation->add_subcommand("resolve", "resolve the escalation");
  close->add_option("ID", escalation_id, "escalation id, e.g. 12-1")->required();
  close->add_option("--message,-m", message, "a note");

  std::string person, role_name;
  auto* token = app.add_subcommand("token", "API tokens");
  token->require_subcommand(1);
  auto* token_new = token->add_subcommand("new", "make a token; prints it and the [[token]] entry to add to the tokens file");
  token_new->add_option("--person", person, "who the token is for")->required();
  token_new->add_option("--role", role_name, std::string("one of ") + std::string(model::role_names()))->required();
  std::string append_to;
  token_new->add_option("--append", append_to, "append the entry to this tokens file and print only the token");
  std::string revoke_token, revoke_sha256, revoke_person, revoke_file;
  auto* token_revoke = token->add_subcommand(
      "revoke", "remove a token's [[token]] entries from the tokens file (then SIGHUP the server to apply)");
  auto* revoke_by_token = token_revoke->add_option("--token", revoke_token, "the token; - reads it from stdin");
  auto* revoke_by_hash = token_revoke->add_option("--sha256", revoke_sha256, "the token's SHA-256 (hex), as in the file");
  auto* revoke_by_person = token_revoke->add_option("--person", revoke_person, "every token of this person");
  revoke_by_token->excludes(revoke_by_hash)->excludes(revoke_by_person);
  revoke_by_hash->excludes(revoke_by_person);
  token_revoke->add_option("--file", revoke_file, "the tokens file (default: [auth] tokens_file of --config)");

  std::string test_to;
  auto* outbound_command = app.add_subcommand("outbound", "check the deployment's outbound channels");
  outbound_command->require_subcommand(1);
  auto* test_email = outbound_command->add_subcommand(
      "test-email", "send one test e-mail through [outbound.email] (SMTP, password from SWITCHBOARD_SMTP_PASSWORD) "
                    "and print the server's verdict; exit 1 unless it was delivered");
  test_email->add_option("--to", test_to, "recipient address")->required();

  std::string copy_from;
  auto* store_command = app.add_subcommand("store", "the database, offline");
  store_command->require_subcommand(1);
  auto* store_copy = store_command->add_subcommand(
      "copy", "copy a SQLite database into the PostgreSQL database SWITCHBOARD_DATABASE_URL names (empty; migrated "
              "first), all or nothing; stop the server first");
  store_copy->add_option("--from", copy_from, "the SQLite file (default: [server] database of --config)");

  std::string import_path;
  cli::import_options import_opts;
  auto* import_command = app.add_subcommand(
      "import", "import existing tickets with their history from a JSON-lines file (an admin token; README \"Importing "
                "tickets\"); exit 1 when a line was refused");
  import_command->add_option("FILE", import_path, "the .jsonl file: one ticket per line")->required();
  import_command->add_option("--batch", import_opts.batch_lines, "lines per request (1-500)")
      ->check(CLI::Range(1, 500))
      ->capture_default_str();

  cli::backtest_options backtest_opts;
  std::string backtest_from, backtest_to, backtest_rules;
  auto* backtest_command = app.add_subcommand(
      "backtest",
      "replay a window of recorded history under the current config and a proposed one, offline and read-only, and "
      "print what would have differed (README \"Before you change a rule\"); exit 1 for a bad file or window, 3 when "
      "--verify finds differences. (--server, a backtest run by the server, is not built yet.)");
  backtest_command->add_option("--db", backtest_opts.db,
                               "the recorded history: a SQLite file (opened read-only) or a PostgreSQL URL such as "
                               "\"$SWITCHBOARD_DATABASE_URL\" (a read-only session)")
      ->required();
  backtest_command->add_option("--config", backtest_opts.proposed_config, "the proposed config (NEW.toml)")->required();
  backtest_command->add_option("--rules", backtest_rules,
                               "the proposed rules file (default: the rules file the proposed config names)");
  backtest_command->add_option("--current", backtest_opts.current_config,
                               "the current config (default: the global --config, config/switchboard.toml)");
  backtest_command->add_option("--from", backtest_from,
                               "first day filed, YYYY-MM-DD in the report calendar's zone, or an ISO-8601 instant "
                               "(default: 90 days before --to)");
  backtest_command->add_option("--to", backtest_to,
                               "last day filed, YYYY-MM-DD (included), or an ISO-8601 instant (excluded) (default: the "
                               "newest recorded event)");
  backtest_command->add_option("--calendar", backtest_opts.calendar,
                               "the report calendar of the current config: dates, ISO weeks and the load samples")
      ->capture_default_str();
  auto* backtest_json_flag = backtest_command->add_flag("--json", backtest_opts.json, "print the report as JSON (lists capped at 1,000)");
  backtest_command->add_flag("--csv", backtest_opts.csv, "print one CSV row per difference the report lists")
      ->excludes(backtest_json_flag);
  backtest_command->add_flag("--verify", backtest_opts.verify,
                             "also compare the current-side replay with the record, event by event; exit 3 on a "
                             "difference");

  std::string shell;
  auto* completion = app.add_subcommand("completion", "print a shell completion script (bash) made from these commands");
  completion->add_option("shell", shell, "the shell: bash")->required()->check(CLI::IsMember({"bash"}));

  CLI11_PARSE(app, argc, argv);

  try {
    if (*completion) {
      fmt::print("{}", cli::bash_completion(app, "switchboard-cli"));
      return 0;
    }
    if (*token_new) {
      const auto role = model::parse_role(role_name);
      if (!role) {
        fmt::print(stderr, "error: unknown role \"{}\"; expected one of {}\n", role_name, model::role_names());
        return 1;
      }
      const auto secret = config::new_token();
      const auto entry = fmt::format("[[token]]\nperson = \"{}\"\nrole = \"{}\"\nsha256 = \"{}\"\n", person,
                                     model::to_string(*role), config::sha256_hex(secret));
      if (!append_to.empty()) {
        // A tokens file this makes is the owner's alone from its first byte (0600).
        const int fd = ::open(append_to.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        const bool written =
            fd >= 0 && ::write(fd, entry.data(), entry.size()) == static_cast<ssize_t>(entry.size());
        if (fd >= 0) ::close(fd);
        if (!written) throw std::runtime_error(fmt::format("cannot append to {}", append_to));
        fmt::print("{}\n", secret);
      } else if (opts.json) {
        fmt::print("{}\n", json::serialize(json::object{{"token", secret}, {"entry", entry}}));
      } else {
        fmt::print("token: {}\n\nAdd to the tokens file ([auth] tokens_file):\n{}", secret, entry);
      }
      return 0;
    }
    if (*store_copy) {
      const char* url = std::getenv("SWITCHBOARD_DATABASE_URL");
      if (url == nullptr || *url == '\0') {
        fmt::print(stderr, "error: set SWITCHBOARD_DATABASE_URL to the PostgreSQL database to copy into (the URL is "
                           "never read from a file or the command line)\n");
        return 2;
      }
      const auto from = copy_from.empty() ? config::load_settings(opts.config).database_path : copy_from;
      const auto started = std::chrono::steady_clock::now();
      const auto report = store::copy_sqlite_to_postgres(from, url, [&](const store::copied_table& table) {
        if (!opts.json) fmt::print(stderr, "  {:<24} {:>10} rows\n", table.name, table.rows);
      });
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
      std::int64_t rows = 0;
      for (const auto& t : report.tables) rows += t.rows;
      if (opts.json) {
        json::object tables;
        for (const auto& t : report.tables) tables[t.name] = t.rows;
        fmt::print("{}\n", json::serialize(json::object{{"from", report.from},
                                                        {"to", report.to},
                                                        {"schema_version", report.schema_version},
                                                        {"tables", std::move(tables)},
                                                        {"seconds", took.count()}}));
      } else {
        fmt::print("copied {} rows of {} tables (schema version {}) from {} to {} in {:.1f} s\n", rows,
                   report.tables.size(), report.schema_version, report.from, report.to, took.count());
      }
      return 0;
    }
    if (*token_revoke) {
      cli::token_match match;
      if (revoke_token == "-") std::getline(std::cin, revoke_token);
      while (!revoke_token.empty() && (revoke_token.back() == '\r' || revoke_token.back() == ' ')) revoke_token.pop_back();
      if (!revoke_token.empty()) match.sha256 = config::sha256_hex(revoke_token);
      for (auto& c : revoke_sha256) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!revoke_sha256.empty()) match.sha256 = revoke_sha256;
      match.person = revoke_person;
      if (match.sha256.empty() && match.person.empty()) {
        fmt::print(stderr, "error: give --token, --sha256 or --person\n");
        return 2;
      }
      const auto file = revoke_file.empty() ? config::load_settings(opts.config).tokens_file : revoke_file;
      if (file.empty()) {
        fmt::print(stderr, "error: no tokens file: give --file, or a --config whose [auth] names one\n");
        return 2;
      }
      const auto removed = cli::revoke_tokens(file, match);
      fmt::print("removed {} from {}\n", removed, file);
      if (removed > 0) fmt::print("send SIGHUP to apply (systemctl reload switchboard, or kill -HUP <pid>)\n");
      return removed > 0 ? 0 : 1;
    }
    if (*test_email) return send_test_email(opts, test_to);
    if (*import_command) {
      import_opts.json = opts.json;
      auto client = connect(opts);
      return cli::import_file(client, import_path, import_opts);
    }
    if (*take_command || *assign_command) {
      json::object body{{"type", *take_command ? "take" : "assign"}};
      if (*assign_command) body["assignee"] = assign_to;
      if (!assign_reason.empty()) body["reason"] = assign_reason;
      auto client = connect(opts);
      return report(client.post_json("/v1/requests/" + percent_encode(id) + "/events", json::serialize(body)), opts,
                    [](const json::value& v) { print_request(v.as_object()); });
    }
    if (*act) {
      json::object body{{"type", action}};
      if (!message.empty()) body["message"] = message;
      if (internal) body["public"] = false;
      if (confirm_unverified) body["confirm_unverified"] = true;
      for (const auto& field : fields) {
        const auto eq = field.find('=');
        if (eq == std::string::npos) {
          fmt::print(stderr, "error: --field takes key=value, not \"{}\"\n", field);
          return 1;
        }
        const auto key = field.substr(0, eq);
        const auto value = field.substr(eq + 1);
        if (key == "roles") {
          json::array roles;
          for (std::size_t start = 0; start <= value.size();) {
            const auto comma = std::min(value.find(',', start), value.size());
            roles.emplace_back(value.substr(start, comma - start));
            start = comma + 1;
          }
          body[key] = std::move(roles);
        } else {
          body[key] = value;
        }
      }
      auto client = connect(opts);
      return report(client.post_json("/v1/requests/" + percent_encode(id) + "/events", json::serialize(body)), opts,
                    [](const json::value& v) {
                      print_request(v.as_object());
                      print_action_notes(v.as_object());
                    });
    }
    if (*customer_show) {
      auto client = connect(opts);
      return report(client.get("/v1/customers/" + percent_encode(customer_ref)), opts,
                    [](const json::value& v) { print_customer(v.as_object()); });
    }
    if (*customer_set) {
      // A PUT says the whole state: sending it twice changes nothing the second time.
      json::object body{{"stage", customer_stage}};
      if (!customer_tier.empty()) body["tier"] = customer_tier;
      if (!customer_name_to_set.empty()) body["name"] = customer_name_to_set;
      auto client = connect(opts);
      return report(client.request("PUT", "/v1/customers/" + percent_encode(customer_ref), json::serialize(body)), opts,
                    [](const json::value& v) { print_customer(v.as_object()); });
    }
    if (*escalations) {
      // Every page, following next_cursor, printed as one list (or, with --json, one array).
      auto client = connect(opts);
      json::array all;
      std::string cursor_at;
      for (;;) {
        const auto res = client.get("/v1/escalations" + query_string({{"state", escalation_state},
                                                                      {"role", escalation_role},
                                                                      {"limit", std::to_string(escalation_page_size)},
                                                                      {"cursor", cursor_at}}));
        json::error_code ec;
        const auto page = json::parse(res.body, ec);
        if (res.status != 200 || ec || !page.is_object() || !page.as_object().contains("next_cursor"))
          return report(res, opts, [](const json::value&) {});
        for (const auto& item : page.at("escalations").as_array()) all.push_back(item);
        if (page.at("next_cursor").is_null()) break;
        cursor_at = text_of(page.at("next_cursor"));
      }
      if (opts.json)
        fmt::print("{}\n", json::serialize(json::object{{"escalations", std::move(all)}, {"next_cursor", nullptr}}));
      else
        print_escalations(all);
      return 0;
    }
    if (*report_sla) {
      auto client = connect(opts);
      const auto res = client.get("/v1/reports/sla" + query_string({{"from", report_from},
                                                                   {"to", report_to},
                                                                   {"group_by", report_group_by},
                                                                   {"tz", report_tz},
                                                                   {"format", report_csv ? "csv" : ""}}));
      if (report_csv && res.status == 200) {
        // Verbatim: the bytes the server sent, CRLF and all, so a file made from it is the export.
        fmt::print("{}", res.body);
        return 0;
      }
      return report(res, opts, [](const json::value& v) { print_sla_report(v.as_object()); });
    }
    if (*use_cases) {
      auto client = connect(opts);
      if (!use_case_tag.empty())
        return report(client.get("/v1/use_cases/" + percent_encode(use_case_tag)), opts,
                      [](const json::value& v) { print_use_case(v.as_object()); });
      return report(client.get("/v1/use_cases"), opts, [](const json::value& v) { print_use_cases(v.as_object()); });
    }
    if (*acknowledge || *close) {
      json::object body{{"type", *acknowledge ? "acknowledge_escalation" : "resolve_escalation"}};
      if (!message.empty()) body["message"] = message;
      auto client = connect(opts);
      // The answer is the whole request: show only the escalation acted on, with its request.
      return report(client.post_json("/v1/escalations/" + percent_encode(escalation_id) + "/events",
                                     json::serialize(body)),
                    opts, [&escalation_id](const json::value& v) {
                      json::array acted;
                      for (const auto& e : v.at("escalations").as_array())
                        if (const auto* id = e.at("id").if_string(); id && *id == escalation_id) {
                          auto row = e.as_object();
                          row["request_id"] = v.at("id");
                          acted.push_back(std::move(row));
                        }
                      print_escalations(acted);
                    });
    }
    if (*file) {
      json::object customer{{"id", customer_id}};
      // What is not given comes from the server's customer directory (or is refused, naming it).
      if (!customer_name.empty()) customer["name"] = customer_name;
      if (!stage.empty()) customer["stage"] = stage;
      if (!tier.empty()) customer["tier"] = tier;
      json::object request{
          {"kind", kind}, {"customer", std::move(customer)}, {"title", title}, {"body", body}, {"source", "cli"}};
      if (!priority.empty()) request["priority"] = priority;
      if (!use_case.empty()) request["use_case"] = use_case;
      auto client = connect(opts);
      return report(client.post_json("/v1/requests", json::serialize(request)), opts, [](const json::value& v) {
        const auto& r = v.as_object();
        const auto& routing = r.at("routing").as_object();
        const auto* assignee = r.if_contains("assignee");
        fmt::print("Filed request {}: owner {}{}\n", text_of(r.at("id")), text_of(r.at("owner")),
                   assignee && !assignee->is_null() ? ", assigned to " + text_of(*assignee) : std::string());
        fmt::print("Why: {} (rule {})\n", text_of(routing.at("reason")), text_of(routing.at("rule")));
        for (const auto& note : routing.at("notes").as_array()) fmt::print("Note: {}\n", text_of(note));
      });
    }
    if (*show) {
      auto client = connect(opts);
      return report(client.get("/v1/requests/" + percent_encode(id)), opts,
                    [](const json::value& v) { print_request(v.as_object()); });
    }
    if (*list) {
      auto client = connect(opts);
      const auto target = "/v1/requests" + query_string({{"team", team},
                                                          {"status", status},
                                                          {"customer", customer_id},
                                                          {"assignee", assignee},
                                                          {"limit", limit > 0 ? std::to_string(limit) : ""},
                                                          {"cursor", cursor}});
      return report(client.get(target), opts, [](const json::value& v) {
        const auto& page = v.as_object();
        fmt::print("{:>6}  {:<16} {:<12} {:<17} {:<20} {:<12} {}\n", "ID", "KIND", "OWNER", "STATUS", "CUSTOMER",
                   "ASSIGNEE", "TITLE");
        for (const auto& item : page.at("requests").as_array()) {
          const auto& r = item.as_object();
          const auto* held = r.if_contains("assignee");
          fmt::print("{:>6}  {:<16} {:<12} {:<17} {:<20} {:<12} {}\n", text_of(r.at("id")), text_of(r.at("kind")),
                     text_of(r.at("owner")), text_of(r.at("status")), text_of(r.at("customer").at("id")),
                     held ? text_of(*held) : std::string("-"), text_of(r.at("title")));
        }
        if (!page.at("next_cursor").is_null())
          fmt::print("more: --cursor {}\n", text_of(page.at("next_cursor")));
      });
    }

    if (*backtest_command) {
      if (!backtest_from.empty()) backtest_opts.from = backtest_from;
      if (!backtest_to.empty()) backtest_opts.to = backtest_to;
      if (!backtest_rules.empty()) backtest_opts.rules = backtest_rules;
      if (backtest_opts.current_config.empty()) backtest_opts.current_config = opts.config;
      // --json after the subcommand is its own flag; the global one means the same.
      backtest_opts.json = backtest_opts.json || opts.json;
      opts.json = backtest_opts.json;  // so that a config error is answered as JSON too, as rules check does
      return cli::backtest(backtest_opts);
    }
    const auto settings = config::load_settings(opts.config);
    const auto policy = policy::load(settings);
    if (*check) {
      // Everything else the server refuses to start on.
      const auto people = config::load_people_of(settings.file, config::names_of(policy.sla.calendars),
                                                 policy.sla.calendar_name("support").value_or("support"));
      const auto integrations = http::webhooks::load_integrations(settings.file, settings.tiers);
      http::webhooks::check_slack_people(integrations, people);
      http::webhooks::check_account_teams(integrations, people);
      http::webhooks::check_body_budget(integrations, settings.file, settings.max_unauthenticated_body_bytes);
      config::check_use_case_dris(settings.file, people);
      outbound::load_email_settings_file(settings.file, integrations.support_address);
      outbound::load_slack_api_settings_file(settings.file);
      // A missing tokens file stops the server, so it fails the check too.
      const auto tokens_file = check_tokens.empty() ? settings.tokens_file : check_tokens;
      if (!tokens_file.empty()) {
        config::load_token_file(tokens_file);
        config::check_token_file_people(people, tokens_file);
      }
      std::vector<std::string> warnings;
      if (!check_database.empty()) {
        std::optional<store::inspected_database> db;
        try {
          db.emplace(check_database);
        } catch (const std::runtime_error& e) {
          // The message names the location (without a password), not the option's raw text.
          throw std::runtime_error(fmt::format("--db: {}", e.what()));
        }
        store::check_open_clocks(db->session(), policy);
        // What the server starts with but warns about, as its start-up does.
        for (const auto& removed : store::removed_ladders(db->session(), policy))
          warnings.push_back(store::removed_ladder_warning(removed, policy.ladders_at));
        // Customers changed through the API or the CRM that the config disagrees with: the
        // database wins, and the server says so at start-up.
        if (store::has_customer_tables(db->session()))
          for (const auto& found : http::customer_overrides(db->session(), integrations.customers))
            warnings.push_back(http::override_warning(found));
      }
      // "ok" only without warnings; the exit status is 0 either way (the server would start).
      if (opts.json) {
        json::array listed;
        for (const auto& w : warnings) listed.emplace_back(w);
        fmt::print("{}\n", json::serialize(json::object{{"ok", warnings.empty()},
                                                        {"accepted", true},
                                                        {"warnings", std::move(listed)},
                                                        {"config", settings.file},
                                                        {"rules", settings.rules_path},
                                                        {"rule_count", policy.routing.size()}}));
      } else {
        for (const auto& w : warnings) fmt::print(stderr, "warning: {}\n", w);
        if (warnings.empty())
          fmt::print("ok: {} and {} ({} rules and a fallback)\n", settings.file, settings.rules_path,
                     policy.routing.size());
        else
          fmt::print("accepted with {} warning{}: {} and {} ({} rules and a fallback)\n", warnings.size(),
                     warnings.size() == 1 ? "" : "s", settings.file, settings.rules_path, policy.routing.size());
      }
      return 0;
    }
    if (*deadline || *between) {
      const auto known = policy.sla.calendars.find(calendar_name);
      if (known == policy.sla.calendars.end()) {
        std::vector<std::string> names;
        for (const auto& [name, unused] : policy.sla.calendars) names.push_back(name);
        fmt::print(stderr, "error: no calendar \"{}\" in {}; known: {}\n", calendar_name, settings.file,
                   fmt::join(names, ", "));
        return 1;
      }
      auto instant_option = [](const std::string& name, const std::string& text) {
        auto parsed = model::parse_instant(text);
        if (!parsed)
          throw std::runtime_error(fmt::format("{} \"{}\" is not an ISO-8601 instant with an offset, like 2026-11-20T17:30:00-08:00, "
                                               "2026-11-20T17:30Z or 2026-11-21 01:30:00.000Z, with two digits for "
                                               "month, day, hour, minute and second; the date and time must "
                                               "exist (hours 00-23, minutes and seconds 00-59: no 24:00, no leap "
                                               "second 60)",
                                               name, text));
        return *parsed;
      };
      if (*deadline) {
        const auto business = sla::parse_duration(duration);
        if (!business)
          throw std::runtime_error(
              fmt::format("--duration \"{}\" is not a business duration like 1h, 90m or 1h30m", duration));
        const auto start_instant = instant_option("--start", start);
        model::instant end;
        try {
          end = known->second.add(start_instant, *business);
        } catch (const std::out_of_range&) {
          // The start parsed: it is the result that lies beyond what an instant can be.
          throw std::runtime_error(fmt::format(
              "--start {} plus --duration {} of business time on calendar \"{}\" ends after 9999-12-31T23:59:59Z, "
              "outside the years 0001-9999 an instant can have",
              model::format_instant(start_instant), duration, calendar_name));
        }
        if (opts.json)
          fmt::print("{}\n", json::serialize(json::object{{"deadline", model::format_instant(end)}}));
        else
          fmt::print("{}\n", model::format_instant(end));
      } else {
        const auto from_instant = instant_option("--from", from);
        const auto to_instant = instant_option("--to", to);
        // An interval given backwards is a mistake to report, not an empty interval.
        if (to_instant < from_instant)
          throw std::runtime_error(fmt::format("--from {} is after --to {}; expected --from at or before --to",
                                               model::format_instant(from_instant),
                                               model::format_instant(to_instant)));
        const auto seconds = known->second.between(from_instant, to_instant);
        if (opts.json)
          fmt::print("{}\n", json::serialize(json::object{{"business_seconds", seconds.count()}}));
        else
          fmt::print("{}\n", seconds.count());
      }
      return 0;
    }
    if (*explain) {
      json::error_code ec;
      auto document = json::parse(read_file(request_file), ec);
      if (ec) {
        fmt::print(stderr, "{}: not valid JSON: {}\n", request_file, ec.message());
        return 1;
      }
      const auto known = http::webhooks::load_integrations(settings.file, settings.tiers);
      auto parsed = codec::parse_request_input(document, settings.tiers, known.customers);
      if (auto* errors = std::get_if<std::vector<model::field_error>>(&parsed)) {
        for (const auto& e : *errors) fmt::print(stderr, "{}: {}: {}\n", request_file, e.field, e.message);
        return 1;
      }
      const auto decision = rules::evaluate(policy.routing, std::get<model::request_input>(parsed));
      const auto decision_json = codec::to_json(decision);
      if (opts.json) {
        fmt::print("{}\n", json::serialize(decision_json));
      } else {
        print_decision(decision_json);
        print_trace(decision_json);
      }
      return 0;
    }
  } catch (const config::error& e) {
    if (opts.json) {
      // "error" is the first; "errors" lists every one, each at its own place.
      auto located = [](const config::position& where, const std::string& message) {
        return json::object{{"file", where.file}, {"line", where.line}, {"column", where.column}, {"message", message}};
      };
      json::array errors{located(e.where(), e.message())};
      for (const auto& each : e.further()) errors.push_back(located(each.where, each.message));
      fmt::print("{}\n", json::serialize(json::object{
                             {"ok", false}, {"error", located(e.where(), e.message())}, {"errors", std::move(errors)}}));
    }
    fmt::print(stderr, "{}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
