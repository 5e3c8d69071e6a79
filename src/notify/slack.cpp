// Slack messages for outbound events (incoming-webhook format).
#include "notify/slack.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <string>

namespace switchboard::notify {
namespace json = boost::json;
namespace {

std::string text_of(const json::object& object, std::string_view key) {
  const auto* found = object.if_contains(key);
  if (found == nullptr) return {};
  if (found->is_string()) return std::string(found->as_string());
  if (found->is_int64()) return std::to_string(found->as_int64());
  return {};
}

const json::object& object_of(const json::object& object, std::string_view key) {
  static const json::object empty;
  const auto* found = object.if_contains(key);
  return found != nullptr && found->is_object() ? found->as_object() : empty;
}

std::string join_roles(const json::object& data) {
  std::string out;
  if (const auto* roles = data.if_contains("notified"); roles != nullptr && roles->is_array())
    for (const auto& role : roles->as_array())
      if (role.is_string()) out += (out.empty() ? "" : ", ") + std::string(role.as_string());
  return out;
}

// "#12 “VPN drops” (acme, troubleshooting, owner se)"
std::string request_line(const json::object& data) {
  const auto& request = object_of(data, "request");
  auto id = text_of(data, "request_id");
  std::string line = fmt::format("#{}", slack_escape(id));
  if (const auto title = text_of(request, "title"); !title.empty()) line += fmt::format(" “{}”", slack_escape(title));
  std::string details;
  for (const auto* key : {"customer_name", "kind", "priority"}) {
    const auto value = text_of(request, key);
    if (!value.empty()) details += (details.empty() ? "" : ", ") + slack_escape(value);
  }
  if (const auto owner = text_of(request, "owner"); !owner.empty())
    details += (details.empty() ? "owner " : ", owner ") + slack_escape(owner);
  if (!details.empty()) line += fmt::format(" ({})", details);
  return line;
}

}  // namespace

std::string slack_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

json::object escalation_actions(std::string_view escalation_id, std::string_view request_id,
                                std::string_view public_url, bool acknowledged) {
  const auto plain = [](std::string_view text) { return json::object{{"type", "plain_text"}, {"text", text}}; };
  json::array elements;
  if (!acknowledged)
    elements.push_back(json::object{{"type", "button"},
                                    {"action_id", acknowledge_action},
                                    {"text", plain("Acknowledge")},
                                    {"value", escalation_id},
                                    {"style", "primary"}});
  elements.push_back(json::object{
      {"type", "button"},
      {"action_id", resolve_action},
      {"text", plain("Resolve")},
      {"value", escalation_id},
      {"confirm", json::object{{"title", plain("Resolve this escalation?")},
                               {"text", plain(fmt::format("Escalation {} will be closed for every role on its ladder.",
                                                          escalation_id))},
                               {"confirm", plain("Resolve")},
                               {"deny", plain("Cancel")}}}});
  if (!public_url.empty())
    elements.push_back(json::object{{"type", "button"},
                                    {"action_id", dashboard_action},
                                    {"text", plain("Open in dashboard")},
                                    {"url", fmt::format("{}/dashboard?request={}", public_url, request_id)}});
  return json::object{{"type", "actions"},
                      {"block_id", fmt::format("{}{}", actions_block_prefix, escalation_id)},
                      {"elements", std::move(elements)}};
}

json::object slack_message(const json::object& envelope, std::string_view public_url) {
  const auto type = text_of(envelope, "type");
  const auto& data = object_of(envelope, "data");
  const auto request = request_line(data);

  if (type == "escalation.notified") {
    const auto& escalation = object_of(data, "escalation");
    const auto roles = join_roles(data);
    const auto level = text_of(data, "level");
    const auto why = text_of(data, "why");
    const auto id = text_of(escalation, "id");
    const auto ladder = text_of(escalation, "ladder");
    const auto reason = text_of(escalation, "reason");
    const auto who = slack_escape(roles);
    const auto text = fmt::format(":rotating_light: Escalation {} ({}) level {}: {} notified on request {}",
                                  slack_escape(id), slack_escape(ladder), slack_escape(level), who, request);
    json::array fields{
        json::object{{"type", "mrkdwn"}, {"text", fmt::format("*Notified*\n{}", who)}},
        json::object{{"type", "mrkdwn"}, {"text", fmt::format("*Level*\n{}", slack_escape(level))}},
    };
    if (!reason.empty())
      fields.push_back(json::object{{"type", "mrkdwn"}, {"text", fmt::format("*Reason*\n{}", slack_escape(reason))}});
    if (!why.empty())
      fields.push_back(json::object{{"type", "mrkdwn"}, {"text", fmt::format("*Why now*\n{}", slack_escape(why))}});
    json::array blocks{
        json::object{{"type", "header"},
                     {"text", json::object{{"type", "plain_text"}, {"text", fmt::format("Escalation {} — level {}", id, level)}}}},
        json::object{{"type", "section"},
                     {"text", json::object{{"type", "mrkdwn"}, {"text", fmt::format("*Request {}*", request)}}}},
        json::object{{"type", "section"}, {"fields", std::move(fields)}},
        json::object{{"type", "context"},
                     {"elements", json::array{json::object{
                                      {"type", "mrkdwn"},
                                      {"text", fmt::format("Acknowledge with `POST /v1/escalations/{}/events` · {}",
                                                           slack_escape(id), slack_escape(text_of(envelope, "timestamp")))}}}}},
    };
    if (!id.empty()) blocks.push_back(escalation_actions(id, text_of(data, "request_id"), public_url));
    return json::object{{"text", text}, {"blocks", std::move(blocks)}};
  }

  const auto text = fmt::format("{} on request {}", slack_escape(type), request);
  return json::object{
      {"text", text},
      {"blocks", json::array{json::object{{"type", "section"},
                                          {"text", json::object{{"type", "mrkdwn"}, {"text", text}}}}}}};
}

}  // namespace switchboard::notify
