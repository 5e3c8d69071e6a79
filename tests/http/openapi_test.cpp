// The OpenAPI check: a route table against a document, both directions, and the embedded
// document's own consistency (every $ref resolves, operationIds unique, path parameters declared).
#include "http/api/openapi.hpp"
#include "http/router.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <regex>
#include <set>
#include <string>

using namespace switchboard;
namespace json = boost::json;
using verb = http::beast_http::verb;

namespace {

http::route_handler nothing() {
  return [](const http::request&, const http::route_match&) -> boost::asio::awaitable<http::response> {
    co_return http::json_text_response(http::status::ok, "{}");
  };
}

// The value a local JSON reference ("#/components/schemas/Request") points to, or nullptr.
const json::value* resolve(const json::value& root, const std::string& ref) {
  if (ref.rfind("#/", 0) != 0) return nullptr;
  const json::value* at = &root;
  std::size_t start = 2;
  while (start <= ref.size()) {
    auto end = ref.find('/', start);
    if (end == std::string::npos) end = ref.size();
    const auto name = ref.substr(start, end - start);
    if (!at->is_object()) return nullptr;
    at = at->as_object().if_contains(name);
    if (!at) return nullptr;
    start = end + 1;
  }
  return at;
}

void collect_refs(const json::value& value, std::set<std::string>& refs) {
  if (value.is_object()) {
    for (const auto& member : value.as_object()) {
      if (member.key() == "$ref" && member.value().is_string()) refs.insert(std::string(member.value().as_string()));
      collect_refs(member.value(), refs);
    }
  } else if (value.is_array()) {
    for (const auto& item : value.as_array()) collect_refs(item, refs);
  }
}

}  // namespace

TEST_SUITE("http::router") {
  TEST_CASE("patterns lists every method and pattern as added, the root included") {
    http::router routes;
    routes.add(verb::get, "/", nothing());
    routes.add(verb::get, "/v1/requests/{id}", nothing());
    routes.add(verb::post, "/v1/requests/{id}", nothing());
    routes.add(verb::get, "/healthz", nothing());
    const auto patterns = routes.patterns();
    const std::set<std::pair<verb, std::string>> got(patterns.begin(), patterns.end());
    CHECK(patterns.size() == 4);
    CHECK(got == std::set<std::pair<verb, std::string>>{{verb::get, "/"},
                                                        {verb::get, "/v1/requests/{id}"},
                                                        {verb::post, "/v1/requests/{id}"},
                                                        {verb::get, "/healthz"}});
  }
}

TEST_SUITE("http::openapi") {
  TEST_CASE("compare reports a route missing from the document and an operation missing from the router") {
    const std::string document = R"({"openapi":"3.1.0","paths":{
      "/healthz":{"get":{"responses":{"200":{"description":"ok"}}}},
      "/v1/requests/{id}":{"get":{"responses":{}},"delete":{"responses":{}},"parameters":[]}}})";
    const auto differences = http::openapi::compare(
        {{verb::get, "/healthz"}, {verb::get, "/v1/requests/{id}"}, {verb::post, "/v1/requests"}}, document);
    REQUIRE(differences.size() == 2);
    CHECK(differences[0] == "in the document, not in the router: DELETE /v1/requests/{id}");
    CHECK(differences[1] == "in the router, not in the document: POST /v1/requests");
  }

  TEST_CASE("compare finds nothing when both list the same operations") {
    const std::string document = R"({"paths":{"/":{"get":{}},"/a/{x}":{"post":{},"summary":"not a method"}}})";
    CHECK(http::openapi::compare({{verb::get, "/"}, {verb::post, "/a/{x}"}}, document).empty());
  }

  TEST_CASE("compare refuses a document that is not JSON or has no paths") {
    CHECK_THROWS_AS(http::openapi::compare({}, "{not json"), std::invalid_argument);
    CHECK_THROWS_AS(http::openapi::compare({}, R"({"openapi":"3.1.0"})"), std::invalid_argument);
  }

  TEST_CASE("the embedded document is OpenAPI 3.1 whose refs resolve, operationIds are unique and path parameters declared") {
    const auto document = json::parse(http::openapi::document());
    CHECK(document.at("openapi").as_string() == "3.1.0");

    std::set<std::string> refs;
    collect_refs(document, refs);
    CHECK(refs.size() > 10);
    for (const auto& ref : refs) {
      INFO("$ref " << ref);
      CHECK(resolve(document, ref) != nullptr);
    }

    std::set<std::string> operation_ids;
    std::size_t operations = 0;
    const std::regex parameter(R"(\{([a-z_]+)\})");
    for (const auto& path_item : document.at("paths").as_object()) {
      const std::string path_text(path_item.key());
      for (const auto& method_item : path_item.value().as_object()) {
        const json::value& operation = method_item.value();
        if (!operation.is_object() || !operation.as_object().contains("responses")) continue;
        ++operations;
        const std::string where = std::string(method_item.key()) + " " + path_text;
        INFO(where);
        const std::string id(operation.at("operationId").as_string());
        CHECK(operation_ids.insert(id).second);
        CHECK_FALSE(operation.at("responses").as_object().contains("default"));
        std::set<std::string> declared;
        if (const auto* parameters = operation.as_object().if_contains("parameters"))
          for (const auto& p : parameters->as_array()) {
            const auto* target = p.as_object().contains("$ref")
                                     ? resolve(document, std::string(p.at("$ref").as_string()))
                                     : &p;
            REQUIRE(target != nullptr);
            if (target->at("in").as_string() == "path") declared.insert(std::string(target->at("name").as_string()));
          }
        for (std::sregex_iterator it(path_text.begin(), path_text.end(), parameter), end; it != end; ++it) {
          const std::string name = (*it)[1];
          INFO("path parameter " << name);
          CHECK(declared.contains(name));
        }
      }
    }
    CHECK(operations >= 26);
  }
}
