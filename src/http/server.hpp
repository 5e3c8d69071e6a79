#pragma once
// The HTTP/1.1 server: accepts connections (at most max_connections; beyond that a 503) and runs
// one coroutine per connection, on its own strand, that for each request:
//   1. reads the header within header_timeout (also the idle keep-alive wait); a transfer
//      coding other than chunked is 501, no Host (HTTP/1.1) or two Host headers 400 (RFC 9112
//      section 3.2), each answered before the body and closing the connection;
//   2. resolves the route from the header alone: 404, 405 or the route's before_body refusal
//      (credentials) are answered before a single body byte is read;
//   3. checks the declared length against the route's limit (413); for a body whose sender is
//      not yet authenticated (route_options::signed_body, or a route with no before_body check)
//      reserves its declared length (the route's limit when chunked) from
//      max_unauthenticated_body_bytes across all connections (503 + Retry-After at once when
//      it does not fit, and when one client address would hold more than half of it); and
//      takes one of max_large_uploads slots for a body over
//      large_body_bytes (503 + Retry-After when none), authenticated and unauthenticated
//      senders each from a pool of their own, so that anonymous uploads never hold up
//      authenticated ones (one client address takes at most half of the anonymous slots);
//   4. answers "100 Continue" when the client expects it (RFC 9110 section 10.1.1), only once
//      steps 2 and 3 have passed, then reads the body within body_timeout, and at no less than
//      min_body_rate bytes a second after body_rate_grace (as Apache's mod_reqtimeout MinRate:
//      each byte received extends the deadline by 1/min_body_rate s); a body slower than that
//      is dropped with its connection;
//   5. runs the handler on the app executor (or the worker pool for offloaded routes, the intake
//      pool for intake routes once one of max_intake_jobs places is free (else 503 busy with
//      Retry-After, held until the handler ends even past its deadline), or the
//      connection's own strand for route_options::run_inline within its body size) with a
//      handler_timeout (503 handler_timeout after it when the handler has begun no write, and
//      its writes are then refused; when a write has begun, the answer waits for it: commit_gate);
//      a run_inline route's route_options::immediate answer, which cannot suspend, is taken
//      first when it gives one, with no coroutine or timer;
//   6. writes the response, with the request's id in X-Request-Id (the client's own when it is
//      1-128 token characters, observe::acceptable_request_id; else a new one), refusals and
//      errors included, within write_timeout: a client that stops reading is dropped; an
//      answer over large_body_bytes holds its size of max_buffered_response_bytes while it is
//      written (when it does not fit, 503 busy with Retry-After is sent instead).
// The header, body and write deadlines of a connection are kept by one timer of its own, which
// re-arms only as often as the shortest of them (not Beast's timer per read and write).
// At max_connections, before refusing a new connection, the server closes the oldest
// connections waiting for a request (idle between requests, or with no whole header yet); and
// one client address may hold at most max_connections_per_client connections (0: no limit).
// shutdown() stops accepting, closes idle connections, answers every request already being
// read or handled (with Connection: close) and reports when the last connection has ended.
//
// Thread-safety: construct, set_takeover and start before the io_context runs on several
// threads; stop() and shutdown() may be called from any thread. Handlers and takeovers run on
// server_options::app_executor (a strand): state they share needs nothing more; offloaded
// handlers run on worker_executor and may only touch thread-safe state.

#include "http/message.hpp"
#include "http/router.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace switchboard::observe {
struct service_metrics;
}

namespace switchboard::http {

// One request in the access log.
struct access_entry {
  std::string_view method;  // "-" when the request could not be parsed
  std::string_view target;  // as received: redact it (redacted_target) before writing it out
  unsigned status = 0;      // the status sent; 0 when the answer could not be written
  // From the request's first byte read to its answer's last byte written: reading, waiting for
  // a handler, the handler (on whatever executor it ran) and writing.
  std::chrono::steady_clock::duration took{};
  std::string_view request_id;  // as sent in X-Request-Id on the answer
  // The matched route's pattern ("/v1/requests/{id}"); "unmatched" when no route's path matched
  // or the request was refused before routing; the takeover's label for a taken-over request.
  std::string_view route;
  std::string_view actor;  // the person a handler authenticated (observe::request_info); empty when none
};
// Called once per request, after its answer is written, on the connection's strand.
using access_logger = std::function<void(const access_entry&)>;

struct server_options {
  std::size_t max_body_bytes = 1024 * 1024;    // default body limit; a route may set its own
  std::chrono::seconds header_timeout{10};     // to read a request header, and to wait for the next one
  std::chrono::seconds body_timeout{60};       // to read a body once its header is in
  std::chrono::seconds write_timeout{30};      // to write one response
  std::chrono::seconds handler_timeout{30};    // for a handler's answer; 503 handler_timeout after it
  std::size_t max_connections = 1024;          // open at once; more get 503 and are closed
  // Open at once from one client IP address; more get 503 too_many_client_connections. 0: no
  // limit (behind a proxy, where every client shares the proxy's address).
  std::size_t max_connections_per_client = 64;
  std::size_t large_body_bytes = 1024 * 1024;  // a body over this is a large upload
  std::size_t max_large_uploads = 4;           // large bodies read or handled at once, per pool; more get 503
  // Bytes of bodies from senders not yet authenticated, read or handled at once across all
  // connections (declared lengths; a chunked body counts as its route's limit); more get 503.
  std::size_t max_unauthenticated_body_bytes = 64 * 1024 * 1024;
  std::size_t min_body_rate = 8 * 1024;        // bytes a second a body must keep to after the grace; 0: off
  std::chrono::seconds body_rate_grace{5};
  // Where handlers and takeovers run; default: one strand of the io_context.
  boost::asio::any_io_executor app_executor;
  // Where offloaded routes' handlers run (a thread pool); default: app_executor.
  boost::asio::any_io_executor worker_executor;
  // Where intake routes' handlers run (a thread pool of its own); default: worker_executor.
  boost::asio::any_io_executor intake_executor;
  std::size_t max_intake_jobs = 16;  // intake requests handled at once; more get 503 busy; 0: no limit
  // Bytes of answers over large_body_bytes being written at once, across all connections; an
  // answer that does not fit is replaced by 503 busy with Retry-After (0: no limit).
  std::size_t max_buffered_response_bytes = 128 * 1024 * 1024;
  // Where each request is logged; default: observe::log_access (a line on stderr in the
  // --log-format chosen, the target redacted).
  access_logger access_log;
  // When set, every request logged is counted in switchboard_http_requests_total and
  // switchboard_http_request_duration_seconds by its route label (never the raw path), method
  // and status. Must outlive the server.
  observe::service_metrics* metrics = nullptr;
};

// Produces the response to one request. May throw: the server answers 500 and logs it.
using request_handler = std::function<boost::asio::awaitable<response>(request)>;

// Takes over a connection for a long-lived answer, such as a Server-Sent Events stream. The
// server offers it every request without a body whose target it claims (every such request
// when no claim is given) before routing. It declines by returning 0 without touching the
// stream; otherwise it writes its whole answer itself (an error, or a header and then events for
// as long as it likes) and returns the status it sent, for the log; the server then closes the
// connection. Runs on the app executor (the stream is moved there): the stream stays valid
// until it returns. It records the person the request's credentials stand for in `info`
// (set_actor), as route handlers do, for the access log. May throw: the connection is closed
// and the error logged. Its requests are counted in switchboard_http_requests_total but not
// timed in switchboard_http_request_duration_seconds: a stream lasts as long as its client.
using takeover_handler = std::function<boost::asio::awaitable<unsigned>(const request&, boost::beast::tcp_stream&,
                                                                         observe::request_info& info)>;
using takeover_claim = std::function<bool(std::string_view target)>;

class server {
 public:
  // Routes every request through `routes`, which must outlive the server.
  server(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint, server_options options,
         const router& routes);
  // One handler for every request (no per-route limits or checks).
  server(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint, server_options options,
         request_handler handler);
  ~server();

  // The bound address (the real port when asked for port 0).
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  // Installs the takeover handler; call before start(). `route` labels its requests in the access
  // log and the metrics: give the path it claims, as a route's pattern would be. The request it is offered carries the request's id in X-Request-Id (the client's when
  // acceptable, else a new one): echo it on the answer.
  void set_takeover(takeover_handler handler, takeover_claim claims = {}, std::string route = "takeover");

  void start();
  void stop();  // stops accepting; open connections end with the io_context

  // Graceful stop: no new connections, idle ones closed, in-flight requests answered (and their
  // connections closed). `drained` is called once, on some thread, when no connection is left.
  void shutdown(std::function<void()> drained);

  struct statistics {
    std::size_t connections = 0;     // open now
    std::uint64_t refused_busy = 0;  // connections refused with 503 at the cap or the per-client cap
    std::uint64_t accept_failures = 0;  // accepts failed for want of descriptors or memory
    std::uint64_t handlers_abandoned = 0;  // answered 503 handler_timeout before any write began
    std::uint64_t commits_awaited = 0;     // past handler_timeout with a write begun: answered after it
    std::uint64_t reaped_idle = 0;         // waiting connections closed at the cap to make room
    std::uint64_t refused_unauthenticated = 0;  // bodies refused 503 for the unauthenticated budget
    std::uint64_t bodies_too_slow = 0;     // bodies dropped under min_body_rate
    std::uint64_t refused_intake = 0;      // intake requests refused 503 at max_intake_jobs
    std::uint64_t refused_responses = 0;   // large answers replaced by 503 at max_buffered_response_bytes
  };
  statistics stats() const;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace switchboard::http
