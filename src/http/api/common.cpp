// Helpers shared by the API handlers.
#include "http/api/common.hpp"

#include "http/json_body.hpp"
#include "config/tokens.hpp"
#include "engine/engine.hpp"
#include "store/idempotency.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>

namespace switchboard::http::api {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

bool is_json(const request& req) {
  const std::string_view type = req[beast_http::field::content_type];
  auto media = type.substr(0, type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  constexpr std::string_view expected = "application/json";
  return std::equal(media.begin(), media.end(), expected.begin(), expected.end(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

}  // namespace

asio::awaitable<void> commit(store::committer& writer, store::committer::job work, std::shared_ptr<commit_gate> gate) {
  auto executor = co_await asio::this_coro::executor;
  // Checked on the writer thread, when the job's turn comes: a job queued behind a long batch
  // may reach it after the deadline.
  if (gate)
    work = [gate, inner = std::move(work)](store::unit_of_work& db) {
      if (!gate->begin_commit()) throw request_abandoned{};
      inner(db);
    };
  // use_awaitable rethrows a completion's leading exception_ptr in the coroutine.
  // Named, never a temporary in the co_await: GCC 12 destroys those twice (PR 99576), which
  // for a strand executor drops its reference count twice and frees the strand.
  auto initiation = [&writer, executor](auto handler, store::committer::job job) {
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    writer.submit(std::move(job), [shared, executor](std::exception_ptr error) {
      asio::post(executor, [shared, error]() mutable { std::move (*shared)(error); });
    });
  };
  co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr)>(
      std::move(initiation), asio::use_awaitable, std::move(work));
}

asio::awaitable<once_outcome> commit_once(store::committer& writer, const request& req, const model::actor& actor,
                                          std::function<response(store::unit_of_work&)> work,
                                          std::shared_ptr<commit_gate> gate) {
  once_outcome outcome;
  const std::string_view key = req["Idempotency-Key"];
  if (req.count("Idempotency-Key") == 0) {
    store::committer::job plain = [&](store::unit_of_work& db) {
      outcome = once_outcome{};  // a job may run again (committer.hpp): nothing from an earlier run
      outcome.res = work(db);
      outcome.ran = true;
    };
    co_await commit(writer, std::move(plain), gate);
    co_return outcome;
  }
  const bool well_formed = req.count("Idempotency-Key") == 1 && !key.empty() && key.size() <= 255 &&
                           std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (!well_formed) {
    outcome.res = error_response(status::bad_request, "invalid_idempotency_key",
                                 "send one Idempotency-Key of 1 to 255 visible ASCII characters");
    co_return outcome;
  }
  const auto who = engine::actor_label(actor);
  const auto fingerprint = config::sha256_hex(fmt::format("{} {}\n{}", std::string_view(req.method_string()),
                                                          std::string_view(req.target()), req.body()));
  // Keys expire on the real clock: the engine's may be simulated.
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  store::committer::job guarded = [&](store::unit_of_work& db) {
    outcome = once_outcome{};  // a job may run again (committer.hpp): nothing from an earlier run
    // The key is claimed before the work, in the work's transaction: a second request with it,
    // on this instance or another, waits for this one's commit and then replays its answer.
    if (auto stored = store::claim_key(db, who, key, fingerprint, now)) {
      if (stored->fingerprint != fingerprint) {
        outcome.res = error_response(status::conflict, "idempotency_key_reused",
                                     "this Idempotency-Key was already used for a different request");
        return;
      }
      outcome.res = response{static_cast<status>(stored->status), 11};
      outcome.res.set(beast_http::field::content_type, "application/json");
      if (!stored->location.empty()) outcome.res.set(beast_http::field::location, stored->location);
      outcome.res.set("Idempotent-Replayed", "true");
      outcome.res.body() = std::move(stored->body);
      outcome.res.prepare_payload();
      return;
    }
    outcome.res = work(db);
    outcome.ran = true;
    if (outcome.res.result_int() < 500)
      store::store_result(db, who, key,
                          {fingerprint, outcome.res.result_int(), outcome.res.body(),
                           std::string(outcome.res[beast_http::field::location])},
                          now);
    else
      store::release_key(db, who, key);
  };
  co_await commit(writer, std::move(guarded), gate);
  co_return outcome;
}

std::variant<json::value, response> read_json_body(const request& req) {
  if (!is_json(req))
    return error_response(status::unsupported_media_type, "unsupported_media_type",
                          "send the body as JSON with Content-Type: application/json");
  auto parsed = parse_json_body(req.body());
  if (auto* problem = std::get_if<std::string>(&parsed))
    return error_response(status::bad_request, "malformed_json", fmt::format("the body is not valid JSON: {}", *problem));
  return std::get<json::value>(std::move(parsed));
}

namespace {

// Bounds on a 422's size whatever was sent: the fields listed, and the bytes of a field's name
// (a client's key, so any length the body limit allows).
constexpr std::size_t max_listed_field_errors = 20;
constexpr std::size_t max_listed_field_bytes = 200;
constexpr std::size_t max_listed_message_bytes = 1000;

// `text` cut to at most `limit` bytes on a UTF-8 character boundary, with "…" when cut.
std::string shortened(const std::string& text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "\u2026";
}

}  // namespace

response invalid_fields(const std::vector<model::field_error>& errors, std::string_view code,
                        std::string_view message) {
  std::string summary;
  json::array fields;
  const auto listed = std::min(errors.size(), max_listed_field_errors);
  for (std::size_t i = 0; i < listed; ++i) {
    const auto& e = errors[i];
    const auto field = shortened(e.field, max_listed_field_bytes);
    // A message may quote what was sent (an unknown value of 1 MB): cut like a name.
    const auto said = shortened(e.message, max_listed_message_bytes);
    // An error about the whole body has no field to name.
    summary += fmt::format("{}{}{}{}", summary.empty() ? "" : "; ", field, field.empty() ? "" : " ", said);
    fields.push_back(json::object{{"field", field}, {"message", said}});
  }
  // A body of 90,000 unknown keys answered with all of them was a 6 MB error (issue 11).
  if (errors.size() > listed) summary += fmt::format("; and {} more problems (the first {} are listed)", errors.size() - listed, listed);
  return error_response(status::unprocessable_entity, code,
                        message.empty() ? summary : shortened(std::string(message), 20 * max_listed_message_bytes),
                        std::move(fields));
}

std::optional<std::int64_t> parse_positive(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

void read_page_limit(std::string_view key, std::string_view value, int& limit, std::vector<model::field_error>& errors) {
  const auto parsed = parse_positive(value);
  if (!parsed || *parsed > max_page_limit)
    errors.push_back({std::string(key), fmt::format("must be a whole number from 1 to {}", max_page_limit)});
  else
    limit = static_cast<int>(*parsed);
}

bool page_rows::add(const json::value& row) {
  const auto before = out_.size();
  if (count_ > 0) out_ += ',';
  append_json(out_, row);
  if (count_ > 0 && max_bytes_ != 0 && out_.size() - start_ > max_bytes_) {
    out_.resize(before);
    return false;
  }
  ++count_;
  return true;
}

}  // namespace switchboard::http::api
