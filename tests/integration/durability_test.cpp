// Nothing acknowledged is lost: concurrent filing, then a restart or a SIGKILL, on both store
// adapters (support/server_backends.hpp).
#include "http/client.hpp"
#include "support/api.hpp"
#include "support/server_backends.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <thread>

using namespace switchboard;
namespace json = boost::json;

namespace {

std::set<std::int64_t> all_ids(http::client& client) {
  std::set<std::int64_t> ids;
  for (const auto& request : testing::all_requests(client)) ids.insert(request.at("id").as_int64());
  return ids;
}

}  // namespace

TEST_SUITE("integration::durability") {
  TEST_CASE("1,000 requests over concurrent connections are all there after a restart") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      constexpr int connections = 8;
      constexpr int per_connection = 125;
      std::set<std::int64_t> acknowledged;
      {
        testing::server_process server(backend.args());
        std::mutex mutex;
        std::atomic<int> failures{0};
        std::vector<std::thread> clients;
        for (int c = 0; c < connections; ++c) {
          clients.emplace_back([&, c] {
            auto client = server.client(model::role::ce);
            for (int i = 0; i < per_connection; ++i) {
              const auto body = json::serialize(json::object{
                  {"kind", i % 2 ? "troubleshooting" : "how_to"},
                  {"customer", json::object{{"id", "customer-" + std::to_string(c)}, {"name", "C"}, {"stage", "trial"}}},
                  {"title", "request " + std::to_string(i)}});
              const auto res = client.post_json("/v1/requests", body);
              if (res.status != 201) {
                ++failures;
                continue;
              }
              std::lock_guard lock(mutex);
              acknowledged.insert(json::parse(res.body).at("id").as_int64());
            }
          });
        }
        for (auto& t : clients) t.join();
        CHECK(failures == 0);
        CHECK(acknowledged.size() == connections * per_connection);
        CHECK(server.terminate() == 0);
      }
      testing::server_process restarted(backend.args());
      auto client = restarted.client(model::role::ce);
      CHECK(all_ids(client) == acknowledged);
    });
  }

  TEST_CASE("acknowledged requests survive kill -9") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      std::set<std::int64_t> acknowledged;
      {
        testing::server_process server(backend.args());
        auto client = server.client(model::role::ce);
        for (int i = 0; i < 50; ++i) {
          const auto res = client.post_json(
              "/v1/requests",
              R"({"kind":"troubleshooting","customer":{"id":"acme","name":"Acme","stage":"prospect"},"title":"t"})");
          REQUIRE(res.status == 201);
          acknowledged.insert(json::parse(res.body).at("id").as_int64());
        }
        server.kill();
      }
      testing::server_process restarted(backend.args());
      auto client = restarted.client(model::role::ce);
      CHECK(all_ids(client) == acknowledged);
    });
  }

  // SQLite only: it checks that the --db file is never made, which has no PostgreSQL counterpart
  // (the server on PostgreSQL refusing to start is integration::postgres').
  TEST_CASE("a server whose rules do not load does not start, and says where") {
    testing::temp_dir dir;
    testing::write_file(dir.file("routing.toml"), "[[rule]]\nname = \"x\"\nreason = \"y\"\nwhen = { field = \"severity\", op = \"equals\", value = \"1\" }\nthen = { owner = \"se\" }\n[fallback]\nreason = \"z\"\nthen = { owner = \"se\" }\n");
    const auto config = testing::write_file(dir.file("switchboard.toml"), "[server]\nrules = \"routing.toml\"\n");
    const auto result = testing::run_program(
        {SWITCHBOARD_SERVER_PATH, "--config", config, "--db", dir.file("x.db"), "--listen", "127.0.0.1:0"});
    CHECK(result.exit_code == 1);
    CHECK(result.err.find(dir.file("routing.toml") + ":4:") != std::string::npos);
    CHECK(result.err.find("severity") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir.file("x.db")));
  }
}
