#pragma once
// What every API handler shares: committing through the writer from a coroutine, reading a
// JSON body, and the 422 shape.

#include "http/message.hpp"
#include "model/json.hpp"
#include "store/committer.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

namespace switchboard::http::api {

// Runs `work` on the writer thread and resumes the calling coroutine on its own executor once
// the batch holding it is committed. Rethrows the job's error.
boost::asio::awaitable<void> commit(store::committer& writer, store::committer::job work);

// The parsed JSON body, or the 415/400 response to send instead.
std::variant<boost::json::value, response> read_json_body(const request& req);

// 422 naming every bad field; `code` and `message` default to invalid_fields and a summary.
response invalid_fields(const std::vector<model::field_error>& errors, std::string_view code = "invalid_fields",
                        std::string_view message = {});

// A positive whole number (ids, limits, cursors), or nullopt.
std::optional<std::int64_t> parse_positive(std::string_view text);

}  // namespace switchboard::http::api
