#pragma once
// A Server-Sent Events broadcaster: each event is serialised once, kept in a short history for
// resuming, and queued (as a shared buffer) for every viewer.
//
// - Ids are "<epoch>-<seq>": the epoch changes with every hub (every server start) and with
//   every resync(), so a viewer that resumes with an id from another run or from before a gap,
//   or one older than the history, is told to resync instead of silently missing events.
// - Each viewer has a bounded queue. A viewer whose queue is full (it reads slower than events
//   arrive) is dropped: its queue is replaced by one `resync` event, written if the connection
//   still moves, and its stream ends. Publishing never waits on a viewer.
// - A `resync` event means: fetch a fresh snapshot, then reconnect with the snapshot's id.
//
// Thread-safety: one hub, one owner: construct it, publish, serve and close on the executor
// (a strand); last_id() alone may be read from any thread.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::http::stream {

struct hub_options {
  std::size_t queue_limit = 256;           // messages waiting for one viewer; one more drops it
  std::size_t history = 1024;              // recent messages kept for Last-Event-ID resumes
  std::chrono::seconds write_timeout{10};  // a write that takes longer ends the viewer
  std::chrono::seconds heartbeat{15};      // a comment line after this long without events
  int send_buffer_bytes = 0;               // SO_SNDBUF of stream sockets; 0 keeps the system's
};

struct hub_stats {
  std::size_t viewers = 0;     // connected now
  std::uint64_t published = 0;  // events since start
  std::uint64_t dropped = 0;    // viewers dropped for falling behind: queue overflow or a write timeout
};

class hub {
 public:
  explicit hub(boost::asio::any_io_executor executor, hub_options options = {});
  ~hub();
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;

  // Serialises an event named `event` with `data` (JSON text; newlines are allowed) once and
  // queues it for every viewer. Returns its id.
  std::string publish(std::string_view event, std::string_view data);

  // The id of the last event published ("<epoch>-0" before any): a snapshot of the state read
  // after this call, on any thread, holds everything up to it when events are published after
  // their changes are committed.
  std::string last_id() const;

  // Serves one viewer on `stream` until it leaves, falls behind or the hub closes: writes the
  // response header, the events after `last_event_id` (all new ones when empty; a resync when
  // they are no longer known), then live events and heartbeats. `request_id`, when not empty, is
  // sent as X-Request-Id; it must hold only header-safe token characters
  // (observe::acceptable_request_id: the server's ids do).
  boost::asio::awaitable<void> serve(boost::beast::tcp_stream& stream, std::string_view last_event_id,
                                     std::string_view request_id = {});

  // Tells every viewer to reload: each gets a `resync` event ({"reason": reason, "message":
  // message}; both plain text without quotes or backslashes) and its stream ends. The hub takes
  // a new epoch, so an id published before is no longer resumable either (a viewer resuming with
  // one gets resync): events may be missing after it. For a gap the hub cannot see, such as
  // other instances' changes announced while this one was not listening.
  void resync(std::string_view reason, std::string_view message);

  // Ends every stream (each gets a final `bye` event if it can take it) and refuses new ones.
  void close();

  hub_stats stats() const;

  struct viewer;  // defined in hub.cpp

 private:
  struct message {
    std::uint64_t seq;
    std::shared_ptr<const std::string> text;
  };
  // `behind`: counted in hub_stats::dropped (it fell behind).
  void drop(const std::shared_ptr<viewer>& v, std::shared_ptr<const std::string> last, bool behind = true);

  boost::asio::any_io_executor executor_;
  hub_options options_;
  std::atomic<std::uint64_t> epoch_;  // shown in hex; a new one on resync()
  std::atomic<std::uint64_t> seq_{0};
  std::uint64_t dropped_ = 0;
  bool closed_ = false;
  std::deque<message> history_;
  std::vector<std::shared_ptr<viewer>> viewers_;
};

// One SSE frame: "id: ...\nevent: ...\ndata: ...\n\n", a data line per line of `data`.
// An empty id leaves the id line out.
std::string format_event(std::string_view id, std::string_view event, std::string_view data);

}  // namespace switchboard::http::stream
