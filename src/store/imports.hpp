#pragma once
// Imported tickets (issue 14 §4): recording one ticket of an import with its history, quietly,
// and the external ids that make an import safe to run again.
//
// Thread-safety: as the session passed in (one connection, one owner); record_import runs on the
// writer's session, inside its transaction (a committer job: a refused line stores nothing).

#include "engine/import.hpp"
#include "store/requests.hpp"
#include "store/session.hpp"

#include <optional>
#include <string>
#include <variant>

namespace switchboard::store {

// A ticket whose external id was imported before: the request it made.
struct already_imported {
  model::request_id id = 0;
};

using import_outcome = std::variant<change, already_imported, engine::refusal>;

// Imports one ticket (engine::import_request at `now`) as request `external_id` names, unless that
// external id was imported before (already_imported, nothing written) or the engine refuses it
// (nothing written). The events and the read model are saved as any recording saves them, but
// nothing is enqueued: no outbound webhook, Slack or e-mail message and no notification is made
// for them, and neither the capacity pass nor the automatic assignment runs (the past pages
// nobody; from now on the request is live). `importer` is the token's person, kept with the id.
import_outcome record_import(unit_of_work work, const engine::policy& policy, const std::string& external_id,
                             const engine::import_command& command, model::instant now);

// The request imported under `external_id`; nullopt when none was (GET /v1/requests?external_id=).
std::optional<model::request_id> imported_request(read_session session, const std::string& external_id);

// The external id request `id` was imported under; nullopt for a request filed here.
std::optional<std::string> external_id_of(read_session session, model::request_id id);

}  // namespace switchboard::store
