#pragma once
// Idempotency keys: the result (status, body, Location) of a POST stored under its client's
// Idempotency-Key, in the same transaction as the command's events, so a retry after a lost
// answer gets the original answer and never runs the command twice.
//
// Keys are per actor (two callers may use the same key), kept 24 hours (key_lifetime) and then
// forgotten. Writers call these inside the committer's transaction. Thread-safety: as the
// connection passed in.

#include "store/session.hpp"
#include <SQLiteCpp/Database.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::store {

// How long a key is remembered, from its first use (real time).
constexpr std::chrono::hours key_lifetime{24};

struct stored_result {
  std::string fingerprint;  // SHA-256 hex of method, target and body of the first request
  unsigned status = 0;      // HTTP status of the first answer
  std::string body;         // its body
  std::string location;     // its Location header; empty when none
};

// The result stored under (actor, key), unless none or older than key_lifetime at `now_unix`
// (Unix seconds, real clock).
std::optional<stored_result> find_result(read_session session, std::string_view actor, std::string_view key,
                                         std::int64_t now_unix);

// Claims (actor, key) for a request about to run, before its work (issue 12 plan D2): inserts a
// pending row (status 0, replacing an expired one) unless a live one is there. nullopt: this
// call claimed it, the caller runs the work and then store_result (or release_key for an answer
// not to keep) in the same transaction. Otherwise the result stored under the key, for a replay
// or a 409. Across instances on PostgreSQL this is INSERT ... ON CONFLICT DO NOTHING: a second
// claim of a key another transaction has claimed but not committed waits for that commit and
// then reads its answer (or claims the key, if that transaction rolled back), so two instances
// never both run the work; it never sees a pending row of another transaction.
std::optional<stored_result> claim_key(unit_of_work work, std::string_view actor, std::string_view key,
                                       std::string_view fingerprint, std::int64_t now_unix);

// Forgets a key claimed in this transaction (its answer is a 5xx: a retry should run again).
void release_key(unit_of_work work, std::string_view actor, std::string_view key);

// Stores a result (the claimed row's answer, or replacing an expired one under the same key) and
// forgets keys past their lifetime.
void store_result(unit_of_work work, std::string_view actor, std::string_view key, const stored_result& result,
                  std::int64_t now_unix);

}  // namespace switchboard::store
