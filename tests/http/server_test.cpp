// The server in-process: an accept loop out of file descriptors, a handler that never answers,
// and what a handler that misses its deadline may still commit.
#include "http/server.hpp"

#include "http/api/common.hpp"
#include "http/client.hpp"
#include "store/committer.hpp"
#include "support/temp_dir.hpp"

#include <SQLiteCpp/Database.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>

#include <boost/asio/steady_timer.hpp>
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

}  // namespace

TEST_SUITE("http::server") {
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

  TEST_CASE("a handler cancelled at its deadline before its commit stores nothing and its 503 says so") {
    testing::temp_dir dir;
    const auto path = dir.file("work.db");
    SQLite::Database(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE).exec("CREATE TABLE work(x)");
    store::committer writer(SQLite::Database(path, SQLite::OPEN_READWRITE));
    std::atomic<bool> released{false};
    std::atomic<bool> refused{false};
    http::server_options options;
    options.handler_timeout = 1s;
    running_server fixture(options, [&](http::request) -> asio::awaitable<http::response> {
      // Busy past the deadline with work that does not notice cancellation (as a parser is),
      // then it tries to commit.
      co_await asio::this_coro::throw_if_cancelled(false);
      asio::steady_timer pause(co_await asio::this_coro::executor);
      while (!released) {
        pause.expires_after(5ms);
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      try {
        co_await http::api::commit(writer, [](SQLite::Database& db) { db.exec("INSERT INTO work VALUES (1)"); });
      } catch (const boost::system::system_error&) {
        refused = true;
        throw;
      }
      co_return http::json_response(http::status::created, json::object{});
    });
    std::thread releaser([&] {
      wait_until([&] { return fixture.server.stats().handler_timeouts >= 1; }, 10s);
      released = true;
    });
    http::client client("http://127.0.0.1:" + std::to_string(fixture.port), std::chrono::seconds{30});
    const auto answer = client.post_json("/work", "{}");
    releaser.join();
    CHECK(answer.status == 503);
    const auto error = json::parse(answer.body).at("error");
    CHECK(error.at("code").as_string() == "handler_timeout");
    CHECK(std::string(error.at("message").as_string()).find("nothing was stored") != std::string::npos);
    CHECK(refused);
    SQLite::Database check(path, SQLite::OPEN_READONLY);
    CHECK(check.execAndGet("SELECT COUNT(*) FROM work").getInt() == 0);
  }

  TEST_CASE("a handler whose commit is under way at its deadline answers for real and late") {
    testing::temp_dir dir;
    const auto path = dir.file("work.db");
    SQLite::Database(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE).exec("CREATE TABLE work(x)");
    store::committer writer(SQLite::Database(path, SQLite::OPEN_READWRITE));
    http::server_options options;
    options.handler_timeout = 1s;
    std::unique_ptr<running_server> fixture;
    fixture = std::make_unique<running_server>(options, [&](http::request) -> asio::awaitable<http::response> {
      // The writer is still on this job when the deadline passes.
      co_await http::api::commit(writer, [&](SQLite::Database& db) {
        wait_until([&] { return fixture->server.stats().handler_timeouts >= 1; }, 10s);
        db.exec("INSERT INTO work VALUES (1)");
      });
      // Steps after the commit still run: they answer for it.
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      co_return http::json_response(http::status::created, json::object{{"stored", true}});
    });
    http::client client("http://127.0.0.1:" + std::to_string(fixture->port), std::chrono::seconds{30});
    const auto answer = client.post_json("/work", "{}");
    CHECK(answer.status == 201);
    CHECK(fixture->server.stats().handler_timeouts == 1u);
    SQLite::Database check(path, SQLite::OPEN_READONLY);
    CHECK(check.execAndGet("SELECT COUNT(*) FROM work").getInt() == 1);
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
}
