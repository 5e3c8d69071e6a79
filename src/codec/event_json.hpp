#pragma once
// The stored and wire form of typed events: one JSON object per event's data, keyed by its type
// name (model::type_name). The event log, the outbox payloads and the /events page all use it.
//
// encode_data writes the keys in the order the engine has always written them, so text stored
// before typed events and text stored after are the same bytes for the same event. decode reads
// every shape that was ever stored, including escalation.notified and escalation.skipped from
// before they carried only the change (a whole escalation with "notifications"), which decode
// to model::escalation_snapshot and encode back to that shape.
//
// Thread safety: pure functions; call them from any thread.

#include "model/event.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace switchboard::codec {

// The event's data as stored (the type name and header are stored beside it). Never fails.
boost::json::object encode_data(const model::event_data& data);
inline boost::json::object encode_data(const model::event& e) { return encode_data(e.data); }

// The warnings an action event carries (request.responded, request.handed_off, ...), as in its data.
boost::json::array to_json(const std::vector<model::wording_warning>& warnings);

// Reads back the data of an event of type `type`. Throws std::invalid_argument for an unknown
// type or a shape that type never had (a missing or mistyped key, an unknown enum value).
model::event_data decode_data(std::string_view type, const boost::json::object& data);

// decode_data, with the header stored beside it.
model::event decode(model::request_id request, std::string_view type, model::instant at, std::string actor,
                    const boost::json::object& data);

}  // namespace switchboard::codec
