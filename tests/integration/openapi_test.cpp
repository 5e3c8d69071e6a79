// The OpenAPI document through the real binary: served at /openapi.json without a token, and
// `switchboard --check-openapi` comparing the route table the server wires with the document.
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

using namespace switchboard;
namespace json = boost::json;

namespace {

testing::run_result check_openapi(const testing::temp_dir& dir, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{SWITCHBOARD_SERVER_PATH, "--config", testing::source_path("config/switchboard.toml"),
                                "--tokens", testing::test_tokens_path(), "--db", dir.file("unused.db"),
                                "--check-openapi"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return testing::run_program(argv);
}

}  // namespace

TEST_SUITE("integration::openapi") {
  TEST_CASE("GET /openapi.json answers the 3.1 document without a token") {
    testing::temp_dir dir;
    testing::server_process server(dir.file("s.db"));
    http::client anonymous(server.url());
    const auto answer = anonymous.get("/openapi.json");
    REQUIRE(answer.status == 200);
    CHECK(answer.header("Content-Type").find("application/json") == 0);
    const auto document = json::parse(answer.body);
    CHECK(document.at("openapi").as_string() == "3.1.0");
    CHECK(document.at("paths").as_object().contains("/v1/requests/{id}"));
    CHECK(document.at("components").at("schemas").as_object().contains("Request"));
  }

  TEST_CASE("check-openapi passes on the shipped wiring without touching the given database") {
    testing::temp_dir dir;
    const auto result = check_openapi(dir);
    INFO(result.out << result.err);
    CHECK(result.exit_code == 0);
    CHECK(result.out.find("the router and the document agree") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir.file("unused.db")));
  }

  TEST_CASE("check-openapi needs no tokens file") {
    // The shipped config names ../var/tokens.toml, which a fresh checkout does not have yet: a
    // copy of the config in a folder of its own names a tokens file that is not there.
    testing::temp_dir dir;
    std::filesystem::create_directories(dir.file("config"));
    std::filesystem::copy_file(testing::source_path("config/switchboard.toml"), dir.file("config/switchboard.toml"));
    std::filesystem::create_directories(dir.file("rules"));
    std::filesystem::copy_file(testing::source_path("rules/routing.toml"), dir.file("rules/routing.toml"));
    REQUIRE_FALSE(std::filesystem::exists(dir.file("var/tokens.toml")));
    const auto result = testing::run_program(
        {SWITCHBOARD_SERVER_PATH, "--config", dir.file("config/switchboard.toml"), "--check-openapi"});
    INFO(result.out << result.err);
    CHECK(result.exit_code == 0);
    CHECK(result.out.find("the router and the document agree") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir.file("var/switchboard.db")));
  }

  TEST_CASE("check-openapi prints each difference by method and path and exits 1") {
    testing::temp_dir dir;
    // The embedded document less GET /readyz, plus an operation no route serves.
    std::string served;
    {
      testing::server_process server(dir.file("s.db"));
      served = http::client(server.url()).get("/openapi.json").body;
    }
    auto document = json::parse(served);
    auto& paths = document.at("paths").as_object();
    REQUIRE(paths.erase("/readyz") == 1);
    paths["/v1/nowhere"] = json::object{{"delete", json::object{{"responses", json::object{}}}}};
    const auto file = testing::write_file(dir.file("changed.json"), json::serialize(document));

    const auto result = check_openapi(dir, {"--openapi-document", file});
    INFO(result.out << result.err);
    CHECK(result.exit_code == 1);
    CHECK(result.out ==
          "in the document, not in the router: DELETE /v1/nowhere\n"
          "in the router, not in the document: GET /readyz\n");
  }
}
