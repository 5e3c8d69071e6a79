#pragma once
// The HTTP/1.1 server: accepts connections and runs one coroutine per connection that reads
// requests (with a header timeout and a body limit), hands each to the request handler and
// writes the response, keeping the connection alive when the client asks.
//
// Thread-safety: construct, start and stop on the io_context's thread.

#include "http/message.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

namespace switchboard::http {

struct server_options {
  std::size_t max_body_bytes = 1024 * 1024;  // larger bodies get 413, read no further
  std::chrono::seconds read_timeout{30};      // for a whole request, header and body
  // When set, the body limit for a request target, consulted once its header is read (in place
  // of max_body_bytes): a declared Content-Length over it gets 413 before the body is read, a
  // chunked body is cut off at it.
  std::function<std::size_t(std::string_view target)> body_limit;
};

// Produces the response to one request. May throw: the server answers 500 and logs it.
using request_handler = std::function<boost::asio::awaitable<response>(request)>;

// Takes over a connection for a long-lived answer, such as a Server-Sent Events stream. The
// server offers it every request before the request handler. It declines by returning 0
// without touching the stream; otherwise it writes its whole answer itself (an error, or a
// header and then events for as long as it likes) and returns the status it sent, for the log;
// the server then closes the connection. Runs on the connection's coroutine: the stream stays
// valid until it returns. May throw: the connection is closed and the error logged.
using takeover_handler = std::function<boost::asio::awaitable<unsigned>(const request&, boost::beast::tcp_stream&)>;

class server {
 public:
  server(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint, server_options options,
         request_handler handler);
  ~server();

  // The bound address (the real port when asked for port 0).
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  // Installs the takeover handler; call before start().
  void set_takeover(takeover_handler handler);

  void start();
  void stop();  // stops accepting; open connections end with the io_context

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace switchboard::http
