#pragma once
// A dashboard viewer for tests against the real server: connects to /v1/dashboard/stream over a
// real socket with a token, and reads Server-Sent Events frames with a deadline.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace switchboard::testing {

// One SSE frame as a viewer sees it (comment lines dropped; data lines joined).
struct sse_frame {
  std::string id;
  std::string event;
  std::string data;
};

// Splits the complete frames off the front of `buffer`.
std::vector<sse_frame> take_sse_frames(std::string& buffer);

class sse_viewer {
 public:
  // `server_url`: http://127.0.0.1:PORT; `last_event_id` as the Last-Event-ID header (none when
  // empty). Throws boost::system::system_error when it cannot connect.
  sse_viewer(const std::string& server_url, const std::string& token, const std::string& last_event_id = "");
  ~sse_viewer();
  sse_viewer(const sse_viewer&) = delete;
  sse_viewer& operator=(const sse_viewer&) = delete;

  // Reads until `enough(frames())` holds, the stream ends, or `limit` passes; true when `enough`
  // held. Every frame read is kept in frames().
  bool read_until(const std::function<bool(const std::vector<sse_frame>&)>& enough,
                  std::chrono::milliseconds limit = std::chrono::seconds{5});

  const std::vector<sse_frame>& frames() const { return frames_; }
  const std::string& header() const { return header_; }
  bool closed() const { return closed_; }

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::vector<sse_frame> frames_;
  std::string header_;
  std::string buffer_;
  bool header_done_ = false;
  bool closed_ = false;
};

class server_process;

// A viewer of `server` with the viewer role's test token, subscribed before it returns (the
// stream's header, the hub's answer, has arrived). Throws std::runtime_error when the answer is
// not 200.
std::unique_ptr<sse_viewer> subscribe(const server_process& server, const std::string& last_event_id = "");

// The event types of request `id` in the `change` frames among `frames`, in order.
std::vector<std::string> change_types(const std::vector<sse_frame>& frames, std::int64_t id);
// The same for every request at once (each frame parsed once): request id -> event types.
std::map<std::int64_t, std::vector<std::string>> change_types_by_request(const std::vector<sse_frame>& frames);

}  // namespace switchboard::testing
