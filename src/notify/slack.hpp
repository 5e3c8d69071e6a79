#pragma once
// The shipped Slack incoming-webhook formatter: a Standard Webhooks envelope
// ({"type","timestamp","data"}, as the outbox stores it) to a Slack message ({"text","blocks"}).
// Escalation notifications get the full treatment (who is notified, why, the request); other
// event types get one line, so a Slack subscription may take any of them.
//
// Thread-safety: pure function.

#include <boost/json/object.hpp>

namespace switchboard::notify {

boost::json::object slack_message(const boost::json::object& envelope);

// Escapes &, < and > as Slack's mrkdwn requires.
std::string slack_escape(std::string_view text);

}  // namespace switchboard::notify
