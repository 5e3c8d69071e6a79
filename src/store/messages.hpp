#pragma once
// Messages in the outbox (issue 13, M-a): besides webhooks, replies and notifications carried by
// Slack (a thread reply, a direct message) or e-mail, in the same table, with the same retries,
// dead letters, redelivery and delivery log (store/outbox.hpp). Each row's payload is the
// channel's message spec, fixed when it is enqueued and the same bytes on every retry:
//   slack_reply  {"channel": "C…", "thread_ts": "…", "text": "…"}
//   slack_dm     {"user": "U…", "text": "…", "person": "…"}, and for an escalation notice
//                "escalation": "<id>", "request": <id> (the DM then carries the escalation's buttons)
//   slack_update {"response_url": "https://hooks.slack.com/…", "body": {…}, "expires_at": <Unix
//                seconds, real time; dead, unsent, after>}: a message a Slack
//                interaction's response_url receives as given (replace_original, or an ephemeral
//                answer to the person who clicked); see http/webhooks/slack_interactions.cpp
//   email        {"to": ["…"], "subject": "…", "message_id": "…" or "", "in_reply_to": "…",
//                 "references": ["…"], "text": "…", "kind": "reply" | "notification"}
// What the config holds (the bot token, From, Reply-To) is added when sending.
//
// Conversation order: the messages of one request on one channel go out in the order they were
// enqueued; a message is not due while an earlier one of its conversation is still pending (being
// sent, or waiting out a retry such as Slack's 429), so two quick answers are never swapped.
//
// Writers call enqueue_message inside a transaction they own (see store::committer); readers may
// call due_messages on any connection. Thread-safety: as the connection passed in.

#include "store/session.hpp"
#include "model/instant.hpp"
#include "model/person.hpp"
#include "model/request.hpp"
#include "store/outbox.hpp"

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::store {

enum class channel { webhook, slack_reply, slack_dm, email, slack_update };
std::string_view to_string(channel value);
std::optional<channel> parse_channel(std::string_view text);
std::string_view channel_names();  // "webhook, slack_reply, slack_dm, email, slack_update"

enum class message_purpose { reply, notification };
std::string_view to_string(message_purpose value);

struct message {
  store::channel channel = store::channel::slack_reply;  // not webhook: enqueue_outbound writes those
  message_purpose purpose = message_purpose::reply;
  std::optional<model::request_id> request_id;  // the conversation, with the channel
  std::int64_t event_seq = 0;                   // events.seq of the event it carries; 0 when none
  std::string event_type;                       // that event's type, for the log's filter
  std::string recipient;                        // Slack channel or user id, or e-mail address
  std::string payload;                          // the message spec (above), JSON
};

// Appends `m` as a pending row due at `now`, its subscription "slack" or "email"; returns its id.
// Throws std::invalid_argument for a webhook channel.
std::int64_t enqueue_message(unit_of_work work, const message& m, model::instant now);

// Enqueues what `events` (just appended on this connection in this transaction; `seqs` are
// their events.seq, one each, as appended: with several instances on PostgreSQL one outcome's
// seqs need not be consecutive) send to customers: one row per public answer that is not `seen` in its
// channel already; internal notes and seen answers get none (issue 13 plan 2.2). A Slack thread
// gets a slack_reply row {"channel", "thread_ts", "text", "reply"}; an e-mail conversation an
// email row {"to": [address], "subject": "Re: <subject> [SB-<id>]", "message_id": "" (the
// notifier makes it from the row, the same on every retry, and remembers it once delivered so the
// customer's reply threads back), "in_reply_to", "references", "text", "kind": "reply", "reply"}.
// "reply" is the answer's number among its request's replies (model::reply::number, from `changes`).
void enqueue_replies(unit_of_work work, const std::vector<engine::event>& events,
                     const std::vector<std::int64_t>& seqs, const std::vector<change>& changes);

// Enqueues the notices `events` (with their `seqs`, as enqueue_replies) send to people (issue 13
// E6, E7): for each escalation.notified naming `people`, each of them (engine::escalation_notice);
// for each request.assigned the system made (how "dri" or "account_team"), the assignee
// (engine::assignment_notice); for each escalation.triggered, and each sla.breached that opened
// no escalation, the customer's TA (account_team.ta on the request; engine::watch_notice). Each
// person gets one slack_dm row {"user", "text", "person"} (and, for an escalation.notified,
// "escalation" and "request": the DM then carries the escalation's buttons) if notified by Slack and
// one email row {"to": [address], "subject", "message_id": "", "in_reply_to": "", "references":
// [], "text", "kind": "notification", "person"} per person notified by e-mail (model::person's
// notify), purpose notification, with engine::escalation_notice's words on the request as
// `changes` hold it. People no longer in `directory` get nothing. Both databases: rows are
// written through enqueue_message.
void enqueue_notifications(unit_of_work work, const model::people_directory& directory,
                           const std::vector<engine::event>& events, const std::vector<std::int64_t>& seqs,
                           const std::vector<change>& changes);

// Pending message rows due by `now`, at most `limit`, oldest due first, each the earliest pending
// row of its conversation (request, channel): a later row waits until the earlier one is
// delivered or dead, whenever it is due. Rows without a request are conversations of their own.
// Webhook rows are never returned (due_deliveries has them).
std::vector<delivery> due_messages(read_session session, model::instant now, int limit);

// The sends tried so far of `id`'s answers still being retried: reply number (the row's "reply")
// -> the outbox row's attempts, for rows with at least one attempt. A request's document learns
// an answer's attempts only when it settles (request.reply_delivered or request.reply_failed);
// readers fold these in meanwhile. One probe of outbox_conversation. Empty on PostgreSQL, where
// no message rows are written yet.
std::map<int, int> pending_reply_attempts(read_session session, model::request_id id);

}  // namespace switchboard::store
