// The switchboard server: config to wiring, then serve until SIGINT or SIGTERM.
#include "config/error.hpp"
#include "config/settings.hpp"
#include "config/tokens.hpp"
#include "http/api/api.hpp"
#include "http/api/deliveries.hpp"
#include "http/api/health.hpp"
#include "http/dashboard/dashboard.hpp"
#include "http/server.hpp"
#include "http/stream/hub.hpp"
#include "http/webhooks/webhooks.hpp"
#include "model/json.hpp"
#include "notify/worker.hpp"
#include "policy/load.hpp"
#include "scheduler/scheduler.hpp"
#include "store/clocks.hpp"
#include "store/committer.hpp"
#include "store/database.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>

#include <filesystem>

namespace {

using namespace switchboard;

// The engine's time: the system clock, or a simulated one that starts at `start` and runs
// `speed` times faster (for demos and tests of business-time behaviour).
scheduler::time_source make_time(std::optional<model::instant> start, double speed) {
  using clock = std::chrono::system_clock;
  if (!start)
    return {[] { return std::chrono::floor<std::chrono::seconds>(clock::now()); },
            [](model::instant at) { return clock::time_point(at); }};
  const auto started = clock::now();
  return {[=] {
            const auto elapsed = std::chrono::duration<double>(clock::now() - started) * speed;
            return *start + std::chrono::floor<std::chrono::seconds>(elapsed);
          },
          [=](model::instant at) {
            const auto simulated = std::chrono::duration<double>(at - *start) / speed;
            return started + std::chrono::ceil<clock::duration>(simulated);
          }};
}

int serve(config::settings settings, scheduler::time_source time) {
  const auto policy = policy::load(settings);
  const config::token_table tokens(settings.tokens_file.empty() ? std::vector<config::token_entry>{}
                                                                 : config::load_token_file(settings.tokens_file));
  if (tokens.size() == 0)
    fmt::print(stderr, "switchboard: no API tokens configured ([auth] tokens_file): every API call will get 401\n");

  if (settings.database_path != ":memory:") {
    const auto folder = std::filesystem::path(settings.database_path).parent_path();
    // A folder made here holds the database alone: only its owner may enter it.
    if (!folder.empty() && std::filesystem::create_directories(folder))
      std::filesystem::permissions(folder, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace);
  }

  {
    // Open clocks against this config, before anything is scheduled: refuse a config that
    // dropped a calendar or policy they use, and re-time the rest to it.
    auto db = store::open_database(settings.database_path);
    store::check_open_clocks(db, policy);
    SQLite::Transaction transaction(db);
    const auto retimed = store::retime_open_clocks(db, policy, time.now());
    transaction.commit();
    if (retimed > 0)
      fmt::print(stderr, "switchboard: re-timed {} open SLA clock(s) to the changed config (sla.retimed)\n", retimed);
  }

  boost::asio::io_context io{1};
  store::committer writer(store::open_database(settings.database_path));
  auto reader = store::open_database(settings.database_path, store::access::read_only);

  scheduler::scheduler clocks(io.get_executor(), writer, policy, time);
  clocks.load(reader);

  http::stream::hub hub(io.get_executor());
  http::dashboard::context dashboard{policy, reader, tokens, time.now, hub};
  clocks.on_change([&dashboard](const store::change& changed) { http::dashboard::publish(dashboard, changed); });

  const auto integrations = http::webhooks::load_integrations(settings.file, settings.tiers);
  http::api::context api{policy, writer, reader, settings.tiers, tokens, time.now,
                         [&clocks, &dashboard](const store::change& changed) {
                           clocks.track(changed.request);
                           http::dashboard::publish(dashboard, changed);
                         },
                         integrations.customers,
                         [&integrations](model::request_id id) { return http::webhooks::reply_to(integrations, id); }};
  notify::delivery_worker notifier(io.get_executor(), writer, reader, notify::load_settings_file(settings.file), time.now);
  http::api::health health(io.get_executor(), writer);
  http::router routes;
  http::api::add_health_routes(routes, health);
  http::api::add_routes(routes, api);
  http::api::add_delivery_routes(routes, api);
  http::dashboard::add_routes(routes, dashboard);
  http::webhooks::context webhooks{api, integrations};
  http::webhooks::add_routes(routes, webhooks);

  const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(settings.listen.host),
                                                settings.listen.port);
  http::server server(io, endpoint, http::server_options{settings.max_body_bytes, std::chrono::seconds{30},
                                           http::webhooks::body_limits(integrations, settings.max_body_bytes)},
                      [&routes](http::request req) -> boost::asio::awaitable<http::response> {
                        co_return co_await routes.dispatch(req);
                      });
  server.set_takeover(http::dashboard::stream_handler(dashboard));
  server.start();
  notifier.start();

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    fmt::print(stderr, "switchboard: signal {} received, stopping\n", signal);
    health.shutting_down();
    server.stop();
    hub.close();
    clocks.stop();
    notifier.stop();
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
  std::string tokens_file;
  std::string clock_start;
  double clock_speed = 1.0;
  app.add_option("--config", config_path, "config file (TOML)")->capture_default_str();
  app.add_option("--clock-start", clock_start,
                 "run on a simulated clock starting at this ISO-8601 instant (demos and tests)");
  app.add_option("--clock-speed", clock_speed, "how many times faster the simulated clock runs")
      ->check(CLI::PositiveNumber);
  app.add_option("--tokens", tokens_file, "API tokens file ([[token]] person, role, sha256), overriding the config");
  app.add_option("--listen", listen, "HOST:PORT to listen on, overriding the config; port 0 picks a free one");
  app.add_option("--db", database, "SQLite database path, overriding the config");
  CLI11_PARSE(app, argc, argv);

  try {
    auto settings = config::load_settings(config_path);
    if (!listen.empty()) settings.listen = config::parse_listen_address(listen);
    if (!database.empty()) settings.database_path = database;
    if (!tokens_file.empty()) settings.tokens_file = tokens_file;
    std::optional<model::instant> start;
    if (!clock_start.empty()) {
      start = model::parse_instant(clock_start);
      if (!start) throw std::invalid_argument("--clock-start \"" + clock_start + "\" is not an ISO-8601 instant");
    }
    return serve(std::move(settings), make_time(start, clock_speed));
  } catch (const config::error& e) {
    fmt::print(stderr, "switchboard: cannot start: {}\n", e.what());
  } catch (const std::exception& e) {
    fmt::print(stderr, "switchboard: cannot start: {}\n", e.what());
  }
  return 1;
}
