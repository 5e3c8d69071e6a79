#pragma once
// The notifier: sends due outbox rows, webhooks to their subscriptions over HTTP(S) with Standard
// Webhooks signatures, and messages (store/messages.hpp) through the Slack Web API
// (outbound/slack_api) or SMTP (outbound/smtp_pool), and records each attempt through the
// group-commit writer.
//
// Messages go out in conversation order (store::due_messages): the next message of a request on
// a channel waits until the one before it is delivered or dead. They are retried like webhooks
// ([notify] backoff and max_age), never sooner than Slack's Retry-After; Slack's and the SMTP
// server's refusals are dead at once (outbound::judge, smtp_verdict). A channel without its
// settings (no [outbound.email], no SWITCHBOARD_SLACK_BOT_TOKEN) dead-letters its rows, saying so.
// An e-mail row without a Message-ID gets "sb.<request>.<event seq>.<16 hex of the row id>@<the
// From's domain>", the same on every retry; once delivered it is remembered for its request
// (store::remember_message) in the attempt's job, so the customer's reply threads back.
//
// Several instances drain one outbox (issue 12 plan D4): each poll claims due rows for
// [notify] lease through the writer (store::claim_due; FOR UPDATE SKIP LOCKED on PostgreSQL), so
// a row is sent by one instance at a time, and records each attempt with its claim's token (a
// holder whose lease ran out and was taken over records nothing). Rows an instance held when it
// died are claimed by any instance once their lease has run out; on the embedded database (one
// process, store/database.hpp exclusive_use) the worker frees every lease when it starts.
//
// Delivery is at least once: a row stays pending until an attempt's outcome is committed, so a
// crash between sending and recording means the receiver sees the same webhook-id again (it
// dedupes on it). Only 2xx delivers; 410 disables the subscription (its pending rows are
// dead-lettered until a redeliver re-enables it); anything else is retried with exponential
// backoff and jitter, at least as late as Retry-After asks, until max_age has passed since the
// row was written (or redelivered): then it is dead-lettered. Redirects are not followed.
// Addresses are checked after resolution: loopback, private, link-local and similar ranges are
// refused unless the subscription has allow_private.
//
// Thread-safety: everything runs on the executor passed in, which must be the thread that owns
// `reader` (a single-threaded io_context). Writes go through the committer, never on it.

#include "engine/engine.hpp"
#include "model/request.hpp"
#include "notify/config.hpp"
#include "outbound/config.hpp"
#include "outbound/slack_api.hpp"
#include "store/committer.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace switchboard::observe {
class counter_family;
}

namespace switchboard::notify {

// Where message rows go.
struct message_channels {
  // slack_reply and slack_dm rows; slack_update rows go to their response_url when
  // outbound::allowed_response_url passes it against these (or the defaults when unset).
  std::optional<outbound::slack_api_settings> slack;
  std::optional<outbound::email_settings> email;           // email rows
  std::function<std::string(model::request_id)> reply_to;  // a request's Reply-To; empty or null: none
  // When set, a reply row's outcome (delivered or dead) is recorded on its request as
  // request.reply_delivered or request.reply_failed (store::record_delivery) in the job that
  // records the attempt. Must outlive the worker.
  const engine::policy* policy = nullptr;
  // [server] public_url (empty: none): escalation messages to Slack, by webhook subscription or
  // DM, link the dashboard there (notify::escalation_actions).
  std::string public_url;
};

class delivery_worker {
 public:
  // Resolves each subscription's URL and secret from the environment; throws std::runtime_error
  // naming the variable when one is missing or malformed. `clock` is the server's time (for the
  // outbox's schedule); signatures always carry the real Unix time. `instance` names this
  // process in the rows it claims (lease_holder); empty: "<hostname>:<pid>:<8 random hex>".
  delivery_worker(boost::asio::any_io_executor executor, store::committer& writer, store::read_session reader,
                  settings settings, std::function<model::instant()> clock, message_channels channels = {},
                  std::string instance = {});
  ~delivery_worker();
  delivery_worker(const delivery_worker&) = delete;
  delivery_worker& operator=(const delivery_worker&) = delete;

  void start();  // polls the outbox every poll_interval (also without subscriptions: rows left
                 // for a subscription no longer configured are dead-lettered, and can be redelivered)
  // Cancels the poll timer and frees this instance's leases through the writer (so other
  // instances send its claimed rows at once); attempts still in flight may finish and record.
  // The destructor stops polling without freeing anything (the writer may be gone by then).
  void stop();

  // Counts each webhook attempt once it is committed as recorded in `deliveries` (labels
  // subscription and outcome: delivered, retry or dead); an attempt another instance's lease
  // took over is not counted. Call before start(); the family must outlive the worker.
  void count_deliveries(observe::counter_family* deliveries);

  std::size_t subscriptions() const;
  const std::string& instance() const;  // the lease holder's name it claims rows as
  std::chrono::milliseconds lease() const;  // how long its claims of webhook rows last

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace switchboard::notify
