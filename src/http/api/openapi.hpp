#pragma once
// The OpenAPI 3.1 document of the whole HTTP API (https://spec.openapis.org/oas/v3.1.0), served
// at GET /openapi.json without a token, and the check that it matches the route table.
//
// The document is merged at build time from src/http/api/openapi/*.json (openapi.cmake: one
// fragment per area, `paths` and `components.*` joined, a duplicate key fails the build) and
// embedded in the binary.
//
// Thread-safety: everything here is const or pure.

#include "http/router.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::http::openapi {

// The merged document, JSON text (generated: build/src/http/openapi_document.cpp).
std::string_view document();

// The differences between a route table (router::patterns(), plus any path the server claims
// outside it such as the dashboard stream) and the operations of `document_text`, one line each,
// sorted: "in the router, not in the document: GET /v1/x" and "in the document, not in the
// router: POST /v1/y". Empty when both list the same (method, path) pairs. Paths compare as
// written: a parameter is "{id}" on both sides. Throws std::invalid_argument when the document
// is not JSON or has no `paths` object.
std::vector<std::string> compare(const std::vector<std::pair<beast_http::verb, std::string>>& routes,
                                 std::string_view document_text);

// GET /openapi.json: the document, application/json, no credentials (it tells nothing a
// client cannot learn from 404 and 405 answers).
void add_routes(router& routes);

}  // namespace switchboard::http::openapi
