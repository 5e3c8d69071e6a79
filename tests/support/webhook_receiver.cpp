// The counting webhook receiver (support/webhook_receiver.hpp).
#include "support/webhook_receiver.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace switchboard::testing {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

webhook_receiver::webhook_receiver(bool hold_first, webhook_script script)
    : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
      script_(std::move(script)),
      holding_(hold_first) {
  thread_ = std::thread([this] { serve(); });
}

webhook_receiver::~webhook_receiver() {
  release();
  stopping_ = true;
  boost::system::error_code ec;
  asio::ip::tcp::socket poke(io_);
  poke.connect(acceptor_.local_endpoint(), ec);  // unblocks accept()
  thread_.join();
}

std::map<std::string, int> webhook_receiver::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

std::vector<webhook_hit> webhook_receiver::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}

void webhook_receiver::release() {
  {
    std::lock_guard lock(mutex_);
    holding_ = false;
  }
  released_.notify_all();
}

void webhook_receiver::serve() {
  while (!stopping_) {
    asio::ip::tcp::socket socket(io_);
    boost::system::error_code ec;
    acceptor_.accept(socket, ec);
    if (ec || stopping_) continue;
    boost::beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> req;
    bhttp::read(socket, buffer, req, ec);
    if (ec) continue;
    webhook_hit hit{std::string(req.target()),
                    std::string(req["webhook-id"]),
                    std::string(req["webhook-timestamp"]),
                    std::string(req["webhook-signature"]),
                    req.body(),
                    std::string(req[bhttp::field::content_type]),
                    0,
                    std::chrono::steady_clock::now()};
    webhook_answer answer;
    {
      std::unique_lock lock(mutex_);
      const int attempt = ++received_[hit.id];
      if (script_) answer = script_(hit, attempt);
      hit.answered = answer.status;
      hits_.push_back(std::move(hit));
      released_.wait(lock, [this] { return !holding_; });
    }
    bhttp::response<bhttp::string_body> res;
    res.version(11);
    res.result(answer.status);
    if (!answer.retry_after.empty()) res.set(bhttp::field::retry_after, answer.retry_after);
    res.keep_alive(false);
    res.prepare_payload();
    bhttp::write(socket, res, ec);
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  }
}

}  // namespace switchboard::testing
