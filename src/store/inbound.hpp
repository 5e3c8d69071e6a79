#pragma once
// What integrations received: receipts that absorb retries and duplicates, the e-mail
// Message-IDs that thread replies onto requests, and each request's participants.
//
// Writers call these inside the committer's transaction, in the same job as the request they
// create or change, so a duplicate never creates anything twice. Thread-safety: as the
// connection passed in.

#include "store/session.hpp"
#include "model/request.hpp"

#include <SQLiteCpp/Database.h>

#include <optional>
#include <string_view>
#include <vector>

namespace switchboard::store {

// Records (source, key) unless it is already there. True when this call recorded it (the
// first delivery); false for a duplicate. Sources: slack_event, slack_message, mailgun_token,
// email (keyed by authenticated sender + Message-ID, else a hash of the mail), email_provider
// (a provider's own message id, "postmark:<MessageID>").
bool claim_receipt(unit_of_work work, std::string_view source, std::string_view key, model::instant now);

// Links a receipt to the request it created or changed.
void link_receipt(unit_of_work work, std::string_view source, std::string_view key, model::request_id id);

// The request a receipt was linked to, if any.
std::optional<model::request_id> receipt_request(read_session session, std::string_view source, std::string_view key);

// The requests an e-mail Message-ID (without angle brackets) was stored for, oldest first: one
// per authenticated sender that used it (anyone can write any Message-ID, so one sender's use
// never hides another's; the caller picks the one its sender may continue). Rows stored before
// schema version 9 have no sender and count as one more candidate.
std::vector<model::request_id> requests_of_message(read_session session, std::string_view message_id);

// Stores a Message-ID, as sent by the authenticated `sender` (lower-case address), as part of
// request `id`'s thread; a second store for the same id and sender is ignored.
void remember_message(unit_of_work work, std::string_view message_id, std::string_view sender,
                      model::request_id id);

// Participants: lower-case e-mail addresses or "slack:<user>".
bool is_participant(read_session session, model::request_id id, std::string_view address);
void add_participant(unit_of_work work, model::request_id id, std::string_view address);

}  // namespace switchboard::store
