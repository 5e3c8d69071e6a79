// The baseline for GET /healthz in tools/bench/ingest.sh: the least an Asio + Beast HTTP/1.1
// server can do per request (keep-alive, one parse, one fixed 200 {"status":"ok"} answer), on
// the same number of I/O threads as the server, so the ratio shows what Switchboard's own
// request path (router, deadlines, health probe) costs on top of Beast.
//
//   build/tools/bare_beast [THREADS]     listens on 127.0.0.1, an ephemeral port; prints
//                                        "listening on http://127.0.0.1:PORT" and serves until killed
//
// Callback style as in Beast's http_server_async example: a session lives as long as a
// completion handler holds it.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

class session : public std::enable_shared_from_this<session> {
 public:
  explicit session(tcp::socket socket) : stream_(std::move(socket)) {}

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

 private:
  void do_read() {
    request_ = {};
    http::async_read(stream_, buffer_, request_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      return;
    }
    response_ = {};
    response_.result(http::status::ok);
    response_.version(request_.version());
    response_.set(http::field::content_type, "application/json");
    response_.keep_alive(request_.keep_alive());
    response_.body() = R"({"status":"ok"})";
    response_.prepare_payload();
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code write_error, std::size_t) {
      self->on_write(write_error);
    });
  }

  void on_write(beast::error_code ec) {
    if (ec) return;
    if (!response_.keep_alive()) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      return;
    }
    do_read();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

class listener : public std::enable_shared_from_this<listener> {
 public:
  listener(asio::io_context& io, const tcp::endpoint& endpoint) : io_(io), acceptor_(asio::make_strand(io)) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  void do_accept() {
    acceptor_.async_accept(asio::make_strand(io_), [self = shared_from_this()](beast::error_code ec, tcp::socket s) {
      if (!ec) std::make_shared<session>(std::move(s))->start();
      self->do_accept();
    });
  }

 private:
  asio::io_context& io_;
  tcp::acceptor acceptor_;
};

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::max(1, std::atoi(argv[1])) : static_cast<int>(std::thread::hardware_concurrency());
  asio::io_context io{threads};
  auto server = std::make_shared<listener>(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  server->do_accept();
  std::printf("listening on http://127.0.0.1:%u\n", static_cast<unsigned>(server->port()));
  std::fflush(stdout);
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
}
