// Slack interactivity: the Acknowledge and Resolve buttons of escalation messages
// (notify::escalation_actions), POSTed by Slack to /v1/webhooks/slack/interactions.
//
// Checked like the other Slack routes (refuse_slack_headers before the body, the HMAC on the raw
// body), then: the body is a form with exactly one `payload` field, JSON (duplicate names
// refused); only block_actions with sb_ack or sb_resolve act (a URL button, and every other
// interaction, gets an empty 200). The response_url must be Slack's or the configured Slack API
// base's (outbound::allowed_response_url): a signed but crafted payload cannot make the server
// post anywhere else; one that is refused is logged and nothing happens.
//
// One group-commit job claims the receipt team:message_ts:action_ts:user (so a replayed signed
// body acts once), maps the Slack user to a person through the people directory ([[people]]
// slack_user), records the action as that person with the first of their roles the action table
// allows (their first role when none does, and the engine refuses with its own reason), and
// enqueues a slack_update outbox row to the response_url: the message replaced in place
// ("Acknowledged by …", Resolve left alone; resolved: no buttons), or, when nothing was recorded,
// an ephemeral answer to the person who clicked with the reason. Slack gets its 200 once that job
// is durable (milliseconds, inside its 3 s), and the outbox sends the update afterwards with the
// retries of every channel, until the response_url's 30 minutes are over (then it is dead).
#include "http/webhooks/webhooks.hpp"

#include "engine/actions.hpp"
#include "http/api/common.hpp"
#include "http/json_body.hpp"
#include "model/instant.hpp"
#include "notify/slack.hpp"
#include "observe/log.hpp"
#include "store/inbound.hpp"
#include "store/messages.hpp"
#include "store/requests.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>

namespace switchboard::http::webhooks {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Slack shows at most 50 blocks in a message: the kept ones, a context line and the buttons.
constexpr std::size_t max_kept_blocks = 47;

std::string string_at(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string{};
}

const json::object& object_at(const json::object& object, std::string_view key) {
  static const json::object empty;
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_object() ? value->get_object() : empty;
}

// The request of escalation "<request>-<n>", or nullopt when the id is not one.
std::optional<model::request_id> request_of(std::string_view escalation) {
  const auto dash = escalation.find('-');
  if (dash == std::string_view::npos || dash == 0) return std::nullopt;
  model::request_id id = 0;
  const auto [end, ec] = std::from_chars(escalation.data(), escalation.data() + dash, id);
  if (ec != std::errc{} || end != escalation.data() + dash || id <= 0) return std::nullopt;
  return id;
}

const model::person* person_of(const model::people_directory& people, std::string_view slack_user) {
  for (const auto& entry : people.by_id)
    if (!entry.second.slack_user.empty() && entry.second.slack_user == slack_user) return &entry.second;
  return nullptr;
}

// The role a click acts with: the person's first role the action may be taken by, else their
// first (the engine then refuses, saying who may).
model::role acting_role(const model::person& person, engine::action_kind kind) {
  const auto& allowed = engine::definition_of(kind).roles;
  for (const auto r : person.roles)
    if (std::find(allowed.begin(), allowed.end(), r) != allowed.end()) return r;
  return person.roles.empty() ? model::role::viewer : person.roles.front();
}

json::object ephemeral(std::string text) {
  return json::object{{"response_type", "ephemeral"}, {"replace_original", false}, {"text", std::move(text)}};
}

// The clicked message as it is now, replaced: its blocks without our buttons, a context line
// saying who did what when, and the buttons left (Resolve, and the dashboard link) while the
// escalation is only acknowledged.
json::object updated_message(const json::object& message, const std::string& escalation, model::request_id request,
                             const std::string& done_line, bool acknowledged, std::string_view public_url) {
  json::array blocks;
  if (const auto* original = message.if_contains("blocks"); original != nullptr && original->is_array())
    for (const auto& block : original->get_array()) {
      if (!block.is_object()) continue;
      const auto id = string_at(block.get_object(), "block_id");
      if (string_at(block.get_object(), "type") == "actions" && id.starts_with(notify::actions_block_prefix)) continue;
      if (blocks.size() < max_kept_blocks) blocks.push_back(block);
    }
  auto text = string_at(message, "text");
  if (blocks.empty() && !text.empty())
    blocks.push_back(json::object{{"type", "section"}, {"text", json::object{{"type", "mrkdwn"}, {"text", text}}}});
  blocks.push_back(json::object{
      {"type", "context"}, {"elements", json::array{json::object{{"type", "mrkdwn"}, {"text", done_line}}}}});
  if (acknowledged) blocks.push_back(notify::escalation_actions(escalation, std::to_string(request), public_url, true));
  return json::object{{"replace_original", true},
                      {"text", text.empty() ? done_line : text},
                      {"blocks", std::move(blocks)}};
}

response empty_ok(const request& req) { return response(status::ok, req.version()); }

asio::awaitable<response> on_interaction(context& ctx, const request& req, const route_match& match) {
  if (auto refused = refuse_unsigned_slack(ctx, req)) co_return std::move(*refused);
  const auto fields = parse_form_urlencoded(req.body());
  if (!fields) co_return error_response(status::bad_request, "malformed_form", "the body is not form-encoded");
  const auto payloads = std::count_if(fields->begin(), fields->end(), [](const auto& f) { return f.first == "payload"; });
  if (payloads != 1 || fields->size() != 1)
    co_return error_response(status::bad_request, "malformed_form", "send exactly one field, payload (JSON)");
  auto parsed = parse_json_body(fields->front().second);
  if (const auto* problem = std::get_if<std::string>(&parsed))
    co_return error_response(status::bad_request, "malformed_json", fmt::format("the payload is not valid JSON: {}", *problem));
  if (!std::get<json::value>(parsed).is_object())
    co_return error_response(status::bad_request, "malformed_json", "the payload is not a JSON object");
  const auto& payload = std::get<json::value>(parsed).get_object();
  if (string_at(payload, "type") != "block_actions") co_return empty_ok(req);
  const auto* actions = payload.if_contains("actions");
  if (actions == nullptr || !actions->is_array() || actions->get_array().empty() ||
      !actions->get_array().front().is_object())
    co_return empty_ok(req);
  const auto& action = actions->get_array().front().get_object();
  const auto action_id = string_at(action, "action_id");
  // The Open in dashboard button sends block_actions too: Slack opens the link, nothing to do.
  if (action_id != notify::acknowledge_action && action_id != notify::resolve_action) co_return empty_ok(req);
  const auto kind = action_id == notify::acknowledge_action ? engine::action_kind::acknowledge_escalation
                                                            : engine::action_kind::resolve_escalation;

  const auto user = string_at(object_at(payload, "user"), "id");
  const auto team = string_at(object_at(payload, "team"), "id");
  const auto message_ts = string_at(object_at(payload, "container"), "message_ts");
  const auto action_ts = string_at(action, "action_ts");
  const auto escalation = string_at(action, "value");
  const auto response_url = string_at(payload, "response_url");
  if (user.empty() || action_ts.empty() || escalation.empty() || response_url.empty())
    co_return error_response(status::bad_request, "malformed_event",
                             "block_actions needs user.id, response_url and an action with action_ts and value");
  const auto* person = person_of(ctx.api.policy.people, user);
  if (match.info) match.info->set_actor(person != nullptr ? person->id : fmt::format("slack:{}", user));
  if (!outbound::allowed_response_url(response_url, ctx.slack_api)) {
    observe::log(observe::log_level::warning,
                 fmt::format("Slack interaction from {} refused: response_url \"{}\" is neither https://hooks.slack.com/ "
                             "nor on [integrations.slack] api_base_url's host; nothing done",
                             user, response_url.substr(0, 200)));
    co_return empty_ok(req);
  }

  const auto request_id = request_of(escalation);
  const auto now = ctx.api.clock();
  const auto receipt = fmt::format("{}:{}:{}:{}", team, message_ts, action_ts, user);
  // Slack honours a response_url for 30 minutes (real time, whatever the engine's clock says).
  const auto expires_at = real_unix_now() + 30 * 60;
  std::vector<store::change> changes;
  co_await api::commit(ctx.api.writer, [&](store::unit_of_work& db) {
    changes.clear();  // a job may run again (store/committer.hpp): nothing from an earlier run
    if (!store::claim_receipt(db, "slack_interaction", receipt, now)) return;
    store::message update;
    update.channel = store::channel::slack_update;
    update.purpose = store::message_purpose::notification;
    update.recipient = response_url;
    update.event_type = "slack.interaction";
    const auto answer = [&](json::object body) {
      update.payload = json::serialize(json::object{
          {"response_url", response_url}, {"body", std::move(body)}, {"expires_at", expires_at}});
      store::enqueue_message(db, update, now);
    };
    if (person == nullptr) {
      answer(ephemeral(fmt::format("Slack user {} is not mapped to a person in Switchboard ([[people]] slack_user): "
                                   "nothing was done.",
                                   user)));
      return;
    }
    if (!request_id) {
      answer(ephemeral(fmt::format("There is no escalation {}.", escalation)));
      return;
    }
    engine::action_input input;
    input.message = "via Slack";
    input.escalation = escalation;
    const engine::act_on_request command{kind, std::move(input), model::actor{person->id, acting_role(*person, kind)}};
    auto result = store::record_action(db, ctx.api.policy, *request_id, command, now);
    if (std::holds_alternative<store::not_found>(result)) {
      answer(ephemeral(fmt::format("There is no escalation {}.", escalation)));
      return;
    }
    if (const auto* refusal = std::get_if<engine::refusal>(&result)) {
      answer(ephemeral(fmt::format("Escalation {}: {}", escalation, refusal->message)));
      return;
    }
    changes = std::get<std::vector<store::change>>(std::move(result));
    store::link_receipt(db, "slack_interaction", receipt, *request_id);
    const bool acknowledged = kind == engine::action_kind::acknowledge_escalation;
    const auto done_line =
        fmt::format("{} by {} ({}) at {}", acknowledged ? "Acknowledged" : "Resolved", notify::slack_escape(person->name),
                    model::to_string(command.actor.role), model::format_instant(now));
    update.request_id = *request_id;
    update.event_type = acknowledged ? "escalation.acknowledged" : "escalation.resolved";
    answer(updated_message(object_at(payload, "message"), escalation, *request_id, done_line, acknowledged,
                           ctx.public_url));
  }, match.gate);
  if (ctx.api.changed)
    for (const auto& change : changes) ctx.api.changed(change);
  co_return empty_ok(req);
}

}  // namespace

void add_slack_interaction_routes(router& routes, context& ctx) {
  routes.add(beast_http::verb::post, "/v1/webhooks/slack/interactions",
             [&ctx](const request& req, const route_match& match) { return on_interaction(ctx, req, match); });
}

}  // namespace switchboard::http::webhooks
