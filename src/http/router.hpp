#pragma once
// A route table: paths with {name} segments, one handler per method. Tells 404 (no such
// path) from 405 (path known, method not: with an Allow header).
//
// Routes are resolved from the request header alone (resolve()), so the server can refuse an
// unknown path, a wrong method or missing credentials before it reads a single body byte, and
// read the body with the route's own limit.
//
// Thread-safety: add() and set_options() before serving; resolve() and dispatch() are const and
// may run on any thread.

#include "http/commit_gate.hpp"
#include "http/message.hpp"
#include "observe/request_id.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace switchboard::http {

struct route_match {
  std::map<std::string, std::string, std::less<>> params;  // from {name} segments, decoded
  std::map<std::string, std::string, std::less<>> query;   // decoded; a repeated key is refused (422) by resolve
  // Set by the server for each request it runs under handler_timeout; pass it to api::commit.
  std::shared_ptr<commit_gate> gate;
  // Set by the server for each routed request: its id, and where a handler that checks the
  // caller's credentials records who it is (set_actor) for the access log. Null when the route
  // is run without a server (router::dispatch, tests).
  std::shared_ptr<observe::request_info> info;
};

using route_handler = std::function<boost::asio::awaitable<response>(const request&, const route_match&)>;

// The header of a request whose body has not been read yet.
using request_header = beast_http::request_header<>;

// Checks what the header alone can prove (a bearer token, basic auth, that a signature header
// is present) before the body is read: returns the refusal to send (401, 403, 503...) or
// nullopt to go on. Runs on an I/O thread: must be quick and must not block.
using before_body_check = std::function<std::optional<response>(const request_header&)>;

struct route_options {
  std::size_t body_limit = 0;  // bytes; 0 keeps the server's default (max_body_bytes)
  bool offload = false;        // the handler runs on the worker pool (MIME parsing, large JSON)
  before_body_check before_body;
  // The answer to a body over body_limit (with code payload_too_large): 413, or 406 where the
  // sender retries every other refusal (Mailgun).
  beast_http::status too_large_status = beast_http::status::payload_too_large;
  // The sender is known only once the body is read and its signature checked (Slack, Mailgun):
  // the body counts against the server's budget for unauthenticated bodies. A route without a
  // before_body check counts too; one whose check proves a credential (bearer, basic) does not.
  bool signed_body = false;
  // The handler is quick and touches only thread-safe state: for a body of at most
  // inline_body_bytes (0: no body) it runs on the connection's own strand, where the request was
  // read, instead of on the app strand or the worker pool (set `offload` too for larger bodies).
  // Each hop there and back wakes another thread, which on a 2-core machine cost more than
  // /healthz's or a filing's own work (issue 11's targets).
  bool run_inline = false;
  std::size_t inline_body_bytes = 0;
  // For a run_inline route: answers from what is at hand, without suspending (a cached verdict),
  // or returns nullopt to run the handler. An answer given here skips the handler's coroutine
  // and its handler_timeout timer, which a call that cannot suspend does not need: nothing else
  // runs on the connection's strand meanwhile. Runs on an I/O thread, like before_body: must be
  // quick, must not block, and may touch only thread-safe state. May throw (500, as a handler).
  std::function<std::optional<response>(const request&)> immediate{};
  // Inbound mail (MIME parsing): the handler runs on the intake pool, apart from the worker pool
  // that answers the API, and at most server_options::max_intake_jobs such requests are handled
  // at once; more get 503 busy with Retry-After once their body is read (mail providers retry;
  // holding a place while a body arrives would let slow senders take every place). A burst of heavy mail then cannot queue ahead of API reads (issue 11, break11: 60
  // mails of 90,000 addresses each held API reads 23-30 s, until 503 handler_timeout).
  bool intake = false;
};

// A resolved route: what to run and how.
struct route_target {
  const route_handler* handler = nullptr;  // owned by the router
  route_match match;
  const route_options* options = nullptr;  // owned by the router
  std::string_view pattern;                // as given to add() ("/v1/requests/{id}"); owned by the router
};

class router {
 public:
  // pattern: "/v1/requests/{id}"; method: beast_http::verb.
  void add(beast_http::verb method, std::string pattern, route_handler handler, route_options options = {});

  // Replaces the options of a route already added (for routes registered elsewhere); throws
  // std::logic_error when there is none.
  void set_options(beast_http::verb method, std::string_view pattern, route_options options);

  // The route a header names, or the response to send at once: 400 (bad query escape), 404,
  // 405 with Allow, the route's before_body refusal, or 422 invalid_fields naming each query
  // parameter given more than once (after before_body). When `pattern` is given, it is set to
  // the matched path's pattern (owned by the router), the refusals 405 and before_body
  // included, and left as it was when no path matched (400, 404): the access log's route label.
  std::variant<route_target, response> resolve(const request_header& header, std::string_view* pattern = nullptr) const;

  // resolve() then the handler, in one step (tests and simple servers).
  boost::asio::awaitable<response> dispatch(const request& req) const;

  // Every (method, pattern) in the table, in the order added, the pattern as given to add()
  // ("/v1/requests/{id}"): what `switchboard --check-openapi` compares with the document.
  std::vector<std::pair<beast_http::verb, std::string>> patterns() const;

 private:
  struct route {
    std::string pattern;
    std::vector<std::string> segments;
    std::map<beast_http::verb, route_handler> handlers;
    std::map<beast_http::verb, route_options> options;
  };
  std::vector<route> routes_;
};

// Percent-decodes a URL component ('+' as space in queries). Returns false on a bad escape.
bool url_decode(std::string_view in, std::string& out, bool plus_is_space);

}  // namespace switchboard::http
