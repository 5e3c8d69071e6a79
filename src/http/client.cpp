// Blocking HTTP client on Beast.
#include "http/client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <random>
#include <stdexcept>

namespace switchboard::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

std::string client_response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (std::equal(key.begin(), key.end(), name.begin(), name.end(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                               std::tolower(static_cast<unsigned char>(b)); }))
      return value;
  }
  return {};
}

struct client::connection {
  asio::io_context io;
  std::string host;
  std::string port;
  std::string token;
  std::chrono::seconds timeout;
  std::optional<tcp::resolver> resolver;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  bool timed_out = false;  // the call's deadline passed; set by its timer

  // Runs the io_context until `done`. The call's deadline is a timer of its own on the same
  // io_context, which closes the stream (and cancels a resolve) when it fires, so that the
  // pending operation ends. A tcp_stream's expiry is not used: its per-operation timer is lost
  // when a read completes in the same turn as the expiry, which a server that keeps sending
  // (an endless chunked body) makes happen every time, so a 3 s timeout once ran until the
  // 64 MiB body limit.
  void run_until(const bool& done) {
    while (!done) {
      if (io.stopped()) io.restart();
      io.run_one();
    }
  }

  void abort() {
    beast::error_code ignored;
    if (resolver) resolver->cancel();
    if (stream) stream->socket().close(ignored);
  }

  void connect() {
    resolver.emplace(io);
    beast::error_code ec;
    tcp::resolver::results_type endpoints;
    bool done = false;
    resolver->async_resolve(host, port, [&](const beast::error_code& error, tcp::resolver::results_type found) {
      ec = error;
      endpoints = std::move(found);
      done = true;
    });
    run_until(done);
    resolver.reset();
    if (timed_out) throw std::runtime_error(fmt::format("cannot resolve {}: {}", host, timed_out_text()));
    if (ec) throw std::runtime_error(fmt::format("cannot resolve {}:{}: {}", host, port, ec.message()));
    stream.emplace(io);
    done = false;
    stream->async_connect(endpoints, [&](const beast::error_code& error, const tcp::endpoint&) {
      ec = error;
      done = true;
    });
    run_until(done);
    if (ec || timed_out) {
      stream.reset();
      throw std::runtime_error(
          fmt::format("cannot connect to {}:{}: {}", host, port, timed_out ? timed_out_text() : ec.message()));
    }
    buffer.clear();
  }

  std::string timed_out_text() const { return fmt::format("timed out after {} s", timeout.count()); }
};

namespace {

// The largest answer read; a longer one is an error.
constexpr std::size_t max_answer_bytes = 64 * 1024 * 1024;

// 128 random bits in hex: a fresh Idempotency-Key.
std::string random_key() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", generator(), generator());
}

}  // namespace

client::client(const std::string& base_url, std::chrono::seconds timeout) : connection_(std::make_unique<connection>()) {
  std::string_view rest = base_url;
  if (rest.starts_with("http://")) rest.remove_prefix(7);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  const auto colon = rest.rfind(':');
  if (rest.empty() || rest.find('/') != std::string_view::npos)
    throw std::runtime_error(fmt::format("\"{}\" is not an address like http://127.0.0.1:8080", base_url));
  connection_->host = std::string(colon == std::string_view::npos ? rest : rest.substr(0, colon));
  connection_->port = colon == std::string_view::npos ? "80" : std::string(rest.substr(colon + 1));
  connection_->timeout = timeout;
}

void client::set_token(std::string token) { connection_->token = std::move(token); }

client::~client() = default;
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;

client_response client::request(std::string_view method, std::string_view target, std::string body,
                                std::string_view content_type,
                                const std::vector<std::pair<std::string, std::string>>& headers) {
  auto& c = *connection_;
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, c.host + ":" + c.port);
  req.set(bhttp::field::user_agent, "switchboard-client");
  if (!c.token.empty()) req.set(bhttp::field::authorization, "Bearer " + c.token);
  for (const auto& [name, value] : headers) req.set(name, value);
  if (!body.empty() || method == "POST") {
    req.set(bhttp::field::content_type, content_type);
    req.body() = std::move(body);
  }
  req.prepare_payload();

  // A POST carries an Idempotency-Key (a fresh one unless the caller gave one), so resending it
  // after a lost answer never runs it twice.
  if (req.method() == bhttp::verb::post && req.count("Idempotency-Key") == 0) {
    req.set("Idempotency-Key", random_key());
    req.prepare_payload();
  }

  // The deadline covers the whole call: connecting, writing, the header and the whole body.
  c.timed_out = false;
  asio::steady_timer deadline(c.io);
  deadline.expires_after(c.timeout);
  deadline.async_wait([&c](const beast::error_code& ec) {
    if (ec) return;
    c.timed_out = true;
    c.abort();
  });
  struct disarm {
    connection& c;
    asio::steady_timer& timer;
    // Its handler must run before the timer and `c` are left: it is queued as aborted now.
    ~disarm() {
      timer.cancel();
      c.io.restart();
      c.io.poll();
    }
  } disarmed{c, deadline};

  // A reused connection may have been closed by the server; retry once on a fresh one (never
  // after a timeout: the deadline covers the whole request).
  for (int attempt = 0;; ++attempt) {
    const bool fresh = !c.stream;
    if (fresh) c.connect();
    beast::error_code ec;
    bool done = false;
    bhttp::async_write(*c.stream, req, [&](const beast::error_code& error, std::size_t) {
      ec = error;
      done = true;
    });
    c.run_until(done);
    // Interim 1xx answers (RFC 9110 section 15.2; a 100 Continue the request did not ask for,
    // a 103 Early Hints) come before the final one: each is read whole and skipped, within the
    // same deadline. 101 would switch protocols, which no request here asks for: it is final.
    std::optional<bhttp::response_parser<bhttp::string_body>> parser;
    bool interim_seen = false;
    while (!ec && !c.timed_out) {
      parser.emplace();
      parser->body_limit(max_answer_bytes);
      done = false;
      bhttp::async_read(*c.stream, c.buffer, *parser, [&](const beast::error_code& error, std::size_t) {
        ec = error;
        done = true;
      });
      c.run_until(done);
      if (ec || c.timed_out) break;
      const auto code = parser->get().result_int();
      if (code < 100 || code >= 200 || code == 101) break;
      interim_seen = true;
    }
    if (c.timed_out) {
      c.stream.reset();
      throw std::runtime_error(fmt::format("{} {} {}", method, target, c.timed_out_text()));
    }
    if (ec) {
      c.stream.reset();
      // A closed keep-alive connection is retried once; not one that has begun to answer.
      if (!fresh && attempt == 0 && !interim_seen) continue;
      if (ec == bhttp::error::body_limit)
        throw std::runtime_error(fmt::format("{} {} failed: the answer is larger than {} MiB", method, target,
                                             max_answer_bytes / (1024 * 1024)));
      throw std::runtime_error(fmt::format("{} {} failed: {}", method, target, ec.message()));
    }
    auto res = parser->release();
    client_response out;
    out.status = res.result_int();
    out.body = std::move(res.body());
    for (const auto& field : res) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    if (!res.keep_alive()) c.stream.reset();
    return out;
  }
}

}  // namespace switchboard::http
