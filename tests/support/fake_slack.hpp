#pragma once
// A fake Slack Web API on 127.0.0.1:<ephemeral> for tests: serves /api/chat.postMessage and
// /api/conversations.open on its own thread, checks the bearer token and the JSON like Slack
// (https://api.slack.com/web), records every call, and answers from a script. It also stands in
// for interactions' response_urls: POST /actions/<n> (no token; Slack's answer is 200 "ok"),
// recorded with the method "/actions/<n>".
//
// Without a scripted answer: a wrong or missing token gets 200 {"ok":false,"error":"invalid_auth"}
// (or "not_authed"), a body that is not JSON "invalid_json", chat.postMessage without channel
// "channel_not_found" and without text "no_text", conversations.open without users
// "user_not_found"; otherwise 200 ok with a fresh ts / "D…" channel. A scripted answer (FIFO)
// replaces that for one call, whatever the call holds.
//
// Thread-safety: every member may be called from any thread.

#include <boost/json/object.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace switchboard::testing {

struct fake_slack_call {
  std::string method;         // "chat.postMessage", from the path after /api/
  std::string authorization;  // the Authorization header, verbatim
  std::string content_type;
  boost::json::object body;   // empty when the body was not a JSON object
  unsigned answered = 0;      // the HTTP status the fake answered with
  std::string answer;         // the body it answered with
};

struct fake_slack_answer {
  unsigned status = 200;
  std::string body;         // JSON
  std::string retry_after;  // the Retry-After header, "" for none

  static fake_slack_answer ok_ts(const std::string& ts);     // 200 {"ok":true,"channel":…,"ts":ts}
  static fake_slack_answer ratelimited(int seconds);        // 429 ratelimited + Retry-After
  static fake_slack_answer error(const std::string& code);  // 200 {"ok":false,"error":code}
  static fake_slack_answer server_error();                  // 500
};

class fake_slack {
 public:
  explicit fake_slack(std::string token);  // the bot token it accepts
  ~fake_slack();
  fake_slack(const fake_slack&) = delete;
  fake_slack& operator=(const fake_slack&) = delete;

  std::uint16_t port() const;
  std::string base_url() const;  // "http://127.0.0.1:<port>/api/"
  std::string response_url(int n) const;  // "http://127.0.0.1:<port>/actions/<n>"
  // The calls made to response_urls, in order.
  std::vector<fake_slack_call> response_posts() const;

  void script(fake_slack_answer answer);  // the next unanswered call gets it
  std::vector<fake_slack_call> calls() const;

  // Waits until at least `n` calls were received (each is recorded just before its answer); nullopt after `deadline`. Woken by each call.
  std::optional<std::vector<fake_slack_call>> wait_for(std::size_t n, std::chrono::milliseconds deadline) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace switchboard::testing
