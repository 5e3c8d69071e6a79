// SQL for message rows of the outbox: enqueueing and conversation-ordered reading.
#include "store/messages.hpp"

#include "engine/notice.hpp"
#if SWITCHBOARD_POSTGRES
#include "store/postgres/outbox.hpp"
#endif
#include "store/statements.hpp"

#include <SQLiteCpp/Statement.h>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <stdexcept>

namespace switchboard::store {
namespace {

constexpr std::array<std::pair<channel, std::string_view>, 5> channel_table{{
    {channel::webhook, "webhook"},
    {channel::slack_reply, "slack_reply"},
    {channel::slack_dm, "slack_dm"},
    {channel::email, "email"},
    {channel::slack_update, "slack_update"},
}};

std::int64_t seconds(model::instant at) { return at.time_since_epoch().count(); }

// "Re: <subject> [SB-<id>]": one "Re:" (RFC 5322 section 3.6.5), and the request's tag, which the
// e-mail intake threads a reply on when its Message-IDs are lost.
std::string reply_subject(std::string_view subject, model::request_id id) {
  std::string out(subject);
  const bool has_re = out.size() >= 3 && (out[0] == 'R' || out[0] == 'r') && (out[1] == 'E' || out[1] == 'e') && out[2] == ':';
  if (!has_re) out = "Re: " + out;
  const auto tag = fmt::format("[SB-{}]", id);
  if (out.find(tag) == std::string::npos) out += " " + tag;
  return out;
}

}  // namespace

std::string_view to_string(channel value) {
  for (const auto& [c, name] : channel_table)
    if (c == value) return name;
  return "webhook";
}

std::optional<channel> parse_channel(std::string_view text) {
  for (const auto& [c, name] : channel_table)
    if (name == text) return c;
  return std::nullopt;
}

std::string_view channel_names() { return "webhook, slack_reply, slack_dm, email, slack_update"; }

std::string_view to_string(message_purpose value) {
  return value == message_purpose::reply ? "reply" : "notification";
}

std::int64_t enqueue_message(unit_of_work work, const message& m, model::instant now) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = work.postgres()) return postgres::enqueue_message(*pg, m, now);
#endif
  SQLite::Database& db = work.connection();
  if (m.channel == channel::webhook) throw std::invalid_argument("enqueue_message: webhooks are enqueue_outbound's");
  statement insert(db,
                   "INSERT INTO outbox (webhook_id, subscription, event_type, event_seq, request_id, payload, "
                   "created_at, window_start, state, next_attempt_at, channel, purpose, recipient) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)");
  insert->bind(1, new_webhook_id());
  insert->bind(2, m.channel == channel::email ? "email" : "slack");
  insert->bind(3, m.event_type);
  insert->bind(4, m.event_seq);
  if (m.request_id) insert->bind(5, *m.request_id); else insert->bind(5);
  insert->bind(6, m.payload);
  insert->bind(7, seconds(now));
  insert->bind(8, seconds(now));
  insert->bind(9, seconds(now));
  insert->bind(10, std::string(to_string(m.channel)));
  insert->bind(11, std::string(to_string(m.purpose)));
  insert->bind(12, m.recipient);
  insert->exec();
  insert->reset();
  return db.getLastInsertRowid();
}

void enqueue_replies(unit_of_work work, const std::vector<engine::event>& events,
                     const std::vector<std::int64_t>& seqs, const std::vector<change>& changes) {
  // An answer's number: its request's public answers counted back from the last one folded.
  std::map<model::request_id, int> public_answers;
  for (const auto& e : events)
    if (const auto* a = std::get_if<model::request_answered>(&e.data); a && a->is_public.value_or(false) && a->delivery)
      ++public_answers[e.request];
  std::map<model::request_id, int> seen_so_far;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    const auto* answer = std::get_if<model::request_answered>(&e.data);
    if (answer == nullptr || !answer->is_public.value_or(false) || !answer->delivery) continue;
    const auto ordinal = ++seen_so_far[e.request];
    if (answer->delivery->seen) continue;
    const auto state = std::find_if(changes.begin(), changes.end(), [&](const change& c) { return c.request.id == e.request; });
    if (state == changes.end()) throw std::logic_error(fmt::format("an answer of request {} came with no state for it", e.request));
    const auto number = static_cast<int>(state->request.replies.size()) - public_answers[e.request] + ordinal;
    message m;
    m.purpose = message_purpose::reply;
    m.request_id = e.request;
    m.event_seq = seqs.at(i);
    m.event_type = std::string(model::type_name(e));
    if (const auto* thread = std::get_if<model::slack_thread>(&answer->delivery->to)) {
      m.channel = channel::slack_reply;
      m.recipient = thread->channel;
      m.payload = boost::json::serialize(boost::json::object{
          {"channel", thread->channel}, {"thread_ts", thread->thread_ts}, {"text", answer->common.message}, {"reply", number}});
    } else {
      const auto& mail = std::get<model::email_thread>(answer->delivery->to);
      m.channel = channel::email;
      m.recipient = mail.to;
      boost::json::array references;
      for (const auto& id : mail.references) references.emplace_back(id);
      // The Message-ID is the worker's to make (it knows our domain), the same on every retry.
      m.payload = boost::json::serialize(boost::json::object{{"to", boost::json::array{boost::json::value(mail.to)}},
                                                             {"subject", reply_subject(mail.subject, e.request)},
                                                             {"message_id", ""},
                                                             {"in_reply_to", mail.last_message_id},
                                                             {"references", std::move(references)},
                                                             {"text", answer->common.message},
                                                             {"kind", "reply"},
                                                             {"reply", number}});
    }
    enqueue_message(work, m, e.at);
  }
}

namespace {

// One notice to `person` about event `e` (its `seq`), by each of their channels (model::person's
// notify): a slack_dm row and/or an email row, purpose notification.
// `escalation`: the escalation a notice announces (its DM carries the buttons), else empty.
void notify_person(unit_of_work& work, const model::person& person, const engine::notice& said, const engine::event& e,
                   std::int64_t seq, const std::string& escalation = {}) {
  message m;
  m.purpose = message_purpose::notification;
  m.request_id = e.request;
  m.event_seq = seq;
  m.event_type = std::string(model::type_name(e));
  if (person.notified_by("slack") && !person.slack_user.empty()) {
    m.channel = channel::slack_dm;
    m.recipient = person.slack_user;
    boost::json::object dm{{"user", person.slack_user}, {"text", said.text}, {"person", person.id}};
    if (!escalation.empty()) {
      dm["escalation"] = escalation;
      dm["request"] = e.request;
    }
    m.payload = boost::json::serialize(dm);
    enqueue_message(work, m, e.at);
  }
  if (person.notified_by("email") && !person.email.empty()) {
    m.channel = channel::email;
    m.recipient = person.email;
    m.payload = boost::json::serialize(boost::json::object{{"to", boost::json::array{boost::json::value(person.email)}},
                                                           {"subject", said.subject},
                                                           {"message_id", ""},
                                                           {"in_reply_to", ""},
                                                           {"references", boost::json::array{}},
                                                           {"text", said.text},
                                                           {"kind", "notification"},
                                                           {"person", person.id}});
    enqueue_message(work, m, e.at);
  }
}

// What the customer's TA is told of `e`, if anything: an escalation opened, or a breach that opened
// none (with an sla_breach ladder the breach's own escalation.triggered says it, once).
std::optional<std::string> watched(const std::vector<engine::event>& events, const engine::event& e) {
  if (const auto* opened = std::get_if<model::escalation_triggered>(&e.data))
    return fmt::format("escalation {} opened on the {} ladder: {}", opened->whole.id, opened->whole.ladder,
                       opened->whole.reason);
  const auto* clock = std::get_if<model::clock_changed>(&e.data);
  if (clock == nullptr || clock->kind != model::clock_change::breached) return std::nullopt;
  const bool escalated = std::any_of(events.begin(), events.end(), [&](const engine::event& other) {
    return other.request == e.request && other.at == e.at && std::holds_alternative<model::escalation_triggered>(other.data);
  });
  if (escalated) return std::nullopt;
  return fmt::format("{} breached (SLA policy {})", model::to_string(clock->clock.metric), clock->clock.policy);
}

}  // namespace

void enqueue_notifications(unit_of_work work, const model::people_directory& directory,
                           const std::vector<engine::event>& events, const std::vector<std::int64_t>& seqs,
                           const std::vector<change>& changes) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    const auto* notified = std::get_if<model::escalation_notified>(&e.data);
    const auto* assigned = std::get_if<model::request_assigned>(&e.data);
    const bool system_assigned = assigned != nullptr && (assigned->how == "dri" || assigned->how == "account_team");
    const auto watch = watched(events, e);
    if ((notified == nullptr || notified->people.empty()) && !system_assigned && !watch) continue;
    const auto state = std::find_if(changes.begin(), changes.end(), [&](const change& c) { return c.request.id == e.request; });
    if (state == changes.end())
      throw std::logic_error(fmt::format("a notification of request {} came with no state for it", e.request));
    const auto& request = state->request;
    if (notified != nullptr)
      for (const auto& id : notified->people)
        if (const auto* person = directory.find(id))
          notify_person(work, *person, engine::escalation_notice(request, *notified, *person, e.at), e, seqs.at(i),
                        notified->step.id);
    if (system_assigned)
      if (const auto* person = directory.find(assigned->assignee))
        notify_person(work, *person, engine::assignment_notice(request, *assigned, e.at), e, seqs.at(i));
    if (watch)
      if (const auto* ta = directory.find(request.input.customer.account_team.ta))
        notify_person(work, *ta, engine::watch_notice(request, *watch, e.at), e, seqs.at(i));
  }
}

std::vector<delivery> due_messages(read_session session, model::instant now, int limit) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::due_messages(*pg, now, limit);
#endif
  SQLite::Database& db = session.connection();
  // The NOT EXISTS is one probe of outbox_conversation per candidate.
  statement query(db, fmt::format("SELECT {} FROM outbox AS o WHERE o.state = 'pending' AND o.channel != 'webhook' "
                                  "AND o.next_attempt_at <= ? AND NOT (o.request_id IS NOT NULL AND EXISTS ("
                                  "SELECT 1 FROM outbox AS e WHERE e.request_id = o.request_id AND "
                                  "e.channel = o.channel AND e.state = 'pending' AND e.id < o.id)) "
                                  "ORDER BY o.next_attempt_at, o.id LIMIT ?",
                                  delivery_columns()));
  query->bind(1, seconds(now));
  query->bind(2, limit);
  std::vector<delivery> out;
  while (query->executeStep()) out.push_back(decode_delivery(*query));
  query->reset();
  return out;
}

std::map<int, int> pending_reply_attempts(read_session session, model::request_id id) {
#if SWITCHBOARD_POSTGRES
  if (auto* pg = session.postgres()) return postgres::pending_reply_attempts(*pg, id);
#endif
  SQLite::Database& db = session.connection();
  statement query(db, "SELECT json_extract(payload, '$.reply'), attempts FROM outbox "
                      "WHERE request_id = ? AND state = 'pending' AND purpose = 'reply' AND attempts > 0");
  query->bind(1, id);
  std::map<int, int> out;
  while (query->executeStep())
    if (!query->getColumn(0).isNull()) out[query->getColumn(0).getInt()] = query->getColumn(1).getInt();
  query->reset();
  return out;
}

}  // namespace switchboard::store
