// Listener and per-connection sessions as coroutines on the io_context.
#include "http/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <array>
#include <cstdio>

namespace switchboard::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

void log_request(std::string_view method, std::string_view target, unsigned code,
                 std::chrono::steady_clock::duration took) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
  fmt::print(stderr, "{:%Y-%m-%dT%H:%M:%SZ} {} {} {} {:.3f}ms\n",
             std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()), method,
             redacted_target(target), code,
             static_cast<double>(micros) / 1000.0);
}

}  // namespace

struct server::state : std::enable_shared_from_this<server::state> {
  state(asio::io_context& io, const tcp::endpoint& endpoint, server_options opts, request_handler h)
      : acceptor(io, endpoint), options(opts), handler(std::move(h)) {}

  tcp::acceptor acceptor;
  server_options options;
  request_handler handler;
  takeover_handler takeover;

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;  // a client that gave up before we accepted it
      asio::co_spawn(acceptor.get_executor(), session(beast::tcp_stream(std::move(socket))), asio::detached);
    }
  }

  // Writes a response and reports whether the connection may carry another request.
  asio::awaitable<bool> reply(beast::tcp_stream& stream, response res, bool keep_alive, std::string_view method,
                              std::string_view target, std::chrono::steady_clock::time_point started) {
    res.keep_alive(keep_alive);
    res.prepare_payload();
    const auto code = res.result_int();
    auto [ec, written] = co_await beast_http::async_write(stream, res, use_tuple);
    log_request(method, target, code, std::chrono::steady_clock::now() - started);
    co_return !ec && keep_alive;
  }

  asio::awaitable<void> session(beast::tcp_stream stream) {
    auto self = shared_from_this();
    beast::flat_buffer buffer;
    for (;;) {
      beast_http::request_parser<beast_http::string_body> parser;
      // With per-target limits the header is read without one; the target's applies below.
      if (options.body_limit)
        parser.body_limit(boost::none);
      else
        parser.body_limit(options.max_body_bytes);
      stream.expires_after(options.read_timeout);

      auto [header_error, header_bytes] = co_await beast_http::async_read_header(stream, buffer, parser, use_tuple);
      const auto started = std::chrono::steady_clock::now();
      if (header_error == beast_http::error::end_of_stream || header_error == beast::error::timeout ||
          header_error == asio::error::eof || header_error == asio::error::connection_reset)
        break;
      // The parser refuses a declared Content-Length over the limit while reading the header.
      if (header_error == beast_http::error::body_limit) {
        co_await refuse_too_large(stream, "-", "-", started, options.max_body_bytes);
        co_return;
      }
      if (header_error) {
        co_await reply(stream, error_response(status::bad_request, "malformed_http", header_error.message()), false,
                       "-", "-", started);
        break;
      }
      const std::string method(parser.get().method_string());
      const std::string target(parser.get().target());
      if (auto refused = refuse_transfer_coding(parser.get())) {
        co_await reply(stream, std::move(*refused), false, method, target, started);
        break;
      }
      const auto limit = options.body_limit ? options.body_limit(target) : options.max_body_bytes;
      if (options.body_limit) {
        const auto declared = parser.content_length();
        if (declared && *declared > limit) {
          co_await refuse_too_large(stream, method, target, started, limit);
          co_return;
        }
        parser.body_limit(limit);
      }

      auto [body_error, body_bytes] = co_await beast_http::async_read(stream, buffer, parser, use_tuple);
      if (body_error == beast_http::error::body_limit) {
        co_await refuse_too_large(stream, method, target, started, limit);
        co_return;
      }
      if (body_error) {
        if (is_malformed_body(body_error))
          co_await reply(stream,
                         error_response(status::bad_request, "malformed_http",
                                        fmt::format("the request body is malformed: {}", body_error.message())),
                         false, method, target, started);
        break;
      }

      stream.expires_never();
      auto req = parser.release();
      if (takeover) {
        unsigned taken = 0;
        try {
          taken = co_await takeover(req, stream);
        } catch (const std::exception& e) {
          fmt::print(stderr, "error streaming {} {}: {}\n", method, redacted_target(target), e.what());
          taken = 500;
        }
        if (taken != 0) {
          log_request(method, target, taken, std::chrono::steady_clock::now() - started);
          break;
        }
      }
      const bool keep_alive = req.keep_alive();
      response res;
      try {
        res = co_await handler(std::move(req));
      } catch (const std::exception& e) {
        fmt::print(stderr, "error handling {} {}: {}\n", method, redacted_target(target), e.what());
        res = error_response(status::internal_server_error, "internal", "the server failed to handle the request");
      }
      if (!co_await reply(stream, std::move(res), keep_alive, method, target, started)) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // Answers 413 and ends the connection. Closing at once, with the body unread, would reset
  // the connection and could destroy the answer in the client's buffers before it reads it:
  // stop sending, then read and drop what the client still sends, for a few seconds at most.
  asio::awaitable<void> refuse_too_large(beast::tcp_stream& stream, std::string_view method, std::string_view target,
                                         std::chrono::steady_clock::time_point started, std::size_t limit) {
    co_await reply(stream,
                   error_response(status::payload_too_large, "payload_too_large",
                                  fmt::format("the request body is larger than the limit of {} bytes", limit)),
                   false, method, target, started);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.expires_after(std::chrono::seconds{5});
    std::array<char, 16 * 1024> scratch;
    for (;;) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), use_tuple);
      if (ec) break;
    }
  }

};

server::server(asio::io_context& io, const tcp::endpoint& endpoint, server_options options, request_handler handler)
    : state_(std::make_shared<state>(io, endpoint, options, std::move(handler))) {}

server::~server() { stop(); }

tcp::endpoint server::local_endpoint() const { return state_->acceptor.local_endpoint(); }

void server::set_takeover(takeover_handler handler) { state_->takeover = std::move(handler); }

void server::start() { asio::co_spawn(state_->acceptor.get_executor(), state_->accept_loop(), asio::detached); }

void server::stop() {
  beast::error_code ignored;
  state_->acceptor.close(ignored);
}

}  // namespace switchboard::http
