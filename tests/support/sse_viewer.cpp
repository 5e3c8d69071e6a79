// A blocking SSE reader over a real socket, for the dashboard's stream.
#include "support/sse_viewer.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include <sys/socket.h>
#include <sys/time.h>

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

}  // namespace switchboard::testing
