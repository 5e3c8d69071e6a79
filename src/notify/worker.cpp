// The notifier: outbox rows out over HTTP(S), attempts recorded through group commit.
#include "notify/worker.hpp"

#include "notify/retry.hpp"
#include "notify/signing.hpp"
#include "notify/slack.hpp"
#include "outbound/http_post.hpp"
#include "store/outbox.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <sstream>

namespace switchboard::notify {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

constexpr std::size_t max_in_flight = 8;
constexpr int due_batch = 64;
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

}  // namespace

struct delivery_worker::impl : std::enable_shared_from_this<impl> {
  impl(asio::any_io_executor executor, store::committer& writer, SQLite::Database& reader, settings config,
       std::function<model::instant()> clock)
      : executor_(executor), writer_(writer), reader_(reader), settings_(std::move(config)), clock_(std::move(clock)),
        timer_(executor) {
    for (const auto& sub : settings_.subscriptions) targets_.emplace(sub.name, resolve_target(sub));
    tls_.set_default_verify_paths();
    tls_.set_verify_mode(asio::ssl::verify_peer);
  }

  asio::awaitable<void> run() {
    auto self = shared_from_this();
    while (!stopped_) {
      try {
        poll();
      } catch (const std::exception& e) {
        fmt::print(stderr, "switchboard: webhook outbox poll failed: {}\n", e.what());
      }
      timer_.expires_after(settings_.poll_interval);
      boost::system::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  void poll() {
    if (in_flight_.size() >= max_in_flight) return;
    auto due = store::due_deliveries(reader_, clock_(), due_batch);
    if (due.empty()) return;
    const auto disabled = store::disabled_subscriptions(reader_);
    for (auto& d : due) {
      if (in_flight_.size() >= max_in_flight) break;
      if (!in_flight_.insert(d.id).second) continue;
      const auto found = targets_.find(d.subscription);
      std::string reason;
      if (found == targets_.end()) reason = "subscription is no longer configured";
      for (const auto& off : disabled)
        if (off.subscription == d.subscription) reason = fmt::format("subscription disabled: {}", off.reason);
      if (!reason.empty()) {
        fmt::print(stderr, "switchboard: webhook {} ({}) dead-lettered: {}\n", d.webhook_id, d.subscription, reason);
        finish(d.id, [id = d.id, reason](SQLite::Database& db) { store::dead_letter(db, id, reason); });
        continue;
      }
      asio::co_spawn(executor_, deliver(std::move(d), found->second), asio::detached);
    }
  }

  // Records an outcome through the writer; the row leaves in_flight_ once that is committed.
  void finish(std::int64_t id, store::committer::job job) {
    std::weak_ptr<impl> weak = shared_from_this();
    writer_.submit(std::move(job), [weak, executor = executor_, id](std::exception_ptr error) {
      asio::post(executor, [weak, id, error] {
        if (error) {
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            fmt::print(stderr, "switchboard: recording webhook delivery {} failed: {}\n", id, e.what());
          }
        }
        if (auto self = weak.lock()) self->in_flight_.erase(id);
      });
    });
  }

  asio::awaitable<void> deliver(store::delivery d, target t) {
    auto self = shared_from_this();
    std::string body;
    try {
      body = t.sub.format == body_format::slack ? json::serialize(slack_message(json::parse(d.payload).as_object()))
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
      fmt::print(stderr, "switchboard: webhook {} ({} attempt {}) failed: {}{}\n", d.webhook_id, d.subscription,
                 result.attempt.attempt, result.attempt.error,
                 result.next_state == store::delivery_state::dead ? fmt::format(" — dead-lettered: {}", result.dead_reason)
                                                                  : "");
    finish(d.id, [id = d.id, result, disable, sub = d.subscription, now](SQLite::Database& db) {
      if (store::record_attempt(db, id, result) && disable)
        store::disable_subscription(db, sub, "the endpoint answered 410 Gone", now);
    });
  }

  asio::any_io_executor executor_;
  store::committer& writer_;
  SQLite::Database& reader_;
  settings settings_;
  std::function<model::instant()> clock_;
  std::map<std::string, target, std::less<>> targets_;
  asio::steady_timer timer_;
  asio::ssl::context tls_{asio::ssl::context::tls_client};
  std::set<std::int64_t> in_flight_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
  bool stopped_ = false;
};

delivery_worker::delivery_worker(asio::any_io_executor executor, store::committer& writer, SQLite::Database& reader,
                                 settings settings, std::function<model::instant()> clock)
    : impl_(std::make_shared<impl>(executor, writer, reader, std::move(settings), std::move(clock))) {}

delivery_worker::~delivery_worker() { stop(); }

void delivery_worker::start() {
  asio::co_spawn(impl_->executor_, impl_->run(), asio::detached);
}

void delivery_worker::stop() {
  impl_->stopped_ = true;
  impl_->timer_.cancel();
}

std::size_t delivery_worker::subscriptions() const { return impl_->targets_.size(); }

}  // namespace switchboard::notify
