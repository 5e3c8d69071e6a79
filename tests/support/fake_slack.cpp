// The fake Slack Web API: a blocking Beast server on its own thread, one call per connection.
#include "support/fake_slack.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <atomic>

namespace switchboard::testing {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

fake_slack_answer fake_slack_answer::ok_ts(const std::string& ts) {
  return {200, json::serialize(json::object{{"ok", true}, {"channel", "C0FAKE0001"}, {"ts", ts}}), ""};
}
fake_slack_answer fake_slack_answer::ratelimited(int seconds) {
  return {429, R"({"ok":false,"error":"ratelimited"})", std::to_string(seconds)};
}
fake_slack_answer fake_slack_answer::error(const std::string& code) {
  return {200, json::serialize(json::object{{"ok", false}, {"error", code}}), ""};
}
fake_slack_answer fake_slack_answer::server_error() { return {500, "upstream failure", ""}; }

struct fake_slack::impl {
  explicit impl(std::string token)
      : token(std::move(token)), acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread = std::thread([this] { serve(); });
  }
  ~impl() {
    stopping = true;
    boost::system::error_code ec;
    tcp::socket poke(io);
    poke.connect(acceptor.local_endpoint(), ec);  // unblocks accept()
    thread.join();
  }

  // Slack's own checks, for a call nobody scripted.
  fake_slack_answer natural(const fake_slack_call& call) {
    if (call.method.starts_with("/actions/")) return {200, "ok", ""};
    if (call.authorization.empty()) return fake_slack_answer::error("not_authed");
    if (call.authorization != "Bearer " + token) return fake_slack_answer::error("invalid_auth");
    if (call.body.empty()) return fake_slack_answer::error("invalid_json");
    const auto text_of = [&](const char* key) {
      const auto* value = call.body.if_contains(key);
      return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string{};
    };
    if (call.method == "chat.postMessage") {
      if (text_of("channel").empty()) return fake_slack_answer::error("channel_not_found");
      if (text_of("text").empty()) return fake_slack_answer::error("no_text");
      return fake_slack_answer::ok_ts(fmt::format("1700000000.{:06}", ++sequence));
    }
    if (call.method == "conversations.open") {
      if (text_of("users").empty()) return fake_slack_answer::error("user_not_found");
      return {200, json::serialize(json::object{{"ok", true}, {"channel", json::object{{"id", "D0" + text_of("users")}}}}),
              ""};
    }
    return {404, R"({"ok":false,"error":"unknown_method"})", ""};
  }

  void serve() {
    while (!stopping) {
      tcp::socket socket(io);
      boost::system::error_code ec;
      acceptor.accept(socket, ec);
      if (ec || stopping) continue;
      boost::beast::flat_buffer buffer;
      bhttp::request<bhttp::string_body> req;
      bhttp::read(socket, buffer, req, ec);
      if (ec) continue;
      fake_slack_call call;
      const std::string target(req.target());
      call.method = target.starts_with("/api/") ? target.substr(5) : target;
      call.authorization = std::string(req[bhttp::field::authorization]);
      call.content_type = std::string(req[bhttp::field::content_type]);
      boost::system::error_code parse_error;
      auto parsed = json::parse(req.body(), parse_error);
      if (!parse_error && parsed.is_object()) call.body = parsed.as_object();
      fake_slack_answer answer;
      {
        std::lock_guard lock(mutex);
        if (!scripted.empty()) {
          answer = scripted.front();
          scripted.pop_front();
        } else {
          answer = natural(call);
        }
      }
      // Recorded before answering, so a client that has its answer finds its call recorded.
      call.answered = answer.status;
      call.answer = answer.body;
      {
        std::lock_guard lock(mutex);
        calls.push_back(std::move(call));
      }
      changed.notify_all();
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(answer.status), 11};
      res.set(bhttp::field::content_type, "application/json; charset=utf-8");
      if (!answer.retry_after.empty()) res.set(bhttp::field::retry_after, answer.retry_after);
      res.body() = answer.body;
      res.keep_alive(false);
      res.prepare_payload();
      bhttp::write(socket, res, ec);
      socket.shutdown(tcp::socket::shutdown_both, ec);
    }
  }

  std::string token;
  asio::io_context io;
  tcp::acceptor acceptor;
  std::atomic<bool> stopping{false};
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::deque<fake_slack_answer> scripted;
  std::vector<fake_slack_call> calls;
  int sequence = 0;
  std::thread thread;
};

fake_slack::fake_slack(std::string token) : impl_(std::make_unique<impl>(std::move(token))) {}
fake_slack::~fake_slack() = default;

std::uint16_t fake_slack::port() const { return impl_->acceptor.local_endpoint().port(); }
std::string fake_slack::base_url() const { return fmt::format("http://127.0.0.1:{}/api/", port()); }
std::string fake_slack::response_url(int n) const { return fmt::format("http://127.0.0.1:{}/actions/{}", port(), n); }

std::vector<fake_slack_call> fake_slack::response_posts() const {
  std::vector<fake_slack_call> out;
  for (auto& call : calls())
    if (call.method.starts_with("/actions/")) out.push_back(std::move(call));
  return out;
}

void fake_slack::script(fake_slack_answer answer) {
  std::lock_guard lock(impl_->mutex);
  impl_->scripted.push_back(std::move(answer));
}

std::vector<fake_slack_call> fake_slack::calls() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->calls;
}

std::optional<std::vector<fake_slack_call>> fake_slack::wait_for(std::size_t n, std::chrono::milliseconds deadline) const {
  std::unique_lock lock(impl_->mutex);
  if (!impl_->changed.wait_for(lock, deadline, [&] { return impl_->calls.size() >= n; })) return std::nullopt;
  return impl_->calls;
}

}  // namespace switchboard::testing
