#pragma once
// /v1/customers: customers as data (issue 13 §5).
//
//   GET /v1/customers?limit=&cursor=        any role: the stored customers, by id
//   GET /v1/customers/{id}?limit=           any role: one customer and its newest changes
//   PUT /v1/customers/{id}                  admin or integration token, or the CRM's signature
//
// PUT takes {"name"?, "stage", "tier"?, "account_team"?} (codec/customer_json.hpp). It may create
// a customer (201; then name is required): a CRM learns of a new account before anyone writes it
// into the config, and refusing it (404) would leave that account's filings without its stage
// until someone edits the config and restarts. A PUT that changes nothing answers 200 and
// records nothing. A change applies to what is filed after its answer (the directory in force,
// http/customer_book.hpp): requests already filed keep the customer they were filed with, and
// their clocks, untouched.
//
// Credentials, checked from the header before the body is read: "Authorization: Bearer" of role
// admin or integration (viewer, se, ... get 403); or, with no Authorization header, a Standard
// Webhooks signature (webhook-id, webhook-timestamp within 300 s of the real clock,
// webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>") under the key of
// SWITCHBOARD_CRM_WEBHOOK_SECRET, verified on the raw body (401 when missing, stale or wrong; 503
// when the secret is not set). A webhook-id is claimed once: a redelivery changes nothing.

#include "http/api/api.hpp"

namespace switchboard::http::api {

// Adds the customer routes to `routes`. `ctx` must outlive the router.
void add_customer_routes(router& routes, context& ctx);

}  // namespace switchboard::http::api
