// A blocking SSE reader over a real socket, for the dashboard's stream.
#include "support/sse_viewer.hpp"

#include "support/server_process.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <stdexcept>
#include <string_view>

namespace switchboard::testing {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::vector<sse_frame> take_sse_frames(std::string& buffer) {
  std::vector<sse_frame> out;
  for (;;) {
    const auto end = buffer.find("\n\n");
    if (end == std::string::npos) break;
    const auto text = buffer.substr(0, end);
    buffer.erase(0, end + 2);
    sse_frame f;
    bool any = false;
    std::size_t start = 0;
    while (start <= text.size()) {
      auto stop = text.find('\n', start);
      if (stop == std::string::npos) stop = text.size();
      const auto line = std::string_view(text).substr(start, stop - start);
      start = stop + 1;
      if (line.empty() || line.front() == ':') continue;
      const auto colon = line.find(": ");
      const auto field = line.substr(0, colon);
      const auto value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 2);
      if (field == "id") f.id = value;
      else if (field == "event") f.event = value;
      else if (field == "data") f.data += value;
      else continue;  // retry: and the like
      any = true;
    }
    if (any) out.push_back(std::move(f));
  }
  return out;
}

struct sse_viewer::impl {
  asio::io_context io;
  tcp::socket socket{io};
};

sse_viewer::sse_viewer(const std::string& server_url, const std::string& token, const std::string& last_event_id)
    : impl_(std::make_unique<impl>()) {
  const auto colon = server_url.rfind(':');
  const auto port = static_cast<unsigned short>(std::stoi(server_url.substr(colon + 1)));
  impl_->socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  std::string request =
      fmt::format("GET /v1/dashboard/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n", token);
  if (!last_event_id.empty()) request += fmt::format("Last-Event-ID: {}\r\n", last_event_id);
  request += "\r\n";
  asio::write(impl_->socket, asio::buffer(request));
  // Reads wake every 100 ms to look at the deadline.
  timeval tv{0, 100 * 1000};
  ::setsockopt(impl_->socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

sse_viewer::~sse_viewer() = default;

bool sse_viewer::read_until(const std::function<bool(const std::vector<sse_frame>&)>& enough,
                            std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!enough(frames_)) {
    if (closed_ || std::chrono::steady_clock::now() >= until) return false;
    // Waits for data here, at most 100 ms: asio's blocking read_some would wait past
    // SO_RCVTIMEO (it polls again on EAGAIN), and so past the deadline on a quiet stream.
    pollfd ready{impl_->socket.native_handle(), POLLIN, 0};
    if (::poll(&ready, 1, 100) == 0) continue;
    char chunk[16 * 1024];
    boost::system::error_code ec;
    const auto n = impl_->socket.read_some(asio::buffer(chunk), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
    if (ec) {
      closed_ = true;
      continue;
    }
    buffer_.append(chunk, n);
    if (!header_done_) {
      const auto end = buffer_.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      header_ = buffer_.substr(0, end);
      buffer_.erase(0, end + 4);
      header_done_ = true;
    }
    for (auto& f : take_sse_frames(buffer_)) frames_.push_back(std::move(f));
  }
  return true;
}

std::unique_ptr<sse_viewer> subscribe(const server_process& server, const std::string& last_event_id) {
  auto viewer = std::make_unique<sse_viewer>(server.url(), token_for(model::role::viewer), last_event_id);
  viewer->read_until([&](const auto&) { return !viewer->header().empty(); });
  if (!viewer->header().starts_with("HTTP/1.1 200"))
    throw std::runtime_error("the dashboard stream answered: " + viewer->header());
  return viewer;
}

std::map<std::int64_t, std::vector<std::string>> change_types_by_request(const std::vector<sse_frame>& frames) {
  namespace json = boost::json;
  std::map<std::int64_t, std::vector<std::string>> out;
  for (const auto& f : frames) {
    if (f.event != "change") continue;
    const auto change = json::parse(f.data).as_object();
    auto& types = out[change.at("request").at("id").as_int64()];
    for (const auto& e : change.at("events").as_array()) types.emplace_back(e.at("type").as_string());
  }
  return out;
}

std::vector<std::string> change_types(const std::vector<sse_frame>& frames, std::int64_t id) {
  auto all = change_types_by_request(frames);
  return std::move(all[id]);
}

}  // namespace switchboard::testing
