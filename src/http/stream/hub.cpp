// The SSE broadcaster: one serialisation per event, bounded per-viewer queues, resumable ids.
#include "http/stream/hub.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace switchboard::http::stream {
namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_batch = 64;  // messages gathered into one write

constexpr std::string_view stream_header =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/event-stream; charset=utf-8\r\n"
    "Cache-Control: no-store\r\n"
    "Connection: close\r\n"
    "X-Accel-Buffering: no\r\n";
constexpr std::string_view stream_header_end =
    "\r\n"
    "retry: 2000\n\n";

std::uint64_t microseconds_now() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

std::shared_ptr<const std::string> shared_text(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

// "<epoch>-<seq>" -> (epoch, seq); false when malformed.
bool parse_id(std::string_view id, std::string_view& epoch, std::uint64_t& seq) {
  const auto dash = id.rfind('-');
  if (dash == std::string_view::npos || dash == 0) return false;
  epoch = id.substr(0, dash);
  const auto digits = id.substr(dash + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  return ec == std::errc{} && end == digits.data() + digits.size();
}

}  // namespace

struct hub::viewer {
  explicit viewer(asio::any_io_executor executor) : wake(executor) {}
  std::deque<std::shared_ptr<const std::string>> queue;
  asio::steady_timer wake;  // the writer waits on it; cancelling it wakes the writer
  bool last = false;        // end the stream once the queue is written
};

std::string format_event(std::string_view id, std::string_view event, std::string_view data) {
  std::string out;
  out.reserve(data.size() + id.size() + event.size() + 32);
  if (!id.empty()) fmt::format_to(std::back_inserter(out), "id: {}\n", id);
  if (!event.empty()) fmt::format_to(std::back_inserter(out), "event: {}\n", event);
  std::size_t start = 0;
  for (;;) {
    const auto end = data.find('\n', start);
    out += "data: ";
    out += data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    out += '\n';
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  out += '\n';
  return out;
}

hub::hub(asio::any_io_executor executor, hub_options options)
    : executor_(std::move(executor)), options_(options), epoch_(microseconds_now()) {}

hub::~hub() { close(); }

// The epoch first: an id read across a resync() has the old epoch (resumed, it resyncs) or the
// new one with a seq at least the epoch's first.
std::string hub::last_id() const {
  const auto epoch = epoch_.load();
  return fmt::format("{:x}-{}", epoch, seq_.load());
}

void hub::resync(std::string_view reason, std::string_view message) {
  epoch_ = std::max(epoch_.load() + 1, microseconds_now());
  history_.clear();
  const auto text = shared_text(format_event("", "resync", fmt::format(R"({{"reason":"{}","message":"{}"}})", reason, message)));
  const auto viewers = viewers_;
  for (const auto& v : viewers) drop(v, text, false);  // being told to reload is not falling behind
}

std::string hub::publish(std::string_view event, std::string_view data) {
  const auto seq = ++seq_;
  const auto id = fmt::format("{:x}-{}", epoch_.load(), seq);
  auto text = shared_text(format_event(id, event, data));
  history_.push_back({seq, text});
  while (history_.size() > options_.history) history_.pop_front();

  // Drop those that fell behind; wake the rest. Iterate over a copy: drop() edits viewers_.
  const auto viewers = viewers_;
  for (const auto& v : viewers) {
    if (v->queue.size() >= options_.queue_limit) {
      drop(v, shared_text(format_event(
                  "", "resync", R"({"reason":"too_slow","message":"this viewer fell behind; reload the snapshot"})")));
      continue;
    }
    v->queue.push_back(text);
    v->wake.cancel();
  }
  return id;
}

void hub::drop(const std::shared_ptr<viewer>& v, std::shared_ptr<const std::string> last, bool behind) {
  std::erase(viewers_, v);
  v->queue.clear();
  v->queue.push_back(std::move(last));
  v->last = true;
  v->wake.cancel();
  if (behind) ++dropped_;
}

void hub::close() {
  closed_ = true;
  const auto viewers = std::move(viewers_);
  viewers_.clear();
  for (const auto& v : viewers) {
    v->queue.clear();
    v->queue.push_back(shared_text(format_event("", "bye", R"({"reason":"server_stopping"})")));
    v->last = true;
    v->wake.cancel();
  }
}

hub_stats hub::stats() const { return {viewers_.size(), seq_, dropped_}; }

asio::awaitable<void> hub::serve(beast::tcp_stream& stream, std::string_view last_event_id,
                                 std::string_view request_id) {
  if (options_.send_buffer_bytes > 0) {
    beast::error_code ignored;
    stream.socket().set_option(asio::socket_base::send_buffer_size(options_.send_buffer_bytes), ignored);
  }
  auto v = std::make_shared<viewer>(executor_);
  v->queue.push_back(shared_text(
      request_id.empty() ? fmt::format("{}{}", stream_header, stream_header_end)
                         : fmt::format("{}X-Request-Id: {}\r\n{}", stream_header, request_id, stream_header_end)));

  // Where to start: after `last_event_id` if the history still holds what follows it.
  if (closed_) {
    v->queue.push_back(shared_text(format_event("", "bye", R"({"reason":"server_stopping"})")));
    v->last = true;
  } else if (!last_event_id.empty()) {
    std::string_view epoch;
    std::uint64_t seen = 0;
    const bool known = parse_id(last_event_id, epoch, seen) && epoch == fmt::format("{:x}", epoch_.load()) && seen <= seq_ &&
                       (seen == seq_ || (!history_.empty() && history_.front().seq <= seen + 1));
    if (!known) {
      v->queue.push_back(shared_text(format_event(
          "", "resync", R"({"reason":"unknown_id","message":"events after this id are not available; reload the snapshot"})")));
      v->last = true;
    } else {
      for (const auto& m : history_)
        if (m.seq > seen) v->queue.push_back(m.text);
    }
  }
  if (!v->last) viewers_.push_back(v);

  std::vector<std::shared_ptr<const std::string>> batch;
  std::vector<asio::const_buffer> buffers;
  for (;;) {
    if (v->queue.empty()) {
      if (v->last) break;
      v->wake.expires_after(options_.heartbeat);
      auto [ec] = co_await v->wake.async_wait(use_tuple);
      if (!ec && v->queue.empty()) v->queue.push_back(shared_text(": keep-alive\n\n"));
      continue;
    }
    batch.clear();
    buffers.clear();
    while (!v->queue.empty() && batch.size() < max_batch) {
      batch.push_back(std::move(v->queue.front()));
      v->queue.pop_front();
      buffers.emplace_back(asio::buffer(*batch.back()));
    }
    stream.expires_after(options_.write_timeout);
    auto [ec, written] = co_await asio::async_write(stream, buffers, use_tuple);
    if (ec) {
      // A write that timed out (or failed) while the viewer was still subscribed is a viewer
      // that fell behind, as much as one whose queue overflowed: count it the same way.
      if (!v->last && ec == beast::error::timeout) ++dropped_;
      break;
    }
  }
  stream.expires_never();
  std::erase(viewers_, v);
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace switchboard::http::stream
