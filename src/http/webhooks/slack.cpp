// Slack: the Events API (new requests from support channels, customer replies from their
// threads) and the /support slash command.
//
// Acknowledging: each event is processed in ONE group-commit job that claims its receipts
// (event_id, and team:channel:ts so a message delivered as both `message` and `app_mention`
// counts once) and records the request or reply in the same transaction; Slack gets 200 once
// that job is durable. The engine's work is in memory and a group commit takes milliseconds,
// so this answers well inside Slack's 3 s while never acknowledging what is not stored, and
// needs no separate queue to recover after a crash: an event that was not committed was not
// acknowledged, and Slack retries it.
#include "http/webhooks/webhooks.hpp"

#include "http/api/common.hpp"
#include "http/json_body.hpp"
#include "http/webhooks/signature.hpp"
#include "model/json.hpp"
#include "store/inbound.hpp"
#include "store/requests.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace switchboard::http::webhooks {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::string_view timestamp_header = "X-Slack-Request-Timestamp";
constexpr std::string_view signature_header = "X-Slack-Signature";

// The 503 or 401 to send instead, when the request is not signed by Slack (checked on the raw
// body, before anything is parsed).
std::optional<response> refuse_unsigned(const context& ctx, const request& req) {
  if (ctx.config.slack_signing_secret.empty())
    return not_configured("Slack (set SWITCHBOARD_SLACK_SIGNING_SECRET)");
  const auto unauthorized = [] {
    return error_response(status::unauthorized, "invalid_signature", "the Slack request signature did not verify");
  };
  if (req.count(timestamp_header) != 1 || req.count(signature_header) != 1) return unauthorized();
  const auto verdict = verify_slack(ctx.config.slack_signing_secret, req[timestamp_header], req[signature_header],
                                    req.body(), real_unix_now());
  if (verdict != slack_verdict::valid) return unauthorized();
  return std::nullopt;
}

std::string string_of(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string{};
}

// Slack text without user mentions (<@U123>), trimmed.
std::string clean_text(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, 2, "<@") == 0) {
      const auto close = text.find('>', i);
      if (close != std::string_view::npos) {
        i = close + 1;
        continue;
      }
    }
    out += text[i++];
  }
  const auto first = out.find_first_not_of(" \t\r\n");
  const auto last = out.find_last_not_of(" \t\r\n");
  return first == std::string::npos ? std::string{} : out.substr(first, last - first + 1);
}

// The first line, at most about 100 bytes, cut on a UTF-8 character boundary.
std::string title_of(std::string_view text) {
  auto line = text.substr(0, text.find('\n'));
  if (line.size() > 100) {
    std::size_t cut = 100;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    return std::string(line.substr(0, cut)) + "…";
  }
  return line.empty() ? std::string("(Slack message)") : std::string(line);
}

response outcome_response(std::string_view outcome, std::optional<model::request_id> id) {
  json::object body{{"ok", true}, {"outcome", outcome}};
  if (id) body["request_id"] = *id;
  return json_response(status::ok, body);
}

struct slack_message {
  std::string event_id;
  std::string team;
  std::string channel;
  std::string user;
  std::string ts;
  std::string thread_ts;
  std::string text;
};

asio::awaitable<response> on_message(context& ctx, slack_message m) {
  const auto now = ctx.api.clock();
  const auto message_key = fmt::format("{}:{}:{}", m.team, m.channel, m.ts);
  const model::actor actor{"slack", model::role::integration};
  std::string outcome = "ignored";
  std::optional<model::request_id> id;
  std::vector<store::change> changes;

  const auto* channel = [&]() -> const slack_channel* {
    const auto found = ctx.config.slack_channels.find(m.channel);
    return found == ctx.config.slack_channels.end() ? nullptr : &found->second;
  }();

  co_await api::commit(ctx.api.writer, [&](SQLite::Database& db) {
    if (!store::claim_receipt(db, "slack_event", m.event_id, now)) {
      outcome = "duplicate";
      return;
    }
    const bool in_thread = !m.thread_ts.empty() && m.thread_ts != m.ts;
    if (in_thread) {
      const auto parent = store::receipt_request(db, "slack_message", fmt::format("{}:{}:{}", m.team, m.channel, m.thread_ts));
      if (!parent) return;  // a thread that is not a request's
      if (!store::claim_receipt(db, "slack_message", message_key, now)) {
        outcome = "duplicate";
        return;
      }
      auto result = store::record_action(
          db, ctx.api.policy, *parent,
          engine::act_on_request{engine::action_kind::customer_reply, json::object{{"message", m.text}}, actor}, now);
      if (auto* done = std::get_if<std::vector<store::change>>(&result)) {
        changes = std::move(*done);
        outcome = "replied";
        id = *parent;
        store::link_receipt(db, "slack_message", message_key, *parent);
        store::link_receipt(db, "slack_event", m.event_id, *parent);
        store::add_participant(db, *parent, "slack:" + m.user);
      }
      return;
    }
    if (channel == nullptr) return;  // not a support channel
    if (!store::claim_receipt(db, "slack_message", message_key, now)) {
      outcome = "duplicate";
      return;
    }
    model::request_input input;
    input.customer = ctx.config.customers.at(channel->customer);
    input.kind = kind_for(ctx.config, m.text, channel->kind);
    input.title = title_of(m.text);
    input.body = m.text;
    input.source = model::request_source::slack;
    input.requester = "slack:" + m.user;
    auto created = store::record_new_request(db, ctx.api.policy, engine::file_request{std::move(input), actor}, now);
    id = created.request.id;
    outcome = "created";
    store::link_receipt(db, "slack_message", message_key, *id);
    store::link_receipt(db, "slack_event", m.event_id, *id);
    store::add_participant(db, *id, "slack:" + m.user);
    changes.push_back(std::move(created));
  });
  if (ctx.api.changed)
    for (const auto& change : changes) ctx.api.changed(change);
  co_return outcome_response(outcome, id);
}

asio::awaitable<response> on_event(context& ctx, const request& req, const route_match&) {
  if (auto refused = refuse_unsigned(ctx, req)) co_return std::move(*refused);
  auto parsed = parse_json_body(req.body());
  auto* document = std::get_if<json::value>(&parsed);
  if (document == nullptr || !document->is_object())
    co_return error_response(status::bad_request, "malformed_json", "the body is not a JSON object");
  const auto& body = document->as_object();
  const auto type = string_of(body, "type");
  if (type == "url_verification") co_return json_response(status::ok, json::object{{"challenge", string_of(body, "challenge")}});
  if (type != "event_callback") co_return outcome_response("ignored", std::nullopt);

  const auto* event_value = body.if_contains("event");
  slack_message m;
  m.event_id = string_of(body, "event_id");
  if (m.event_id.empty() || event_value == nullptr || !event_value->is_object())
    co_return error_response(status::bad_request, "malformed_event", "an event_callback needs event_id and event");
  const auto& event = event_value->as_object();
  const auto event_type = string_of(event, "type");
  m.team = string_of(body, "team_id");
  m.channel = string_of(event, "channel");
  m.user = string_of(event, "user");
  m.ts = string_of(event, "ts");
  m.thread_ts = string_of(event, "thread_ts");
  m.text = clean_text(string_of(event, "text"));

  // Only people's messages: no edits, deletions or bot posts (ours included, so no loops).
  bool from_bot = event.contains("bot_id") || event.contains("subtype") || m.user.empty();
  if (const auto* authorizations = body.if_contains("authorizations"); authorizations && authorizations->is_array())
    for (const auto& a : authorizations->as_array())
      if (a.is_object() && string_of(a.as_object(), "user_id") == m.user) from_bot = true;
  if ((event_type != "message" && event_type != "app_mention") || from_bot || m.channel.empty() || m.ts.empty())
    co_return outcome_response("ignored", std::nullopt);
  co_return co_await on_message(ctx, std::move(m));
}

response ephemeral(std::string text) {
  return json_response(status::ok, json::object{{"response_type", "ephemeral"}, {"text", std::move(text)}});
}

std::optional<model::request_kind> slash_kind(std::string_view word) {
  if (word == "how-to" || word == "howto" || word == "how_to") return model::request_kind::how_to;
  if (word == "feature" || word == "feature_request") return model::request_kind::feature_request;
  if (word == "troubleshoot" || word == "troubleshooting") return model::request_kind::troubleshooting;
  return std::nullopt;
}

std::string first_deadline(const model::request& r) {
  const model::sla_clock* first = nullptr;
  for (const auto& c : r.clocks)
    if (!c.completed && c.state == model::clock_state::running && (first == nullptr || c.deadline < first->deadline))
      first = &c;
  if (first == nullptr) return "none (no SLA clock runs on this request)";
  return fmt::format("{} by {} ({} policy)", model::to_string(first->metric), model::format_instant(first->deadline),
                     first->policy);
}

asio::awaitable<response> on_command(context& ctx, const request& req, const route_match&) {
  if (auto refused = refuse_unsigned(ctx, req)) co_return std::move(*refused);
  const auto fields = parse_form_urlencoded(req.body());
  if (!fields) co_return error_response(status::bad_request, "malformed_form", "the body is not form-encoded");
  if (field(*fields, "ssl_check") == "1") co_return response(status::ok, req.version());

  constexpr std::string_view usage =
      "Usage: /support how-to|feature|troubleshoot <customer-id> <what the customer needs>";
  const auto user = field(*fields, "user_id");
  const auto person = ctx.config.slack_users.find(user);
  if (person == ctx.config.slack_users.end())
    co_return ephemeral(fmt::format("Your Slack user ({}) is not mapped to a CE in Switchboard: ask an admin to add it "
                                    "under [integrations.slack.users].", user));

  const auto text = field(*fields, "text");
  std::string_view rest(text);
  const auto next_word = [&rest] {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const auto word = rest.substr(0, rest.find(' '));
    rest.remove_prefix(word.size());
    return word;
  };
  const auto kind = slash_kind(next_word());
  const auto customer_id = next_word();
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (!kind || customer_id.empty() || rest.empty()) co_return ephemeral(std::string(usage));
  const auto customer = ctx.config.customers.find(customer_id);
  if (customer == ctx.config.customers.end())
    co_return ephemeral(fmt::format("Unknown customer \"{}\": customers are listed under [integrations.customers].",
                                    customer_id));

  model::request_input input;
  input.kind = *kind;
  input.customer = customer->second;
  input.title = title_of(rest);
  input.body = std::string(rest);
  input.source = model::request_source::slack;
  input.requester = person->second;
  engine::file_request command{std::move(input), model::actor{person->second, model::role::ce}};
  if (auto refusal = engine::may_file(command.actor, command.input)) co_return ephemeral(refusal->message);

  const auto now = ctx.api.clock();
  store::change created;
  co_await api::commit(ctx.api.writer, [&](SQLite::Database& db) {
    created = store::record_new_request(db, ctx.api.policy, command, now);
    store::add_participant(db, created.request.id, "slack:" + user);
  });
  if (ctx.api.changed) ctx.api.changed(created);
  const auto& r = created.request;
  co_return ephemeral(fmt::format("Filed request #{} ({}) for {}: {}\nOwner: {}{}\nWhy: {}\nFirst SLA deadline: {}", r.id,
                                  model::to_string(r.input.kind), r.input.customer.name, r.input.title,
                                  model::to_string(r.owner), r.assignee.empty() ? "" : " (" + r.assignee + ")",
                                  r.routing.reason, first_deadline(r)));
}

}  // namespace

void add_slack_routes(router& routes, context& ctx) {
  using verb = beast_http::verb;
  routes.add(verb::post, "/v1/webhooks/slack/events",
             [&ctx](const request& req, const route_match& match) { return on_event(ctx, req, match); });
  routes.add(verb::post, "/v1/webhooks/slack/commands",
             [&ctx](const request& req, const route_match& match) { return on_command(ctx, req, match); });
}

}  // namespace switchboard::http::webhooks
