// The switchboard server: config to wiring, then serve until SIGINT or SIGTERM.
#include "app/version.hpp"
#include "codec/json.hpp"
#include "config/error.hpp"
#include "config/people.hpp"
#include "config/reload.hpp"
#include "config/settings.hpp"
#include "config/tokens.hpp"
#include "config/use_cases.hpp"
#include "engine/assignment.hpp"
#include "http/api/api.hpp"
#include "http/api/customers.hpp"
#include "http/api/deliveries.hpp"
#include "http/api/imports.hpp"
#include "http/api/health.hpp"
#include "http/api/openapi.hpp"
#include "http/customer_book.hpp"
#include "http/dashboard/dashboard.hpp"
#include "http/dashboard/relay.hpp"
#include "http/descriptors.hpp"
#include "http/server.hpp"
#include "http/stream/hub.hpp"
#include "http/webhooks/webhooks.hpp"
#include "model/instant.hpp"
#include "notify/signing.hpp"
#include "notify/worker.hpp"
#include "observe/log.hpp"
#include "observe/metrics.hpp"
#include "outbound/config.hpp"
#include "outbound/slack_api.hpp"
#include "policy/load.hpp"
#include "rules/in_force.hpp"
#include "scheduler/scheduler.hpp"
#include "store/clocks.hpp"
#include "store/committer.hpp"
#include "store/customers.hpp"
#include "store/database.hpp"
#include "store/lease_keeper.hpp"
#include "store/reader_pool.hpp"
#include "store/requests.hpp"
#include "store/storage.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <unistd.h>

namespace {

using namespace switchboard;

// Counts what one committed change recorded: SLA warnings and breaches by policy and metric,
// escalation notifications by ladder and level. Called only with this instance's own changes
// (the API's and the scheduler's, not the change feed's from other instances), so a fleet's
// sum counts each event once.
void count_recorded(observe::service_metrics& metrics, const store::change& changed) {
  for (const auto& e : changed.events) {
    if (const auto* clock = std::get_if<model::clock_changed>(&e.data)) {
      if (clock->kind == model::clock_change::warning)
        metrics.sla_warnings.add({clock->clock.policy, model::to_string(clock->clock.metric)});
      else if (clock->kind == model::clock_change::breached)
        metrics.sla_breaches.add({clock->clock.policy, model::to_string(clock->clock.metric)});
    } else if (const auto* notified = std::get_if<model::escalation_notified>(&e.data)) {
      metrics.escalation_notifications.add({notified->step.ladder, std::to_string(notified->level)});
    }
  }
}

// The engine's time: the system clock, or a simulated one that starts at `start` and runs
// `speed` times faster (for demos and tests of business-time behaviour). The simulated clock
// reads `start` at wall time `origin` (--clock-origin, Unix seconds), or at this process's start
// without one: several instances given the same start, speed and origin share one simulated
// timeline, simulated = start + (wall - origin) * speed.
scheduler::time_source make_time(std::optional<model::instant> start, double speed,
                                 std::optional<std::int64_t> origin = std::nullopt) {
  using clock = std::chrono::system_clock;
  if (!start)
    return {[] { return std::chrono::floor<std::chrono::seconds>(clock::now()); },
            [](model::instant at) { return clock::time_point(at); }, 1.0};
  const auto started = origin ? clock::time_point(std::chrono::seconds{*origin}) : clock::now();
  return {[=] {
            const auto elapsed = std::chrono::duration<double>(clock::now() - started) * speed;
            return *start + std::chrono::floor<std::chrono::seconds>(elapsed);
          },
          [=](model::instant at) {
            // A slow clock (tests freeze time with a speed of 1e-6) puts a due instant hours
            // away centuries of wall time ahead, past what a nanosecond time_point holds: wait
            // at most a year of wall time, after which the scheduler looks again.
            constexpr double year = 365.0 * 24 * 3600;
            const auto simulated = std::clamp((at - *start).count() / speed, -year, year);
            return started + std::chrono::ceil<clock::duration>(std::chrono::duration<double>(simulated));
          },
          speed};
}

// This process among the instances on one database: hostname:pid:random, random so that a
// restarted process that gets the same pid is another instance.
std::string make_instance_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "localhost");
  std::string name;
  for (const char* c = host; *c != '\0' && name.size() < 200; ++c)
    name += (*c > 0x20 && *c < 0x7f && *c != '"' && *c != '\\') ? *c : '_';
  std::random_device random;
  return fmt::format("{}:{}:{:08x}", name, ::getpid(), random());
}

// The path the server hands to the dashboard's stream before the router (server::set_takeover):
// a GET route like the others for clients and for the OpenAPI check.
constexpr std::string_view stream_path = "/v1/dashboard/stream";

// `switchboard --check-openapi`: the wiring's route table against the embedded document.
int check_openapi(const http::router& routes, std::string_view document) {
  auto patterns = routes.patterns();
  patterns.emplace_back(http::beast_http::verb::get, std::string(stream_path));
  const auto differences = http::openapi::compare(patterns, document);
  for (const auto& line : differences) fmt::print("{}\n", line);
  if (!differences.empty()) return 1;
  fmt::print("openapi: {} operations, the router and the document agree\n", patterns.size());
  return 0;
}

// check_document: build the route table as serving would, compare it with this OpenAPI
// document (check_openapi), and stop before listening.
// tokens_override: the --tokens path, which SIGHUP's reload reads again instead of the config's.
int serve(config::settings settings, scheduler::time_source time, std::optional<model::instant> simulated_start,
          const std::string& tokens_override, const std::optional<std::string>& check_document = std::nullopt) {
  const std::string instance = make_instance_id();
  auto loaded_policy = policy::load(settings);
  // After the policy: people work on its calendars. The engine reads them from the policy (take,
  // assign, and the people an escalation reaches).
  loaded_policy.people = config::load_people_of(settings.file, config::names_of(loaded_policy.sla.calendars),
                                                loaded_policy.sla.calendar_name("support").value_or("support"));
  // SIGHUP may put new routing rules in force (rules/in_force.hpp); filings route by these.
  loaded_policy.routing_in_force = std::make_shared<rules::rules_in_force>(loaded_policy.routing);
  const auto& policy = loaded_policy;
  const auto& people = policy.people;
  // Not const: SIGHUP puts a re-read tokens file in force (token_table::replace).
  config::token_table tokens(settings.tokens_file.empty() ? std::vector<config::token_entry>{}
                                                                 : config::load_token_file(settings.tokens_file));
  if (!settings.tokens_file.empty()) config::check_token_file_people(people, settings.tokens_file);
  if (people.empty())
    observe::log(observe::log_level::warning,
                 "no people directory ([[people]]): tokens and Slack users name people unchecked");
  if (tokens.size() == 0)
    observe::log(observe::log_level::warning,
                 "no API tokens configured ([auth] tokens_file): every API call will get 401");
  // A strategy with nobody to choose from leaves every request of the team unassigned: say so once.
  for (const auto& entry : policy.assignment)
    if (engine::members_of(policy, entry.first).empty())
      observe::log(observe::log_level::warning,
                   fmt::format("[assignment.{0}] has no members in [[people]] (team = \"{0}\"): its requests stay "
                               "unassigned",
                               model::to_string(entry.first)));

  const bool on_sqlite = settings.storage_kind == config::storage_backend::sqlite;
  if (on_sqlite && settings.database_path != ":memory:") {
    // Folders made here hold the database alone: only their owner may enter them, whatever the
    // umask (each missing one, not only the last, which create_directories would make 0777 & ~umask).
    std::vector<std::filesystem::path> missing;
    for (auto folder = std::filesystem::path(settings.database_path).parent_path();
         !folder.empty() && !std::filesystem::exists(folder); folder = folder.parent_path()) {
      missing.push_back(folder);
      if (folder == folder.parent_path()) break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it)
      if (std::filesystem::create_directory(*it))
        std::filesystem::permissions(*it, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace);
  }

  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned io_threads = settings.io_threads == 0 ? cores : settings.io_threads;
  const unsigned worker_threads = settings.worker_threads == 0 ? cores : settings.worker_threads;
  boost::asio::io_context io{static_cast<int>(io_threads)};
  // Heavy handlers (MIME parsing, large JSON) run here, never on the I/O threads.
  boost::asio::thread_pool workers(worker_threads);
  // Inbound mail is parsed here: a burst of it waits its turn without holding up the API.
  boost::asio::thread_pool intake(settings.intake_threads);
  // What shares state (the scheduler's and notifier's read connection, the scheduler, the live
  // hub, the notifier, the few handlers not offloaded) runs on this one strand; connections run
  // on their own strands on every I/O thread. API reads run on the worker pool, each with a
  // connection of its own from the read pool: a long read holds up neither.
  const boost::asio::any_io_executor app = boost::asio::make_strand(io);

  // Before the storage: its committer observes batch sizes until it is gone.
  observe::service_metrics metrics;
  // After the io_context: the committer's last completions may still post to it.
  store::storage_options storage_options;
  storage_options.path = settings.database_path;
  storage_options.readers = settings.storage_readers == 0 ? worker_threads : settings.storage_readers;
  storage_options.connect_wait = std::chrono::milliseconds{settings.storage_connect_wait_ms};
  storage_options.instance = instance;
  if (!on_sqlite) {
    storage_options.kind = store::storage_options::backend::postgres;
    // Never from the file: the URL holds the password.
    const char* url = std::getenv("SWITCHBOARD_DATABASE_URL");
    if (url == nullptr || *url == '\0')
      throw std::invalid_argument(
          "[storage] backend = \"postgres\" needs the database's URL in the environment variable SWITCHBOARD_DATABASE_URL "
          "(postgresql://user:password@host:5432/dbname; several hosts with ?target_session_attrs=read-write)");
    storage_options.url = url;
  }
  const std::string database_url = storage_options.url;
  // With backend "sqlite", the file is held until the process ends: a second server on it refuses to start.
  store::server_storage storage(std::move(storage_options));

  const auto integrations = http::webhooks::load_integrations(settings.file, settings.tiers);
  http::webhooks::check_slack_people(integrations, people);
  http::webhooks::check_account_teams(integrations, people);
  http::webhooks::check_body_budget(integrations, settings.file, settings.max_unauthenticated_body_bytes);
  std::string crm_webhook_key;
  if (!integrations.crm_webhook_secret.empty()) {
    const auto key = notify::decode_secret(integrations.crm_webhook_secret);
    if (!key)
      throw std::invalid_argument("SWITCHBOARD_CRM_WEBHOOK_SECRET is not a Standard Webhooks secret: expected whsec_ "
                                  "followed by the base64 of at least 16 random bytes");
    crm_webhook_key = *key;
  }
  // Customers as data (issue 13 §5): the directory every channel files with is the customers
  // table, seeded below from the config and read once the storage has started.
  http::customer_book customers(integrations.customers);

  {
    // Open clocks against this config, before anything is scheduled: refuse a config that
    // dropped a calendar or policy they use, and re-time the rest to it (only when the config or
    // zone data changed since they were last checked).
    auto db = storage.setup();
    // A simulated clock started before what is already recorded would file, meet and breach
    // clocks before they started (a restart that meant to go on from the last run, mistyped).
    // With --clock-origin the clock is already past its start (another instance of the same
    // timeline recorded since): what must not be behind the stored events is its current reading.
    const auto reading = time.now();
    if (simulated_start)
      if (const auto newest = store::newest_event_at(db); newest && reading < *newest)
        throw std::invalid_argument(fmt::format(
            "--clock-start {} is before the newest stored event ({}){}: a simulated clock must not run recorded "
            "history backwards; start at or after it",
            model::format_instant(*simulated_start), model::format_instant(*newest),
            reading == *simulated_start ? ""
                                        : fmt::format(" and so is its reading now, {}", model::format_instant(reading))));
    const auto retimed = store::align_open_clocks(db, policy, time.now(),
                                                  store::planning_fingerprint(settings.file, policy));
    if (retimed && retimed->total() > 0)
      observe::log(
          observe::log_level::info,
          fmt::format("re-timed to the changed config: {} open SLA clock(s) (sla.retimed), {} open "
                      "escalation(s) (escalation.retimed), {} concern deadline(s) (request.concern_deadline_retimed), {} "
                      "review deadline(s) and closing(s) (request.review_due_retimed, request.close_due_retimed)",
                      retimed->clocks, retimed->escalations, retimed->concern_deadlines, retimed->lifecycle_deadlines));
    // Not refused (unlike a calendar or policy open clocks use): such escalations are handled,
    // but whoever removed the ladder should know they no longer climb. `rules check --db` says
    // the same.
    for (const auto& removed : store::removed_ladders(db, policy))
      observe::log(observe::log_level::warning, store::removed_ladder_warning(removed, policy.ladders_at),
                   observe::warning_prefix);
    // The config's customers the table lacks are inserted; one changed through the API or the
    // CRM stays as it is, and each such disagreement with the config is reported once, here.
    std::vector<http::customer_override> overrides;
    store::in_transaction(db, [&](store::unit_of_work work) {
      overrides = http::seed_customers(work, integrations.customers, time.now());
    });
    for (const auto& found : overrides)
      observe::log(observe::log_level::warning, http::override_warning(found), observe::warning_prefix);
    // A stored account team (set through the API or the CRM) may name someone who has since left
    // the directory: their concerns would go unassigned and their notices nowhere, so say so.
    if (!people.empty())
      for (const auto& stored : store::read_customer_table(db).customers) {
        const auto& team = stored.customer.account_team;
        for (const auto& [member, role] : {std::pair{team.ae, "ae"}, std::pair{team.ce, "ce"}, std::pair{team.ta, "ta"}})
          if (!member.empty() && people.find(member) == nullptr)
            observe::log(observe::log_level::warning,
                         fmt::format("customer {}'s account team (last set by {}, source {}) names {} \"{}\", who is "
                                     "not in the people directory: {}; change it with PUT /v1/customers/{}",
                                     stored.customer.id, stored.updated_by, store::to_string(stored.source), role,
                                     member,
                                     std::string_view(role) == "ce" ? "a concern about its requests goes unassigned"
                                                                    : "nobody is told in their place",
                                     stored.customer.id),
                         observe::warning_prefix);
      }
  }

  storage.start();
  store::committer& writer = storage.writer();
  writer.observe_batch_sizes(&metrics.commit_batch_size);
  const store::read_session reader = storage.reader();
  store::reader_pool& readers = storage.readers();

  // Timers: this instance plans and fires the shards it holds (store/timer_leases.hpp). With the
  // embedded database one local lease holds them all; on PostgreSQL a thread renews the leases
  // every lease/10 and claims this instance's fair share.
  scheduler::scheduler clocks(app, writer, policy, time, instance);
  auto leases = on_sqlite ? store::lease_keeper::local(instance)
                          : store::lease_keeper::postgres(database_url, instance,
                                                          std::chrono::milliseconds{settings.storage_lease_seconds * 1000});
  // Set on the app strand when loading timers failed (the read session was lost, the database is
  // restarting): the next lease round loads every held shard again. A failure there must not
  // escape the strand's handler, which would stop the server.
  auto reload_next = std::make_shared<bool>(false);
  {
    // The first round runs here, before the io_context: its shards load at once (a failure
    // there fails the start). Later rounds come from the keeper's thread and are handed to the
    // app strand. Every lease period, with other instances live, every held shard is loaded
    // again: timers their changes started reach this one only through the change feed.
    auto serving = std::make_shared<std::atomic<bool>>(false);
    auto rounds = std::make_shared<std::uint64_t>(0);
    leases->start([&clocks, &reader, app, serving, rounds, reload_next](const std::vector<store::shard_lease>& held,
                                                                        int live) {
      const bool periodic = live > 1 && ++*rounds % 10 == 0;
      if (!serving->load()) return clocks.hold(held, reader);
      boost::asio::post(app, [&clocks, &reader, held, periodic, reload_next] {
        const bool reload = periodic || std::exchange(*reload_next, false);
        try {
          clocks.hold(held, reader, reload);
        } catch (const std::exception& e) {
          *reload_next = true;
          observe::log(
              observe::log_level::error,
              fmt::format("loading the held shards' timers failed, again at the next lease round: {}", e.what()),
              "scheduler: ");
        }
      });
    });
    serving->store(true);
  }

  http::stream::hub hub(app);
  http::dashboard::context dashboard{policy, readers, tokens, time.now, hub};
  dashboard.max_page_bytes = settings.max_page_bytes;
  dashboard.clock_speed = time.speed;
  clocks.on_change([&dashboard, &metrics](const store::change& changed) {
    count_recorded(metrics, changed);
    http::dashboard::publish(dashboard, changed);
  });
  // PostgreSQL: the other instances' committed changes reach this one's viewers and scheduler as
  // its own do (store/change_feed.hpp); the embedded database has no other instance.
  std::optional<http::dashboard::relay> peers;
  if (auto* feed = storage.changes())
    peers.emplace(app, workers.get_executor(), *feed, readers, instance,
                  http::dashboard::relay::handlers{
                      [&clocks, &dashboard](const store::change& changed) {
                        clocks.track(changed.request);
                        http::dashboard::publish(dashboard, changed);
                      },
                      [&clocks, &hub, reader, reload_next] {
                        hub.resync("gap", "changes from other instances may be missing; reload the snapshot");
                        // Requests changed while nobody listened are planned again too; if the
                        // database cannot be read now, at the next lease round.
                        try {
                          clocks.reload(reader);
                        } catch (const std::exception& e) {
                          *reload_next = true;
                          observe::log(
                              observe::log_level::error,
                              fmt::format("reloading timers after the gap failed, again at the next lease round: {}",
                                          e.what()),
                              "scheduler: ");
                        }
                      }});

  customers.replace(store::read_customer_table(*readers.acquire()));
  const auto use_cases = config::load_use_cases_of(settings.file);
  config::check_use_case_dris(settings.file, people);
  if (!use_cases.configured)
    observe::log(observe::log_level::warning, "no use cases ([use_cases.<tag>]): a request's use_case is a free tag");
  // The outbox's message channels (store/messages.hpp): public answers to Slack and e-mail
  // requests are enqueued with their events, and what became of each is recorded on its request.
  // libcurl's global set-up must run before other threads use it.
  notify::message_channels channels;
  channels.email = outbound::load_email_settings_file(settings.file, integrations.support_address);
  if (channels.email) {
    outbound::smtp_global_init();
    if (!channels.email->smtp.username.empty() && channels.email->smtp.password.empty())
      observe::log(observe::log_level::warning, "[outbound.email] username is set but SWITCHBOARD_SMTP_PASSWORD is not",
                   observe::warning_prefix);
  } else {
    // People to be told by e-mail with nowhere to send it from: each notice would go dead at
    // once (visible in the delivery log only), so say it once here.
    std::vector<std::string> by_email;
    for (const auto& entry : people.by_id)
      if (entry.second.notified_by("email") && !entry.second.email.empty()) by_email.push_back(entry.first);
    if (!by_email.empty())
      observe::log(observe::log_level::warning,
                   fmt::format("{} {} notified by e-mail ({}{}), but there is no [outbound.email]: their notices go "
                               "dead, unsent, until it is configured",
                               by_email.size(), by_email.size() == 1 ? "person is" : "people are",
                               fmt::join(by_email.begin(), by_email.begin() + std::min<std::size_t>(by_email.size(), 5),
                                         ", "),
                               by_email.size() > 5 ? ", ..." : ""),
                   observe::warning_prefix);
  }
  channels.slack = outbound::load_slack_api_settings_file(settings.file);
  channels.reply_to = [&integrations](model::request_id id) { return http::webhooks::reply_to(integrations, id); };
  channels.policy = &policy;
  channels.public_url = settings.public_url;
  // The interactions route checks response_urls against the same base (channels moves to the worker).
  const auto slack_api = channels.slack.value_or(outbound::slack_api_settings{});
  // Told of committed changes from any thread (offloaded handlers run on the pool): the
  // scheduler and the hub are only touched on the app strand. Posted as a continuation: from an
  // I/O thread the work waits in that thread's own queue until its handler returns, instead of
  // waking the other I/O thread for a few microseconds of work (a wake-up costs more than the
  // work on this machine's paravirtualised scheduler: issue 11, filing at one connection).
  const auto app_continuation = boost::asio::prefer(app, boost::asio::execution::relationship.continuation);
  http::api::context api{policy, writer, readers, settings.tiers, tokens, time.now,
                         [&clocks, &dashboard, &metrics, app_continuation](const store::change& changed) {
                           count_recorded(metrics, changed);  // thread-safe: counted where it was told
                           boost::asio::dispatch(app_continuation, [&clocks, &dashboard, changed] {
                             clocks.track(changed.request);
                             http::dashboard::publish(dashboard, changed);
                           });
                         },
                         customers,
                         [&integrations](model::request_id id) { return http::webhooks::reply_to(integrations, id); }};
  api.use_cases = use_cases;
  api.crm_webhook_key = crm_webhook_key;
  api.max_page_bytes = settings.max_page_bytes;
  api.metrics = &metrics;
  notify::delivery_worker notifier(app, writer, reader, notify::load_settings_file(settings.file), time.now,
                                   std::move(channels));
  notifier.count_deliveries(&metrics.webhook_deliveries);
  // A verdict is reused for 1 s, and never longer than the deadline it was judged by.
  const std::chrono::milliseconds health_deadline{settings.health_deadline_ms};
  http::api::health health(app, writer, health_deadline, std::min(health_deadline, std::chrono::milliseconds{1000}));
  http::router routes;
  http::api::add_health_routes(routes, health);
  http::api::add_routes(routes, api);
  http::api::add_delivery_routes(routes, api);
  http::api::add_customer_routes(routes, api);
  http::api::add_import_routes(routes, api);
  http::dashboard::add_routes(routes, dashboard);
  http::webhooks::context webhooks{api, integrations};
  webhooks.slack_api = slack_api;
  webhooks.public_url = settings.public_url;
  http::webhooks::add_routes(routes, webhooks);
  http::openapi::add_routes(routes);
  if (check_document) return check_openapi(routes, *check_document);

  const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(settings.listen.host),
                                                settings.listen.port);
  http::server_options options;
  options.max_body_bytes = settings.max_body_bytes;
  options.header_timeout = std::chrono::seconds{settings.header_timeout_seconds};
  options.body_timeout = std::chrono::seconds{settings.body_timeout_seconds};
  options.write_timeout = std::chrono::seconds{settings.write_timeout_seconds};
  options.handler_timeout = std::chrono::seconds{settings.handler_timeout_seconds};
  // Descriptors for everything but client connections: the database's files or sessions (up to
  // three per embedded connection), outbound sockets, temporary files, epoll and timers, and
  // the 64 refused connections the server may be answering at once.
  const auto budget = http::budget_connections(settings.max_connections, 128 + 8 * worker_threads);
  if (!budget.warning.empty()) observe::log(observe::log_level::warning, budget.warning, observe::warning_prefix);
  options.max_connections = budget.max_connections;
  options.max_large_uploads = settings.max_large_uploads;
  options.max_connections_per_client = settings.max_connections_per_client;
  options.min_body_rate = settings.min_body_bytes_per_second;
  options.body_rate_grace = std::chrono::seconds{settings.body_rate_grace_seconds};
  options.large_body_bytes = settings.large_body_bytes;
  options.max_unauthenticated_body_bytes = settings.max_unauthenticated_body_bytes;
  options.max_buffered_response_bytes = settings.max_buffered_response_bytes;
  options.app_executor = app;
  options.worker_executor = workers.get_executor();
  options.intake_executor = intake.get_executor();
  options.max_intake_jobs = settings.max_intake_jobs;
  options.metrics = &metrics;
  http::server server(io, endpoint, options, routes);
  api.server_refusals = [&server] {
    const auto s = server.stats();
    return std::vector<std::pair<std::string, std::uint64_t>>{
        {"connections", s.refused_busy},           {"accept_failed", s.accept_failures},
        {"handler_timeout", s.handlers_abandoned}, {"unauthenticated_budget", s.refused_unauthenticated},
        {"body_too_slow", s.bodies_too_slow},      {"intake", s.refused_intake},
        {"buffered_answers", s.refused_responses}};
  };
  server.set_takeover(
      http::dashboard::stream_handler(dashboard),
      [](std::string_view target) { return target.substr(0, target.find('?')) == stream_path; },
      std::string(stream_path));
  server.start();
  notifier.start();
  if (peers) boost::asio::post(app, [&peers] { peers->start(); });

  // SIGHUP: the tokens file (checked against the people directory) and the routing rules again
  // (config/reload.hpp); what else changed is reported as needing a restart. An invalid file
  // changes nothing.
  config::config_watch watch(settings, tokens_override, config::names_of(policy.sla.calendars),
                             std::string(policy.sla.calendar_name("support").value_or("support")));
  boost::asio::signal_set reload_signals(app, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_reload = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    try {
      // Every table is checked as at start-up, also those that only take effect at a restart:
      // an invalid one would make that restart fail, so it is refused now, at its file:line:col
      // (a bad [assignment] strategy was reported as "needs a restart").
      auto next = policy::load(config::load_settings(settings.file));
      const auto outcome = watch.reload(tokens);
      observe::log(observe::log_level::info,
                   fmt::format("SIGHUP: reloaded tokens ({} \u2192 {})", outcome.tokens_before, outcome.tokens_after));
      // A dashboard stream was authorised once, when it opened: one opened with a revoked (or
      // demoted) token would go on receiving every change. Every viewer is told to reload, and
      // its page asks again with its token, which the server now refuses or judges anew.
      if (outcome.tokens_withdrawn > 0) {
        hub.resync("tokens_changed", "a token was revoked or changed; reload the snapshot");
        observe::log(observe::log_level::info,
                     fmt::format("SIGHUP: {} token(s) revoked or changed; every dashboard stream was ended",
                                 outcome.tokens_withdrawn));
      }
      if (outcome.rules_changed) {
        const auto count = next.routing.size();
        policy.routing_in_force->replace(std::move(next.routing));
        observe::log(observe::log_level::info,
                     fmt::format("SIGHUP: routing rules from {} in force ({} rules); requests filed from now on route "
                                 "by them",
                                 *outcome.rules_changed, count));
      }
      if (!outcome.needs_restart.empty())
        observe::log(observe::log_level::info,
                     fmt::format("SIGHUP: needs a restart: {}", fmt::join(outcome.needs_restart, ", ")));
      metrics.config_reloads.add({"applied"});
      metrics.config_restart_pending.set(outcome.needs_restart.empty() ? 0 : 1);
    } catch (const std::exception& e) {
      metrics.config_reloads.add({"refused"});
      observe::log(observe::log_level::error,
                   fmt::format("SIGHUP: reload refused, the old tokens and rules stay in force: {}", e.what()));
    }
    reload_signals.async_wait(on_reload);
  };
  reload_signals.async_wait(on_reload);

  // SIGTERM or SIGINT: stop accepting, answer what is in flight, then stop; after
  // shutdown_timeout_seconds, stop anyway.
  boost::asio::signal_set signals(app, SIGINT, SIGTERM);
  boost::asio::steady_timer deadline(app);
  std::atomic<bool> stopped{false};
  // PostgreSQL: another instance's change to a customer is in force here within about a second:
  // the table's version is polled every second on the worker pool, and the table re-read when it
  // moved (http/customer_book.hpp). The embedded database has one server, whose own PUTs
  // replace the directory.
  boost::asio::steady_timer customer_poll(app);
  bool customer_poll_failing = false;  // one poll at a time: the next is armed after this one ends
  std::function<void()> poll_customers = [&] {
    customer_poll.expires_after(std::chrono::seconds{1});
    customer_poll.async_wait([&](const boost::system::error_code& ec) {
      if (ec || stopped) return;
      boost::asio::post(workers, [&] {
        try {
          customers.refresh(*readers.acquire());
          customer_poll_failing = false;
        } catch (const std::exception& e) {
          if (!std::exchange(customer_poll_failing, true))
            observe::log(observe::log_level::error,
                         fmt::format("reading the customers table failed, the directory in force stays as it "
                                     "was until a read succeeds: {}",
                                     e.what()));
        }
        boost::asio::post(app, poll_customers);
      });
    });
  };
  if (!on_sqlite) boost::asio::post(app, poll_customers);
  const auto stop_everything = [&] {
    stopped = true;
    customer_poll.cancel();
    if (peers) peers->stop();
    clocks.stop();
    // A clean stop frees this instance's timer shards: the others claim them at their next round.
    leases->stop(true);
    notifier.stop();
    reload_signals.cancel();
    io.stop();
  };
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    observe::log(observe::log_level::info, fmt::format("signal {} received, finishing in-flight requests", signal));
    health.shutting_down();
    hub.close();
    deadline.expires_after(std::chrono::seconds{settings.shutdown_timeout_seconds});
    deadline.async_wait([&](const boost::system::error_code& timer_error) {
      if (timer_error) return;
      observe::log(observe::log_level::warning, fmt::format("in-flight requests still open after {} s, stopping anyway",
                                                            settings.shutdown_timeout_seconds));
      stop_everything();
    });
    server.shutdown([&] {
      // After a forced stop, the last connections end as the io_context is destroyed.
      if (stopped) return;
      boost::asio::post(app, [&] {
        deadline.cancel();
        observe::log(observe::log_level::info, "every request answered, stopping");
        stop_everything();
      });
    });
  });

  const auto bound = server.local_endpoint();
  // stdout's one line is for scripts that wait for the port (the tests, tools/bench); in json
  // format the log on stderr says it too, so that a log reader needs only stderr.
  fmt::print("switchboard: listening on http://{}:{}\n", bound.address().to_string(), bound.port());
  std::fflush(stdout);
  if (observe::current_log_format() == observe::log_format::json)
    observe::log(observe::log_level::info,
                 fmt::format("listening on http://{}:{}", bound.address().to_string(), bound.port()));
  observe::log(observe::log_level::info,
               fmt::format("{} as instance {}, rules {}, {} SLA clock(s) pending in {} timer shard(s) held, {} I/O and "
                           "{} worker and {} intake thread(s)",
                           storage.describe(), instance, settings.rules_path, clocks.size(), clocks.shards_held(),
                           io_threads, worker_threads, settings.intake_threads));
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < io_threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  intake.stop();
  intake.join();
  workers.stop();
  workers.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A file size limit (RLIMIT_FSIZE: `ulimit -f`, systemd's LimitFSIZE) reached by the database
  // would otherwise kill the server with SIGXFSZ; ignored, the write fails with EFBIG, the
  // storage refuses the batch and the server answers 503 storage_unavailable as on a full disk.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"switchboard: the customer-support request routing server"};
  app.set_version_flag("--version", build_info::version_text("switchboard"), "print the version and the commit built from");
  std::string config_path = "config/switchboard.toml";
  std::string listen;
  std::string database;
  std::string tokens_file;
  std::string clock_start;
  double clock_speed = 1.0;
  std::int64_t clock_origin = 0;
  app.add_option("--config", config_path, "config file (TOML)")->capture_default_str();
  auto* clock_start_option = app.add_option("--clock-start", clock_start,
                                            "run on a simulated clock starting at this ISO-8601 instant (demos and tests)");
  // A speed alone would be silently ignored (real time runs at 1x): refuse it instead.
  app.add_option("--clock-speed", clock_speed, "how many times faster the simulated clock runs (needs --clock-start)")
      ->check(CLI::PositiveNumber)
      ->needs(clock_start_option);
  app.add_option("--clock-origin", clock_origin,
                 "Unix seconds at which the simulated clock reads --clock-start (default: this process's start); "
                 "instances given the same start, speed and origin share one simulated clock")
      ->needs(clock_start_option);
  app.add_option("--tokens", tokens_file, "API tokens file ([[token]] person, role, sha256), overriding the config");
  app.add_option("--listen", listen, "HOST:PORT to listen on, overriding the config; port 0 picks a free one");
  app.add_option("--db", database, "database file path, overriding the config");
  std::string log_format;
  app.add_option("--log-format", log_format,
                 "stderr log lines as text (the default) or json (one object a line), overriding [server] log_format")
      ->check(CLI::IsMember({"text", "json"}));
  bool check = false;
  std::string check_document_path;
  app.add_flag("--check-openapi", check,
               "compare the route table with the OpenAPI document (GET /openapi.json), print the differences, "
               "exit 1 on any; listens on nothing and uses a throwaway database");
  app.add_option("--openapi-document", check_document_path,
                 "with --check-openapi: check this document file instead of the embedded one")
      ->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);
  // At once, so that a config that cannot be read is reported in the format asked for.
  if (!log_format.empty()) observe::set_log_format(*observe::parse_log_format(log_format));

  try {
    auto settings = config::load_settings(config_path);
    if (log_format.empty()) observe::set_log_format(*observe::parse_log_format(settings.log_format));
    if (!listen.empty()) settings.listen = config::parse_listen_address(listen);
    // A file named on the command line and then not used would let its user believe the data
    // is there: on PostgreSQL the database is SWITCHBOARD_DATABASE_URL's.
    if (!database.empty() && settings.storage_kind == config::storage_backend::postgres)
      throw std::invalid_argument("--db \"" + database + "\" names an embedded database file, but " + config_path +
                                  " sets [storage] backend = \"postgres\", whose database is SWITCHBOARD_DATABASE_URL's; "
                                  "drop --db, or use backend = \"sqlite\"");
    if (!database.empty()) settings.database_path = database;
    if (!tokens_file.empty()) settings.tokens_file = tokens_file;
    std::optional<model::instant> start;
    if (!clock_start.empty()) {
      start = model::parse_instant(clock_start);
      if (!start) throw std::invalid_argument("--clock-start \"" + clock_start +
                                    "\" is not an ISO-8601 instant with an offset whose date and time exist, like "
                                    "2026-11-20T17:30:00-08:00 (two digits for month, day, hour, minute and second; "
                                    "hours 00-23, minutes and seconds 00-59: no 24:00, no leap second 60)");
    }
    std::optional<std::int64_t> origin;
    if (app.count("--clock-origin") > 0) origin = clock_origin;
    if (!check_document_path.empty() && !check)
      throw std::invalid_argument("--openapi-document needs --check-openapi");
    if (check) {
      std::string document(http::openapi::document());
      if (!check_document_path.empty()) {
        std::ifstream in(check_document_path, std::ios::binary);
        document.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      }
      // The real wiring needs a database: a fresh one in a folder of its own, removed after.
      std::string folder = (std::filesystem::temp_directory_path() / "switchboard-openapi.XXXXXX").string();
      if (!mkdtemp(folder.data())) throw std::runtime_error("--check-openapi: cannot make a temporary folder");
      settings.database_path = (std::filesystem::path(folder) / "check.db").string();
      // The route table does not depend on the tokens: a fresh checkout (no var/tokens.toml yet)
      // or an install without tokens can still be checked. The config is still checked whole.
      settings.tokens_file.clear();
      int status = 1;
      try {
        status = serve(std::move(settings), make_time(start, clock_speed, origin), start, tokens_file, document);
      } catch (...) {
        std::filesystem::remove_all(folder);
        throw;
      }
      std::filesystem::remove_all(folder);
      return status;
    }
    return serve(std::move(settings), make_time(start, clock_speed, origin), start, tokens_file);
  } catch (const config::error& e) {
    observe::log(observe::log_level::error, fmt::format("cannot start: {}", e.what()));
  } catch (const std::exception& e) {
    observe::log(observe::log_level::error, fmt::format("cannot start: {}", e.what()));
  }
  return 1;
}
