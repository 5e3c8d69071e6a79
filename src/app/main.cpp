// The switchboard server: config to wiring, then serve until SIGINT or SIGTERM.
#include "config/error.hpp"
#include "config/settings.hpp"
#include "http/api/api.hpp"
#include "http/server.hpp"
#include "policy/load.hpp"
#include "scheduler/scheduler.hpp"
#include "store/committer.hpp"
#include "store/database.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>

#include <filesystem>

namespace {

using namespace switchboard;

int serve(config::settings settings) {
  const auto policy = policy::load(settings);

  if (settings.database_path != ":memory:") {
    const auto folder = std::filesystem::path(settings.database_path).parent_path();
    if (!folder.empty()) std::filesystem::create_directories(folder);
  }

  boost::asio::io_context io{1};
  store::committer writer(store::open_database(settings.database_path));
  auto reader = store::open_database(settings.database_path, store::access::read_only);

  auto now = [] { return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()); };
  scheduler::scheduler clocks(io.get_executor(), writer, now);
  clocks.load(reader);

  http::api::context api{policy, writer, reader, settings.tiers, now,
                         [&clocks](const model::request& changed) { clocks.track(changed); }};
  http::router routes;
  http::api::add_routes(routes, api);

  const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(settings.listen.host),
                                                settings.listen.port);
  http::server server(io, endpoint, http::server_options{settings.max_body_bytes, std::chrono::seconds{30}},
                      [&routes](http::request req) -> boost::asio::awaitable<http::response> {
                        co_return co_await routes.dispatch(req);
                      });
  server.start();

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    fmt::print(stderr, "switchboard: signal {} received, stopping\n", signal);
    server.stop();
    clocks.stop();
    io.stop();
  });

  const auto bound = server.local_endpoint();
  fmt::print("switchboard: listening on http://{}:{}\n", bound.address().to_string(), bound.port());
  std::fflush(stdout);
  fmt::print(stderr, "switchboard: database {}, rules {}, {} SLA clock(s) pending\n", settings.database_path,
             settings.rules_path, clocks.size());
  io.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"switchboard: the customer-support request routing server"};
  std::string config_path = "config/switchboard.toml";
  std::string listen;
  std::string database;
  app.add_option("--config", config_path, "config file (TOML)")->capture_default_str();
  app.add_option("--listen", listen, "HOST:PORT to listen on, overriding the config; port 0 picks a free one");
  app.add_option("--db", database, "SQLite database path, overriding the config");
  CLI11_PARSE(app, argc, argv);

  try {
    auto settings = config::load_settings(config_path);
    if (!listen.empty()) settings.listen = config::parse_listen_address(listen);
    if (!database.empty()) settings.database_path = database;
    return serve(std::move(settings));
  } catch (const config::error& e) {
    fmt::print(stderr, "switchboard: cannot start: {}\n", e.what());
  } catch (const std::exception& e) {
    fmt::print(stderr, "switchboard: cannot start: {}\n", e.what());
  }
  return 1;
}
