#pragma once
// Reads for GET /v1/use_cases (issue 13 §4): each use case's open requests by kind and owning
// team, and Product's decisions. Both are kept at save (migration 19): use_case_load by
// save_request, as team_load, and a decisions row for every request.accepted or
// request.declined event appended by a recorded command. A request with no use case is counted
// nowhere; a decision on one is kept under the use case "".
//
// Errors: a storage failure throws, as every store read does (the API answers it 500/503).
// Thread-safety: as the session passed in (one connection, one owner).

#include "store/session.hpp"
#include "engine/engine.hpp"
#include "model/event.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::store {

// Open requests (engine::counts_toward_load) of one use case, kind and owning team.
struct use_case_open {
  std::string use_case;
  model::request_kind kind = model::request_kind::feature_request;
  model::team owner = model::team::product;
  int open = 0;  // > 0: rows counted down to zero are left out
};

// Every (use case, kind, owner) with open requests, by use case then kind then owner. Reads one
// row per combination, however many requests are stored.
std::vector<use_case_open> use_case_loads(read_session session);

// One of Product's decisions, as its event recorded it.
struct decision {
  model::request_id request_id = 0;
  std::string use_case;  // the request's, "" when it has none
  bool accepted = false;
  // As the event stores it (codec): Product's own acceptance keeps no reason, so it reads "".
  std::string reason;
  std::string actor;  // the event's actor, "role:person"
  bool executive = false;
  model::instant at{};  // the event's instant, whole seconds
};

// The decision `e` records under `use_case`, or nullopt when `e` is no request.accepted or
// request.declined. Store internals: what both adapters write.
std::optional<decision> decision_of(const engine::event& e, std::string use_case);

// `use_case`'s decisions at or after `since`, newest first (ties: the later event first), at
// most `limit` (>= 0). One range of the (use_case, at) index.
std::vector<decision> recent_decisions(read_session session, std::string_view use_case, model::instant since,
                                       int limit);

}  // namespace switchboard::store
