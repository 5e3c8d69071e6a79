#pragma once
// /v1/webhooks/deliveries: the outbound-webhook delivery log and the redeliver command.
//
//   GET  /v1/webhooks/deliveries?state=&subscription=&event_type=&request=&limit=&cursor=
//   GET  /v1/webhooks/deliveries/{id}                (with the payload and every attempt)
//   POST /v1/webhooks/deliveries/{id}/redeliver      (admin or head_of_cs)

#include "http/api/api.hpp"

namespace switchboard::http::api {

// Adds the delivery routes to `routes`. `ctx` must outlive the router.
void add_delivery_routes(router& routes, context& ctx);

}  // namespace switchboard::http::api
