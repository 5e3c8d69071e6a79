#pragma once
// What a PostgreSQL unit of work announces to the other instances (issue 12 plan §4 D5), and the
// session that hears it (store/change_feed.hpp).
//
// Inside the recording transaction, save_outcome (store/postgres/requests.cpp) runs
//   SELECT pg_notify('switchboard_changes', '{"s":"<schema>","o":"<instance>","r":[[request,first_seq,last_seq],...]}')
// PostgreSQL delivers a notification only when its transaction commits (and drops it with a
// rolled-back savepoint), to every session listening on the database, in commit order ("NOTIFY"
// in the PostgreSQL 15 manual). Channels are per database, not per schema: the payload names the
// schema (current_schema()), and a listen session passes on its own schema's alone. The instance
// is the session's `switchboard.instance` setting (set_instance below; the server sets it on its
// writer's every session), "" when unset. A payload must be shorter than 8000 bytes: the ranges
// are split over several notifications when needed.
//
// Thread-safety: as the connection passed in (one connection, one owner); the pure functions
// are safe anywhere.

#include "engine/engine.hpp"
#include "store/change_feed.hpp"
#include "store/postgres/pq.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::store::postgres {

inline constexpr std::string_view changes_channel = "switchboard_changes";

// PostgreSQL refuses a payload of 8000 bytes or more (22023).
inline constexpr std::size_t max_payload_bytes = 7999;

// An instance id may hold at most this many bytes of printable ASCII other than '"' and '\':
// so that it is sent as it is, and the ranges' share of a payload is known.
inline constexpr std::size_t max_instance_bytes = 255;

// A schema name (at most 63 bytes) as JSON text: at most 6 bytes a byte ("\u001f"), and quotes.
inline constexpr std::size_t max_schema_json_bytes = 63 * 6 + 2;

// Throws std::invalid_argument when `instance` is not an id set_instance takes.
void check_instance(std::string_view instance);

// Sets `switchboard.instance` on this session (until it ends: run it again on a new session).
void set_instance(pq::connection& db, std::string_view instance);

// Per request, the first and last seq of its events: `seqs` are the log numbers of `events`,
// in order. Requests keep the order of their first event.
std::vector<announced_range> ranges_of(const std::vector<engine::event>& events, const std::vector<std::int64_t>& seqs);

// The ranges' JSON arrays ("[[1,10,12],[2,13,13]]"), as few as hold them with each at most
// `limit` bytes (a range alone is never longer than 62).
std::vector<std::string> range_lists(const std::vector<announced_range>& ranges,
                                     std::size_t limit = max_payload_bytes - max_instance_bytes - max_schema_json_bytes - 32);

// The schema an announcement was committed in, and the announcement, from a payload; nullopt
// when it is not one (another program's NOTIFY on the channel).
struct heard {
  std::string schema;
  announcement what;
};
std::optional<heard> parse_payload(std::string_view payload);

// Announces `ranges` inside the caller's transaction (nothing when empty). Throws pq::error.
void announce(pq::connection& db, const std::vector<announced_range>& ranges);

// The events of `range`, in order (the twin of events_of for one commit's share).
std::vector<engine::event> events_in(pq::connection& db, const announced_range& range);

// A session that LISTENs on changes_channel, opened from `url` (the server's URL: its options,
// search_path and application_name too), passing on the announcements of its schema
// (current_schema() once it listens). Throws pq::error (connection_lost) when it cannot connect.
std::unique_ptr<change_feed> open_listen_session(const std::string& url);

}  // namespace switchboard::store::postgres
