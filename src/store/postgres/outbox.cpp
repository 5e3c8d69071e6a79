// The outbox's writes on PostgreSQL (the twin of store/outbox.cpp's enqueue_outbound).
#include "store/postgres/outbox.hpp"

#include "codec/event_json.hpp"
#include "codec/json.hpp"

#include <boost/json.hpp>

#include <stdexcept>

namespace switchboard::store::postgres {
namespace json = boost::json;
namespace {

std::int64_t seconds(model::instant at) { return at.time_since_epoch().count(); }

// outbox.cpp's request_summary: the request as a webhook payload shows it.
json::object request_summary(const model::request& r) {
  return json::object{{"id", r.id},
                      {"kind", model::to_string(r.input.kind)},
                      {"title", r.input.title},
                      {"customer_id", r.input.customer.id},
                      {"customer_name", r.input.customer.name},
                      {"priority", model::to_string(r.input.priority)},
                      {"status", model::to_string(r.status)},
                      {"owner", model::to_string(r.owner)}};
}

}  // namespace

void enqueue_outbound(pq::connection& db, const std::vector<engine::outbound_route>& routes,
                      const std::vector<engine::event>& events, const std::vector<std::int64_t>& seqs,
                      const std::vector<change>& changes) {
  if (routes.empty() || events.empty()) return;
  if (seqs.size() != events.size()) throw std::logic_error("enqueue_outbound: one sequence number per event");
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    std::optional<std::string> body;  // built once per event, shared by its subscriptions
    for (const auto& route : routes) {
      if (!route_takes(route, model::type_name(e))) continue;
      if (!body) {
        json::object data{{"event_id", seqs[i]}, {"request_id", e.request}, {"actor", e.actor},
                          {"occurred_at", model::format_instant(e.at)}};
        for (const auto& c : changes)
          if (c.request.id == e.request) data["request"] = request_summary(c.request);
        for (auto& [key, value] : codec::encode_data(e))
          if (!data.contains(key)) data[key] = std::move(value);
        body = json::serialize(json::object{
            {"type", model::type_name(e)}, {"timestamp", model::format_instant(e.at)}, {"data", std::move(data)}});
      }
      db.prepared("INSERT INTO outbox (webhook_id, subscription, event_type, event_seq, request_id, payload,"
                  " created_at, window_start, state, next_attempt_at)"
                  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9)",
                  {new_webhook_id(), route.subscription, std::string(model::type_name(e)), seqs[i], e.request, *body,
                   seconds(e.at), seconds(e.at), seconds(e.at)});
    }
  }
}

}  // namespace switchboard::store::postgres
