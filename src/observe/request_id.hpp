#pragma once
// Request ids (the X-Request-Id header) and what one request's log line learns while it runs.

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace switchboard::observe {

// The longest client-sent X-Request-Id kept, in bytes: enough for a UUID with a prefix or a
// proxy's trace id, short enough that a log line stays a line.
inline constexpr std::size_t max_request_id_bytes = 128;

// Whether a client's X-Request-Id can be kept as it is: 1 to max_request_id_bytes RFC 9110
// token characters (letters, digits and !#$%&'*+-.^_`|~), so that it needs no quoting or
// escaping in a header, a text log or JSON, and cannot forge a second log line.
bool acceptable_request_id(std::string_view id);

// A new id: 16 random bytes (OpenSSL's RAND_bytes) as 32 lowercase hex digits. Throws
// std::runtime_error when the random source fails. Any thread.
std::string new_request_id();

// The id an answer carries: `sent` when acceptable_request_id, else a new one.
std::string request_id_for(std::string_view sent);

// One request as its access-log line will show it: the id, fixed when the request is read, and
// the person who made it, which the handler learns once it has checked the credentials
// (api::authenticated and its siblings call set_actor).
// Thread-safety: id() is immutable; set_actor and actor may be called from any thread (a handler
// runs on another executor than the connection, and may outlive its answer's deadline).
class request_info {
 public:
  explicit request_info(std::string id) : id_(std::move(id)) {}

  const std::string& id() const { return id_; }

  void set_actor(std::string_view person) {
    std::lock_guard lock(mutex_);
    actor_ = person;
  }
  // The person; empty when the request was not authenticated (or not yet).
  std::string actor() const {
    std::lock_guard lock(mutex_);
    return actor_;
  }

 private:
  const std::string id_;
  mutable std::mutex mutex_;
  std::string actor_;
};

}  // namespace switchboard::observe
