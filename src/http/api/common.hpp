#pragma once
// What every API handler shares: committing through the writer from a coroutine, reading a
// JSON body, and the 422 shape.

#include "http/commit_gate.hpp"
#include "http/message.hpp"
#include "codec/json.hpp"
#include "model/request.hpp"
#include "store/committer.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace switchboard::http::api {

// Runs `work` on the writer thread and resumes the calling coroutine on its own executor once
// the batch holding it is committed. Rethrows the job's error. With a `gate` (route_match::gate),
// the job first begins the request's commit and, when the server already abandoned the request
// at its deadline, changes nothing and throws request_abandoned.
boost::asio::awaitable<void> commit(store::committer& writer, store::committer::job work,
                                    std::shared_ptr<commit_gate> gate);

// What commit_once did.
struct once_outcome {
  response res;      // the answer to send
  bool ran = false;  // the work ran now (false: a stored answer, a conflict or a bad key)
};

// Runs `work` (which makes the command's changes and returns its answer) in one committer job,
// guarded by the request's Idempotency-Key header when it has one (IETF draft "The
// Idempotency-Key HTTP Header Field"): the first request with a key runs `work` and stores
// its answer (unless 5xx) in the same transaction; a later one from the same actor with the
// same method, target and body gets that answer again, with "Idempotent-Replayed: true";
// with anything different, 409 idempotency_key_reused. A key is 1-255 visible ASCII
// characters (else 400 invalid_idempotency_key) and is remembered 24 hours. Rethrows
// `work`'s error (nothing is stored then).
boost::asio::awaitable<once_outcome> commit_once(store::committer& writer, const request& req,
                                                 const model::actor& actor,
                                                 std::function<response(store::unit_of_work&)> work,
                                                 std::shared_ptr<commit_gate> gate);

// The parsed JSON body, or the 415/400 response to send instead.
std::variant<boost::json::value, response> read_json_body(const request& req);

// 422 naming the bad fields (the first 20, each name cut to 200 bytes and each message to 1000;
// the summary counts the rest); `code` and `message` default to invalid_fields and a summary.
response invalid_fields(const std::vector<model::field_error>& errors, std::string_view code = "invalid_fields",
                        std::string_view message = {});

// A positive whole number (ids, limits, cursors), or nullopt.
std::optional<std::int64_t> parse_positive(std::string_view text);

// Every list's page size: `limit` defaults to this and may be 1 to max_page_limit.
inline constexpr int default_page_limit = 100;
inline constexpr int max_page_limit = 200;
// And every list stops before the row that would take the page past context::max_page_bytes
// ([server] max_page_bytes, 4 MiB by default), returning
// the cursor of the last row sent; a page holds at least one row, however large. Requests and
// a request's events count their rows' stored text (in the store, before reading the rest);
// the other lists count each row as written in the answer (page_rows), and their store reads
// stop once a lower bound of that (the rows' shown text as stored) passes the budget, so the
// page ends where page_rows alone would end it. An answer is then about this size plus one row.

// A list's rows written into `out` as the elements of a JSON array (the caller writes the
// brackets), within a budget of `max_bytes` for all of them (0: none). Not thread-safe; one
// per answer.
class page_rows {
 public:
  page_rows(std::string& out, std::size_t max_bytes) : out_(out), start_(out.size()), max_bytes_(max_bytes) {}

  // Appends `row`, with a comma before all but the first; returns false, with `out` as it was,
  // when the row would take the rows past the budget: the page ends before it. The first row
  // is always appended.
  bool add(const boost::json::value& row);

  std::size_t count() const { return count_; }

 private:
  std::string& out_;
  std::size_t start_;
  std::size_t max_bytes_;
  std::size_t count_ = 0;
};

// A list's `limit` query value: sets `limit` to a whole number from 1 to max_page_limit, else
// adds one error naming `key` (the caller answers 422 with every error).
void read_page_limit(std::string_view key, std::string_view value, int& limit, std::vector<model::field_error>& errors);

}  // namespace switchboard::http::api
