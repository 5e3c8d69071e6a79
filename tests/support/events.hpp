#pragma once
// Typed events as the tests read them: their stored JSON (codec::encode_data) and type name, so
// assertions on an event's recorded fields read as the log does.

#include "codec/event_json.hpp"
#include "model/event.hpp"

#include <boost/json/object.hpp>

#include <string>

namespace switchboard::testing {

// The event's data as stored. A value: bind it to a name before keeping references into it.
inline boost::json::object data_of(const model::event& e) { return codec::encode_data(e); }

// The event's stored type name ("sla.breached", ...).
inline std::string type_of(const model::event& e) { return std::string(model::type_name(e)); }

}  // namespace switchboard::testing
