// The notifier: outbox rows out over HTTP(S), attempts recorded through group commit.
#include "notify/worker.hpp"

#include "notify/retry.hpp"
#include "notify/signing.hpp"
#include "notify/slack.hpp"
#include "observe/log.hpp"
#include "observe/metrics.hpp"
#include "outbound/email_message.hpp"
#include "outbound/http_post.hpp"
#include "outbound/smtp_pool.hpp"
#include "store/inbound.hpp"
#include "store/messages.hpp"
#include "store/outbox.hpp"
#include "store/requests.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <utility>

#include <unistd.h>

namespace switchboard::notify {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

constexpr std::size_t max_in_flight = 8;
constexpr std::uint64_t response_body_limit = 64 * 1024;

struct target {
  subscription sub;
  url_parts url;
  std::vector<std::string> keys;  // HMAC keys, newest first (several during a rotation); none: unsigned
};

target resolve_target(const subscription& sub) {
  target t{sub, {}, {}};
  std::string url = sub.url;
  if (!sub.url_env.empty()) {
    const char* value = std::getenv(sub.url_env.c_str());
    if (value == nullptr || *value == '\0')
      throw std::runtime_error(fmt::format("webhook subscription \"{}\": environment variable {} (its URL) is not set",
                                           sub.name, sub.url_env));
    url = value;
  }
  try {
    t.url = parse_url(url);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(fmt::format("webhook subscription \"{}\": {}", sub.name, e.what()));
  }
  if (!sub.secret_env.empty()) {
    const char* value = std::getenv(sub.secret_env.c_str());
    if (value == nullptr || *value == '\0')
      throw std::runtime_error(fmt::format(
          "webhook subscription \"{}\": environment variable {} (its whsec_ signing secret) is not set", sub.name,
          sub.secret_env));
    // Several secrets separated by spaces during a rotation: each signs, receivers accept any.
    std::istringstream secrets{std::string(value)};
    for (std::string secret; secrets >> secret;) {
      auto key = decode_secret(secret);
      if (!key)
        throw std::runtime_error(fmt::format("webhook subscription \"{}\": {} must hold \"whsec_\" + base64 of at "
                                             "least 16 random bytes (several separated by spaces while rotating)",
                                             sub.name, sub.secret_env));
      t.keys.push_back(std::move(*key));
    }
    if (t.keys.empty())
      throw std::runtime_error(fmt::format("webhook subscription \"{}\": {} holds no secret", sub.name, sub.secret_env));
  }
  return t;
}

// "<hostname>:<pid>:<8 random hex>": unique enough among the instances of one database.
std::string local_instance_id() {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  std::random_device random;
  return fmt::format("{}:{}:{:08x}", host.data(), ::getpid(), random());
}

}  // namespace

struct delivery_worker::impl : std::enable_shared_from_this<impl> {
  impl(asio::any_io_executor executor, store::committer& writer, store::read_session reader, settings config,
       std::function<model::instant()> clock, message_channels channels, std::string instance)
      : executor_(executor), writer_(writer), reader_(reader), settings_(std::move(config)), clock_(std::move(clock)),
        channels_(std::move(channels)), instance_(instance.empty() ? local_instance_id() : std::move(instance)),
        timer_(executor) {
    for (const auto& sub : settings_.subscriptions) targets_.emplace(sub.name, resolve_target(sub));
    if (channels_.slack) slack_ = std::make_unique<outbound::slack_api>(executor, *channels_.slack);
    if (channels_.email) smtp_ = std::make_unique<outbound::smtp_pool>(channels_.email->smtp);
    // A claim outlasts the send it covers (and its record): [notify] lease, or twice the send's
    // timeout when that is longer (Slack's and SMTP's timeouts are their own settings).
    lease_ = std::max<std::chrono::milliseconds>(settings_.lease, 2 * settings_.timeout);
    std::chrono::seconds slowest_message{0};
    if (channels_.slack && !channels_.slack->bot_token.empty()) slowest_message = channels_.slack->timeout;
    if (channels_.email) slowest_message = std::max(slowest_message, channels_.email->smtp.timeout);
    message_lease_ = std::max<std::chrono::milliseconds>(settings_.lease, 2 * slowest_message);
    tls_.set_default_verify_paths();
    tls_.set_verify_mode(asio::ssl::verify_peer);
  }

  asio::awaitable<void> run() {
    auto self = shared_from_this();
    while (!stopped_) {
      try {
        poll();
      } catch (const std::exception& e) {
        observe::log(observe::log_level::error, fmt::format("webhook outbox poll failed: {}", e.what()));
      }
      timer_.expires_after(settings_.poll_interval);
      boost::system::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  // Claims what is due (as many rows as there is room in flight for) through the writer, and
  // sends what it got once the claim is committed. A read first, so that an idle outbox costs no
  // write transaction; it also sees rows other instances hold, whose claim then takes nothing.
  void poll() {
    if (claiming_ || in_flight_.size() >= max_in_flight) return;
    const auto now = clock_();
    const bool webhooks = !store::due_deliveries(reader_, now, 1).empty();
    const bool messages = !store::due_messages(reader_, now, 1).empty();
    if (!webhooks && !messages) return;
    claiming_ = true;
    const store::lease_claim claim{instance_, lease_, now, static_cast<int>(max_in_flight - in_flight_.size())};
    auto claimed = std::make_shared<std::pair<std::vector<store::delivery>, std::vector<store::delivery>>>();
    std::weak_ptr<impl> weak = shared_from_this();
    writer_.submit(
        [claimed, claim, webhooks, messages, free_all = !leases_checked_, message_lease = message_lease_](store::unit_of_work& db) {
          // One process writes the embedded database: a lease found in it is a dead process's (a
          // kill -9 while it sent), so the first claim frees them all and takes those rows now
          // rather than after their lease. (Only then: no job of its own at start.)
          if (free_all) store::release_leases(db, std::nullopt);
          // A job may run again (store/committer.hpp): it assigns, never appends.
          claimed->first = webhooks ? store::claim_due(db, store::outbox_queue::webhooks, claim)
                                    : std::vector<store::delivery>{};
          auto rest = claim;
          rest.length = message_lease;
          rest.limit -= static_cast<int>(claimed->first.size());
          claimed->second = messages && rest.limit > 0 ? store::claim_due(db, store::outbox_queue::messages, rest)
                                                       : std::vector<store::delivery>{};
        },
        [weak, executor = executor_, claimed](std::exception_ptr error) {
          asio::post(executor, [weak, claimed, error] {
            auto self = weak.lock();
            if (!self) return;
            self->claiming_ = false;
            if (!error) self->leases_checked_ = true;
            if (error) {
              try {
                std::rethrow_exception(error);
              } catch (const std::exception& e) {
                observe::log(observe::log_level::error, fmt::format("claiming due outbox rows failed: {}", e.what()));
              }
              return;
            }
            // Stopped meanwhile: the rows' leases run out and any instance sends them.
            if (self->stopped_) return;
            self->send_webhooks(std::move(claimed->first));
            self->send_messages(std::move(claimed->second));
          });
        });
  }

  void send_messages(std::vector<store::delivery> claimed) {
    for (auto& d : claimed) {
      if (!in_flight_.insert(d.id).second) continue;
      asio::co_spawn(executor_, deliver_message(std::move(d)), asio::detached);
    }
  }

  void send_webhooks(std::vector<store::delivery> claimed) {
    if (claimed.empty()) return;
    const auto disabled = store::disabled_subscriptions(reader_);
    for (auto& d : claimed) {
      if (!in_flight_.insert(d.id).second) continue;
      const auto found = targets_.find(d.subscription);
      std::string reason;
      if (found == targets_.end()) reason = "subscription is no longer configured";
      for (const auto& off : disabled)
        if (off.subscription == d.subscription) reason = fmt::format("subscription disabled: {}", off.reason);
      if (!reason.empty()) {
        observe::log(observe::log_level::warning,
                     fmt::format("webhook {} ({}) dead-lettered: {}", d.webhook_id, d.subscription, reason));
        finish(d.id, [id = d.id, reason, token = d.lease_token](store::unit_of_work& db) {
          store::dead_letter(db, id, reason, token);
        });
        continue;
      }
      asio::co_spawn(executor_, deliver(std::move(d), found->second), asio::detached);
    }
  }

  // Records an outcome through the writer; the row leaves in_flight_ once that is committed.
  // `committed` (if any) runs on the worker's executor once the job is durable, while the worker lives.
  void finish(std::int64_t id, store::committer::job job, std::function<void()> committed = {}) {
    std::weak_ptr<impl> weak = shared_from_this();
    writer_.submit(std::move(job), [weak, executor = executor_, id, committed = std::move(committed)](std::exception_ptr error) {
      asio::post(executor, [weak, id, error, committed] {
        auto self = weak.lock();
        if (!error && committed && self) committed();
        if (error) {
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            observe::log(observe::log_level::error,
                         fmt::format("recording webhook delivery {} failed: {}", id, e.what()));
          }
        }
        if (self) self->in_flight_.erase(id);
      });
    });
  }

  asio::awaitable<void> deliver(store::delivery d, target t) {
    auto self = shared_from_this();
    std::string body;
    try {
      body = t.sub.format == body_format::slack
                 ? json::serialize(slack_message(json::parse(d.payload).as_object(), channels_.public_url))
                 : d.payload;
    } catch (const std::exception& e) {
      body = d.payload;
    }
    const auto unix_now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    const auto timestamp = std::to_string(unix_now.time_since_epoch().count());

    bhttp::request<bhttp::string_body> req{bhttp::verb::post, t.url.target, 11};
    req.set(bhttp::field::host, outbound::host_header(t.url));
    req.set(bhttp::field::user_agent, "Switchboard-Webhooks/1");
    req.set(bhttp::field::content_type, "application/json");
    req.set(bhttp::field::connection, "close");
    req.set("webhook-id", d.webhook_id);
    req.set("webhook-timestamp", timestamp);
    if (!t.keys.empty()) {
      std::string signatures;
      for (const auto& key : t.keys)
        signatures += (signatures.empty() ? "" : " ") + sign(key, d.webhook_id, timestamp, body);
      req.set("webhook-signature", signatures);
    }
    req.body() = std::move(body);
    req.prepare_payload();

    const auto started = std::chrono::steady_clock::now();
    const outbound::post_options options{settings_.timeout, t.sub.allow_private, response_body_limit};
    const auto sent = co_await outbound::http_post(executor_, tls_, t.url, options, req);
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);

    const auto now = clock_();
    store::attempt_result result;
    result.attempt = store::delivery_attempt{d.attempts + 1, now, sent.status, sent.error, elapsed.count()};
    result.lease_token = d.lease_token;
    bool disable = false;
    const auto outcome = sent.status ? classify(*sent.status) : verdict::retry;
    if (sent.status && outcome != verdict::delivered && result.attempt.error.empty())
      result.attempt.error = fmt::format("HTTP {}", *sent.status);
    if (outcome == verdict::delivered) {
      result.next_state = store::delivery_state::delivered;
    } else if (outcome == verdict::gone) {
      result.next_state = store::delivery_state::dead;
      result.dead_reason = "410 Gone: subscription disabled until a redeliver";
      disable = true;
    } else {
      const auto retry_after =
          sent.retry_after.empty() ? std::nullopt : parse_retry_after(sent.retry_after, std::chrono::system_clock::now());
      const auto delay = next_delay(
          backoff_delay(backoff{settings_.initial_backoff, settings_.max_backoff}, result.attempt.attempt, unit_(rng_)),
          retry_after, settings_.max_age);
      // The server clock is in whole seconds: a second more keeps Retry-After a lower bound.
      result.next_attempt_at = now + delay + (retry_after && delay == *retry_after ? std::chrono::seconds{1} : std::chrono::seconds{0});
      if (result.next_attempt_at > d.window_start + settings_.max_age) {
        result.next_state = store::delivery_state::dead;
        result.dead_reason = fmt::format("gave up after {} attempts over {}", result.attempt.attempt,
                                         fmt::format("{}s", (now - d.window_start).count()));
      }
    }
    if (result.next_state != store::delivery_state::delivered)
      observe::log(observe::log_level::warning,
                   fmt::format("webhook {} ({} attempt {}) failed: {}{}", d.webhook_id, d.subscription,
                               result.attempt.attempt, result.attempt.error,
                               result.next_state == store::delivery_state::dead
                                   ? fmt::format(" — dead-lettered: {}", result.dead_reason)
                                   : ""));
    // Set by the job's last run (a batch may run its jobs again), read once it is committed.
    auto recorded = std::make_shared<bool>(false);
    finish(
        d.id,
        [id = d.id, result, disable, sub = d.subscription, now, recorded](store::unit_of_work& db) {
          *recorded = store::record_attempt(db, id, result);
          if (*recorded && disable) store::disable_subscription(db, sub, "the endpoint answered 410 Gone", now);
        },
        [this, recorded, sub = d.subscription, state = result.next_state] {
          if (deliveries_ == nullptr || !*recorded) return;
          const std::string_view outcome = state == store::delivery_state::delivered ? "delivered"
                                           : state == store::delivery_state::dead    ? "dead"
                                                                                     : "retry";
          deliveries_->add({sub, outcome});
        });
  }

  // One message row: sent on its channel, then the attempt recorded like a webhook's.
  asio::awaitable<void> deliver_message(store::delivery d) {
    auto self = shared_from_this();
    const auto started = std::chrono::steady_clock::now();
    sent_message sent;
    try {
      const auto payload = json::parse(d.payload).as_object();
      if (d.channel == "slack_reply" || d.channel == "slack_dm")
        sent = co_await send_slack(d, payload);
      else if (d.channel == "slack_update")
        sent = co_await send_slack_update(payload);
      else if (d.channel == "email")
        sent = co_await send_email(d, payload);
      else
        sent = dead(fmt::format("unknown channel \"{}\"", d.channel));
    } catch (const std::exception& e) {
      // A payload that does not read can never be sent: enqueue writes it, so this is a bug.
      sent = dead(fmt::format("unreadable message spec: {}", e.what()));
    }
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    const auto now = clock_();
    store::attempt_result result;
    result.attempt = store::delivery_attempt{d.attempts + 1, now, sent.status, sent.error, elapsed.count()};
    result.lease_token = d.lease_token;
    if (sent.outcome == outbound::slack_outcome::delivered) {
      result.next_state = store::delivery_state::delivered;
      result.external_id = sent.external_id;
    } else if (sent.outcome == outbound::slack_outcome::dead) {
      result.next_state = store::delivery_state::dead;
    } else {
      const auto delay = next_delay(
          backoff_delay(backoff{settings_.initial_backoff, settings_.max_backoff}, result.attempt.attempt, unit_(rng_)),
          sent.retry_after, settings_.max_age);
      // The server clock is in whole seconds: a second more keeps Retry-After a lower bound.
      result.next_attempt_at =
          now + delay + (sent.retry_after && delay == *sent.retry_after ? std::chrono::seconds{1} : std::chrono::seconds{0});
      if (result.next_attempt_at > d.window_start + settings_.max_age) {
        result.next_state = store::delivery_state::dead;
        result.dead_reason = fmt::format("gave up after {} attempts over {}s", result.attempt.attempt,
                                         (now - d.window_start).count());
      }
    }
    if (result.next_state != store::delivery_state::delivered)
      observe::log(observe::log_level::warning,
                   fmt::format("{} message {} (request {}, attempt {}) failed: {}{}", d.channel, d.webhook_id,
                               d.request_id.value_or(0), result.attempt.attempt, result.attempt.error,
                               result.next_state == store::delivery_state::dead
                                   ? (result.dead_reason.empty() ? std::string(" — dead")
                                                                 : fmt::format(" — dead: {}", result.dead_reason))
                                   : ""));
    auto settled = settled_reply(d, result);
    // A delivered answer's Message-ID threads the customer's reply to it back onto the request.
    std::string sender;
    if (d.channel == "email" && d.request_id && result.next_state == store::delivery_state::delivered &&
        !result.external_id.empty() && channels_.email) {
      try {
        sender = outbound::address_of(channels_.email->from);
      } catch (const outbound::invalid_email&) {
      }
    }
    finish(d.id, [id = d.id, result, request = d.request_id, settled = std::move(settled), sender,
                  policy = channels_.policy](store::unit_of_work& db) {
      // Only the job that moved the row on records its outcome, so a replayed job records nothing twice.
      if (!store::record_attempt(db, id, result)) return;
      if (!sender.empty()) store::remember_message(db, result.external_id, sender, *request);
      if (settled && policy != nullptr) store::record_delivery(db, *policy, *request, *settled, result.attempt.at);
    });
  }

  // What a reply row's last attempt settles on its request (issue 13 plan 2.1): delivered with
  // Slack's ts and the text as sent, or failed with the reason the log shows; nothing while it is
  // retried, for notifications, or for a row without its answer's number.
  static std::optional<model::reply_settled> settled_reply(const store::delivery& d, const store::attempt_result& result) {
    if (d.purpose != "reply" || !d.request_id || result.next_state == store::delivery_state::pending) return std::nullopt;
    json::object payload;
    try {
      payload = json::parse(d.payload).as_object();
    } catch (const std::exception&) {
      return std::nullopt;
    }
    const auto* number = payload.if_contains("reply");
    if (number == nullptr || !number->is_int64()) return std::nullopt;
    model::reply_settled out;
    out.delivered = result.next_state == store::delivery_state::delivered;
    out.reply = static_cast<int>(number->get_int64());
    out.reply_seq = d.event_seq;
    out.channel = d.channel;
    out.to = d.recipient;
    out.attempts = result.attempt.attempt;
    if (out.delivered) {
      out.external_id = result.external_id;
      out.text = text_at(payload, "text");
    } else {
      // An SMTP refusal reads with its code ("550 …"), as a person would quote it.
      auto error = result.attempt.error;
      if (d.channel == "email" && result.attempt.status && !error.starts_with(std::to_string(*result.attempt.status)))
        error = fmt::format("{} {}", *result.attempt.status, error);
      out.reason = result.dead_reason.empty() ? error
                   : error.empty()            ? result.dead_reason
                                              : fmt::format("{}; {}", error, result.dead_reason);
    }
    return out;
  }

  struct sent_message {
    outbound::slack_outcome outcome = outbound::slack_outcome::dead;  // delivered, retry or dead, any channel
    std::optional<int> status;                       // HTTP status or SMTP reply code, when one came
    std::string error;                               // why not delivered
    std::string external_id;                         // delivered: Slack's ts, the e-mail's Message-ID
    std::optional<std::chrono::seconds> retry_after;  // Slack's Retry-After
  };
  static sent_message dead(std::string why) { return {outbound::slack_outcome::dead, std::nullopt, std::move(why), {}, {}}; }

  static std::string text_at(const json::object& payload, std::string_view key) {
    const auto* value = payload.if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
  }

  asio::awaitable<sent_message> send_slack(const store::delivery& d, const json::object& payload) {
    if (!slack_ || slack_->settings().bot_token.empty()) co_return dead("SWITCHBOARD_SLACK_BOT_TOKEN is not set");
    std::string channel = text_at(payload, "channel");
    const std::string text = slack_escape(text_at(payload, "text"));
    if (d.channel == "slack_dm") {
      std::string user = text_at(payload, "user");
      auto opening = slack_->open_dm(user);
      const auto opened = co_await std::move(opening);
      if (opened.outcome != outbound::slack_outcome::delivered) co_return from_slack(opened);
      channel = opened.channel;
    }
    std::string thread_ts = text_at(payload, "thread_ts");
    // An escalation's DM: its words, then the buttons that acknowledge or resolve it.
    json::array blocks;
    if (const auto escalation = text_at(payload, "escalation"); !escalation.empty() && !text.empty()) {
      const auto* request = payload.if_contains("request");
      const auto request_id = request != nullptr && request->is_int64() ? std::to_string(request->get_int64()) : std::string();
      // A section's text holds 3000 characters; the fallback `text` keeps the whole notice.
      std::string shown = text;
      if (shown.size() > 2900) {
        std::size_t cut = 2900;
        while (cut > 0 && (static_cast<unsigned char>(shown[cut]) & 0xC0) == 0x80) --cut;
        shown = shown.substr(0, cut) + "…";
      }
      blocks.push_back(json::object{{"type", "section"}, {"text", json::object{{"type", "mrkdwn"}, {"text", shown}}}});
      blocks.push_back(escalation_actions(escalation, request_id, channels_.public_url));
    }
    auto posting = slack_->post_message(channel, text, thread_ts, std::move(blocks));
    const auto posted = co_await std::move(posting);
    co_return from_slack(posted);
  }

  // A slack_update row: its body POSTed as JSON to the interaction's response_url, checked again
  // here (a row is only written for an allowed URL, but the config may have changed since).
  asio::awaitable<sent_message> send_slack_update(const json::object& payload) {
    const auto url_text = text_at(payload, "response_url");
    const auto settings = channels_.slack.value_or(outbound::slack_api_settings{});
    const auto url = outbound::allowed_response_url(url_text, settings);
    if (!url) co_return dead(fmt::format("response_url \"{}\" is neither Slack's nor the configured api_base_url's host", url_text));
    const auto* body = payload.if_contains("body");
    if (body == nullptr || !body->is_object()) co_return dead("the update has no body");
    if (const auto* expires = payload.if_contains("expires_at"); expires != nullptr && expires->is_int64()) {
      const auto unix_now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()).time_since_epoch();
      if (unix_now.count() > expires->get_int64()) co_return dead("the response_url expired (Slack keeps one 30 minutes)");
    }
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, url->target, 11};
    req.set(bhttp::field::host, outbound::host_header(*url));
    req.set(bhttp::field::user_agent, "Switchboard-Slack/1");
    req.set(bhttp::field::content_type, "application/json; charset=utf-8");
    req.set(bhttp::field::connection, "close");
    req.body() = json::serialize(*body);
    req.prepare_payload();
    // Only the loopback fake's base allows private addresses, and only its host passed above.
    const outbound::post_options options{settings.timeout, settings.allow_private && url->host == settings.base.host,
                                         response_body_limit};
    const auto answer = co_await outbound::http_post(executor_, tls_, *url, options, req);
    sent_message out;
    out.status = answer.status;
    if (answer.status && *answer.status >= 200 && *answer.status < 300) {
      out.outcome = outbound::slack_outcome::delivered;
      co_return out;
    }
    out.error = answer.status ? fmt::format("HTTP {}{}{}", *answer.status, answer.body.empty() ? "" : " ",
                                            answer.body.substr(0, 200))
                              : answer.error;
    const bool retry = !answer.status || *answer.status == 408 || *answer.status == 429 || *answer.status >= 500;
    out.outcome = retry ? outbound::slack_outcome::retry : outbound::slack_outcome::dead;
    if (!answer.retry_after.empty()) out.retry_after = parse_retry_after(answer.retry_after, std::chrono::system_clock::now());
    co_return out;
  }

  static sent_message from_slack(const outbound::slack_verdict& v) {
    if (v.token_refused) observe::log(observe::log_level::error, v.error);
    return {v.outcome, std::nullopt, v.outcome == outbound::slack_outcome::delivered ? std::string() : v.error, v.ts,
            v.retry_after};
  }

  asio::awaitable<sent_message> send_email(const store::delivery& d, const json::object& payload) {
    if (!smtp_) co_return dead("[outbound.email] is not configured");
    outbound::email_spec spec;
    spec.from = channels_.email->from;
    if (const auto* to = payload.if_contains("to"); to != nullptr && to->is_array())
      for (const auto& address : to->get_array())
        if (address.is_string()) spec.to.emplace_back(address.get_string());
    // Only an answer is replied to on the customer's thread: a reply to a notification would
    // otherwise be filed as the customer's.
    if (channels_.reply_to && d.request_id && d.purpose == "reply") spec.reply_to = channels_.reply_to(*d.request_id);
    spec.subject = text_at(payload, "subject");
    spec.message_id = text_at(payload, "message_id");
    if (spec.message_id.empty()) {
      // Made from the row, so every retry of it sends the same id (RFC 5322 section 3.6.4: unique,
      // the right side our domain).
      std::string from_address;
      try {
        from_address = outbound::address_of(spec.from);
      } catch (const outbound::invalid_email& e) {
        co_return dead(e.what());
      }
      spec.message_id = fmt::format("sb.{}.{}.{}{}", d.request_id.value_or(0), d.event_seq,
                                    std::string_view(d.webhook_id).substr(d.webhook_id.starts_with("msg_") ? 4 : 0, 16),
                                    from_address.substr(from_address.rfind('@')));
    }
    spec.in_reply_to = text_at(payload, "in_reply_to");
    if (const auto* refs = payload.if_contains("references"); refs != nullptr && refs->is_array())
      for (const auto& id : refs->get_array())
        if (id.is_string()) spec.references.emplace_back(id.get_string());
    spec.text = text_at(payload, "text");
    spec.kind = text_at(payload, "kind") == "notification" ? outbound::email_kind::notification : outbound::email_kind::reply;
    std::string message;
    std::string envelope_from;
    std::vector<std::string> recipients;
    try {
      message = outbound::compose(spec, std::chrono::system_clock::now());
      envelope_from = outbound::address_of(spec.from);
      for (const auto& to : spec.to) recipients.push_back(outbound::address_of(to));
    } catch (const outbound::invalid_email& e) {
      co_return dead(e.what());
    }
    // The pool calls back on its own thread; the verdict comes back to this executor.
    auto verdict = co_await asio::async_initiate<decltype(asio::use_awaitable), void(outbound::smtp_verdict)>(
        [this, &envelope_from, &recipients, &message](auto handler) {
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          smtp_->post(envelope_from, recipients, message, [shared, executor = executor_](outbound::smtp_verdict v) {
            asio::post(executor, [shared, v = std::move(v)]() mutable { (*shared)(std::move(v)); });
          });
        },
        asio::use_awaitable);
    sent_message out{verdict.outcome == outbound::smtp_outcome::delivered ? outbound::slack_outcome::delivered
                     : verdict.outcome == outbound::smtp_outcome::dead    ? outbound::slack_outcome::dead
                                                                          : outbound::slack_outcome::retry,
                     verdict.code == 0 ? std::nullopt : std::optional<int>(verdict.code),
                     verdict.outcome == outbound::smtp_outcome::delivered ? std::string() : verdict.text,
                     verdict.outcome == outbound::smtp_outcome::delivered ? spec.message_id : std::string(),
                     std::nullopt};
    co_return out;
  }

  asio::any_io_executor executor_;
  store::committer& writer_;
  observe::counter_family* deliveries_ = nullptr;  // set before start(); null: not counted
  store::read_session reader_;
  settings settings_;
  std::function<model::instant()> clock_;
  message_channels channels_;
  std::string instance_;
  std::chrono::milliseconds lease_{0};          // a webhook row's claim
  std::chrono::milliseconds message_lease_{0};  // a Slack or e-mail row's claim
  bool claiming_ = false;  // a claim is queued at the writer: the next poll waits for it
  // PostgreSQL: other instances' leases are theirs. The embedded database: none committed a
  // claim yet, so the first one frees a dead process's leases.
  bool leases_checked_ = reader_.postgres() != nullptr;
  std::unique_ptr<outbound::slack_api> slack_;
  std::unique_ptr<outbound::smtp_pool> smtp_;
  std::map<std::string, target, std::less<>> targets_;
  asio::steady_timer timer_;
  asio::ssl::context tls_{asio::ssl::context::tls_client};
  std::set<std::int64_t> in_flight_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
  bool stopped_ = false;
};

delivery_worker::delivery_worker(asio::any_io_executor executor, store::committer& writer, store::read_session reader,
                                 settings settings, std::function<model::instant()> clock, message_channels channels,
                                 std::string instance)
    : impl_(std::make_shared<impl>(executor, writer, reader, std::move(settings), std::move(clock), std::move(channels),
                                   std::move(instance))) {}

delivery_worker::~delivery_worker() {
  impl_->stopped_ = true;
  impl_->timer_.cancel();
}

void delivery_worker::count_deliveries(observe::counter_family* deliveries) { impl_->deliveries_ = deliveries; }

void delivery_worker::start() {
  asio::co_spawn(impl_->executor_, impl_->run(), asio::detached);
}

void delivery_worker::stop() {
  if (impl_->stopped_) return;
  impl_->stopped_ = true;
  impl_->timer_.cancel();
  // The rows this instance claimed are free for the others now rather than after the lease. A
  // send still in flight records its attempt if nobody has claimed the row since (the token is
  // unchanged); otherwise the row goes out again, with the same webhook-id.
  impl_->writer_.submit(
      [holder = impl_->instance_](store::unit_of_work& db) { store::release_leases(db, std::string_view(holder)); },
      [](std::exception_ptr) {});
}

std::size_t delivery_worker::subscriptions() const { return impl_->targets_.size(); }
const std::string& delivery_worker::instance() const { return impl_->instance_; }
std::chrono::milliseconds delivery_worker::lease() const { return impl_->lease_; }

}  // namespace switchboard::notify
