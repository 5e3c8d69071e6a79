// The stderr log: the format switch, the JSON line writer and the batched access-log writer.
#include "observe/log.hpp"

#include <fmt/chrono.h>
#include <fmt/compile.h>
#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <iterator>
#include <mutex>
#include <thread>

namespace switchboard::observe {
namespace {

std::atomic<log_format> chosen_format{log_format::text};

// Writes all of `text` to stderr, retrying short writes; gives up when stderr is closed.
void write_stderr(std::string_view text) {
  while (!text.empty()) {
    const auto n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // stderr closed or failing: nowhere left to write
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Writes the access log's lines to stderr from a thread of its own. A write(2) per request on the
// I/O thread, serialised by stderr's lock, held /healthz at about 60 % of a bare Beast server
// (issue 11); waking a writer thread per line cost two futex calls a request. Now an I/O thread
// only appends to a buffer under a mutex, and the writer writes what gathered `flush_interval`
// after the first, or at once when `flush_bytes` have. Nothing is dropped: an I/O thread waits
// only when the buffer is full (stderr blocked), and what is buffered is written before the
// process exits (the destructor runs at exit, after main returns from a SIGTERM's graceful
// shutdown); a crash loses at most the last `flush_interval` of lines.
class stderr_writer {
 public:
  stderr_writer() : thread_([this] { run(); }) {}
  ~stderr_writer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  stderr_writer(const stderr_writer&) = delete;
  stderr_writer& operator=(const stderr_writer&) = delete;

  void append(std::string_view line) {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [this] { return pending_.size() < max_pending_bytes; });
    const bool was_empty = pending_.empty();
    const bool was_below = pending_.size() < flush_bytes;
    pending_.append(line);
    const bool now_above = pending_.size() >= flush_bytes;
    lock.unlock();
    // The writer sleeps until a batch's first line, then gathers for flush_interval: under load
    // this wakes it once per batch, not per line.
    if (was_empty || (was_below && now_above)) wake_.notify_one();
  }

 private:
  static constexpr std::chrono::milliseconds flush_interval{50};
  static constexpr std::size_t flush_bytes = 64 * 1024;
  // Beyond this, a blocked stderr holds up requests rather than growing memory without bound.
  static constexpr std::size_t max_pending_bytes = 4 * 1024 * 1024;

  void run() {
    std::string writing;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
        if (pending_.empty()) return;  // stopping, and everything written
        wake_.wait_for(lock, flush_interval, [this] { return stopping_ || pending_.size() >= flush_bytes; });
        writing.swap(pending_);
      }
      room_.notify_all();
      write_stderr(writing);
      writing.clear();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable room_;
  std::string pending_;
  bool stopping_ = false;
  std::thread thread_;
};

stderr_writer& access_writer() {
  static stderr_writer writer;
  return writer;
}

// The time of day (UTC, to the second), formatted once a second on each thread: formatting it
// per request was about a tenth of /healthz's own work (issue 11, by perf). Keyed by the
// second, so a caller with another `now` (a test) gets its own.
std::string_view second_stamp(std::chrono::sys_seconds now) {
  thread_local std::chrono::sys_seconds formatted{};
  thread_local std::array<char, 40> text{};
  thread_local std::size_t size = 0;
  if (size == 0 || now != formatted) {
    const auto out = fmt::format_to_n(text.data(), text.size(), "{:%Y-%m-%dT%H:%M:%SZ}", now);
    size = std::min(out.size, text.size());
    formatted = now;
  }
  return {text.data(), size};
}

// "2026-12-02T09:03:12.345Z": the cached second with the milliseconds put in before the Z.
void append_json_stamp(std::string& out, std::chrono::system_clock::time_point now) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now - seconds).count();
  auto stamp = second_stamp(seconds);
  stamp.remove_suffix(1);  // the Z
  out += '"';
  out += stamp;
  fmt::format_to(std::back_inserter(out), FMT_COMPILE(".{:03}Z\""), millis);
}

// Bytes in the UTF-8 sequence starting at text[i]; 0 when it is not a valid one (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;  // the second byte's range
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  return length;
}

}  // namespace

std::optional<log_format> parse_log_format(std::string_view name) {
  if (name == "text") return log_format::text;
  if (name == "json") return log_format::json;
  return std::nullopt;
}

std::string_view to_string(log_format format) { return format == log_format::json ? "json" : "text"; }

std::string_view to_string(log_level level) {
  switch (level) {
    case log_level::info:
      return "info";
    case log_level::warning:
      return "warning";
    case log_level::error:
      return "error";
  }
  return "info";
}

void set_log_format(log_format format) { chosen_format.store(format, std::memory_order_relaxed); }
log_format current_log_format() { return chosen_format.load(std::memory_order_relaxed); }

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      fmt::format_to(std::back_inserter(out), FMT_COMPILE("\\u{:04x}"), static_cast<unsigned>(c));
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if (const auto length = utf8_sequence(text, i); length != 0) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out += '"';
}

void log(log_level level, std::string_view message, std::string_view text_prefix) {
  try {
    std::string line;
    if (current_log_format() == log_format::json) {
      line = "{\"ts\":";
      append_json_stamp(line, std::chrono::system_clock::now());
      line += ",\"level\":\"";
      line += to_string(level);
      line += "\",\"msg\":";
      append_json_string(line, message);
      line += "}\n";
    } else {
      line.reserve(text_prefix.size() + message.size() + 1);
      line.append(text_prefix).append(message) += '\n';
    }
    write_stderr(line);
  } catch (...) {
    // Out of memory while logging: the line is lost, the caller goes on.
  }
}

namespace {

// Appends the access line to `line` (format_access); a thread's one buffer is reused for every
// request, so a line costs no allocation (issue 11 counted them).
void append_access(std::string& line, const access_record& record, log_format format,
                   std::chrono::system_clock::time_point now) {
  const auto micros = static_cast<std::uint64_t>(std::max<std::int64_t>(record.duration.count(), 0));
  if (format == log_format::text) {
    // Milliseconds to three places from whole microseconds, in integers: the same text as
    // {:.3f} of micros / 1000.0, without formatting a double (a tenth of the line's cost, by perf).
    fmt::format_to(std::back_inserter(line), FMT_COMPILE("{} {} {} {} {}.{:03}ms\n"),
                   second_stamp(std::chrono::floor<std::chrono::seconds>(now)), record.method, record.target,
                   record.status, micros / 1000, micros % 1000);
    return;
  }
  line += "{\"ts\":";
  append_json_stamp(line, now);
  line += ",\"level\":\"info\",\"msg\":\"request\",\"request_id\":";
  append_json_string(line, record.request_id);
  line += ",\"method\":";
  append_json_string(line, record.method);
  line += ",\"route\":";
  append_json_string(line, record.route);
  line += ",\"target\":";
  append_json_string(line, record.target);
  fmt::format_to(std::back_inserter(line), FMT_COMPILE(",\"status\":{},\"duration_ms\":{}.{:03},\"actor\":"),
                 record.status, micros / 1000, micros % 1000);
  if (record.actor.empty())
    line += "null";
  else
    append_json_string(line, record.actor);
  line += "}\n";
}

}  // namespace

std::string format_access(const access_record& record, log_format format, std::chrono::system_clock::time_point now) {
  std::string line;
  append_access(line, record, format, now);
  return line;
}

void log_access(const access_record& record) {
  thread_local std::string line;
  line.clear();
  append_access(line, record, current_log_format(), std::chrono::system_clock::now());
  access_writer().append(line);
}

}  // namespace switchboard::observe
