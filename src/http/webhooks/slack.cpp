// Slack: the Events API (requests from support channels; customer replies and agent responses
// in their threads) and the /support slash command.
//
// Acknowledging: each event is processed in ONE group-commit job that claims its receipts
// (event_id, and team:channel:ts so a message delivered as both `message` and `app_mention`
// counts once; a command's trigger_id) and records the request or reply in the same
// transaction; Slack gets 200 once that job is durable. The engine's work is in memory and a
// group commit takes milliseconds, so this answers well inside Slack's 3 s while never
// acknowledging what is not stored, and needs no separate queue to recover after a crash: an
// event that was not committed was not acknowledged, and Slack retries it.
#include "http/webhooks/webhooks.hpp"

#include "config/tokens.hpp"
#include "http/api/common.hpp"
#include "http/json_body.hpp"
#include "http/webhooks/signature.hpp"
#include "codec/json.hpp"
#include "store/inbound.hpp"
#include "store/requests.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace switchboard::http::webhooks {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::string_view timestamp_header = "X-Slack-Request-Timestamp";
constexpr std::string_view signature_header = "X-Slack-Signature";

std::string string_of(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string{};
}

// Slack text without mentions of the app (<@U123> or <@U123|name>, U123 one of `app_users`),
// trimmed. Mentions of people stay: they are part of what the person wrote. Without
// `authorizations` to name the app, every mention goes, as the app's cannot be told apart.
std::string clean_text(std::string_view text, const std::vector<std::string>& app_users) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, 2, "<@") == 0) {
      const auto close = text.find('>', i);
      const auto user = text.substr(i + 2, close == std::string_view::npos ? 0 : close - i - 2);
      const auto id = user.substr(0, user.find('|'));
      if (close != std::string_view::npos &&
          (app_users.empty() || std::find(app_users.begin(), app_users.end(), id) != app_users.end())) {
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

response outcome_response(std::string_view outcome, std::optional<model::request_id> id,
                          std::string_view reason = {}) {
  json::object body{{"ok", true}, {"outcome", outcome}};
  if (id) body["request_id"] = *id;
  if (!reason.empty()) body["reason"] = reason;
  return json_response(status::ok, body);
}

// Message subtypes that are not a person writing to support: edits and deletions (the message
// itself was handled when it was posted), joins and leaves, the channel housekeeping Slack
// writes on someone's behalf, and bots (ours included, so no loops). Every other subtype with a
// user (file_share, thread_broadcast, me_message, whatever Slack adds next) is a person's message.
// https://api.slack.com/events/message#subtypes
constexpr auto ignored_subtypes = std::to_array<std::string_view>({
    "message_changed", "message_deleted", "message_replied",                      // edits, deletions
    "channel_join", "channel_leave", "group_join", "group_leave",                 // joins, leaves
    "channel_topic", "channel_purpose", "channel_name", "channel_archive",         // housekeeping
    "channel_unarchive", "channel_convert_to_private", "group_topic", "group_purpose",
    "group_name", "group_archive", "group_unarchive", "pinned_item", "unpinned_item",
    "ekm_access_denied",
    "bot_message", "bot_add", "bot_remove",                                       // bots
});

struct slack_message {
  std::string event_id;
  std::string team;
  std::string channel;
  std::string user;
  std::string ts;
  std::string thread_ts;
  std::string text;
  bool mentions_app = false;  // an app_mention, or the text names our bot user
  bool broadcast = false;     // a thread reply also sent to the channel
  std::vector<model::attachment> files;
};

// The files of a message event, by reference. Slack Connect files may come with only an id.
std::vector<model::attachment> files_of(const json::object& event) {
  std::vector<model::attachment> out;
  const auto* files = event.if_contains("files");
  if (files == nullptr || !files->is_array()) return out;
  for (const auto& item : files->as_array()) {
    if (!item.is_object()) continue;
    const auto& file = item.as_object();
    model::attachment a{string_of(file, "name"), string_of(file, "mimetype"), string_of(file, "id")};
    if (a.name.empty()) a.name = string_of(file, "title");
    if (a.type.empty()) a.type = string_of(file, "filetype");
    out.push_back(std::move(a));
  }
  return out;
}

// The files as a line a person reads in the request's history, e.g. for a reply.
std::string files_line(const std::vector<model::attachment>& files) {
  std::vector<std::string> items;
  for (const auto& f : files)
    items.push_back(fmt::format("{} ({}, Slack file {})", f.name.empty() ? "unnamed" : f.name,
                                f.type.empty() ? "unknown type" : f.type, f.id.empty() ? "?" : f.id));
  return fmt::format("Files: {}", fmt::join(items, "; "));
}

std::string reply_text(const slack_message& m) {
  if (m.files.empty()) return m.text;
  if (m.text.empty()) return files_line(m.files);
  return m.text + "\n\n" + files_line(m.files);
}

asio::awaitable<response> on_message(context& ctx, slack_message m, std::shared_ptr<commit_gate> gate) {
  const auto now = ctx.api.clock();
  const auto message_key = fmt::format("{}:{}:{}", m.team, m.channel, m.ts);
  std::string outcome = "ignored";
  std::string reason;
  std::optional<model::request_id> id;
  std::vector<store::change> changes;

  const auto* channel = [&]() -> const slack_channel* {
    const auto found = ctx.config.slack_channels.find(m.channel);
    return found == ctx.config.slack_channels.end() ? nullptr : &found->second;
  }();
  const auto* agent = [&]() -> const slack_agent* {
    const auto found = ctx.config.slack_users.find(m.user);
    return found == ctx.config.slack_users.end() ? nullptr : &found->second;
  }();
  const bool in_thread = !m.thread_ts.empty() && m.thread_ts != m.ts;
  // Whether this message starts a request when it is not in a request's thread. A mention is an
  // explicit ask, from anyone; in a channel that files everything, so is what a customer posts to
  // the channel (top level, or a thread reply also sent to the channel), but not our agents'
  // announcements nor conversation inside other threads.
  const bool may_file = channel != nullptr &&
                        (m.mentions_app || (channel->file == slack_filing::all && agent == nullptr &&
                                            (!in_thread || m.broadcast)));
  if (!in_thread && !may_file) co_return outcome_response(outcome, id);

  co_await api::commit(ctx.api.writer, [&](store::unit_of_work& db) {
    // A job may run again (store/committer.hpp): it starts from nothing an earlier run set.
    outcome = "ignored";
    reason.clear();
    id.reset();
    changes.clear();
    if (!store::claim_receipt(db, "slack_event", m.event_id, now)) {
      outcome = "duplicate";
      return;
    }
    if (in_thread) {
      const auto thread_key = fmt::format("{}:{}:{}", m.team, m.channel, m.thread_ts);
      const auto parent = store::receipt_request(db, "slack_message", thread_key);
      if (parent) {
        if (!store::claim_receipt(db, "slack_message", message_key, now)) {
          outcome = "duplicate";
          return;
        }
        // Our agent answering in the thread answers the customer, as `respond` through the API
        // would; anyone else in the thread is the customer's side.
        engine::action_input said;
        said.message = reply_text(m);
        said.seen_in_channel = agent != nullptr;  // the customer has already seen it in the thread
        said.customers = ctx.api.customers.directory();  // a follow-up takes the customer as it is now
        const auto action = agent != nullptr
                                ? engine::act_on_request{engine::action_kind::respond, std::move(said),
                                                         model::actor{agent->person, agent->role}}
                                : engine::act_on_request{engine::action_kind::customer_reply, std::move(said),
                                                         model::actor{"slack", model::role::integration}};
        // The API's size limits hold for a thread reply too: one too long is refused, not recorded.
        const auto too_long = engine::check_sizes(action.input);
        auto result = too_long ? store::action_outcome{*too_long}
                               : store::record_action(db, ctx.api.policy, *parent, action, now);
        id = *parent;
        if (auto* done = std::get_if<std::vector<store::change>>(&result)) {
          changes = std::move(*done);
          // A reply to a closed request opened a follow-up (or went on to one): the thread is that
          // request's now, so the agents' and the customer's next messages land there too.
          id = store::conversation_request(changes);
          if (*id != *parent)
            store::link_receipt(db, "slack_message", thread_key, *id);
          outcome = agent != nullptr ? "responded" : "replied";
          if (agent == nullptr) store::add_participant(db, *id, "slack:" + m.user);
        }
        store::link_receipt(db, "slack_message", message_key, *id);
        store::link_receipt(db, "slack_event", m.event_id, *id);
        if (auto* refused = std::get_if<engine::refusal>(&result)) {
          // Slack would retry a non-2xx for nothing: the message stays in Slack's thread.
          outcome = "refused";
          reason = refused->message;
        }
        return;
      }
      if (!may_file) return;  // conversation in a thread that is not a request's
    }
    if (!store::claim_receipt(db, "slack_message", message_key, now)) {
      outcome = "duplicate";
      return;
    }
    model::request_input input;
    // The config checked at start-up that the channel's customer is configured, and the table
    // seeded from the config keeps every customer, so one is always in force.
    input.customer = customer_in_force(ctx, channel->customer).value();
    input.kind = kind_for(ctx.config, m.text, channel->kind);
    // A file posted without a word is still the customer's message; its name is the title.
    const std::string first_file = m.files.empty() ? std::string() : m.files.front().name;
    input.title = title_of(m.text.empty() ? "Shared " + (first_file.empty() ? std::string("a file") : first_file) : m.text);
    input.body = m.text;
    input.source = model::request_source::slack;
    input.requester = "slack:" + m.user;
    input.attachments = m.files;
    // Answers go to the message's thread: its own, or the one it was posted in (Slack threads
    // on the parent's ts only).
    input.slack = model::slack_thread{m.team, m.channel, in_thread ? m.thread_ts : m.ts};
    auto created = store::record_new_request(db, ctx.api.policy,
                                             engine::file_request{std::move(input), {"slack", model::role::integration}}, now);
    id = created.request.id;
    outcome = "created";
    store::link_receipt(db, "slack_message", message_key, *id);
    store::link_receipt(db, "slack_event", m.event_id, *id);
    store::add_participant(db, *id, "slack:" + m.user);
    changes.push_back(std::move(created));
  }, gate);
  if (ctx.api.changed)
    for (const auto& change : changes) ctx.api.changed(change);
  co_return outcome_response(outcome, id, reason);
}

// Names the signed request's sender for the access log: the person a mapped Slack user is, else
// "slack:<user id>".
void note_slack_actor(const context& ctx, const route_match& match, std::string_view user) {
  if (!match.info || user.empty()) return;
  const auto agent = ctx.config.slack_users.find(user);
  match.info->set_actor(agent != ctx.config.slack_users.end() ? agent->second.person : fmt::format("slack:{}", user));
}

asio::awaitable<response> on_event(context& ctx, const request& req, const route_match& match) {
  if (auto refused = refuse_unsigned_slack(ctx, req)) co_return std::move(*refused);
  auto parsed = parse_json_body(req.body());
  if (const auto* problem = std::get_if<std::string>(&parsed))
    co_return error_response(status::bad_request, "malformed_json", fmt::format("the body is not valid JSON: {}", *problem));
  const auto& document = std::get<json::value>(parsed);
  if (!document.is_object())
    co_return error_response(status::bad_request, "malformed_json", "the body is not a JSON object");
  const auto& body = document.as_object();
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
  const auto subtype = string_of(event, "subtype");
  const auto raw_text = string_of(event, "text");
  m.team = string_of(body, "team_id");
  m.channel = string_of(event, "channel");
  m.user = string_of(event, "user");
  note_slack_actor(ctx, match, m.user);
  m.ts = string_of(event, "ts");
  m.thread_ts = string_of(event, "thread_ts");
  m.files = files_of(event);
  m.broadcast = subtype == "thread_broadcast";
  m.mentions_app = event_type == "app_mention";

  bool from_bot = event.contains("bot_id") || m.user.empty() ||
                  std::find(ignored_subtypes.begin(), ignored_subtypes.end(), subtype) != ignored_subtypes.end();
  // `authorizations` names our own bot user: its posts are ignored, mentions of it are asks.
  std::vector<std::string> app_users;
  if (const auto* authorizations = body.if_contains("authorizations"); authorizations && authorizations->is_array())
    for (const auto& a : authorizations->as_array()) {
      if (!a.is_object()) continue;
      auto bot_user = string_of(a.as_object(), "user_id");
      if (bot_user.empty()) continue;
      if (bot_user == m.user) from_bot = true;
      if (raw_text.find("<@" + bot_user + ">") != std::string::npos ||
          raw_text.find("<@" + bot_user + "|") != std::string::npos)
        m.mentions_app = true;
      app_users.push_back(std::move(bot_user));
    }
  m.text = clean_text(raw_text, app_users);
  if ((event_type != "message" && event_type != "app_mention") || from_bot || m.channel.empty() || m.ts.empty() ||
      (m.text.empty() && m.files.empty()))
    co_return outcome_response("ignored", std::nullopt);
  co_return co_await on_message(ctx, std::move(m), match.gate);
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

asio::awaitable<response> on_command(context& ctx, const request& req, const route_match& match) {
  if (auto refused = refuse_unsigned_slack(ctx, req)) co_return std::move(*refused);
  const auto fields = parse_form_urlencoded(req.body());
  if (!fields) co_return error_response(status::bad_request, "malformed_form", "the body is not form-encoded");
  if (field(*fields, "ssl_check") == "1") co_return response(status::ok, req.version());

  constexpr std::string_view usage =
      "Usage: /support how-to|feature|troubleshoot <customer-id> <what the customer needs>";
  const auto user = field(*fields, "user_id");
  note_slack_actor(ctx, match, user);
  const auto agent = ctx.config.slack_users.find(user);
  if (agent == ctx.config.slack_users.end())
    co_return ephemeral(fmt::format("Your Slack user ({}) is not mapped to an agent in Switchboard: ask an admin to add "
                                    "it under [integrations.slack.users].", user));

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
  const auto customer = customer_in_force(ctx, customer_id);
  if (!customer)
    co_return ephemeral(fmt::format("Unknown customer \"{}\": customers are listed under [integrations.customers] or "
                                    "created with PUT /v1/customers/{{id}}.",
                                    customer_id));

  model::request_input input;
  input.kind = *kind;
  input.customer = *customer;
  input.title = title_of(rest);
  input.body = std::string(rest);
  input.source = model::request_source::slack;
  input.requester = agent->second.person;
  engine::file_request command{std::move(input), model::actor{agent->second.person, agent->second.role}};
  if (auto refusal = engine::may_file(command.actor, command.input)) co_return ephemeral(refusal->message);

  // A command has no event id: Slack's trigger_id is unique per invocation, so a replayed
  // signed body (or a retry) carries the same one. Without it, the body itself is the key.
  const auto trigger = field(*fields, "trigger_id");
  const auto receipt = trigger.empty() ? "sha256:" + config::sha256_hex(req.body()) : trigger;
  const auto now = ctx.api.clock();
  store::change created;
  std::optional<model::request_id> duplicate_of;
  bool duplicate = false;
  co_await api::commit(ctx.api.writer, [&](store::unit_of_work& db) {
    // A job may run again (store/committer.hpp): it starts from nothing an earlier run set.
    created = store::change{};
    duplicate_of.reset();
    duplicate = false;
    if (!store::claim_receipt(db, "slack_command", receipt, now)) {
      duplicate = true;
      duplicate_of = store::receipt_request(db, "slack_command", receipt);
      return;
    }
    created = store::record_new_request(db, ctx.api.policy, command, now);
    store::link_receipt(db, "slack_command", receipt, created.request.id);
    store::add_participant(db, created.request.id, "slack:" + user);
  }, match.gate);
  if (duplicate)
    co_return ephemeral(duplicate_of ? fmt::format("Already filed as request #{}.", *duplicate_of)
                                     : std::string("This command was already received."));
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

// The 503 or 401 to send instead, when the request is not signed by Slack (checked on the raw
// body, before anything is parsed).
std::optional<response> refuse_unsigned_slack(const context& ctx, const request& req) {
  if (auto refused = refuse_slack_headers(ctx, req)) return refused;
  if (verify_slack(ctx.config.slack_signing_secret, req[timestamp_header], req[signature_header], req.body(),
                   real_unix_now()) == slack_verdict::valid)
    return std::nullopt;
  return error_response(status::unauthorized, "invalid_signature", "the Slack request signature did not verify");
}

// A timestamp more than 5 minutes from our clock is refused before the signature is computed,
// as Slack's signing docs ask (a replay guard), and says so: a sender whose clock is off must
// not be told its secret is wrong.
std::optional<response> refuse_slack_headers(const context& ctx, const request_header& header) {
  if (ctx.config.slack_signing_secret.empty())
    return not_configured("Slack (set SWITCHBOARD_SLACK_SIGNING_SECRET)");
  if (header.count(timestamp_header) != 1 || header.count(signature_header) != 1)
    return error_response(status::unauthorized, "invalid_signature",
                          "send exactly one X-Slack-Request-Timestamp and one X-Slack-Signature header");
  switch (check_slack_timestamp(header[timestamp_header], real_unix_now())) {
    case slack_verdict::bad_timestamp:
      return error_response(status::unauthorized, "invalid_signature",
                            "X-Slack-Request-Timestamp is not a Unix time in seconds");
    case slack_verdict::stale:
      return error_response(status::unauthorized, "stale_timestamp",
                            "X-Slack-Request-Timestamp is more than 5 minutes from the server's clock");
    case slack_verdict::valid:
    case slack_verdict::bad_signature: break;
  }
  return std::nullopt;
}

}  // namespace switchboard::http::webhooks
