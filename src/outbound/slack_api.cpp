// The Slack Web API client: the bot's calls and what Slack's answers mean.
#include "outbound/slack_api.hpp"

#include "notify/retry.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>

namespace switchboard::outbound {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

// Codes that mean the token itself is unusable, so every call will fail the same way.
constexpr std::array<std::string_view, 6> token_errors{"invalid_auth",     "not_authed",      "token_revoked",
                                                       "token_expired",    "account_inactive", "missing_scope"};

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

std::string string_field(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string{};
}

}  // namespace

slack_api_settings parse_api_base_url(std::string_view url) {
  if (url.find_first_of("?#") != std::string_view::npos)
    throw std::invalid_argument(fmt::format("api_base_url \"{}\" must not carry a query or fragment", url));
  slack_api_settings out;
  out.base = notify::parse_url(url);  // refuses user:password@, a bad port, another scheme
  if (!out.base.target.ends_with('/')) out.base.target += '/';
  if (!out.base.https) {
    if (!is_loopback(out.base.host))
      throw std::invalid_argument(fmt::format(
          "api_base_url \"{}\" would send the bot token in clear; http:// is allowed only for a loopback host "
          "(localhost, 127.0.0.1, ::1), use https://",
          url));
    out.allow_private = true;
  }
  out.base_url = std::string(url);
  if (!out.base_url.ends_with('/')) out.base_url += '/';
  return out;
}

std::optional<notify::url_parts> allowed_response_url(std::string_view url, const slack_api_settings& settings) {
  if (url.find_first_of(" \t\r\n#") != std::string_view::npos) return std::nullopt;
  notify::url_parts parts;
  try {
    parts = notify::parse_url(url);
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
  const bool slack = parts.https && parts.host == "hooks.slack.com" && parts.port == 443;
  const bool configured =
      parts.https == settings.base.https && parts.host == settings.base.host && parts.port == settings.base.port;
  if (!slack && !configured) return std::nullopt;
  return parts;
}

slack_api_settings load_slack_api_settings(const toml::table& slack, const std::string& file, std::string bot_token) {
  slack_api_settings out;
  if (const auto* node = slack.get("api_base_url")) {
    const auto* text = node->as_string();
    if (text == nullptr || text->get().empty())
      config::fail_at(*node, file, "api_base_url must be a non-empty string like \"https://slack.com/api/\"");
    try {
      out = parse_api_base_url(text->get());
    } catch (const std::invalid_argument& e) {
      config::fail_at(*node, file, e.what());
    }
  }
  out.bot_token = std::move(bot_token);
  return out;
}

slack_api_settings load_slack_api_settings_file(const std::string& path) {
  const char* token = std::getenv("SWITCHBOARD_SLACK_BOT_TOKEN");
  slack_api_settings out;
  out.bot_token = token == nullptr ? "" : token;
  if (path.empty()) return out;
  const auto root = config::parse_file(path);
  const auto* slack = root.at_path("integrations.slack").node();
  if (slack == nullptr || !slack->is_table()) return out;  // a malformed section is integrations.cpp's to refuse
  return load_slack_api_settings(*slack->as_table(), path, out.bot_token);
}

slack_verdict judge(const post_result& answer, std::chrono::system_clock::time_point now) {
  slack_verdict out;
  if (!answer.status) {
    out.outcome = slack_outcome::retry;
    out.error = answer.error;
    return out;
  }
  const int status = *answer.status;
  // Slack's error code, when the body is Slack's JSON.
  std::optional<json::object> body;
  {
    boost::system::error_code ec;
    auto parsed = json::parse(answer.body, ec);
    if (!ec && parsed.is_object()) body = std::move(parsed.as_object());
  }
  const auto code = body ? string_field(*body, "error") : std::string{};
  if (status == 408 || status == 429 || status >= 500) {
    out.outcome = slack_outcome::retry;
    out.error = code.empty() ? fmt::format("HTTP {}", status) : fmt::format("HTTP {} {}", status, code);
    if (!answer.retry_after.empty()) out.retry_after = notify::parse_retry_after(answer.retry_after, now);
    return out;
  }
  out.outcome = slack_outcome::dead;
  if (status < 200 || status > 299) {
    out.error = code.empty() ? fmt::format("HTTP {}", status) : fmt::format("HTTP {} {}", status, code);
    return out;
  }
  const auto* ok = body ? body->if_contains("ok") : nullptr;
  if (ok == nullptr || !ok->is_bool()) {
    out.error = fmt::format("unreadable answer (HTTP {}, not Slack's {{\"ok\": …}})", status);
    return out;
  }
  if (ok->get_bool()) {
    out.outcome = slack_outcome::delivered;
    out.ts = string_field(*body, "ts");
    if (const auto* channel = body->if_contains("channel")) {
      if (channel->is_string()) out.channel = std::string(channel->get_string());
      else if (channel->is_object()) out.channel = string_field(channel->get_object(), "id");
    }
    return out;
  }
  const auto reported = code.empty() ? std::string("unknown_error") : code;
  if (std::find(token_errors.begin(), token_errors.end(), reported) != token_errors.end()) {
    out.token_refused = true;
    out.error = fmt::format("Slack refused the bot token: {}", reported);
  } else {
    out.error = reported;
  }
  return out;
}

std::chrono::seconds retry_delay(const slack_verdict& verdict, std::chrono::seconds backoff, std::chrono::seconds cap) {
  return notify::next_delay(backoff, verdict.retry_after, cap);
}

slack_api::slack_api(asio::any_io_executor executor, slack_api_settings settings)
    : executor_(std::move(executor)), settings_(std::move(settings)), tls_(asio::ssl::context::tls_client) {
  tls_.set_default_verify_paths();
  tls_.set_verify_mode(asio::ssl::verify_peer);
}

asio::awaitable<slack_verdict> slack_api::post_message(std::string channel, std::string text, std::string thread_ts,
                                                      json::array blocks) {
  json::object body{{"channel", channel}, {"text", text}};
  if (!thread_ts.empty()) body["thread_ts"] = thread_ts;
  if (!blocks.empty()) body["blocks"] = std::move(blocks);
  const std::string method = "chat.postMessage";
  std::string serialized = json::serialize(body);
  co_return co_await call(method, serialized);
}

asio::awaitable<slack_verdict> slack_api::open_dm(std::string user) {
  const std::string method = "conversations.open";
  std::string serialized = json::serialize(json::object{{"users", user}});
  co_return co_await call(method, serialized);
}

asio::awaitable<slack_verdict> slack_api::call(const std::string& method, std::string& body) {
  if (settings_.bot_token.empty())
    co_return slack_verdict{slack_outcome::dead, {}, {}, {}, "SWITCHBOARD_SLACK_BOT_TOKEN is not set", true};
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, settings_.base.target + method, 11};
  req.set(bhttp::field::host, host_header(settings_.base));
  req.set(bhttp::field::user_agent, "Switchboard/1");
  req.set(bhttp::field::authorization, "Bearer " + settings_.bot_token);
  req.set(bhttp::field::content_type, "application/json; charset=utf-8");
  req.set(bhttp::field::connection, "close");
  req.body() = std::move(body);
  req.prepare_payload();
  const post_options options{settings_.timeout, settings_.allow_private, 64 * 1024};
  const auto answer = co_await http_post(executor_, tls_, settings_.base, options, req);
  co_return judge(answer, std::chrono::system_clock::now());
}

}  // namespace switchboard::outbound
