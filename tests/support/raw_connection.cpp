// Raw TCP clients for tests that misbehave on purpose.
#include "support/raw_connection.hpp"

#include <boost/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace switchboard::testing {

using clock_type = std::chrono::steady_clock;

unsigned short port_of(const std::string& url) {
  return static_cast<unsigned short>(std::stoi(url.substr(url.rfind(':') + 1)));
}

std::string error_code_of(const raw_response& res) {
  boost::json::error_code ec;
  const auto body = boost::json::parse(res.body, ec);
  if (ec || !body.is_object()) return {};
  const auto* error = body.as_object().if_contains("error");
  if (error == nullptr || !error->is_object()) return {};
  const auto* code = error->as_object().if_contains("code");
  return code != nullptr && code->is_string() ? std::string(code->as_string()) : std::string{};
}

raw_connection::raw_connection(unsigned short port, int receive_buffer, const char* source) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket failed: ") + std::strerror(errno));
  if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  if (source != nullptr) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source, &local.sin_addr) != 1 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      const int error = errno;
      close();
      throw std::runtime_error(std::string("bind to ") + source + " failed: " + std::strerror(error));
    }
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    close();
    throw std::runtime_error(std::string("connect failed: ") + std::strerror(error));
  }
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

raw_connection::~raw_connection() { close(); }

void raw_connection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool raw_connection::send_all(std::string_view bytes, clock_type::duration limit) {
  const auto deadline = clock_type::now() + limit;
  while (!bytes.empty() && clock_type::now() < deadline) {
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, 100);
    } else {
      return false;
    }
  }
  return bytes.empty();
}

long raw_connection::send_some(std::string_view bytes) {
  const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  if (n >= 0) return n;
  return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
}

bool raw_connection::closed_by_peer(std::chrono::milliseconds wait) {
  pollfd p{fd_, POLLRDHUP, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

std::string raw_connection::peek(std::size_t bytes, std::chrono::milliseconds wait) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return {};
  std::string out(bytes, '\0');
  const auto n = ::recv(fd_, out.data(), out.size(), MSG_PEEK);
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

bool raw_connection::read_until_closed(clock_type::duration limit) {
  const auto deadline = clock_type::now() + limit;
  char scratch[4096];
  while (clock_type::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const auto n = ::recv(fd_, scratch, sizeof scratch, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return true;
  }
  return false;
}

raw_response raw_connection::read_response(clock_type::duration limit) {
  const auto deadline = clock_type::now() + limit;
  raw_response out;
  std::size_t header_end = std::string::npos;
  std::size_t length = 0;
  char scratch[16384];
  while (clock_type::now() < deadline) {
    if (header_end == std::string::npos) {
      header_end = pending_.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        out.head = pending_.substr(0, header_end);
        out.status = out.head.size() >= 12 ? static_cast<unsigned>(std::stoi(out.head.substr(9, 3))) : 0;
        std::string lower = out.head;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const auto at = lower.find("content-length:");
        if (at != std::string::npos && out.status >= 200) length = std::stoul(lower.substr(at + 15));
      }
    }
    if (header_end != std::string::npos && pending_.size() >= header_end + 4 + length) {
      out.body = pending_.substr(header_end + 4, length);
      pending_.erase(0, header_end + 4 + length);
      return out;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::clamp<long>(left.count(), 1, 100))) <= 0) continue;
    const auto n = ::recv(fd_, scratch, sizeof scratch, 0);
    if (n > 0) {
      pending_.append(scratch, static_cast<std::size_t>(n));
    } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
      break;
    }
  }
  return raw_response{};
}

}  // namespace switchboard::testing
