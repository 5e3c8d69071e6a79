// The server in-process: an accept loop out of file descriptors, a handler that never answers,
// and what a handler that misses its deadline may still commit.
#include "http/server.hpp"

#include "http/api/common.hpp"
#include "http/client.hpp"
#include "http/router.hpp"
#include "observe/metrics.hpp"
#include "store/committer.hpp"
#include "store/database.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fmt/format.h>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

using namespace switchboard;
namespace asio = boost::asio;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// A server on 127.0.0.1:0 with one handler, run on its own thread.
struct running_server {
  running_server(http::server_options options, http::request_handler handler)
      : server(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), std::move(options), std::move(handler)) {
    server.start();
    port = server.local_endpoint().port();
    runner = std::thread([this] { io.run(); });
  }
  ~running_server() {
    io.stop();
    runner.join();
  }
  asio::io_context io{1};
  http::server server;
  unsigned short port = 0;
  std::thread runner;
};

asio::awaitable<http::response> ok(http::request) {
  co_return http::json_response(http::status::ok, json::object{{"status", "ok"}});
}

// Waits (polling, up to `limit`) until `done()`.
template <class F>
bool wait_until(F done, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    ::poll(nullptr, 0, 5);
  }
  return true;
}

// A routed server (one second's handler_timeout) over a real committer and database, for how
// handler deadlines meet writes.
struct committing_server {
  committing_server() : writer(store::open_database(dir.file("gate.db"))) {
    options.handler_timeout = 1s;
    server = std::make_unique<http::server>(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), options, routes);
  }
  void start() {
    server->start();
    port = server->local_endpoint().port();
    runner = std::thread([this] { io.run(); });
  }
  ~committing_server() {
    io.stop();
    if (runner.joinable()) runner.join();
  }
  int rows() {
    auto reader = store::open_database(dir.file("gate.db"), store::access::read_only);
    return reader.execAndGet("SELECT COUNT(*) FROM heartbeat").getInt();
  }
  testing::temp_dir dir;
  store::committer writer;
  http::server_options options;
  http::router routes;
  asio::io_context io{1};
  std::unique_ptr<http::server> server;
  unsigned short port = 0;
  std::thread runner;
};

}  // namespace

TEST_SUITE("http::server") {
  TEST_CASE("a handler abandoned at its deadline gets 503 handler_timeout and its later write is refused") {
    committing_server fixture;
    std::atomic<int> outcome{0};  // 1 written, 2 refused
    fixture.routes.add(http::beast_http::verb::post, "/late",
                       [&](const http::request&, const http::route_match& match) -> asio::awaitable<http::response> {
                         // Works past the deadline (until the server has given up on it), then writes.
                         asio::steady_timer step(co_await asio::this_coro::executor);
                         const auto limit = std::chrono::steady_clock::now() + 20s;
                         while (fixture.server->stats().handlers_abandoned == 0 && std::chrono::steady_clock::now() < limit) {
                           step.expires_after(5ms);
                           co_await step.async_wait(asio::use_awaitable);
                         }
                         try {
                           store::committer::job write = [](SQLite::Database& db) { store::touch_heartbeat(db); };
                           co_await http::api::commit(fixture.writer, std::move(write), match.gate);
                           outcome = 1;
                         } catch (const http::request_abandoned&) {
                           outcome = 2;
                         }
                         co_return http::json_response(http::status::created, json::object{});
                       });
    fixture.start();
    http::client client("http://127.0.0.1:" + std::to_string(fixture.port), std::chrono::seconds{20});
    const auto late = client.request("POST", "/late", "{}", "application/json");
    CHECK(late.status == 503);
    CHECK(json::parse(late.body).at("error").at("code").as_string() == "handler_timeout");
    CHECK(wait_until([&] { return outcome != 0; }, 20s));
    CHECK(outcome == 2);
    CHECK(fixture.rows() == 0);
  }

  TEST_CASE("a handler whose write began before its deadline is answered with the write's outcome, not 503") {
    committing_server fixture;
    fixture.routes.add(http::beast_http::verb::post, "/slow-commit",
                       [&](const http::request&, const http::route_match& match) -> asio::awaitable<http::response> {
                         // The write has begun and holds the writer until the deadline has passed.
                         store::committer::job write = [&](SQLite::Database& db) {
                           wait_until([&] { return fixture.server->stats().commits_awaited > 0; }, 20s);
                           store::touch_heartbeat(db);
                         };
                         co_await http::api::commit(fixture.writer, std::move(write), match.gate);
                         co_return http::json_response(http::status::created, json::object{{"written", true}});
                       });
    fixture.start();
    http::client client("http://127.0.0.1:" + std::to_string(fixture.port), std::chrono::seconds{20});
    const auto answered = client.request("POST", "/slow-commit", "{}", "application/json");
    CHECK(answered.status == 201);
    CHECK(fixture.server->stats().commits_awaited == 1);
    CHECK(fixture.server->stats().handlers_abandoned == 0);
    CHECK(fixture.rows() == 1);
  }

  TEST_CASE("out of file descriptors the accept loop backs off instead of spinning and then serves") {
    running_server fixture({}, ok);
    // The client's socket exists before descriptors run out; the server's accept needs a new one.
    const int client = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(client >= 0);
    const int lowest_free = ::dup(client);
    REQUIRE(lowest_free >= 0);
    ::close(lowest_free);
    rlimit saved{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
    rlimit tight = saved;
    tight.rlim_cur = static_cast<rlim_t>(lowest_free);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);

    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(fixture.port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool connected = ::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    const bool failed_twice = wait_until([&] { return fixture.server.stats().accept_failures >= 2; }, 10s);
    const auto failures = fixture.server.stats().accept_failures;
    ::setrlimit(RLIMIT_NOFILE, &saved);
    REQUIRE(connected);
    CHECK(failed_twice);
    // A loop that retried at once would have failed thousands of times by now.
    CHECK(failures < 50);

    // Descriptors are back: the waiting connection is accepted and answered.
    const std::string request = "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n";
    REQUIRE(::send(client, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
    pollfd readable{client, POLLIN, 0};
    REQUIRE(::poll(&readable, 1, 10000) == 1);
    char answer[64] = {};
    REQUIRE(::recv(client, answer, sizeof answer - 1, 0) > 12);
    CHECK(std::string(answer).starts_with("HTTP/1.1 200"));
    ::close(client);
  }

  TEST_CASE("a handler that never answers gets 503 handler_timeout at its deadline") {
    http::server_options options;
    options.handler_timeout = 1s;
    running_server fixture(options, [](http::request req) -> asio::awaitable<http::response> {
      if (req.target() == "/healthz") co_return http::json_response(http::status::ok, json::object{{"status", "ok"}});
      asio::steady_timer forever(co_await asio::this_coro::executor, std::chrono::hours{1});
      co_await forever.async_wait(asio::use_awaitable);
      co_return http::json_response(http::status::ok, json::object{});
    });
    http::client client("http://127.0.0.1:" + std::to_string(fixture.port), std::chrono::seconds{20});
    const auto stuck = client.get("/stuck");
    CHECK(stuck.status == 503);
    CHECK(json::parse(stuck.body).at("error").at("code").as_string() == "handler_timeout");
    CHECK(client.get("/healthz").status == 200);
  }

  TEST_CASE("a run_inline route runs on the connection's thread up to its body size, elsewhere beyond it") {
    // The connections run on `io`'s one thread; the app strand and the worker pool each have a
    // thread of their own, so where a handler ran tells which executor ran it.
    asio::thread_pool app(1);
    asio::thread_pool workers(1);
    std::mutex mutex;
    std::vector<std::pair<std::string, std::thread::id>> ran;
    const auto recorder = [&](std::string name) {
      return [&, name](const http::request&, const http::route_match&) -> asio::awaitable<http::response> {
        {
          std::lock_guard lock(mutex);
          ran.emplace_back(name, std::this_thread::get_id());
        }
        co_return http::json_response(http::status::ok, json::object{{"ran", name}});
      };
    };
    http::router routes;
    http::route_options small_inline;
    small_inline.offload = true;
    small_inline.run_inline = true;
    small_inline.inline_body_bytes = 16;
    routes.add(http::beast_http::verb::post, "/small", recorder("small"), small_inline);
    http::route_options probe;
    probe.run_inline = true;
    routes.add(http::beast_http::verb::get, "/probe", recorder("probe"), probe);
    routes.add(http::beast_http::verb::get, "/plain", recorder("plain"));
    http::server_options options;
    options.app_executor = asio::make_strand(app);
    options.worker_executor = workers.get_executor();
    asio::io_context io{1};
    http::server server(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), options, routes);
    server.start();
    std::thread runner([&io] { io.run(); });
    std::thread::id app_thread, worker_thread;
    asio::post(app, [&] { std::lock_guard lock(mutex); app_thread = std::this_thread::get_id(); });
    asio::post(workers, [&] { std::lock_guard lock(mutex); worker_thread = std::this_thread::get_id(); });
    {
      http::client client("http://127.0.0.1:" + std::to_string(server.local_endpoint().port()), std::chrono::seconds{20});
      CHECK(client.post_json("/small", R"({"a":1})").status == 200);                      // 7 bytes: inline
      CHECK(client.post_json("/small", R"({"a":"more than sixteen"})").status == 200);  // 25 bytes: the pool
      CHECK(client.get("/probe").status == 200);
      CHECK(client.get("/plain").status == 200);
    }
    const auto io_thread = runner.get_id();
    io.stop();
    runner.join();
    app.join();
    workers.join();
    std::lock_guard lock(mutex);
    REQUIRE(ran.size() == 4);
    CHECK(app_thread != worker_thread);
    CHECK(ran[0].first == "small");
    CHECK(ran[0].second == io_thread);
    CHECK(ran[1].second == worker_thread);
    CHECK(ran[2].first == "probe");
    CHECK(ran[2].second == io_thread);
    CHECK(ran[3].first == "plain");
    CHECK(ran[3].second == app_thread);
  }

  TEST_CASE("the access log records at least the time an offloaded handler took, to the microsecond") {
    // The handler runs on a worker pool and takes a known minimum (a timer), measuring itself;
    // the logged duration spans reading, the hand-off to the pool and back, and writing.
    asio::thread_pool workers(1);
    std::mutex mutex;
    std::vector<std::pair<std::string, std::chrono::steady_clock::duration>> logged;
    std::vector<std::chrono::steady_clock::duration> measured;
    http::router routes;
    routes.add(
        http::beast_http::verb::get, "/slow",
        [&](const http::request&, const http::route_match&) -> asio::awaitable<http::response> {
          const auto began = std::chrono::steady_clock::now();
          asio::steady_timer work(co_await asio::this_coro::executor, 150ms);
          co_await work.async_wait(asio::use_awaitable);
          auto res = http::json_response(http::status::ok, json::object{{"body", std::string(256 * 1024, 'x')}});
          {
            std::lock_guard lock(mutex);
            measured.push_back(std::chrono::steady_clock::now() - began);
          }
          co_return res;
        },
        {0, true, {}});
    http::server_options options;
    options.worker_executor = workers.get_executor();
    options.access_log = [&](const http::access_entry& entry) {
      std::lock_guard lock(mutex);
      logged.emplace_back(fmt::format("{} {} {}", entry.method, entry.target, entry.status), entry.took);
    };
    asio::io_context io{1};
    http::server server(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), options, routes);
    server.start();
    std::thread runner([&io] { io.run(); });
    {
      http::client client("http://127.0.0.1:" + std::to_string(server.local_endpoint().port()), std::chrono::seconds{20});
      for (int i = 0; i < 3; ++i) CHECK(client.get("/slow?n=" + std::to_string(i)).status == 200);
      CHECK(client.get("/missing").status == 404);
    }
    CHECK(wait_until([&] { std::lock_guard lock(mutex); return logged.size() == 4; }, 10s));
    io.stop();
    runner.join();
    workers.join();
    std::lock_guard lock(mutex);
    REQUIRE(logged.size() == 4);
    REQUIRE(measured.size() == 3);
    for (int i = 0; i < 3; ++i) {
      CAPTURE(i);
      CHECK(logged[i].first == fmt::format("GET /slow?n={} 200", i));
      CHECK(logged[i].second >= measured[i]);
      CHECK(measured[i] >= 150ms);
    }
    CHECK(logged[3].first == "GET /missing 404");
  }

  TEST_CASE("answers are counted by route pattern, method and status, never by path") {
    observe::service_metrics metrics;
    http::router routes;
    routes.add(http::beast_http::verb::get, "/items/{id}",
               [](const http::request&, const http::route_match&) -> asio::awaitable<http::response> {
                 co_return http::json_response(http::status::ok, json::object{});
               });
    http::server_options options;
    options.metrics = &metrics;
    asio::io_context io{1};
    http::server server(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), options, routes);
    server.start();
    std::thread runner([&io] { io.run(); });
    {
      http::client client("http://127.0.0.1:" + std::to_string(server.local_endpoint().port()), std::chrono::seconds{20});
      CHECK(client.get("/items/41").status == 200);
      CHECK(client.get("/items/42?x=1").status == 200);
      CHECK(client.get("/missing/43").status == 404);
    }
    // Counted after the answer is written: the client may have it a moment before.
    CHECK(wait_until([&] { return metrics.http_requests.value({"unmatched", "GET", "404"}) == 1; }, 10s));
    CHECK(wait_until([&] { return metrics.http_requests.value({"/items/{id}", "GET", "200"}) == 2; }, 10s));
    io.stop();
    runner.join();
    CHECK(metrics.http_request_duration.count({"/items/{id}", "GET"}) == 2);
    const auto text = metrics.families.expose();
    CHECK(text.find("/items/4") == std::string::npos);  // not "41": a duration's digits may hold it
    CHECK(text.find("/missing") == std::string::npos);
  }

  TEST_CASE("an immediate answer skips the handler, and an inline handler that suspends still meets handler_timeout") {
    std::atomic<bool> answer_now{true};
    std::atomic<int> handler_runs{0};
    http::router routes;
    http::route_options probe;
    probe.run_inline = true;
    probe.immediate = [&](const http::request&) -> std::optional<http::response> {
      if (!answer_now) return std::nullopt;
      return http::json_response(http::status::ok, json::object{{"answered", "immediately"}});
    };
    // When the immediate answer declines, the handler runs and never answers: its deadline holds.
    routes.add(
        http::beast_http::verb::get, "/probe",
        [&](const http::request&, const http::route_match&) -> asio::awaitable<http::response> {
          ++handler_runs;
          asio::steady_timer forever(co_await asio::this_coro::executor, std::chrono::hours{1});
          co_await forever.async_wait(asio::use_awaitable);
          co_return http::json_response(http::status::ok, json::object{});
        },
        probe);
    http::server_options options;
    options.handler_timeout = 1s;
    asio::io_context io{1};
    http::server server(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), options, routes);
    server.start();
    std::thread runner([&io] { io.run(); });
    {
      http::client client("http://127.0.0.1:" + std::to_string(server.local_endpoint().port()), std::chrono::seconds{20});
      const auto immediate = client.get("/probe");
      CHECK(immediate.status == 200);
      CHECK(json::parse(immediate.body).at("answered").as_string() == "immediately");
      CHECK(handler_runs == 0);
      answer_now = false;
      const auto stuck = client.get("/probe");
      CHECK(stuck.status == 503);
      CHECK(json::parse(stuck.body).at("error").at("code").as_string() == "handler_timeout");
      CHECK(handler_runs == 1);
    }
    io.stop();
    runner.join();
  }

  TEST_CASE("a keep-alive connection busy for several header deadlines stays open and is closed once idle that long") {
    // The read and write deadlines are kept by one timer per connection that re-arms as they
    // move: requests back to back for over three header deadlines must all be answered on the
    // one connection, and once it is idle the header deadline must still close it.
    http::server_options options;
    options.header_timeout = 1s;
    running_server fixture(options, ok);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(fixture.port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
    const std::string request = "GET /ok HTTP/1.1\r\nHost: test\r\n\r\n";
    // Reads one whole answer (they are small and end with the JSON's newline); "" if closed.
    std::string pending;
    const auto next_answer = [&]() -> std::string {
      const auto deadline = std::chrono::steady_clock::now() + 10s;
      for (;;) {
        const auto end = pending.find("}\n");
        if (end != std::string::npos) {
          auto answer = pending.substr(0, end + 2);
          pending.erase(0, end + 2);
          return answer;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return {};
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return {};
        char chunk[4096];
        const auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return {};
        pending.append(chunk, static_cast<std::size_t>(n));
      }
    };
    const auto began = std::chrono::steady_clock::now();
    int answered = 0;
    while (std::chrono::steady_clock::now() - began < 3500ms) {
      REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
      const auto answer = next_answer();
      REQUIRE_MESSAGE(answer.starts_with("HTTP/1.1 200 "), "answer ", answered + 1, " on the connection: ", answer);
      ++answered;
    }
    CHECK(answered > 3);
    // Idle now: closed at the header deadline (recv sees the end; waited for up to 10 s).
    pollfd p{fd, POLLIN, 0};
    REQUIRE(::poll(&p, 1, 10000) == 1);
    char byte;
    CHECK(::recv(fd, &byte, 1, 0) == 0);
    ::close(fd);
  }
}
