#pragma once
// A Slack Web API client for the bot: chat.postMessage and conversations.open, and what Slack's
// answer means for a delivery.
//
// Slack's documentation followed:
// - chat.postMessage   https://api.slack.com/methods/chat.postMessage  (JSON body: channel, text,
//   thread_ts = the parent message's ts; the answer {"ok":true,"channel":"C…","ts":"…"}; scope chat:write)
// - conversations.open https://api.slack.com/methods/conversations.open (users = "U…"; the answer
//   {"ok":true,"channel":{"id":"D…"}}; scope im:write)
// - Rate limits        https://api.slack.com/apis/rate-limits (HTTP 429 with Retry-After in
//   seconds; chat.postMessage is "special" tier, about one message a second per channel)
// - Web API basics     https://api.slack.com/web (Authorization: Bearer <token>; errors are
//   HTTP 200 with {"ok":false,"error":"<code>"})
//
// Configuration: [integrations.slack] api_base_url (default "https://slack.com/api/"); http:// is
// accepted only for a loopback host (a test fake), which then also passes the SSRF guard. The
// bot token (xoxb-…) comes only from SWITCHBOARD_SLACK_BOT_TOKEN. Text is sent as given: the
// caller escapes it (notify::slack_escape) so no <!channel> can be injected.
//
// The notifier (notify/worker) sends the outbox's Slack rows through it: public answers to Slack
// requests (store::enqueue_replies) are the rows written so far.
//
// Thread-safety: slack_api's coroutines run on its executor; judge and retry_delay are pure.

#include "notify/config.hpp"
#include "outbound/http_post.hpp"

#include "config/toml.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/json/array.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::outbound {

struct slack_api_settings {
  std::string base_url = "https://slack.com/api/";  // always ends with "/"
  notify::url_parts base{true, "slack.com", 443, "/api/"};
  bool allow_private = false;          // true only for an http:// loopback base (the test fake)
  std::string bot_token;               // SWITCHBOARD_SLACK_BOT_TOKEN; empty: every call is dead, unsent
  std::chrono::seconds timeout{15};    // one call: connect, TLS, send and read
};

// Checks an api_base_url: https:// anywhere, http:// only for localhost, 127.0.0.0/8 or ::1;
// no query, fragment or user:password. Throws std::invalid_argument with the reason.
slack_api_settings parse_api_base_url(std::string_view url);

// Reads api_base_url from an [integrations.slack] table (its other keys belong to
// http/webhooks/integrations); throws config::error at file:line:col when it is refused.
slack_api_settings load_slack_api_settings(const toml::table& slack, const std::string& file, std::string bot_token);

// [integrations.slack] of a config file (defaults when absent), the token from the environment.
slack_api_settings load_slack_api_settings_file(const std::string& path);

// Whether a Slack interaction's response_url may be posted to: https://hooks.slack.com/…, or a URL
// with the scheme, host and port of `settings`' api_base_url (a loopback fake in tests). Any
// other URL is refused, so a signed but crafted payload cannot make the server post elsewhere.
// Returns the parsed URL, or nullopt when refused or malformed. Pure.
std::optional<notify::url_parts> allowed_response_url(std::string_view url, const slack_api_settings& settings);

enum class slack_outcome { delivered, retry, dead };

struct slack_verdict {
  slack_outcome outcome = slack_outcome::dead;
  std::string ts;       // delivered by chat.postMessage: the message's ts (its external id, a thread's parent)
  std::string channel;  // delivered: the channel id; for conversations.open the DM's "D…"
  std::optional<std::chrono::seconds> retry_after;  // retry: Slack's Retry-After, a lower bound on the delay
  std::string error;    // retry and dead: why ("HTTP 429 ratelimited", "channel_not_found", "connect: …")
  bool token_refused = false;  // dead because Slack refused the token itself (log it once, not per row)
};

// What an answer means (the table in docs/plans/issue-13.md §2.3):
// - 200 {"ok":true}: delivered, with ts and channel;
// - no answer (DNS, connect, TLS, timeout), 408, 429 or 5xx: retry, never sooner than Retry-After;
// - {"ok":false} with invalid_auth, not_authed, token_revoked, token_expired, account_inactive or
//   missing_scope: dead, "Slack refused the bot token: <code>", token_refused;
// - {"ok":false} with any other code (channel_not_found, not_in_channel, is_archived,
//   msg_too_long, no_text, user_not_found, …): dead with Slack's code verbatim;
// - any other status, or a 2xx that is not Slack's JSON: dead ("HTTP 404", "unreadable answer").
// `now` reads an HTTP-date Retry-After (notify::parse_retry_after).
slack_verdict judge(const post_result& answer, std::chrono::system_clock::time_point now);

// The delay before a retry: `backoff`, or Retry-After when that is longer (capped at `cap`, so a
// hostile answer cannot park a message forever; notify::next_delay).
std::chrono::seconds retry_delay(const slack_verdict& verdict, std::chrono::seconds backoff, std::chrono::seconds cap);

class slack_api {
 public:
  // TLS peers are verified against the system's trust store.
  slack_api(boost::asio::any_io_executor executor, slack_api_settings settings);
  slack_api(const slack_api&) = delete;
  slack_api& operator=(const slack_api&) = delete;

  // chat.postMessage; `thread_ts` empty posts at the top level, else replies in that thread.
  // `blocks` (Block Kit), when not empty, are what Slack shows; `text` is then the notification's
  // fallback. The object must outlive the coroutine.
  boost::asio::awaitable<slack_verdict> post_message(std::string channel, std::string text, std::string thread_ts,
                                                     boost::json::array blocks = {});

  // conversations.open for one user ("U…"): the verdict's channel is the DM to post to.
  boost::asio::awaitable<slack_verdict> open_dm(std::string user);

  const slack_api_settings& settings() const { return settings_; }

 private:
  // By reference: the callers await it at once, and GCC 12 mishandles temporaries passed into
  // a coroutine inside co_await (PR 99576). `body` is moved into the request.
  boost::asio::awaitable<slack_verdict> call(const std::string& method, std::string& body);

  boost::asio::any_io_executor executor_;
  slack_api_settings settings_;
  boost::asio::ssl::context tls_;
};

}  // namespace switchboard::outbound
