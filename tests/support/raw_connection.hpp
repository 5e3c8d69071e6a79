#pragma once
// A plain TCP client of the test server, so a test can misbehave exactly as it wants: send a
// header and stop, drip bytes, never read, pipeline. Non-blocking; every wait has a deadline.
//
// Thread-safety: one connection, one thread.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace switchboard::testing {

struct raw_response {
  unsigned status = 0;  // 0: none came (closed or deadline)
  std::string head;     // status line and fields, without the blank line
  std::string body;     // Content-Length bytes (none for 1xx)
};

// The port of "http://127.0.0.1:PORT".
unsigned short port_of(const std::string& url);

// The "error.code" of a JSON error body ("" when the body is not one).
std::string error_code_of(const raw_response& res);

class raw_connection {
 public:
  // Connects to 127.0.0.1:port; `receive_buffer` > 0 sets SO_RCVBUF (bytes) first; `source`
  // (an IPv4 address such as "127.0.0.2": all of 127/8 is the loopback) binds the client's end
  // first, to be another client to the server. Throws std::runtime_error when the connection
  // cannot be made.
  explicit raw_connection(unsigned short port, int receive_buffer = 0, const char* source = nullptr);
  ~raw_connection();
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  void close();
  bool is_open() const { return fd_ >= 0; }

  // Sends everything (waiting for room); false when the connection broke or `limit` passed.
  bool send_all(std::string_view bytes, std::chrono::steady_clock::duration limit = std::chrono::seconds{10});

  // Sends what fits now without waiting; returns how much (0 when full), -1 when broken.
  long send_some(std::string_view bytes);

  // Waits up to `wait` for the peer to close or reset the connection, without reading.
  bool closed_by_peer(std::chrono::milliseconds wait);

  // Waits up to `wait` for something to read and returns up to `bytes` of it without taking it
  // (MSG_PEEK); "" when nothing came.
  std::string peek(std::size_t bytes, std::chrono::milliseconds wait);

  // Reads (and drops) until the connection closes or `limit` passes; true when it closed.
  bool read_until_closed(std::chrono::steady_clock::duration limit);

  // Reads one response (header and Content-Length body) within `limit`; an interim 1xx
  // response is returned on its own.
  raw_response read_response(std::chrono::steady_clock::duration limit = std::chrono::seconds{10});

 private:
  int fd_ = -1;
  std::string pending_;
};

}  // namespace switchboard::testing
