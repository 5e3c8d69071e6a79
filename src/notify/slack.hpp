#pragma once
// The shipped Slack incoming-webhook formatter: a Standard Webhooks envelope
// ({"type","timestamp","data"}, as the outbox stores it) to a Slack message ({"text","blocks"}).
// Escalation notifications get the full treatment (who is notified, why, the request, and the
// buttons of escalation_actions); other event types get one line, so a Slack subscription may
// take any of them.
//
// Thread-safety: pure functions.

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace switchboard::notify {

// `public_url` ([server] public_url, no trailing slash; empty: none) adds the Open in dashboard button.
boost::json::object slack_message(const boost::json::object& envelope, std::string_view public_url = {});

// What the buttons of an escalation message send back (POST /v1/webhooks/slack/interactions).
inline constexpr std::string_view acknowledge_action = "sb_ack";
inline constexpr std::string_view resolve_action = "sb_resolve";
inline constexpr std::string_view dashboard_action = "sb_open";
inline constexpr std::string_view actions_block_prefix = "sb:";  // + the escalation id: the block_id

// The Block Kit actions block of escalation `escalation_id` on request `request_id`
// (https://api.slack.com/reference/block-kit/blocks#actions): block_id "sb:<escalation id>";
// Acknowledge (action_id sb_ack, style primary) unless `acknowledged`; Resolve (sb_resolve, with
// a confirm dialog), each with value = the escalation id; and, when `public_url` is set, a URL
// button Open in dashboard to <public_url>/dashboard?request=<request id>. Within Block Kit's
// limits for what this server sends (ids of at most 200 bytes, public_url at most 2000): button
// text 75 characters, action_id 255, value 2000, url 3000, 25 elements.
boost::json::object escalation_actions(std::string_view escalation_id, std::string_view request_id,
                                       std::string_view public_url, bool acknowledged = false);

// Escapes &, < and > as Slack's mrkdwn requires.
std::string slack_escape(std::string_view text);

}  // namespace switchboard::notify
