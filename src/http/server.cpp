// Listener and per-connection sessions as coroutines, each on its own strand of the io_context.
#include "http/server.hpp"

#include "http/commit_gate.hpp"
#include "observe/log.hpp"
#include "observe/metrics.hpp"
#include "observe/request_id.hpp"
#include "store/failure.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/chrono.h>
#include <fmt/compile.h>
#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <iterator>
#include <map>
#include <mutex>
#include <thread>
#include <optional>
#include <variant>
#include <vector>

namespace switchboard::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// How long the accept loop waits when the process is out of file descriptors (or memory): the
// pending connection stays in the backlog, and retrying at once would only spin.
constexpr std::chrono::milliseconds accept_backoff{100};
// How long a refused client may take to read its 503, and how long unread body bytes are
// drained after an early answer.
constexpr std::chrono::seconds refusal_timeout{5};
// What a client whose large upload was refused is told to wait.
constexpr std::string_view busy_retry_after = "5";

// How much a connection reads at once while waiting for a request's first bytes.
constexpr std::size_t first_read_bytes = 4096;

// The default access log: one line per request through observe's batched stderr writer, the
// target redacted.
void print_access(const access_entry& entry) {
  observe::log_access({entry.request_id, entry.method, entry.route, redacted_target(entry.target), entry.status,
                       std::chrono::duration_cast<std::chrono::microseconds>(entry.took), entry.actor});
}

// Whether a request has started to arrive: bytes buffered or waiting in the socket.
bool has_pending_bytes(beast::tcp_stream& stream, const beast::flat_buffer& buffer) {
  beast::error_code ec;
  return buffer.size() > 0 || (stream.socket().available(ec) > 0 && !ec);
}

// Whether a request's first bytes wait in the socket, none of them read yet.
bool first_bytes_waiting(beast::tcp_stream& stream, const beast::flat_buffer& buffer) {
  beast::error_code ec;
  return buffer.size() == 0 && stream.socket().available(ec) > 0 && !ec;
}

// "Expect: 100-continue" from an HTTP/1.1 client (RFC 9110 section 10.1.1: the token is
// case-insensitive; HTTP/1.0 clients cannot take a 1xx answer).
bool expects_continue(const request_header& header) {
  return header.version() >= 11 && beast::iequals(header[beast_http::field::expect], "100-continue");
}

bool out_of_resources(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system ||
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

asio::awaitable<response> invoke(const route_handler& handler, request req, route_match match) {
  co_return co_await handler(req, match);
}

// What to run for one request, decided from its header.
struct request_plan {
  std::size_t body_limit = 0;  // 0: the server's default
  beast_http::status too_large_status = beast_http::status::payload_too_large;
  bool offload = false;
  bool intake = false;                // route_options::intake
  bool run_inline = false;            // route_options::run_inline
  std::size_t inline_body_bytes = 0;
  // route_options::immediate (owned by the router), for a run_inline route; null when none.
  const std::function<std::optional<response>(const request&)>* immediate = nullptr;
  bool unauthenticated_body = false;  // the sender is unknown until the body is read
  // What runs: a route's handler (owned by the router) with its match, or the one handler of a
  // server without routes (owned by its planner). Pointers and a match, not a std::function
  // holding them, which took an allocation per request.
  const route_handler* handler = nullptr;
  route_match match;
  const request_handler* single = nullptr;

  asio::awaitable<response> run(request req, std::shared_ptr<commit_gate> gate) {
    if (single != nullptr) return (*single)(std::move(req));  // writes nothing through api::commit: no gate
    match.gate = std::move(gate);
    return invoke(*handler, std::move(req), std::move(match));
  }
};
// Plans a request from its header; sets `route` to the route's pattern when a path matched (the
// access log's label), refusals included.
using planner = std::function<std::variant<request_plan, response>(const request_header&, std::string_view& route)>;

// The access log's route label when no route's path matched (or the request never reached the
// router): one label, never the raw path, so that the set of labels stays bounded.
constexpr std::string_view unmatched_route = "unmatched";

// What one request's answer and access-log line need besides the response: gathered as the
// request is read. `method` and `target` view the session's own strings.
struct exchange {
  std::string_view method = "-";
  std::string_view target = "-";
  std::string_view route = unmatched_route;
  // Never null: the request id (X-Request-Id on the answer) and the actor a handler found.
  std::shared_ptr<observe::request_info> info;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

// An exchange for a request whose header could not be read, or a connection refused before
// any: a fresh id, no method or target.
exchange anonymous_exchange(std::chrono::steady_clock::time_point started) {
  return exchange{"-", "-", unmatched_route, std::make_shared<observe::request_info>(observe::new_request_id()),
                  started};
}

// The id the client sent in X-Request-Id when there is exactly one acceptable one, else a new one.
std::string request_id_of(const request_header& header) {
  constexpr std::string_view name = "X-Request-Id";
  if (header.count(name) != 1) return observe::new_request_id();
  return observe::request_id_for(header.find(name)->value());
}

// A counted slot; released when destroyed.
class slot {
 public:
  slot() = default;
  explicit slot(std::atomic<std::size_t>* counter) : counter_(counter) {}
  slot(slot&& other) noexcept : counter_(std::exchange(other.counter_, nullptr)) {}
  slot& operator=(slot&& other) noexcept {
    std::swap(counter_, other.counter_);
    return *this;
  }
  ~slot() {
    if (counter_ != nullptr) counter_->fetch_sub(1);
  }

 private:
  std::atomic<std::size_t>* counter_ = nullptr;
};

slot try_take(std::atomic<std::size_t>& counter, std::size_t max, bool& taken) {
  if (counter.fetch_add(1) >= max) {
    counter.fetch_sub(1);
    taken = false;
    return slot{};
  }
  taken = true;
  return slot{&counter};
}

// Bytes reserved from a shared budget; returned when destroyed.
class reservation {
 public:
  reservation() = default;
  reservation(std::atomic<std::size_t>* counter, std::size_t bytes) : counter_(counter), bytes_(bytes) {}
  reservation(reservation&& other) noexcept
      : counter_(std::exchange(other.counter_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  reservation& operator=(reservation&& other) noexcept {
    std::swap(counter_, other.counter_);
    std::swap(bytes_, other.bytes_);
    return *this;
  }
  ~reservation() {
    if (counter_ != nullptr) counter_->fetch_sub(bytes_);
  }

 private:
  std::atomic<std::size_t>* counter_ = nullptr;
  std::size_t bytes_ = 0;
};

// Reserves `bytes` of `max` from `counter`; false (nothing reserved) when they do not fit.
bool try_reserve(std::atomic<std::size_t>& counter, std::size_t bytes, std::size_t max, reservation& out) {
  auto held = counter.load();
  do {
    if (held > max || bytes > max - held) return false;
  } while (!counter.compare_exchange_weak(held, held + bytes));
  out = reservation(&counter, bytes);
  return true;
}

// A connection's read and write deadline, kept by one timer that is re-armed rarely. Beast's
// tcp_stream arms and cancels a timer around every read and write, and each cancel posts a
// completion through the scheduler (a lock, often a thread woken): two per request, a large
// part of what /healthz cost beyond a bare Beast server (issue 11, by perf). Here setting a
// deadline only stores it; the timer is armed at most `shortest` ahead (the shortest timeout the
// connection ever sets), and when it fires before the deadline it re-arms for the rest, so a
// deadline set at least `shortest` ahead never needs the timer moved, and every deadline is
// still kept to the moment: at it, the socket is closed (as tcp_stream does), which ends any
// read or write pending on it. A busy keep-alive connection costs one timer wake-up every
// `shortest`. Unlike tcp_stream's, the deadline holds between operations too: clear it
// (expires_never) before waiting on anything but the socket. On the connection's strand only.
class connection_deadline {
 public:
  using clock = std::chrono::steady_clock;

  connection_deadline(asio::any_io_executor executor, beast::tcp_stream& stream, clock::duration shortest)
      : state_(std::make_shared<shared>(std::move(executor), stream, shortest)) {}
  ~connection_deadline() {
    state_->stream = nullptr;
    state_->timer.cancel();
  }
  connection_deadline(const connection_deadline&) = delete;
  connection_deadline& operator=(const connection_deadline&) = delete;

  void expires_after(clock::duration timeout) { expires_at(clock::now() + timeout); }
  void expires_at(clock::time_point deadline) {
    auto& s = *state_;
    s.deadline = deadline;
    // Armed no later than `shortest` after it was armed: only a deadline nearer than that (a
    // timeout shorter than `shortest`) needs the timer moved.
    if (!s.armed || deadline < s.timer.expiry()) arm(state_, std::min(deadline, clock::now() + s.shortest));
  }
  void expires_never() { state_->deadline = clock::time_point::max(); }

 private:
  struct shared {
    shared(asio::any_io_executor executor, beast::tcp_stream& s, clock::duration d)
        : timer(std::move(executor)), stream(&s), shortest(d) {}
    asio::steady_timer timer;
    beast::tcp_stream* stream;  // null once the connection has ended
    clock::duration shortest;
    clock::time_point deadline = clock::time_point::max();
    std::uint64_t generation = 0;  // of the wait pending now; an earlier one's completion is stale
    bool armed = false;
  };

  static void arm(const std::shared_ptr<shared>& s, clock::time_point at) {
    const auto generation = ++s->generation;
    s->armed = true;
    s->timer.expires_at(at);
    s->timer.async_wait([s, generation](const boost::system::error_code& ec) {
      if (generation != s->generation) return;  // superseded by a nearer deadline
      s->armed = false;
      if (ec || s->stream == nullptr || s->deadline == clock::time_point::max()) return;
      const auto now = clock::now();
      if (now < s->deadline) return arm(s, std::min(s->deadline, now + s->shortest));
      s->deadline = clock::time_point::max();
      beast::error_code ignored;
      s->stream->socket().close(ignored);
    });
  }

  std::shared_ptr<shared> state_;
};

}  // namespace

struct server::state : std::enable_shared_from_this<server::state> {
  state(asio::io_context& io, const tcp::endpoint& endpoint, server_options opts, planner p)
      : io(io), acceptor(asio::make_strand(io), endpoint), options(std::move(opts)), plan(std::move(p)) {
    if (!options.app_executor) options.app_executor = asio::make_strand(io);
    if (!options.worker_executor) options.worker_executor = options.app_executor;
    if (!options.intake_executor) options.intake_executor = options.worker_executor;
    if (!options.access_log) options.access_log = print_access;
  }

  // `timed`: whether the duration goes into the latency histogram; a taken-over stream's does
  // not (it lasts as long as its viewer keeps the page open, and would set off latency alerts).
  void log_request(const exchange& ex, unsigned code, bool timed = true) {
    try {
      const auto actor = ex.info->actor();
      const auto took = std::chrono::steady_clock::now() - ex.started;
      options.access_log(access_entry{ex.method, ex.target, code, took, ex.info->id(), ex.route, actor});
      if (options.metrics != nullptr) {
        options.metrics->http_requests.add({ex.route, ex.method, std::to_string(code)});
        if (timed)
          options.metrics->http_request_duration.observe({ex.route, ex.method},
                                                         std::chrono::duration<double>(took).count());
      }
    } catch (const std::exception& e) {
      observe::log(observe::log_level::error, fmt::format("the access log failed: {}", e.what()));
    }
  }

  // One connection, as the drain on shutdown sees it. Fields are touched on the session's strand.
  struct connection {
    explicit connection(asio::any_io_executor ex) : executor(std::move(ex)) {}
    asio::any_io_executor executor;
    beast::tcp_stream* stream = nullptr;
    beast::flat_buffer* buffer = nullptr;
    // Waiting for the next request's header (none or part of it received). Written on the
    // connection's strand, read by the acceptor's when it looks for connections to close.
    std::atomic<bool> idle{false};
    std::atomic<bool> reaped{false};  // chosen to be closed at the connection cap
  };

  asio::io_context& io;
  tcp::acceptor acceptor;
  server_options options;
  planner plan;
  takeover_handler takeover;
  takeover_claim claims;
  std::string takeover_route = "takeover";  // the access log's route label for a taken-over request

  std::atomic<std::size_t> open{0};
  std::atomic<std::size_t> large_uploads{0};                // unauthenticated senders
  std::atomic<std::size_t> large_uploads_authenticated{0};
  std::atomic<std::size_t> intake_jobs{0};
  std::atomic<std::size_t> lingering_refusals{0};
  std::atomic<std::size_t> buffered_response_bytes{0};
  std::atomic<std::uint64_t> refused_responses{0};
  std::atomic<std::size_t> unauthenticated_bytes{0};
  std::atomic<std::uint64_t> reaped_idle{0};
  std::atomic<std::uint64_t> refused_unauthenticated{0};
  std::atomic<std::uint64_t> refused_intake{0};
  std::atomic<std::uint64_t> bodies_too_slow{0};
  std::atomic<std::uint64_t> refused_busy{0};
  std::atomic<std::uint64_t> accept_failures{0};
  std::atomic<std::uint64_t> stats_abandoned{0};
  std::atomic<std::uint64_t> stats_awaited{0};
  std::atomic<bool> draining{false};
  std::mutex mutex;  // guards connections, drained and the per-client maps
  std::vector<std::weak_ptr<connection>> connections;  // oldest first
  std::map<asio::ip::address, std::size_t> per_client;  // open connections per client address
  // Unauthenticated body bytes reserved per client address (guarded by mutex).
  std::map<asio::ip::address, std::size_t> unauthenticated_per_client;
  // Anonymous large uploads per client address (guarded by mutex).
  std::map<asio::ip::address, std::size_t> large_per_client;
  std::function<void()> drained;

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    asio::steady_timer backoff(acceptor.get_executor());
    for (;;) {
      auto strand = asio::make_strand(io);
      auto [ec, socket] = co_await acceptor.async_accept(strand, use_tuple);
      if (ec == asio::error::operation_aborted || !acceptor.is_open() || draining) co_return;
      if (out_of_resources(ec)) {
        ++accept_failures;
        observe::log(observe::log_level::warning,
                     fmt::format("accept failed ({}), retrying in {} ms", ec.message(), accept_backoff.count()));
        backoff.expires_after(accept_backoff);
        co_await backoff.async_wait(use_tuple);
        continue;
      }
      if (ec) continue;  // a client that gave up before we accepted it
      beast::error_code peer_error;
      const auto peer = socket.remote_endpoint(peer_error).address();
      if (peer_error) continue;  // already gone
      if (!take_client(peer)) {
        ++refused_busy;
        asio::co_spawn(strand,
                       refuse_connection(beast::tcp_stream(std::move(socket)),
                                         error_response(status::service_unavailable, "too_many_client_connections",
                                                        "this client address has too many open connections; retry shortly")),
                       asio::detached);
        continue;
      }
      // At the cap, connections waiting for a request make room before anyone is refused: one
      // client's idle sockets must not lock out everyone (issue 11: 1030 of them took /healthz).
      if (open.fetch_add(1) >= options.max_connections && co_await reap_waiting() == 0) {
        open.fetch_sub(1);
        release_client(peer);
        ++refused_busy;
        asio::co_spawn(strand,
                       refuse_connection(beast::tcp_stream(std::move(socket)),
                                         error_response(status::service_unavailable, "too_many_connections",
                                                        "the server has too many open connections; retry shortly")),
                       asio::detached);
        continue;
      }
      asio::co_spawn(strand, session(beast::tcp_stream(std::move(socket)), peer), asio::detached);
    }
  }

  // Whether one more connection from `peer` is within max_connections_per_client (counted if so).
  bool take_client(const asio::ip::address& peer) {
    if (options.max_connections_per_client == 0) return true;
    std::lock_guard lock(mutex);
    auto& count = per_client[peer];
    if (count >= options.max_connections_per_client) return false;
    ++count;
    return true;
  }

  // Whether `peer` may hold `amount` more of a resource shared by every client (counted in
  // `counts` if so): one address holds at most `share` of it, so that one client's slow bodies
  // leave the rest to everyone else (break11: 64 slow Slack bodies from one address took all
  // 64 MiB of the unauthenticated budget; break11b: four slow 2 MiB bodies from one address took
  // every anonymous large-upload slot). A client holding nothing may always try once, whatever
  // the amount, against the resource's own limit. Off with max_connections_per_client = 0
  // (behind a proxy every client has its address).
  bool take_client_share(std::map<asio::ip::address, std::size_t>& counts, const asio::ip::address& peer,
                         std::size_t amount, std::size_t share) {
    if (options.max_connections_per_client == 0) return true;
    std::lock_guard lock(mutex);
    auto& held = counts[peer];
    if (held != 0 && (held > share || amount > share - held)) return false;
    held += amount;
    return true;
  }

  void release_client_share(std::map<asio::ip::address, std::size_t>& counts, const asio::ip::address& peer,
                            std::size_t amount) {
    std::lock_guard lock(mutex);
    const auto found = counts.find(peer);
    if (found == counts.end()) return;
    found->second -= std::min(found->second, amount);
    if (found->second == 0) counts.erase(found);
  }

  // A client's share taken by take_client_share; returned when destroyed.
  struct client_share {
    state* s = nullptr;
    std::map<asio::ip::address, std::size_t>* counts = nullptr;
    asio::ip::address peer;
    std::size_t amount = 0;
    client_share() = default;
    client_share(state* owner, std::map<asio::ip::address, std::size_t>& in, asio::ip::address address, std::size_t n)
        : s(owner), counts(&in), peer(address), amount(n) {}
    client_share(client_share&& other) noexcept
        : s(std::exchange(other.s, nullptr)), counts(other.counts), peer(other.peer), amount(std::exchange(other.amount, 0)) {}
    client_share& operator=(client_share&& other) noexcept {
      std::swap(s, other.s);
      std::swap(counts, other.counts);
      std::swap(peer, other.peer);
      std::swap(amount, other.amount);
      return *this;
    }
    ~client_share() {
      if (s != nullptr) s->release_client_share(*counts, peer, amount);
    }
  };

  // Takes `peer`'s share of `amount` in `counts` into `out`; false when it is over `share`.
  bool hold_client_share(std::map<asio::ip::address, std::size_t>& counts, const asio::ip::address& peer,
                         std::size_t amount, std::size_t share, client_share& out) {
    if (!take_client_share(counts, peer, amount, share)) return false;
    if (options.max_connections_per_client != 0) out = client_share(this, counts, peer, amount);
    return true;
  }

  void release_client(const asio::ip::address& peer) {
    if (options.max_connections_per_client == 0) return;
    std::lock_guard lock(mutex);
    const auto found = per_client.find(peer);
    if (found != per_client.end() && --found->second == 0) per_client.erase(found);
  }

  // Closes the oldest connections waiting for a request, up to a sixteenth of the cap at once
  // (so that a burst of new ones does not take a lock per connection each); returns how many it
  // closed. Each is looked at on its own strand, where its state is settled, before it counts:
  // one chosen while idle may have begun a request meanwhile, and counting it anyway let a
  // newcomer in above the cap, after which every idle newcomer made room for the next and no
  // one was ever refused (a flood against 16 connections mid-body, in the sanitizer build). They
  // end moments later: until then the count may stand above the cap by as many.
  asio::awaitable<std::size_t> reap_waiting() {
    const std::size_t batch = std::max<std::size_t>(1, options.max_connections / 16);
    std::vector<std::shared_ptr<connection>> chosen;
    {
      std::lock_guard lock(mutex);
      for (const auto& weak : connections) {
        if (chosen.size() == batch) break;
        auto c = weak.lock();
        if (c && c->idle && !c->reaped.exchange(true)) chosen.push_back(std::move(c));
      }
    }
    std::size_t closed = 0;
    for (const auto& c : chosen) {
      const bool cancelled = co_await asio::co_spawn(
          c->executor,
          [c]() -> asio::awaitable<bool> {
            // A request's first bytes waiting in the socket (their read not yet completed on
            // this strand) make it no longer idle: closing it would drop a request the client
            // has sent. Part of a header held in the buffer still counts as idle: slow headers
            // make room.
            if (c->idle && c->stream != nullptr && !first_bytes_waiting(*c->stream, *c->buffer)) {
              c->stream->cancel();
              co_return true;
            }
            c->reaped = false;  // it began a request: it may be chosen another time
            co_return false;
          },
          asio::use_awaitable);
      if (cancelled) ++closed;
    }
    reaped_idle.fetch_add(closed);
    co_return closed;
  }

  // A refused connection is answered and drained for a few seconds so that the client reads
  // its 503; at most max_lingering_refusals at once, beyond which one is closed at once: under a
  // flood of new connections the lingering ones ran the process out of descriptors (break11b:
  // 4,200 refused connections in 8 s filled a 256-descriptor limit, and accept failed).
  static constexpr std::size_t max_lingering_refusals = 64;

  asio::awaitable<void> refuse_connection(beast::tcp_stream stream, response res) {
    auto self = shared_from_this();
    if (lingering_refusals.fetch_add(1) >= max_lingering_refusals) {
      lingering_refusals.fetch_sub(1);
      beast::error_code ignored;
      stream.socket().close(ignored);
      co_return;
    }
    struct release {
      std::atomic<std::size_t>& count;
      ~release() { count.fetch_sub(1); }
    } counted{lingering_refusals};
    connection_deadline deadline(co_await asio::this_coro::executor, stream, shortest_timeout());
    res.set(beast_http::field::retry_after, busy_retry_after);
    co_await refuse_unread(stream, deadline, std::move(res), anonymous_exchange(std::chrono::steady_clock::now()));
  }

  // The shortest read or write timeout a connection sets (connection_deadline), at least 1 s.
  std::chrono::steady_clock::duration shortest_timeout() const {
    const std::chrono::seconds shortest =
        std::min({options.header_timeout, options.body_timeout, options.write_timeout,
                  std::chrono::duration_cast<std::chrono::seconds>(refusal_timeout)});
    return std::max<std::chrono::steady_clock::duration>(shortest, std::chrono::seconds{1});
  }

  // Writes a response within the write deadline; reports whether the connection may carry
  // another request.
  // Every answer carries the request's id in X-Request-Id.
  asio::awaitable<bool> reply(beast::tcp_stream& stream, connection_deadline& deadline, response res, bool keep_alive,
                              const exchange& ex) {
    keep_alive = keep_alive && !draining;
    // A large answer is held until its client has taken it (up to write_timeout): together they
    // stay within max_buffered_response_bytes, or the next one is 503 busy and freed at once
    // (break11: 63 clients that never read, each sent a 16.8 MB page, held 470 MiB).
    reservation buffered;
    if (options.max_buffered_response_bytes != 0 && res.body().size() > options.large_body_bytes &&
        // An answer larger than the whole budget still goes out when nothing else is held.
        !try_reserve(buffered_response_bytes, res.body().size(),
                     std::max(options.max_buffered_response_bytes, res.body().size()), buffered)) {
      refused_responses.fetch_add(1);
      res = error_response(status::service_unavailable, "busy",
                           "too many large answers are waiting for their clients to read them; retry shortly");
      res.set(beast_http::field::retry_after, busy_retry_after);
    }
    res.set("X-Request-Id", ex.info->id());
    res.keep_alive(keep_alive);
    res.prepare_payload();
    const auto code = res.result_int();
    deadline.expires_after(options.write_timeout);
    auto [ec, written] = co_await beast_http::async_write(stream, res, use_tuple);
    deadline.expires_never();
    log_request(ex, ec ? 0 : code);
    co_return !ec && keep_alive;
  }

  // Answers with the body (or the rest of the connection) unread, then ends the connection.
  // Closing at once would reset it and could destroy the answer in the client's buffers before
  // it reads it: stop sending, then read and drop what the client still sends, for a few seconds
  // at most, without keeping any of it.
  asio::awaitable<void> refuse_unread(beast::tcp_stream& stream, connection_deadline& deadline, response res,
                                      const exchange& ex) {
    co_await reply(stream, deadline, std::move(res), false, ex);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    deadline.expires_after(refusal_timeout);
    std::array<char, 16 * 1024> scratch;
    for (;;) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), use_tuple);
      if (ec) break;
    }
  }

  void register_connection(const std::shared_ptr<connection>& c) {
    std::lock_guard lock(mutex);
    std::erase_if(connections, [](const auto& weak) { return weak.expired(); });
    connections.push_back(c);
  }

  void connection_ended() {
    if (open.fetch_sub(1) == 1 && draining) finish_drain();
  }

  void finish_drain() {
    std::function<void()> done;
    {
      std::lock_guard lock(mutex);
      done = std::exchange(drained, nullptr);
    }
    if (done) done();
  }

  void shutdown(std::function<void()> done) {
    {
      std::lock_guard lock(mutex);
      drained = std::move(done);
    }
    draining = true;
    asio::post(acceptor.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->acceptor.close(ignored);
    });
    std::vector<std::shared_ptr<connection>> live;
    {
      std::lock_guard lock(mutex);
      for (const auto& weak : connections)
        if (auto c = weak.lock()) live.push_back(std::move(c));
    }
    // A connection waiting for a header with nothing received yet is idle: close it. One that
    // has bytes of a request waiting is answered (with Connection: close).
    for (const auto& c : live)
      asio::post(c->executor, [c] {
        if (c->idle && c->stream != nullptr && !has_pending_bytes(*c->stream, *c->buffer)) c->stream->cancel();
      });
    if (open == 0) finish_drain();
  }

  // Runs the handler on its executor; nullopt when it has not answered within handler_timeout
  // and has begun no write (it goes on in the background, its answer dropped, and its writes
  // refused: commit_gate). A handler whose write began before the deadline is waited for, so
  // the client hears what happened to it.
  // A slot kept by a handler's completion, with the state its counter lives in: a completion
  // destroyed unrun (its pool stopped at shutdown) may outlive the server object.
  struct kept_slot {
    kept_slot(std::shared_ptr<state> s, slot p) : owner(std::move(s)), place(std::move(p)) {}
    std::shared_ptr<state> owner;  // declared first: destroyed after `place`
    slot place;
  };

  // `held` (an intake slot) is released when the handler ends, not at its deadline: a handler
  // still running after the answer went out still takes its place.
  asio::awaitable<std::optional<response>> run_with_deadline(request_plan& plan, request req, slot held = {}) {
    struct outcome {
      explicit outcome(asio::any_io_executor ex) : timer(std::move(ex)) {}
      asio::steady_timer timer;
      bool done = false;
      std::exception_ptr error;
      response res;
    };
    auto here = co_await asio::this_coro::executor;
    auto result = std::make_shared<outcome>(here);
    result->timer.expires_after(options.handler_timeout);
    auto gate = std::make_shared<commit_gate>();
    const bool on_connection = plan.run_inline && req.body().size() <= plan.inline_body_bytes;
    auto work = plan.run(std::move(req), gate);
    const auto& runs_on = on_connection  ? here
                          : plan.intake  ? options.intake_executor
                          : plan.offload ? options.worker_executor
                                         : options.app_executor;
    // The answer is handed to the connection the moment the handler returns. co_spawn's own
    // completion would first post back to the handler's executor and queue behind every handler
    // waiting there, each finished answer held meanwhile: 256 clients asking at once for 4 MiB
    // pages held all 256 (1 GiB) until the last was built, since the answer budget
    // (max_buffered_response_bytes) sees an answer only when it reaches its connection.
    auto deliver = [here, result, held = std::make_shared<kept_slot>(shared_from_this(), std::move(held))](
                       std::exception_ptr error, response res) mutable {
      asio::dispatch(here, [result, held = std::move(held), error, res = std::move(res)]() mutable {
        held->place = slot{};
        result->done = true;
        result->error = error;
        result->res = std::move(res);
        result->timer.cancel();
      });
    };
    asio::co_spawn(
        runs_on,
        [work = std::move(work), deliver = std::move(deliver)]() mutable -> asio::awaitable<void> {
          std::exception_ptr error;
          response res;
          try {
            res = co_await std::move(work);
          } catch (...) {
            error = std::current_exception();
          }
          deliver(error, std::move(res));
        },
        asio::detached);
    // A handler on this connection's strand may have run to its end inside co_spawn (dispatch):
    // its timer was cancelled before anyone waited on it.
    if (!result->done) co_await result->timer.async_wait(use_tuple);
    if (!result->done) {
      if (gate->abandon()) {
        stats_abandoned.fetch_add(1);
        co_return std::nullopt;
      }
      // A write is under way: its commit (or failure) is moments away, and the answer must say
      // which. The completion, on this executor, cancels the wait.
      stats_awaited.fetch_add(1);
      result->timer.expires_at(asio::steady_timer::time_point::max());
      co_await result->timer.async_wait(use_tuple);
    }
    if (result->error) std::rethrow_exception(result->error);
    co_return std::move(result->res);
  }

  // Moves the connection to the app executor and lets the takeover handler have it; returns the
  // status it sent, or 0 when it declined.
  asio::awaitable<unsigned> offer_takeover(beast::tcp_stream& stream, const request& req, observe::request_info& info) {
    beast::error_code ec;
    const auto protocol = stream.socket().local_endpoint(ec).protocol();
    if (ec) co_return 0;
    const auto native = stream.socket().release(ec);
    if (ec) co_return 0;
    beast::tcp_stream moved(tcp::socket(options.app_executor, protocol, native));
    unsigned taken = 0;
    try {
      auto streaming = takeover(req, moved, info);
      taken = co_await asio::co_spawn(options.app_executor, std::move(streaming), asio::use_awaitable);
    } catch (const std::exception& e) {
      observe::log(observe::log_level::error,
                   fmt::format("error streaming {} {}: {}", std::string_view(req.method_string()),
                               redacted_target(req.target()), e.what()),
                   "");
      taken = 500;
    }
    // A declined request is answered on the moved stream by the caller: hand it back.
    if (taken == 0) {
      const auto back = moved.socket().release(ec);
      if (!ec) stream.socket().assign(protocol, back, ec);
    }
    co_return taken;
  }

  asio::awaitable<void> session(beast::tcp_stream stream, asio::ip::address peer) {
    auto self = shared_from_this();
    auto executor = co_await asio::this_coro::executor;
    beast::flat_buffer buffer;
    connection_deadline deadline(executor, stream, shortest_timeout());
    auto me = std::make_shared<connection>(executor);
    me->stream = &stream;
    me->buffer = &buffer;
    register_connection(me);
    struct ending {
      state* s;
      std::shared_ptr<connection> c;
      asio::ip::address peer;
      ~ending() {
        c->stream = nullptr;
        s->release_client(peer);
        s->connection_ended();
      }
    } end_guard{this, me, peer};

    for (;;) {
      if (draining && !has_pending_bytes(stream, buffer)) break;
      beast_http::request_parser<beast_http::string_body> parser;
      parser.body_limit(boost::none);  // the route's limit applies once it is known
      deadline.expires_after(options.header_timeout);
      me->idle = true;
      // The request's time starts with its first byte, not once its header is whole: wait for
      // bytes (or take those already buffered, from a pipelined request) before parsing.
      if (buffer.size() == 0) {
        auto [first_error, first_bytes] = co_await stream.async_read_some(buffer.prepare(first_read_bytes), use_tuple);
        buffer.commit(first_bytes);
        if (first_error) break;  // closed, reset, timed out or cancelled while idle
      }
      const auto started = std::chrono::steady_clock::now();
      // The bytes at hand nearly always hold the whole header: parse them here. An asynchronous
      // read with nothing to read still completes through the scheduler (a post, which either
      // I/O thread may take), once per request.
      beast::error_code header_error;
      buffer.consume(parser.put(buffer.data(), header_error));
      if (header_error == beast_http::error::need_more) {
        auto [read_error, header_bytes] = co_await beast_http::async_read_header(stream, buffer, parser, use_tuple);
        header_error = read_error;
      }
      me->idle = false;
      if (header_error == beast_http::error::end_of_stream || header_error == beast::error::timeout ||
          header_error == asio::error::eof || header_error == asio::error::connection_reset ||
          header_error == asio::error::operation_aborted || header_error == asio::error::bad_descriptor)
        break;
      if (header_error) {
        auto malformed = error_response(status::bad_request, "malformed_http", header_error.message());
        co_await refuse_unread(stream, deadline, std::move(malformed), anonymous_exchange(started));
        break;
      }
      const std::string method(parser.get().method_string());
      const std::string target(parser.get().target());
      exchange ex{method, target, unmatched_route, std::make_shared<observe::request_info>(request_id_of(parser.get())),
                  started};
      // A transfer coding other than chunked alone: the body's end cannot be found (RFC 9112
      // section 6.1), so answer and close before reading any of it.
      if (auto refused_coding = refuse_transfer_coding(parser.get())) {
        co_await refuse_unread(stream, deadline, std::move(*refused_coding), ex);
        break;
      }
      // No Host, or two (RFC 9112 section 3.2): 400, before any route or takeover sees it.
      if (auto refused_host = refuse_host(parser.get())) {
        co_await refuse_unread(stream, deadline, std::move(*refused_host), ex);
        break;
      }
      const bool has_body = !parser.is_done();

      if (takeover && !has_body && (!claims || claims(target))) {
        deadline.expires_never();  // the socket leaves this connection's strand for the takeover
        parser.get().set("X-Request-Id", ex.info->id());
        const auto taken = co_await offer_takeover(stream, parser.get(), *ex.info);
        if (taken != 0) {
          ex.route = takeover_route;
          // A refusal (401, 405) is timed like any answer; a stream is not.
          log_request(ex, taken, taken >= 300);
          co_return;
        }
        if (!stream.socket().is_open()) break;
      }

      auto planned = plan(parser.get(), ex.route);
      if (auto* refused = std::get_if<response>(&planned)) {
        if (has_body) {
          co_await refuse_unread(stream, deadline, std::move(*refused), ex);
          break;
        }
        if (!co_await reply(stream, deadline, std::move(*refused), parser.get().keep_alive(), ex)) break;
        continue;
      }
      auto& route = std::get<request_plan>(planned);
      route.match.info = ex.info;
      const auto limit = route.body_limit != 0 ? route.body_limit : options.max_body_bytes;
      const auto declared = parser.content_length();
      if (declared && *declared > limit) {
        auto refused_size = too_large(limit, route.too_large_status);
        co_await refuse_unread(stream, deadline, std::move(refused_size), ex);
        break;
      }
      // A chunked body may grow to the route's limit: it counts as that much.
      const std::size_t expected = has_body ? (declared ? static_cast<std::size_t>(*declared) : limit) : 0;
      // Bodies read before their sender is known are held to one budget across connections
      // (issue 11: a thousand 1 MiB bodies held a GiB and stalled new connections for 30 s).
      reservation unauthenticated;
      client_share share;
      const bool within_share =
          !(has_body && route.unauthenticated_body) ||
          hold_client_share(unauthenticated_per_client, peer, expected, options.max_unauthenticated_body_bytes / 2, share);
      if (!within_share || (has_body && route.unauthenticated_body &&
                            !try_reserve(unauthenticated_bytes, expected, options.max_unauthenticated_body_bytes,
                                         unauthenticated))) {
        refused_unauthenticated.fetch_add(1);
        auto busy = error_response(status::service_unavailable, "busy",
                                   within_share ? "too many unauthenticated bodies are being received; retry shortly"
                                                : "this client address is sending too many unauthenticated bodies at "
                                                  "once; retry shortly");
        busy.set(beast_http::field::retry_after, busy_retry_after);
        co_await refuse_unread(stream, deadline, std::move(busy), ex);
        break;
      }
      bool admitted = true;
      slot large;
      client_share large_share;
      if (has_body && expected > options.large_body_bytes) {
        // An anonymous sender's address takes at most half of its pool's slots.
        admitted = !route.unauthenticated_body ||
                   hold_client_share(large_per_client, peer, 1, std::max<std::size_t>(1, options.max_large_uploads / 2),
                                     large_share);
        if (admitted)
          large = try_take(route.unauthenticated_body ? large_uploads : large_uploads_authenticated,
                           options.max_large_uploads, admitted);
      }
      if (!admitted) {
        auto busy = error_response(status::service_unavailable, "busy",
                                   "too many large uploads are in progress; retry shortly");
        busy.set(beast_http::field::retry_after, busy_retry_after);
        co_await refuse_unread(stream, deadline, std::move(busy), ex);
        break;
      }

      if (has_body && expects_continue(parser.get())) {
        // Route, credentials, size and an upload slot are settled: invite the body.
        beast_http::response<beast_http::empty_body> go_on{status::continue_, parser.get().version()};
        deadline.expires_after(options.write_timeout);
        auto [continue_error, continue_bytes] = co_await beast_http::async_write(stream, go_on, use_tuple);
        if (continue_error) break;
      }
      if (has_body) {
        parser.body_limit(limit);
        bool too_slow = false;
        const auto body_error = co_await read_body(stream, deadline, buffer, parser, too_slow);
        if (too_slow) {
          bodies_too_slow.fetch_add(1);
          auto slow = error_response(status::request_timeout, "body_too_slow",
                                     fmt::format("the request body arrived slower than {} bytes a second",
                                                 options.min_body_rate));
          co_await refuse_unread(stream, deadline, std::move(slow), ex);
          break;
        }
        if (body_error == beast_http::error::body_limit) {
          auto refused_size = too_large(limit, route.too_large_status);
          co_await refuse_unread(stream, deadline, std::move(refused_size), ex);
          break;
        }
        if (body_error) {
          if (is_malformed_body(body_error)) {
            auto malformed = error_response(status::bad_request, "malformed_http",
                                            fmt::format("the request body is malformed: {}", body_error.message()));
            co_await refuse_unread(stream, deadline, std::move(malformed), ex);
          }
          break;
        }
      }
      deadline.expires_never();

      auto req = parser.release();
      const bool keep_alive = req.keep_alive();
      // Mail waits for a place among the intake jobs, or is refused now (its sender retries).
      slot intake;
      if (route.intake && options.max_intake_jobs != 0) {
        bool taken = true;
        intake = try_take(intake_jobs, options.max_intake_jobs, taken);
        if (!taken) {
          refused_intake.fetch_add(1);
          auto busy = error_response(status::service_unavailable, "busy",
                                     "too many inbound messages are being processed; retry shortly");
          busy.set(beast_http::field::retry_after, busy_retry_after);
          if (!co_await reply(stream, deadline, std::move(busy), keep_alive, ex)) break;
          continue;
        }
      }
      response res;
      try {
        // An answer at hand needs no coroutine of its own nor a deadline (route_options::immediate).
        std::optional<response> answered;
        if (route.immediate != nullptr && req.body().size() <= route.inline_body_bytes)
          answered = (*route.immediate)(req);
        if (!answered) answered = co_await run_with_deadline(route, std::move(req), std::move(intake));
        if (answered) {
          res = std::move(*answered);
        } else {
          observe::log(observe::log_level::error,
                       fmt::format("handler for {} {} gave no answer within {} s", method, redacted_target(target),
                                   options.handler_timeout.count()),
                       "");
          res = error_response(status::service_unavailable, "handler_timeout",
                               "the server could not answer in time and changed nothing; retry");
        }
      } catch (const store::storage_unavailable& e) {
        res = storage_unavailable(method, target, e.what(),
                                  "the database could not take the change now and nothing was changed; retry");
      } catch (const store::storage_outcome_unknown& e) {
        res = storage_unavailable(method, target, e.what(),
                                  "the database lost the answer to this change, which may or may not have been made; "
                                  "retry with the same Idempotency-Key to find out");
      } catch (const std::exception& e) {
        // A read that lost its database part-way (a PostgreSQL session killed inside a read
        // transaction, the embedded database locked) changed nothing, and is retried as a write that could
        // not be taken is.
        if (store::is_storage_failure(e)) {
          res = storage_unavailable(method, target, e.what(), "the database cannot answer now and nothing was changed; retry");
        } else {
          observe::log(observe::log_level::error,
                       fmt::format("error handling {} {}: {}", method, redacted_target(target), e.what()), "");
          res = error_response(status::internal_server_error, "internal", "the server failed to handle the request");
        }
      }
      large = slot{};
      unauthenticated = reservation{};
      share = client_share{};
      large_share = client_share{};
      if (!co_await reply(stream, deadline, std::move(res), keep_alive, ex)) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // A command the store did not commit (store/port.hpp): the client may send it again, with its
  // Idempotency-Key, after a second. An outcome the store cannot know is answered the same way:
  // never 2xx, and the retry finds the stored answer if it did commit.
  static response storage_unavailable(std::string_view method, std::string_view target, std::string_view why,
                                      std::string_view message) {
    observe::log(observe::log_level::error,
                 fmt::format("storage unavailable for {} {}: {}", method, redacted_target(target), why), "");
    auto res = error_response(status::service_unavailable, "storage_unavailable", message);
    res.set(beast_http::field::retry_after, "1");
    return res;
  }

  // Reads the rest of a body within body_timeout (past it the deadline closes the connection),
  // and no slower than min_body_rate after body_rate_grace (too_slow set, the read cancelled
  // with the connection still open, so that it can be answered 408): each read's deadline is
  // the grace plus the time the bytes received so far earn, as Apache mod_reqtimeout's MinRate
  // (nginx's client_body_timeout bounds only the gaps between reads, which a drip defeats).
  asio::awaitable<beast::error_code> read_body(beast::tcp_stream& stream, connection_deadline& deadline,
                                               beast::flat_buffer& buffer,
                                               beast_http::request_parser<beast_http::string_body>& parser,
                                               bool& too_slow) {
    const auto begun = std::chrono::steady_clock::now();
    deadline.expires_at(begun + options.body_timeout);
    // A rate timer's handler may run after the read it watched has completed (queued just
    // before its cancel): it acts only while that same read, by number, is still pending. All
    // of it runs on this strand.
    struct watch {
      beast::tcp_stream* stream;
      std::uint64_t read = 0;  // the pending read's number; 0 when none is pending
      bool fired = false;
    };
    auto watching = std::make_shared<watch>(watch{&stream, 0, false});
    std::uint64_t reads = 0;
    asio::steady_timer rate_timer(co_await asio::this_coro::executor);
    std::uint64_t received = 0;
    too_slow = false;
    while (!parser.is_done()) {
      if (options.min_body_rate != 0) {
        const auto earned = std::chrono::microseconds(received * 1000000 / options.min_body_rate);
        rate_timer.expires_at(begun + options.body_rate_grace +
                              std::chrono::duration_cast<std::chrono::steady_clock::duration>(earned));
        watching->read = ++reads;
        rate_timer.async_wait([watching, read = reads](const boost::system::error_code& ec) {
          if (ec || watching->read != read) return;
          watching->fired = true;
          beast::error_code ignored;
          watching->stream->socket().cancel(ignored);
        });
      }
      auto [ec, n] = co_await beast_http::async_read_some(stream, buffer, parser, use_tuple);
      watching->read = 0;
      rate_timer.cancel();
      received += n;
      if (watching->fired) {
        too_slow = true;
        co_return ec ? ec : beast::error_code(asio::error::operation_aborted);
      }
      if (ec) co_return ec;
    }
    co_return beast::error_code{};
  }

  static response too_large(std::size_t limit, beast_http::status answer) {
    return error_response(answer, "payload_too_large",
                          fmt::format("the request body is larger than the limit of {} bytes", limit));
  }
};

namespace {

planner route_planner(const router& routes) {
  return [&routes](const request_header& header, std::string_view& route) -> std::variant<request_plan, response> {
    auto resolved = routes.resolve(header, &route);
    if (auto* refused = std::get_if<response>(&resolved)) return std::move(*refused);
    auto& target = std::get<route_target>(resolved);
    request_plan plan;
    plan.body_limit = target.options->body_limit;
    plan.too_large_status = target.options->too_large_status;
    plan.offload = target.options->offload;
    plan.intake = target.options->intake;
    plan.run_inline = target.options->run_inline;
    plan.inline_body_bytes = target.options->inline_body_bytes;
    if (target.options->run_inline && target.options->immediate) plan.immediate = &target.options->immediate;
    plan.unauthenticated_body = target.options->signed_body || !target.options->before_body;
    plan.handler = target.handler;
    plan.match = std::move(target.match);
    return plan;
  };
}

planner single_handler(request_handler handler) {
  return [handler = std::move(handler)](const request_header&,
                                        std::string_view& route) -> std::variant<request_plan, response> {
    route = "*";  // one handler for every path
    request_plan plan;
    plan.unauthenticated_body = true;
    plan.single = &handler;
    return plan;
  };
}

}  // namespace

server::server(asio::io_context& io, const tcp::endpoint& endpoint, server_options options, const router& routes)
    : state_(std::make_shared<state>(io, endpoint, std::move(options), route_planner(routes))) {}

server::server(asio::io_context& io, const tcp::endpoint& endpoint, server_options options, request_handler handler)
    : state_(std::make_shared<state>(io, endpoint, std::move(options), single_handler(std::move(handler)))) {}

server::~server() {
  beast::error_code ignored;
  state_->acceptor.close(ignored);
}

tcp::endpoint server::local_endpoint() const { return state_->acceptor.local_endpoint(); }

void server::set_takeover(takeover_handler handler, takeover_claim claims, std::string route) {
  state_->takeover = std::move(handler);
  state_->claims = std::move(claims);
  state_->takeover_route = std::move(route);
}

void server::start() { asio::co_spawn(state_->acceptor.get_executor(), state_->accept_loop(), asio::detached); }

void server::stop() {
  asio::dispatch(state_->acceptor.get_executor(), [s = state_] {
    beast::error_code ignored;
    s->acceptor.close(ignored);
  });
}

void server::shutdown(std::function<void()> drained) { state_->shutdown(std::move(drained)); }

server::statistics server::stats() const {
  return {state_->open.load(),           state_->refused_busy.load(),  state_->accept_failures.load(),
          state_->stats_abandoned.load(), state_->stats_awaited.load(), state_->reaped_idle.load(),
          state_->refused_unauthenticated.load(), state_->bodies_too_slow.load(), state_->refused_intake.load(),
          state_->refused_responses.load()};
}

}  // namespace switchboard::http
