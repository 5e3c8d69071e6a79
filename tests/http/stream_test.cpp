// The SSE hub under load (200 viewers, one that stops reading), resuming from Last-Event-ID,
// and the dashboard's stream on the real server.
#include "http/stream/hub.hpp"

#include "http/client.hpp"
#include "http/server.hpp"
#include "support/configs.hpp"
#include "support/server_process.hpp"
#include "support/sse_viewer.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <future>
#include <thread>

using namespace switchboard;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

// One SSE frame as a viewer sees it, and the frames split off a buffer (tests/support).
using frame = testing::sse_frame;
constexpr auto take_frames = testing::take_sse_frames;

// The frames that carry an event (not the stream's opening retry: line).
std::vector<frame> events(const std::vector<frame>& frames) {
  std::vector<frame> out;
  for (const auto& f : frames)
    if (!f.event.empty()) out.push_back(f);
  return out;
}

std::vector<frame> changes(const std::vector<frame>& frames) {
  std::vector<frame> out;
  for (const auto& f : frames)
    if (f.event == "change") out.push_back(f);
  return out;
}

std::uint64_t seq_of(const std::string& id) { return std::stoull(id.substr(id.rfind('-') + 1)); }

// Runs `work` on the io_context's thread and waits for its result.
template <class F>
auto on(asio::io_context& io, F work) {
  std::promise<decltype(work())> done;
  asio::post(io, [&] { done.set_value(work()); });
  return done.get_future().get();
}

// The server's options here: every viewer connects from 127.0.0.1, so no per-client cap.
http::server_options one_address_options() {
  http::server_options options;
  options.max_connections_per_client = 0;
  return options;
}

// An in-process server whose only answer is the hub's stream.
struct hub_server {
  explicit hub_server(http::stream::hub_options options)
      : hub(io.get_executor(), options),
        server(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), one_address_options(),
               [](http::request) -> asio::awaitable<http::response> {
                 co_return http::error_response(http::status::not_found, "not_found", "only the stream here");
               }) {
    server.set_takeover([this](const http::request& req, boost::beast::tcp_stream& stream,
                               observe::request_info&) -> asio::awaitable<unsigned> {
      co_await hub.serve(stream, req["Last-Event-ID"]);
      co_return 200;
    });
    server.start();
    port = server.local_endpoint().port();
    runner = std::thread([this] { io.run(); });
  }
  ~hub_server() {
    asio::post(io, [this] {
      hub.close();
      server.stop();
    });
    std::this_thread::sleep_for(100ms);
    io.stop();
    runner.join();
  }

  asio::io_context io{1};
  http::stream::hub hub;
  http::server server;
  unsigned short port = 0;
  std::thread runner;
};

// A blocking viewer: connects, asks for the stream, reads frames with a deadline.
class blocking_viewer {
 public:
  blocking_viewer(unsigned short port, const std::string& last_event_id, const std::string& target = "/stream",
                  const std::string& extra_headers = "", int receive_buffer = 0)
      : socket_(io_) {
    socket_.open(tcp::v4());
    if (receive_buffer > 0) socket_.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    std::string request = fmt::format("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n{}", target, extra_headers);
    if (!last_event_id.empty()) request += fmt::format("Last-Event-ID: {}\r\n", last_event_id);
    request += "\r\n";
    asio::write(socket_, asio::buffer(request));
  }

  // Reads until `enough` says so, the connection ends, or `limit` passes. Returns the frames
  // read; `closed` tells whether the server ended the stream.
  std::vector<frame> read(const std::function<bool(const std::vector<frame>&)>& enough,
                          std::chrono::milliseconds limit = 5000ms) {
    const auto until = std::chrono::steady_clock::now() + limit;
    std::vector<frame> frames;
    while (!enough(frames) && std::chrono::steady_clock::now() < until) {
      timeval tv{0, 100 * 1000};
      ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      char chunk[16 * 1024];
      boost::system::error_code ec;
      const auto n = socket_.read_some(asio::buffer(chunk), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
      if (ec) {
        closed = true;
        break;
      }
      buffer_.append(chunk, n);
      if (!header_done_) {
        const auto end = buffer_.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        header = buffer_.substr(0, end);
        buffer_.erase(0, end + 4);
        header_done_ = true;
      }
      for (auto& f : take_frames(buffer_)) frames.push_back(std::move(f));
    }
    return frames;
  }

  std::string header;
  bool closed = false;

 private:
  asio::io_context io_;
  tcp::socket socket_;
  std::string buffer_;
  bool header_done_ = false;
};

// A viewer as a coroutine, for many at once on one thread.
struct viewer_log {
  std::vector<std::uint64_t> seqs;
  std::vector<std::string> payloads;
  bool resynced = false;
  std::string error;
};

asio::awaitable<void> run_viewer(unsigned short port, std::size_t expect, viewer_log& log) {
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
  const std::string request = "GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
  std::string buffer;
  bool header_done = false;
  char chunk[64 * 1024];
  while (log.seqs.size() < expect && !log.resynced) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      log.error = ec.message();
      break;
    }
    buffer.append(chunk, n);
    if (!header_done) {
      const auto end = buffer.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      buffer.erase(0, end + 4);
      header_done = true;
    }
    for (auto& f : take_frames(buffer)) {
      if (f.event == "resync") log.resynced = true;
      if (f.event != "change") continue;
      log.seqs.push_back(seq_of(f.id));
      log.payloads.push_back(std::move(f.data));
    }
  }
}

std::string payload(std::size_t i) { return fmt::format(R"({{"n":{},"pad":"{}"}})", i, std::string(2000, 'x')); }

}  // namespace

TEST_SUITE("http::stream") {
  TEST_CASE("an event is one frame, multi-line data becomes several data lines") {
    CHECK(http::stream::format_event("e-1", "change", R"({"a":1})") == "id: e-1\nevent: change\ndata: {\"a\":1}\n\n");
    CHECK(http::stream::format_event("", "resync", "a\nb") == "event: resync\ndata: a\ndata: b\n\n");
  }

  TEST_CASE("200 viewers receive every event in order, one that stops reading is dropped without delaying them") {
    http::stream::hub_options options;
    // Room for every event: a reading viewer on a loaded machine may lag by many events and must
    // not be dropped for it; the stuck one is dropped by its write deadline.
    options.queue_limit = 512;
    options.write_timeout = 2s;
    options.send_buffer_bytes = 64 * 1024;
    hub_server fixture(options);

    constexpr std::size_t viewers = 200;
    constexpr std::size_t events = 400;

    // The one that never reads, with a small receive buffer so its backlog reaches the hub.
    blocking_viewer stuck(fixture.port, "", "/stream", "", 4096);

    asio::io_context clients{1};
    std::vector<viewer_log> logs(viewers);
    for (auto& log : logs) asio::co_spawn(clients, run_viewer(fixture.port, events, log), asio::detached);
    std::thread client_thread([&] { clients.run(); });

    // Everyone connected before the first event.
    const auto connect_until = std::chrono::steady_clock::now() + 20s;
    while (on(fixture.io, [&] { return fixture.hub.stats().viewers; }) < viewers + 1 &&
           std::chrono::steady_clock::now() < connect_until)
      std::this_thread::sleep_for(10ms);
    REQUIRE(on(fixture.io, [&] { return fixture.hub.stats().viewers; }) == viewers + 1);

    // Publish paced on the hub's own thread, as the server does.
    std::promise<std::chrono::steady_clock::time_point> published;
    asio::co_spawn(
        fixture.io,
        [&]() -> asio::awaitable<void> {
          asio::steady_timer pause(co_await asio::this_coro::executor);
          for (std::size_t i = 1; i <= events; ++i) {
            fixture.hub.publish("change", payload(i));
            pause.expires_after(2ms);
            co_await pause.async_wait(asio::use_awaitable);
          }
          published.set_value(std::chrono::steady_clock::now());
        },
        asio::detached);
    published.get_future().get();
    client_thread.join();

    for (std::size_t v = 0; v < viewers; ++v) {
      const auto& log = logs[v];
      INFO("viewer " << v << " error " << log.error);
      REQUIRE(log.seqs.size() == events);
      CHECK_FALSE(log.resynced);
      for (std::size_t i = 0; i < events; ++i) {
        if (log.seqs[i] != i + 1 || log.payloads[i] != payload(i + 1)) {
          FAIL_CHECK("viewer " << v << " got event " << log.seqs[i] << " at position " << i + 1);
          break;
        }
      }
    }
    // The stuck viewer is dropped when its queue overflows or its write times out, whichever
    // comes first: on a slow machine that may be after the last event was published.
    auto stats = on(fixture.io, [&] { return fixture.hub.stats(); });
    for (const auto give_up = std::chrono::steady_clock::now() + 10s;
         stats.dropped == 0 && std::chrono::steady_clock::now() < give_up;
         stats = on(fixture.io, [&] { return fixture.hub.stats(); }))
      std::this_thread::sleep_for(50ms);
    CHECK(stats.dropped == 1);
    CHECK(stats.published == events);

    // The stuck viewer got an in-order prefix and then its stream ended (after the write timeout).
    const auto got = stuck.read([](const auto&) { return false; }, 10000ms);
    CHECK(stuck.closed);
    std::uint64_t expected = 1;
    std::size_t changes = 0;
    for (const auto& f : got) {
      if (f.event != "change") continue;
      CHECK(seq_of(f.id) == expected++);
      ++changes;
    }
    CHECK(changes < events);
  }

  TEST_CASE("a viewer resumes after Last-Event-ID, an unknown or forgotten id gets a resync") {
    http::stream::hub_options options;
    options.history = 5;
    hub_server fixture(options);
    const auto first = on(fixture.io, [&] { return fixture.hub.last_id(); });
    std::vector<std::string> ids;
    for (int i = 1; i <= 8; ++i) ids.push_back(on(fixture.io, [&] { return fixture.hub.publish("change", payload(i)); }));

    SUBCASE("resume from a remembered id") {
      blocking_viewer viewer(fixture.port, ids[4]);  // saw 5: gets 6, 7, 8
      const auto frames = changes(viewer.read([](const auto& f) { return changes(f).size() >= 3; }));
      REQUIRE(frames.size() == 3);
      CHECK(frames[0].id == ids[5]);
      CHECK(frames[2].id == ids[7]);
      CHECK(viewer.header.find("text/event-stream") != std::string::npos);
      // Live events follow the replayed ones.
      const auto next = on(fixture.io, [&] { return fixture.hub.publish("change", payload(9)); });
      const auto more = changes(viewer.read([](const auto& f) { return !changes(f).empty(); }));
      REQUIRE(more.size() == 1);
      CHECK(more[0].id == next);
    }
    SUBCASE("an id older than the history") {
      blocking_viewer viewer(fixture.port, ids[0]);
      const auto frames = events(viewer.read([](const auto& f) { return !events(f).empty(); }));
      REQUIRE(frames.size() == 1);
      CHECK(frames[0].event == "resync");
    }
    SUBCASE("an id from another run of the server") {
      blocking_viewer viewer(fixture.port, "0-3");
      const auto frames = events(viewer.read([](const auto& f) { return !events(f).empty(); }));
      REQUIRE(frames.size() == 1);
      CHECK(frames[0].event == "resync");
      viewer.read([](const auto&) { return false; }, 2000ms);
      CHECK(viewer.closed);
    }
    SUBCASE("the snapshot id before any event, when the history still holds everything") {
      CHECK(first.ends_with("-0"));
    }
  }

  TEST_CASE("resync tells every viewer to reload, and no id from before it resumes") {
    hub_server fixture(http::stream::hub_options{});
    const auto before = on(fixture.io, [&] { return fixture.hub.publish("change", payload(1)); });
    blocking_viewer first(fixture.port, "");
    blocking_viewer second(fixture.port, before);
    // Both subscribed (the header is written when the hub takes a viewer).
    first.read([&](const auto&) { return !first.header.empty(); });
    second.read([&](const auto&) { return !second.header.empty(); });
    const auto dropped_before = on(fixture.io, [&] { return fixture.hub.stats().dropped; });
    on(fixture.io, [&] {
      fixture.hub.resync("gap", "changes from other instances may be missing; reload the snapshot");
      return 0;
    });
    for (auto* viewer : {&first, &second}) {
      const auto frames = events(viewer->read([](const auto& f) { return !events(f).empty(); }));
      REQUIRE(frames.size() == 1);
      CHECK(frames[0].event == "resync");
      CHECK(json::parse(frames[0].data).at("reason").as_string() == "gap");
      viewer->read([](const auto&) { return false; }, 2000ms);
      CHECK(viewer->closed);
    }
    // Told to reload, not fallen behind; and nobody is left subscribed.
    CHECK(on(fixture.io, [&] { return fixture.hub.stats().dropped; }) == dropped_before);
    CHECK(on(fixture.io, [&] { return fixture.hub.stats().viewers; }) == 0u);

    // An id from before the resync (still in the history's range) is not resumed.
    blocking_viewer stale(fixture.port, before);
    const auto refused = events(stale.read([](const auto& f) { return !events(f).empty(); }));
    REQUIRE(refused.size() == 1);
    CHECK(refused[0].event == "resync");

    // The id read after it (a reloaded snapshot's) resumes, and live events follow.
    const auto now = on(fixture.io, [&] { return fixture.hub.last_id(); });
    CHECK(now.substr(0, now.find('-')) != before.substr(0, before.find('-')));
    blocking_viewer fresh(fixture.port, now);
    fresh.read([&](const auto&) { return !fresh.header.empty(); });
    const auto next = on(fixture.io, [&] { return fixture.hub.publish("change", payload(2)); });
    const auto frames = changes(fresh.read([](const auto& f) { return !changes(f).empty(); }));
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].id == next);
  }
}

TEST_SUITE("integration::dashboard") {
  TEST_CASE("the stream needs a token, a filed request arrives as a change with its clocks") {
    testing::temp_dir dir;
    const auto token = testing::token_for(model::role::viewer);
    // The shipped rules, and a clock on every troubleshooting request.
    const auto config = testing::config_on_always_calendar(dir, R"(
[[sla.policy]]
name = "any"
kinds = ["troubleshooting"]
calendar = "always"
metrics = [{ metric = "first_response", target = "1h" }]
)");
    testing::server_process server({config, dir.file("switchboard.db"), {}});
    const auto port = static_cast<unsigned short>(std::stoi(server.url().substr(server.url().rfind(':') + 1)));

    {
      blocking_viewer anonymous(port, "", "/v1/dashboard/stream");
      anonymous.read([](const auto&) { return false; }, 2000ms);
      CHECK(anonymous.header.starts_with("HTTP/1.1 401"));
    }

    auto client = server.client(model::role::viewer);
    const auto page = client.get("/");
    CHECK(page.status == 200);
    CHECK(page.header("Content-Type").starts_with("text/html"));
    CHECK(page.body.find("/dashboard/app.js") != std::string::npos);
    CHECK(client.get("/dashboard/app.js").status == 200);
    CHECK(client.get("/dashboard/nope.js").status == 404);

    const auto snapshot = client.get("/v1/dashboard/clocks");
    REQUIRE(snapshot.status == 200);
    const auto id = std::string(json::parse(snapshot.body).at("id").as_string());

    blocking_viewer viewer(port, id, "/v1/dashboard/stream", fmt::format("Authorization: Bearer {}\r\n", token));
    auto filer = server.client(model::role::ce);
    const auto filed = filer.post_json(
        "/v1/requests",
        R"({"kind":"troubleshooting","customer":{"id":"acme","name":"Acme","stage":"trial"},"title":"Builds fail"})");
    REQUIRE(filed.status == 201);
    const auto frames = changes(viewer.read([](const auto& f) { return !changes(f).empty(); }));
    REQUIRE_FALSE(frames.empty());
    CHECK(frames[0].event == "change");
    const auto change = json::parse(frames[0].data).as_object();
    CHECK(change.at("request").at("title").as_string() == "Builds fail");
    CHECK(change.at("request").at("owner").as_string() == "se");
    CHECK_FALSE(change.at("request").at("clocks").as_array().empty());
    CHECK(change.at("events").as_array().front().at("type").as_string() == "request.created");
    CHECK_FALSE(change.at("calendars").as_object().empty());
  }
}
