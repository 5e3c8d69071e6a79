// The server under abuse, over real sockets: slow and silent clients, unauthenticated uploads,
// connection and upload caps, SIGTERM with requests in flight, idempotent retries, and a CLI
// facing a server that never answers.
#include "http/client.hpp"
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/raw_connection.hpp"
#include "support/server_backends.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <atomic>
#include <vector>

extern char** environ;

using namespace switchboard;
namespace json = boost::json;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

std::string config_with(const testing::temp_dir& dir, const std::string& server_lines) {
  return testing::shipped_config_with(dir, server_lines);
}

using testing::error_code_of;
using testing::troubleshooting_filing;
using testing::port_of;
using testing::raw_connection;

std::string post_request(std::string_view title) {
  const auto body = troubleshooting_filing(title);
  return fmt::format(
      "POST /v1/requests HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n"
      "Content-Length: {}\r\n\r\n{}",
      testing::token_for(model::role::ce), body.size(), body);
}

constexpr std::string_view healthz = "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n";

// A fake server on 127.0.0.1 that answers every request with a 200 whose chunked body never
// ends: one 1 KiB chunk every 100 ms, until the client goes away or the fake is destroyed.
class endless_chunked_server {
 public:
  endless_chunked_server() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listener_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener_, 16) == 0);
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    url_ = fmt::format("http://127.0.0.1:{}", ntohs(address.sin_port));
    thread_ = std::thread([this] { run(); });
  }
  ~endless_chunked_server() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  endless_chunked_server(const endless_chunked_server&) = delete;
  endless_chunked_server& operator=(const endless_chunked_server&) = delete;

  const std::string& url() const { return url_; }
  int answered() const { return answered_; }  // requests it began to answer

 private:
  void run() {
    while (!stop_) {
      pollfd waiting{listener_, POLLIN, 0};
      if (::poll(&waiting, 1, 100) <= 0) continue;
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      serve(fd);
      ::close(fd);
    }
  }

  void serve(int fd) {
    std::string received;
    while (received.find("\r\n\r\n") == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) {
        if (stop_) return;
        continue;
      }
      char buffer[4096];
      const auto n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return;
      received.append(buffer, static_cast<std::size_t>(n));
    }
    const std::string_view header =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    if (::send(fd, header.data(), header.size(), MSG_NOSIGNAL) <= 0) return;
    ++answered_;
    const std::string chunk = "400\r\n" + std::string(1024, ' ') + "\r\n";
    while (!stop_) {
      if (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) <= 0) return;
      // The next chunk in 100 ms; the client closing (readable, then 0 bytes) ends it sooner.
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        char ignored[4096];
        if (::recv(fd, ignored, sizeof ignored, 0) <= 0) return;
      }
    }
  }

  int listener_ = -1;
  std::string url_;
  std::atomic<bool> stop_{false};
  std::atomic<int> answered_{0};
  std::thread thread_;
};

// Answers each request on a connection with "100 Continue" first, unasked (the request has no
// Expect), then, unless told to stay silent, a final 200 with a small JSON body: a client must
// skip the interim answer (RFC 9110 section 15.2) and take the final one.
class interim_answer_server {
 public:
  static constexpr std::string_view final_body = R"({"answer":"final, after 100 Continue"})";

  explicit interim_answer_server(bool answers_after_interim) : answers_(answers_after_interim) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listener_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener_, 16) == 0);
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    url_ = fmt::format("http://127.0.0.1:{}", ntohs(address.sin_port));
    thread_ = std::thread([this] { run(); });
  }
  ~interim_answer_server() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  interim_answer_server(const interim_answer_server&) = delete;
  interim_answer_server& operator=(const interim_answer_server&) = delete;

  const std::string& url() const { return url_; }
  int interims_sent() const { return interims_; }

 private:
  void run() {
    while (!stop_) {
      pollfd waiting{listener_, POLLIN, 0};
      if (::poll(&waiting, 1, 100) <= 0) continue;
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      serve(fd);
      ::close(fd);
    }
  }

  // One request (the CLI sends one per run), then the connection is held until the client closes.
  void serve(int fd) {
    std::string received;
    bool answered = false;
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buffer[4096];
      const auto n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return;
      received.append(buffer, static_cast<std::size_t>(n));
      if (answered || received.find("\r\n\r\n") == std::string::npos) continue;
      answered = true;
      const std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
      if (::send(fd, interim.data(), interim.size(), MSG_NOSIGNAL) <= 0) return;
      ++interims_;
      if (!answers_) continue;
      const auto final_answer = fmt::format(
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}", final_body.size(),
          final_body);
      if (::send(fd, final_answer.data(), final_answer.size(), MSG_NOSIGNAL) <= 0) return;
    }
  }

  bool answers_;
  int listener_ = -1;
  std::string url_;
  std::atomic<bool> stop_{false};
  std::atomic<int> interims_{0};
  std::thread thread_;
};

struct finished_program {
  bool exited = false;
  int exit_code = -1;
  std::string out;
  std::string err;
  clock_type::duration took{};
};

// Runs `argv` with stderr to a file, killing it if it has not exited after `limit`.
finished_program run_bounded(std::vector<std::string> argv, const testing::temp_dir& dir, clock_type::duration limit) {
  const auto err_path = dir.file("stderr.txt");
  const auto out_path = dir.file("stdout.txt");
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  finished_program out;
  const auto started = clock_type::now();
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(spawned == 0);
  int status = 0;
  while (!out.exited && clock_type::now() - started < limit) {
    out.exited = ::waitpid(pid, &status, WNOHANG) == pid;
    if (!out.exited) ::poll(nullptr, 0, 20);
  }
  out.took = clock_type::now() - started;
  if (!out.exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  out.out = testing::read_text(out_path);
  out.err = testing::read_text(err_path);
  return out;
}

}  // namespace

TEST_SUITE("integration::server_limits") {
  TEST_CASE("a header that never completes is closed at the header deadline") {
    testing::temp_dir dir;
    testing::server_process server({config_with(dir, "header_timeout_seconds = 1"), dir.file("switchboard.db"), {}});
    raw_connection loris(port_of(server.url()));
    REQUIRE(loris.send_all("GET /healthz HTTP/1.1\r\nHost: test\r\n"));
    // Drip a header line whenever the server stays quiet for a moment, as a slow-loris does.
    bool closed = false;
    const auto deadline = clock_type::now() + 20s;
    while (!closed && clock_type::now() < deadline) {
      closed = loris.closed_by_peer(200ms);
      if (!closed && loris.send_some("X-Drip: 1\r\n") < 0) closed = true;
    }
    CHECK(closed);
    CHECK(server.client(model::role::ce).get("/healthz").status == 200);
  }

  TEST_CASE("a client that never reads is dropped at the write deadline while healthz answers") {
    testing::temp_dir dir;
    testing::server_process server({config_with(dir, "write_timeout_seconds = 1"), dir.file("switchboard.db"), {}});
    raw_connection sink(port_of(server.url()), 4096);
    // Pipelined requests for a 26 KB file, never read: the answers fill both socket buffers.
    std::string burst;
    for (int i = 0; i < 50; ++i) burst += "GET /dashboard/app.js HTTP/1.1\r\nHost: test\r\n\r\n";
    std::size_t offset = 0;
    int bursts = 0;
    bool dropped = false;
    bool healthy = false;
    const auto deadline = clock_type::now() + 40s;
    while (!dropped && clock_type::now() < deadline) {
      if (bursts < 400) {
        const auto sent = sink.send_some(std::string_view(burst).substr(offset));
        if (sent < 0) {
          dropped = true;
          break;
        }
        offset += static_cast<std::size_t>(sent);
        if (offset == burst.size()) {
          offset = 0;
          ++bursts;
        }
        if (bursts >= 20 && !healthy) {
          // 1,000 answers of 26 KB cannot fit in the socket buffers: the server is stuck writing
          // to this client, and must still serve others.
          http::client other(server.url(), std::chrono::seconds{10});
          healthy = other.get("/healthz").status == 200;
        }
      }
      dropped = sink.closed_by_peer(bursts < 400 ? 10ms : 200ms);
    }
    CHECK(healthy);
    CHECK(dropped);
    CHECK(server.client(model::role::ce).get("/healthz").status == 200);
  }

  TEST_CASE("uploads to unknown e-mail paths or without credentials are refused before the body is read") {
    testing::temp_dir dir;
    testing::server_process server(dir.file("switchboard.db"));
    // Each declares 40 MiB and sends 64 KiB of it: the answer must come without the rest.
    const std::string some_body(64 * 1024, 'x');
    const auto upload = [&](std::string_view target, std::string_view extra) {
      raw_connection c(port_of(server.url()));
      REQUIRE(c.send_all(fmt::format("POST {} HTTP/1.1\r\nHost: test\r\nContent-Type: message/rfc822\r\n{}"
                                     "Content-Length: {}\r\n\r\n",
                                     target, extra, 40 * 1024 * 1024)));
      c.send_all(some_body, 2s);
      return c.read_response(10s);
    };
    const auto unknown = upload("/v1/webhooks/email/nonexistent", "");
    CHECK(unknown.status == 404);
    CHECK(error_code_of(unknown) == "not_found");
    const auto anonymous = upload("/v1/webhooks/email/raw", "");
    CHECK(anonymous.status == 401);
    const auto wrong_role =
        upload("/v1/webhooks/email/raw", "Authorization: Bearer " + testing::token_for(model::role::ce) + "\r\n");
    CHECK(wrong_role.status == 403);
    const auto filing = upload("/v1/requests", "Authorization: Bearer nobody\r\n");
    CHECK(filing.status == 401);
    CHECK(server.client(model::role::ce).get("/healthz").status == 200);
  }

  TEST_CASE("Expect 100-continue gets 100 Continue before the body only when route and credentials and size pass") {
    testing::temp_dir dir;
    testing::server_process server(dir.file("switchboard.db"));
    const auto body = troubleshooting_filing("Sent after 100 Continue");
    const auto expecting = [&](std::string_view target, std::string_view token, std::size_t length) {
      return fmt::format(
          "POST {} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n"
          "Expect: 100-continue\r\nContent-Length: {}\r\n\r\n",
          target, token, length);
    };

    // Accepted: the interim answer comes while the body is held back, then the real one.
    raw_connection accepted(port_of(server.url()));
    REQUIRE(accepted.send_all(expecting("/v1/requests", testing::token_for(model::role::ce), body.size())));
    const auto go_on = accepted.read_response(10s);
    CHECK(go_on.status == 100);
    CHECK(go_on.head.starts_with("HTTP/1.1 100 Continue"));
    REQUIRE(accepted.send_all(body));
    const auto filed = accepted.read_response(10s);
    CHECK(filed.status == 201);

    // Refused: the final answer comes at once, no 100 before it, and the connection ends.
    const auto refused = [&](std::string_view target, std::string_view token, std::size_t length) {
      raw_connection c(port_of(server.url()));
      REQUIRE(c.send_all(expecting(target, token, length)));
      auto answer = c.read_response(10s);
      CHECK(c.read_until_closed(10s));
      return answer;
    };
    const auto missing = refused("/v1/webhooks/email/nonexistent", testing::token_for(model::role::integration), 4096);
    CHECK(missing.status == 404);
    CHECK(error_code_of(missing) == "not_found");
    const auto stranger = refused("/v1/requests", "not-a-token", body.size());
    CHECK(stranger.status == 401);
    const auto huge = refused("/v1/requests", testing::token_for(model::role::ce), 64 * 1024 * 1024);
    CHECK(huge.status == 413);

    auto client = server.client(model::role::ce);
    const auto stored = testing::all_requests(client);
    REQUIRE(stored.size() == 1u);
    CHECK(stored.front().at("title").as_string() == "Sent after 100 Continue");
  }

  TEST_CASE("a second large upload while one is in progress gets 503 with Retry-After") {
    testing::temp_dir dir;
    testing::server_process server({config_with(dir, "max_large_uploads = 1"), dir.file("switchboard.db"), {}});
    const auto header = fmt::format(
        "POST /v1/webhooks/email/raw HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\n"
        "Content-Type: message/rfc822\r\nContent-Length: {}\r\n\r\n",
        testing::token_for(model::role::integration), 4 * 1024 * 1024);
    raw_connection first(port_of(server.url()));
    raw_connection second(port_of(server.url()));
    REQUIRE(first.send_all(header));
    REQUIRE(second.send_all(header));
    first.send_all(std::string(16 * 1024, 'x'));
    second.send_all(std::string(16 * 1024, 'x'));
    // Whichever the server took first holds the only slot and waits for its body; the other is
    // refused at once. The holder's body then stalls, so it is dropped as too slow (408) once
    // the minimum rate's grace is over: both answers come, in either order.
    const auto from_second = second.read_response(10s);
    const auto from_first = first.read_response(10s);
    const bool second_refused = from_second.status == 503;
    const auto& refused = second_refused ? from_second : from_first;
    const auto& holder = second_refused ? from_first : from_second;
    CHECK(refused.status == 503);
    CHECK(refused.head.find("Retry-After") != std::string::npos);
    CHECK(error_code_of(refused) == "busy");
    CHECK((holder.status == 408 || holder.status == 0));
  }

  TEST_CASE("connections beyond the cap get 503 until one closes") {
    testing::temp_dir dir;
    testing::server_process server({config_with(dir, "max_connections = 2"), dir.file("switchboard.db"), {}});
    auto one = std::make_unique<raw_connection>(port_of(server.url()));
    raw_connection two(port_of(server.url()));
    REQUIRE(one->send_all(healthz));
    REQUIRE(two.send_all(healthz));
    REQUIRE(one->read_response().status == 200);
    REQUIRE(two.read_response().status == 200);
    // Both busy, each in a request's body (the 100 Continue says the server is reading it): an
    // idle one would be closed to make room.
    const auto busy = fmt::format("POST /v1/requests HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\n"
                                  "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n",
                                  testing::token_for(model::role::ce));
    REQUIRE(one->send_all(busy));
    REQUIRE(two.send_all(busy));
    REQUIRE(one->read_response().status == 100);
    REQUIRE(two.read_response().status == 100);
    REQUIRE(one->send_all("{"));
    REQUIRE(two.send_all("{"));

    raw_connection three(port_of(server.url()));
    three.send_all(healthz);
    const auto refused = three.read_response();
    CHECK(refused.status == 503);
    CHECK(refused.head.find("application/json") != std::string::npos);
    CHECK(error_code_of(refused) == "too_many_connections");
    CHECK(refused.head.find("\r\nX-Request-Id: ") != std::string::npos);  // refused before any request, still one

    one.reset();
    unsigned status = 0;
    const auto deadline = clock_type::now() + 10s;
    while (status != 200 && clock_type::now() < deadline) {
      raw_connection next(port_of(server.url()));
      next.send_all(healthz);
      status = next.read_response().status;
    }
    CHECK(status == 200);
  }

  TEST_CASE("SIGTERM answers every request in flight and then the server exits") {
    testing::temp_dir dir;
    const auto database = dir.file("switchboard.db");
    constexpr int connections = 16;
    {
      testing::server_process server(database);
      std::vector<std::unique_ptr<raw_connection>> clients;
      for (int i = 0; i < connections; ++i) {
        clients.push_back(std::make_unique<raw_connection>(port_of(server.url())));
        REQUIRE(clients.back()->send_all(healthz));
        REQUIRE(clients.back()->read_response().status == 200);
      }
      for (int i = 0; i < connections; ++i) REQUIRE(clients[i]->send_all(post_request(fmt::format("in flight {}", i))));
      server.send_signal(SIGTERM);
      int answered = 0;
      for (auto& c : clients) answered += c->read_response(15s).status == 201 ? 1 : 0;
      CHECK(answered == connections);
      CHECK(server.wait() == 0);
    }
    testing::server_process restarted(database);
    auto client = restarted.client(model::role::ce);
    CHECK(testing::all_requests(client).size() == static_cast<std::size_t>(connections));
  }

  TEST_CASE("a POST retried with its Idempotency-Key answers the original and a different body is a conflict") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      testing::server_process server(backend.args());
      auto client = server.client(model::role::ce);
      const std::vector<std::pair<std::string, std::string>> key{{"Idempotency-Key", "file-1"}};
      const auto first = client.request("POST", "/v1/requests", troubleshooting_filing("Once"), "application/json", key);
      REQUIRE(first.status == 201);
      const auto retried = client.request("POST", "/v1/requests", troubleshooting_filing("Once"), "application/json", key);
      CHECK(retried.status == 201);
      CHECK(retried.header("Idempotent-Replayed") == "true");
      CHECK(testing::json_of(retried).at("id").as_int64() == testing::json_of(first).at("id").as_int64());
      CHECK(retried.header("Location") == first.header("Location"));

      const auto changed = client.request("POST", "/v1/requests", troubleshooting_filing("Twice"), "application/json", key);
      CHECK(changed.status == 409);
      CHECK(testing::json_of(changed).at("error").at("code").as_string() == "idempotency_key_reused");

      // Keys belong to their actor: another caller's same key is a new request.
      auto other = server.client(model::role::se);
      const auto theirs = other.request("POST", "/v1/requests", troubleshooting_filing("Once"), "application/json", key);
      CHECK(theirs.status == 201);
      CHECK(testing::json_of(theirs).at("id").as_int64() != testing::json_of(first).at("id").as_int64());

      // An action, retried, is applied once.
      const auto id = testing::json_of(first).at("id").as_int64();
      const std::vector<std::pair<std::string, std::string>> act_key{{"Idempotency-Key", "act-1"}};
      const std::string respond = R"({"type":"respond","message":"Looking into it."})";
      auto se = server.client(model::role::se);
      const auto acted = se.request("POST", fmt::format("/v1/requests/{}/events", id), respond, "application/json", act_key);
      REQUIRE(acted.status == 200);
      const auto again = se.request("POST", fmt::format("/v1/requests/{}/events", id), respond, "application/json", act_key);
      CHECK(again.status == 200);
      CHECK(again.body == acted.body);
      const auto events = testing::json_of(client.get(fmt::format("/v1/requests/{}/events", id))).at("events").as_array();
      int responded = 0;
      for (const auto& e : events) responded += e.at("type").as_string() == "request.responded" ? 1 : 0;
      CHECK(responded == 1);

      CHECK(testing::all_requests(client).size() == 2u);
      const auto bad = client.request("POST", "/v1/requests", troubleshooting_filing("Bad key"), "application/json",
                                      {{"Idempotency-Key", std::string(300, 'k')}});
      CHECK(bad.status == 400);

      // Retried after a SIGKILL and a restart: the keys are the database's, so the original is
      // answered again and the action is still applied once.
      server.kill();
      testing::server_process restarted(backend.args());
      auto again_client = restarted.client(model::role::ce);
      const auto after = again_client.request("POST", "/v1/requests", troubleshooting_filing("Once"), "application/json", key);
      CHECK(after.status == 201);
      CHECK(after.header("Idempotent-Replayed") == "true");
      CHECK(testing::json_of(after).at("id").as_int64() == id);
      auto se_again = restarted.client(model::role::se);
      const auto acted_after =
          se_again.request("POST", fmt::format("/v1/requests/{}/events", id), respond, "application/json", act_key);
      CHECK(acted_after.status == 200);
      CHECK(acted_after.body == acted.body);
      const auto history = testing::json_of(again_client.get(fmt::format("/v1/requests/{}/events", id)));
      int responded_after = 0;
      for (const auto& e : history.at("events").as_array())
        responded_after += e.at("type").as_string() == "request.responded" ? 1 : 0;
      CHECK(responded_after == 1);
      CHECK(testing::all_requests(again_client).size() == 2u);
    });
  }

  TEST_CASE("the CLI gives up on a server that accepts and never answers and exits non-zero") {
    // A listening socket that never accepts: the kernel completes the handshake, nobody answers.
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listener >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener, 16) == 0);
    socklen_t length = sizeof address;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
    const auto url = fmt::format("http://127.0.0.1:{}", ntohs(address.sin_port));

    for (const std::vector<std::string>& command :
         {std::vector<std::string>{"show", "1"},
          std::vector<std::string>{"file", "--kind", "how_to", "--customer", "acme", "--stage", "trial", "--title", "x"}}) {
      std::vector<std::string> argv{SWITCHBOARD_CLI_PATH, "--server", url, "--token", "t", "--timeout", "2"};
      argv.insert(argv.end(), command.begin(), command.end());
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      posix_spawn_file_actions_t actions;
      posix_spawn_file_actions_init(&actions);
      posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
      posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
      pid_t pid = -1;
      REQUIRE(posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) == 0);
      posix_spawn_file_actions_destroy(&actions);
      // Wait for it to exit, well past its 2 s deadline; kill it if it hangs.
      int status = 0;
      bool exited = false;
      const auto deadline = clock_type::now() + 30s;
      while (!exited && clock_type::now() < deadline) {
        exited = ::waitpid(pid, &status, WNOHANG) == pid;
        if (!exited) ::poll(nullptr, 0, 50);
      }
      if (!exited) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
      }
      CHECK(exited);
      CHECK(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) != 0);
    }
    ::close(listener);
  }

  TEST_CASE("the CLI's --timeout is one deadline for the whole call, an endless chunked answer included") {
    testing::temp_dir dir;
    endless_chunked_server endless;
    for (const std::vector<std::string>& command :
         {std::vector<std::string>{"show", "1"}, std::vector<std::string>{"list", "--team", "se"}}) {
      std::vector<std::string> argv{SWITCHBOARD_CLI_PATH, "--server", endless.url(), "--token", "t", "--timeout", "3"};
      argv.insert(argv.end(), command.begin(), command.end());
      const auto before = endless.answered();
      const auto ran = run_bounded(argv, dir, 30s);
      CAPTURE(ran.err);
      CAPTURE(std::chrono::duration<double>(ran.took).count());
      REQUIRE(ran.exited);
      CHECK(endless.answered() == before + 1);  // it was answered, and the answer never ended
      CHECK(ran.exit_code == 1);
      CHECK(ran.err.find("timed out after 3 s") != std::string::npos);
      // A ceiling, not a target: the deadline plus room for a loaded machine (it once ran to
      // 5.4-7 s and the 64 MiB body limit).
      CHECK(ran.took < 3s + 2s);
    }
  }

  TEST_CASE("the CLI skips an unrequested 100 Continue and reads the final answer") {
    testing::temp_dir dir;
    interim_answer_server server(true);
    for (const std::vector<std::string>& command :
         {std::vector<std::string>{"show", "1"},
          std::vector<std::string>{"file", "--kind", "how_to", "--customer", "acme", "--stage", "trial", "--title", "x"}}) {
      CAPTURE(command.front());
      std::vector<std::string> argv{SWITCHBOARD_CLI_PATH, "--server", server.url(), "--token", "t", "--timeout", "10",
                                    "--json"};
      argv.insert(argv.end(), command.begin(), command.end());
      const auto before = server.interims_sent();
      const auto ran = run_bounded(argv, dir, 30s);
      CAPTURE(ran.out);
      CAPTURE(ran.err);
      REQUIRE(ran.exited);
      CHECK(server.interims_sent() == before + 1);
      CHECK(ran.exit_code == 0);
      CHECK(ran.out.find(interim_answer_server::final_body) != std::string::npos);
    }
    // The client library the CLI is built on, directly: the final status and body.
    http::client direct(server.url(), 10s);
    const auto answer = direct.get("/v1/requests/1");
    CHECK(answer.status == 200);
    CHECK(answer.body == interim_answer_server::final_body);
  }

  TEST_CASE("the CLI times out on a server that sends 100 Continue and then nothing") {
    testing::temp_dir dir;
    interim_answer_server server(false);
    std::vector<std::string> argv{SWITCHBOARD_CLI_PATH, "--server", server.url(), "--token", "t", "--timeout", "2",
                                  "show", "1"};
    const auto ran = run_bounded(argv, dir, 30s);
    CAPTURE(ran.out);
    CAPTURE(ran.err);
    REQUIRE(ran.exited);
    CHECK(server.interims_sent() == 1);
    CHECK(ran.exit_code == 1);
    CHECK(ran.err.find("timed out after 2 s") != std::string::npos);
  }

  TEST_CASE("the unauthenticated body budget is max_unauthenticated_body_bytes from the config") {
    // Mailgun's routes take bodies before their sender is known (it signs inside the form).
    ::setenv("SWITCHBOARD_MAILGUN_SIGNING_KEY", "limits-mailgun-key", 1);
    struct unset_key {
      ~unset_key() { ::unsetenv("SWITCHBOARD_MAILGUN_SIGNING_KEY"); }
    } unset;
    testing::temp_dir dir;
    // Room for one 1 MB body where the default (64 MiB) has room for 64. With Mailgun's own
    // limit (40 MiB) above it the config is refused at its place, by `rules check` as by the
    // server: a body over the budget could never be read, and each would get 503 busy.
    const auto config = config_with(dir, "max_unauthenticated_body_bytes = 1500000");
    const auto refused = testing::run_program({SWITCHBOARD_CLI_PATH, "rules", "check", "--config", config});
    CAPTURE(refused.err);
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find(config + ":") != std::string::npos);
    CHECK(refused.err.find("max_unauthenticated_body_bytes (1500000 bytes) is below [integrations] email_max_body_bytes") !=
          std::string::npos);
    {
      auto text = testing::read_text(config);
      const std::string limit = "email_max_body_bytes = 41943040";
      const auto at = text.find(limit);
      REQUIRE(at != std::string::npos);
      text.replace(at, limit.size(), "email_max_body_bytes = 1500000");
      testing::write_file(config, text);
    }
    testing::server_process server({config, dir.file("switchboard.db"), {}});
    const auto port = port_of(server.url());
    const auto header = [](std::string_view extra) {
      return fmt::format("POST /v1/webhooks/email/mailgun HTTP/1.1\r\nHost: test\r\n{}"
                         "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
                         extra, 1000000);
    };
    // The first's 100 Continue says its body fits the budget and is held against it.
    raw_connection first(port);
    REQUIRE(first.send_all(header("Expect: 100-continue\r\n")));
    const auto go_on = first.read_response(10s);
    REQUIRE(go_on.status == 100);
    REQUIRE(first.send_all(std::string(1024, 'a')));
    raw_connection second(port);
    REQUIRE(second.send_all(header("")));
    const auto busy = second.read_response(10s);
    CHECK(busy.status == 503);
    CHECK(error_code_of(busy) == "busy");
    CHECK(busy.head.find("Retry-After: 5") != std::string::npos);
  }
}
