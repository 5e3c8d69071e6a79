// Three instances on one PostgreSQL schema, one of them SIGKILLed (issue 12 §3 "Done means",
// plan §4 D6): servers A, B and C share one simulated clock (--clock-origin, at speed 10), a
// webhook receiver subscribed to every event, and dashboard viewers on B and C. Filings go
// round-robin through the three with Idempotency-Keys (some keys sent to two at once), actions
// through another instance than the filer; then the holder of the shard with the earliest
// pending breach is SIGKILLed before the breach falls due. The test waits (on conditions) past
// the last expected firing plus the lease, and checks that every acknowledged request is stored
// once, every SLA warning, breach and escalation level is recorded once at the instant its clock
// said before the kill, every outbox row reached the receiver with one webhook-id per event and
// subscription, and the viewers on the survivors saw every event once (in commit order per
// request is not asserted: see check 4). Needs
// SWITCHBOARD_TEST_DATABASE_URL ("postgres skipped" without it); real servers, so release stage
// only (SWITCHBOARD_TEST_POSTGRES_SERVERS).
#include "http/client.hpp"
#include "model/instant.hpp"
#include "store/postgres/test_database.hpp"
#include "store/timer_leases.hpp"
#include "support/api.hpp"
#include "support/at_once.hpp"
#include "support/configs.hpp"
#include "support/eventually.hpp"
#include "support/server_process.hpp"
#include "support/sse_viewer.hpp"
#include "support/temp_dir.hpp"
#include "support/webhook_receiver.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace switchboard;
using namespace std::chrono_literals;
namespace json = boost::json;
using model::role;

namespace {

constexpr int speed = 10;              // simulated seconds per wall second
constexpr std::int64_t target = 60;    // first_response, simulated seconds (warning at half)
constexpr std::array<std::int64_t, 3> levels{0, 20, 40};  // the sla_breach ladder, after the breach
constexpr int lease_seconds = 2;
constexpr int filings = 45;
constexpr const char* hook_secret_env = "SWITCHBOARD_TEST_CLUSTER_SECRET";

// fast_config's shape at speed 10's scale: only first_response falls due within the test (a
// warning at 30 s, the breach at 60 s, the ladder 0, 20 and 40 s after it); everything else
// after an hour. The notifier sends every event to the receiver, and a dead instance's claimed
// rows are taken over after 5 s.
std::string cluster_config(const testing::temp_dir& dir, std::uint16_t hooks_port) {
  return testing::config_on_always_calendar(dir, testing::test_people("always") + fmt::format(R"(
[[sla.policy]]
name = "fast"
kinds = ["troubleshooting"]
calendar = "always"
metrics = [
  {{ metric = "first_response", target = "{0}s", warning = 0.5 }},
  {{ metric = "next_response", target = "1h" }},
  {{ metric = "resolution", target = "1h" }},
]

[[escalation.ladder]]
name = "sla_breach"
calendar = "always"
repeat_every = "1h"
levels = [
  {{ after = "{1}s", notify = ["head_of_cs"] }},
  {{ after = "{2}s", notify = ["vp_technical_success"] }},
  {{ after = "{3}s", notify = ["vp_sales"] }},
]

[[escalation.ladder]]
name = "concern"
calendar = "always"
trigger_after = "1h"
levels = [{{ after = "0s", notify = ["vp_technical_success"] }}]

[storage]
backend = "postgres"
readers = 2
lease_seconds = {4}

[notify]
initial_backoff = "1s"
max_backoff = "2s"
timeout = "2s"
poll_interval = "1s"
lease = "5s"

[[notify.subscription]]
name = "receiver"
url = "http://127.0.0.1:{5}/hooks"
events = ["*"]
secret_env = "{6}"
allow_private = true
)",
                                                                                           target, levels[0], levels[1], levels[2],
                                                                                           lease_seconds, hooks_port, hook_secret_env));
}

std::string filing_body(int i) {
  return fmt::format(
      R"({{"kind":"troubleshooting","customer":{{"id":"acme","name":"Acme","stage":"trial"}},"title":"Cluster {}"}})", i);
}

// The process id in an instance id ("<host>:<pid>:<random>"); -1 for none (a lapsed lease's).
int pid_of(const std::string& instance) {
  const auto first = instance.find(':');
  if (first == std::string::npos) return -1;
  return std::stoi(instance.substr(first + 1, instance.find(':', first + 1) - first - 1));
}

// A viewer read on a thread of its own until stop(), so that the hub never finds it behind.
class background_viewer {
 public:
  explicit background_viewer(const testing::server_process& server) : viewer_(testing::subscribe(server)) {
    thread_ = std::thread([this] {
      while (!stopping_ && !viewer_->closed()) viewer_->read_until([this](const auto&) { return stopping_.load(); }, 1s);
    });
  }
  ~background_viewer() { stop(); }
  // Stops reading; frames() is safe to read after.
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  const testing::sse_viewer& viewer() const { return *viewer_; }

 private:
  std::unique_ptr<testing::sse_viewer> viewer_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// The firings (events with a firing key) stored so far: key -> (request, type, at).
struct firing {
  std::int64_t request;
  std::string type;
  std::int64_t at;
};
std::map<std::string, firing> firings_of(store::pq::connection& db) {
  std::map<std::string, firing> out;
  const auto rows = db.exec("SELECT firing_key, request_id, type, at FROM events WHERE firing_key IS NOT NULL");
  for (int i = 0; i < rows.rows(); ++i)
    out[std::string(rows.text(i, 0))] = {rows.integer(i, 1), std::string(rows.text(i, 2)), rows.integer(i, 3)};
  return out;
}

}  // namespace

TEST_SUITE("integration::postgres_cluster") {
  TEST_CASE("three instances, the timer holder SIGKILLed: every request, firing, webhook and viewer event once") {
    SWITCHBOARD_POSTGRES_SERVERS_OR_SKIP(url);
    const auto began = std::chrono::steady_clock::now();
    const auto since = [&] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count();
    };
    testing::postgres::test_schema schema(url);
    auto& db = schema.db();
    testing::temp_dir dir;
    testing::webhook_receiver hooks;
    ::setenv(hook_secret_env, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1);
    const auto config = cluster_config(dir, hooks.port());

    // One simulated timeline for all three: it reads `origin` at wall time `origin`, 10 times faster.
    const auto origin = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    const auto origin_s = origin.time_since_epoch().count();
    const std::vector<std::string> clock = {"--clock-start", model::format_instant(origin), "--clock-origin",
                                            std::to_string(origin_s), "--clock-speed", std::to_string(speed)};
    const auto simulated_now = [&] {
      const auto wall = std::chrono::duration<double>(std::chrono::system_clock::now() - origin).count();
      return static_cast<double>(origin_s) + wall * speed;
    };
    // The wall instant (steady clock) at which simulated instant `at` falls due.
    const auto wall_of = [&](std::int64_t at) {
      const auto ahead = std::chrono::duration<double>((static_cast<double>(at) - simulated_now()) / speed);
      return std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::milliseconds>(ahead);
    };
    std::vector<std::unique_ptr<testing::server_process>> servers;
    for (const char* name : {"a", "b", "c"}) {
      ::setenv("SWITCHBOARD_DATABASE_URL",
               testing::postgres::url_in_schema(url, schema.name(), fmt::format("sb_{}_{}", name, schema.name())).c_str(), 1);
      servers.push_back(std::make_unique<testing::server_process>(testing::server_args{config, "", clock}));
    }
    ::unsetenv("SWITCHBOARD_DATABASE_URL");
    // All three live and holding their share of the 64 shards (22, 21, 21).
    REQUIRE(testing::eventually([&] {
      return db.exec("SELECT COUNT(DISTINCT holder) = 3 AND COUNT(*) FILTER (WHERE holder IS NULL) = 0"
                     " AND MAX(n) <= 22 FROM (SELECT holder, COUNT(*) OVER (PARTITION BY holder) AS n FROM timer_leases) l")
                 .text(0, 0) == "t";
    }));
    std::vector<std::unique_ptr<background_viewer>> viewers;  // on B and on C
    viewers.push_back(std::make_unique<background_viewer>(*servers[1]));
    viewers.push_back(std::make_unique<background_viewer>(*servers[2]));

    // Load: filings round-robin, each with its own key; every fifth key sent to two instances at once.
    std::vector<http::client> ce;
    std::vector<http::client> se;
    for (const auto& s : servers) {
      ce.push_back(s->client(role::ce));
      se.push_back(s->client(role::se));
    }
    std::set<std::int64_t> acknowledged;
    std::vector<std::int64_t> filed(filings);
    int replays = 0;
    for (int i = 0; i < filings; ++i) {
      CAPTURE(i);
      const std::vector<std::pair<std::string, std::string>> key{{"Idempotency-Key", fmt::format("cluster-{}", i)}};
      const auto send = [&](http::client& c) { return c.request("POST", "/v1/requests", filing_body(i), "application/json", key); };
      if (i % 5 == 0) {
        // Named, not bound: clang 14 cannot capture a structured binding (doctest's macros do).
        const auto answers = testing::at_once(send, ce[i % 3], ce[(i + 1) % 3]);
        const auto& first = std::get<0>(answers);
        const auto& second = std::get<1>(answers);
        INFO(first.body, " / ", second.body);
        REQUIRE(first.status == 201);
        REQUIRE(second.status == 201);
        CHECK((first.header("Idempotent-Replayed") == "true") + (second.header("Idempotent-Replayed") == "true") == 1);
        REQUIRE(testing::json_of(first).at("id") == testing::json_of(second).at("id"));
        filed[i] = testing::json_of(first).at("id").as_int64();
        ++replays;
      } else {
        const auto filing = send(ce[i % 3]);
        INFO(filing.body);
        REQUIRE(filing.status == 201);
        filed[i] = testing::json_of(filing).at("id").as_int64();
      }
      acknowledged.insert(filed[i]);

      // Then an action on it through the next instance: respond, pend, customer_reply (SE owns
      // troubleshooting, so a CE has no handoff to make) or raise_concern. (Right away, so the
      // last breach is still ahead when the load ends, even on a slow machine.)
      const auto path = fmt::format("/v1/requests/{}/events", filed[i]);
      const auto on = (i + 1) % 3;
      http::client_response res;
      switch (i % 5) {
        case 1: res = se[on].post_json(path, R"({"type":"respond","message":"Looking now"})"); break;
        case 2: res = se[on].post_json(path, R"({"type":"pend","message":"Logs?"})"); break;
        case 3: res = ce[on].post_json(path, R"({"type":"customer_reply","message":"Still failing"})"); break;
        case 4: res = ce[on].post_json(path, R"({"type":"raise_concern","message":"not in the customer's interest"})"); break;
        default: continue;  // the key sent twice: no action
      }
      INFO(res.body);
      REQUIRE(res.status == 200);
      if (i % 5 == 4) acknowledged.insert(testing::json_of(res).at("created").at("id").as_int64());
    }
    const auto loaded = std::chrono::steady_clock::now();

    // Before the kill, in one snapshot: each open, running first_response clock's deadline (its
    // warning, breach and ladder follow from it), and the firings recorded so far.
    db.exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
    std::map<std::int64_t, std::int64_t> deadline_of;  // request -> first_response deadline
    std::map<std::int64_t, bool> breached;
    const auto clocks = db.exec(
        "SELECT request_id, deadline, breached FROM clocks WHERE metric = 'first_response' AND open = 1 AND paused = 0"
        " AND deadline IS NOT NULL");
    for (int i = 0; i < clocks.rows(); ++i) {
      deadline_of[clocks.integer(i, 0)] = clocks.integer(i, 1);
      breached[clocks.integer(i, 0)] = clocks.integer(i, 2) != 0;
    }
    const auto before_kill = firings_of(db);
    const auto leases = db.exec("SELECT shard, holder FROM timer_leases");
    db.exec("COMMIT");
    std::map<int, std::string> holder_of;
    for (int i = 0; i < leases.rows(); ++i) holder_of[static_cast<int>(leases.integer(i, 0))] = leases.text(i, 1);

    // The victim: the holder of the shard whose pending breach falls due first, at least half a
    // wall second from now (so it is still pending when the kill lands).
    std::int64_t earliest = 0;
    std::int64_t earliest_request = 0;
    // A shard whose lease lapsed (no instance renewed it in time on a loaded machine) has no
    // holder to kill: its breach is left out.
    const auto held = [&](std::int64_t request) {
      const auto holder = holder_of.find(store::shard_of(request));
      return holder != holder_of.end() && pid_of(holder->second) != -1;
    };
    for (const auto& [request, deadline] : deadline_of)
      if (!breached.at(request) && held(request) && deadline > simulated_now() + speed / 2 &&
          (earliest == 0 || deadline < earliest)) {
        earliest = deadline;
        earliest_request = request;
      }
    REQUIRE_MESSAGE(earliest != 0, "no breach pending: the load took too long for the simulated clock");
    const auto victim_pid = pid_of(holder_of.at(store::shard_of(earliest_request)));
    const auto victim = static_cast<std::size_t>(
        std::find_if(servers.begin(), servers.end(), [&](const auto& s) { return s->pid() == victim_pid; }) -
        servers.begin());
    REQUIRE(victim < servers.size());
    servers[victim]->kill();
    const auto kill_ms = since();
    const auto killed_at = simulated_now();
    CHECK(static_cast<double>(earliest) > killed_at);  // killed before the breach fell due
    std::set<int> victim_shards;
    for (const auto& [shard, holder] : holder_of)
      if (pid_of(holder) == victim_pid) victim_shards.insert(shard);
    int taken_over = 0;  // breaches of the victim's shards that fall due after the kill
    for (const auto& [request, deadline] : deadline_of)
      if (victim_shards.contains(store::shard_of(request)) && static_cast<double>(deadline) > killed_at) ++taken_over;

    // What must be recorded: for each running clock, the warning, the breach, the ladder's
    // trigger and three levels, at the instants its deadline gives; nothing else after the kill.
    std::int64_t last = 0;
    std::size_t expected_notified = 0;
    for (const auto& [request, deadline] : deadline_of) {
      last = std::max(last, deadline + levels.back());
      expected_notified += levels.size();
    }
    REQUIRE(last != 0);
    const auto count = [&](const std::string& sql) { return db.exec(sql).integer(0, 0); };
    const auto notified = [&] {
      return static_cast<std::size_t>(db.exec("SELECT COUNT(*) FROM events WHERE type = 'escalation.notified'").integer(0, 0));
    };
    CHECK(testing::eventually([&] { return notified() >= expected_notified; }, 60s));
    // Past the last instant, plus a lease and a margin: a late or second firing would be in by now.
    const auto quiet = wall_of(last) + std::chrono::seconds(lease_seconds) + 2s;
    CHECK(testing::eventually([&] { return std::chrono::steady_clock::now() >= quiet; }, 60s));
    const auto quiet_ms = since();
    const auto undelivered_at_quiet = count("SELECT COUNT(*) FROM outbox WHERE state <> 'delivered'");
    // The survivors hold every shard between them.
    CHECK(testing::eventually([&] {
      return db.exec(fmt::format("SELECT COUNT(*) FROM timer_leases WHERE holder IS NULL OR holder LIKE '%:{}:%'", victim_pid))
                 .integer(0, 0) == 0;
    }));
    // Every outbox row delivered (each instance sends at most 8 at a time, one claim a poll).
    CHECK(testing::eventually(
        [&] { return count("SELECT COUNT(*) FROM outbox WHERE state <> 'delivered'") == 0; }, 60s));
    const auto delivered_ms = since();

    // 1. Every acknowledged id is stored once, and nothing else is.
    CHECK(count("SELECT COUNT(*) FROM requests") == static_cast<std::int64_t>(acknowledged.size()));
    for (const auto id : acknowledged) {
      CAPTURE(id);
      CHECK(count(fmt::format("SELECT COUNT(*) FROM requests WHERE id = {}", id)) == 1);
    }
    CHECK(count("SELECT COUNT(*) FROM idempotency_keys WHERE status = 0") == 0);  // no claim left pending

    // 2. Each firing once, at its instant.
    CHECK(db.exec("SELECT firing_key FROM events WHERE firing_key IS NOT NULL GROUP BY firing_key HAVING COUNT(*) > 1")
              .rows() == 0);
    const auto after = firings_of(db);
    std::map<std::int64_t, std::map<std::string, std::vector<std::int64_t>>> fired;  // request -> type -> instants
    for (const auto& [key, f] : after) fired[f.request][f.type].push_back(f.at);
    for (auto& [request, types] : fired)
      for (auto& [type, instants] : types) std::sort(instants.begin(), instants.end());
    const std::map<std::int64_t, std::int64_t> created = [&] {
      std::map<std::int64_t, std::int64_t> out;
      const auto rows = db.exec("SELECT id, created_at FROM requests");
      for (int i = 0; i < rows.rows(); ++i) out[rows.integer(i, 0)] = rows.integer(i, 1);
      return out;
    }();
    for (const auto& entry : deadline_of) {
      const auto request = entry.first;
      const auto deadline = entry.second;
      CAPTURE(request);
      CHECK(deadline == created.at(request) + target);  // the clock the engine planned, on a 24x7 calendar
      auto& types = fired[request];
      CHECK(types["sla.warning"] == std::vector<std::int64_t>{deadline - target / 2});
      CHECK(types["sla.breached"] == std::vector<std::int64_t>{deadline});
      CHECK(types["escalation.triggered"] == std::vector<std::int64_t>{deadline});
      CHECK(types["escalation.notified"] ==
            std::vector<std::int64_t>{deadline + levels[0], deadline + levels[1], deadline + levels[2]});
      std::size_t total = 0;
      for (const auto& [type, instants] : types) total += instants.size();
      CHECK(total == 6);
    }
    // A request without a running clock at the kill fired nothing after it, and what it fired
    // before was its warning, at half its target.
    for (const auto& entry : after) {
      const auto& key = entry.first;
      const auto& f = entry.second;
      if (deadline_of.contains(f.request)) continue;
      CAPTURE(key);
      CHECK(before_kill.contains(key));
      CHECK(f.type == "sla.warning");
      CHECK(f.at == created.at(f.request) + target / 2);
    }
    CHECK(count("SELECT COUNT(*) FROM events WHERE firing_key IS NOT NULL AND firing_key NOT LIKE '%:first_response:%'"
                " AND type LIKE 'sla.%'") == 0);

    // 3. The outbox: each event once per subscription, with one webhook-id; each row's
    // webhook-id reached the receiver (again only with the same id).
    CHECK(db.exec("SELECT event_seq, subscription FROM outbox GROUP BY 1, 2 HAVING COUNT(*) > 1").rows() == 0);
    CHECK(count("SELECT COUNT(*) FROM events e WHERE NOT EXISTS"
                " (SELECT 1 FROM outbox o WHERE o.event_seq = e.seq AND o.subscription = 'receiver')") == 0);
    const auto received = hooks.received();
    const auto rows = db.exec("SELECT webhook_id FROM outbox WHERE subscription = 'receiver'");
    int sent_again = 0;
    for (int i = 0; i < rows.rows(); ++i) {
      const auto webhook_id = std::string(rows.text(i, 0));
      CAPTURE(webhook_id);
      const auto it = received.find(webhook_id);
      CHECK(it != received.end());
      if (it != received.end()) sent_again += it->second - 1;
    }
    CHECK(received.size() == static_cast<std::size_t>(rows.rows()));  // no webhook-id the outbox does not hold

    // 4. The viewers on the survivors saw every event once: all of them were committed after
    // the viewers connected. Not necessarily in commit order: an instance publishes its own
    // changes at once, and another's after reading them on NOTIFY, so an action it commits
    // right after another instance's filing can reach its viewers first (counted below).
    for (auto& v : viewers) v->stop();
    std::map<std::int64_t, std::vector<std::string>> stored;
    const auto events = db.exec("SELECT request_id, type FROM events ORDER BY seq");
    for (int i = 0; i < events.rows(); ++i) stored[events.integer(i, 0)].emplace_back(events.text(i, 1));
    int out_of_order = 0;
    for (std::size_t v = 0; v < viewers.size(); ++v) {
      if (v + 1 == victim) continue;  // B is servers[1], C servers[2]
      const auto& frames = viewers[v]->viewer().frames();
      CAPTURE(v);
      CHECK(std::none_of(frames.begin(), frames.end(), [](const auto& f) { return f.event == "resync"; }));
      auto seen = testing::change_types_by_request(frames);
      CHECK(seen.size() == stored.size());
      for (const auto& entry : stored) {
        const auto request = entry.first;
        const auto& types = entry.second;
        CAPTURE(request);
        auto saw = seen[request];
        INFO("seen: ", fmt::format("{}", fmt::join(saw, " ")), "\nstored: ", fmt::format("{}", fmt::join(types, " ")));
        if (saw != types) ++out_of_order;
        auto expected = types;
        std::sort(saw.begin(), saw.end());
        std::sort(expected.begin(), expected.end());
        CHECK(saw == expected);
      }
    }

    MESSAGE(fmt::format(
        "{} requests ({} keys sent twice), {} running clocks at the kill; killed {} ({} shards, {} breaches it held fell due"
        " after); {} firings ({} after the kill); {} outbox rows, {} sent again with the same id; {} events;"
        " {} requests' events reached a viewer in another order than committed;"
        " load {} ms, kill at {} ms, quiet at {} ms ({} rows not yet delivered), all delivered at {} ms, whole case {} ms",
        acknowledged.size(), replays, deadline_of.size(), "ABC"[victim], victim_shards.size(), taken_over, after.size(),
        after.size() - before_kill.size(), rows.rows(), sent_again, events.rows(), out_of_order,
        std::chrono::duration_cast<std::chrono::milliseconds>(loaded - began).count(), kill_ms, quiet_ms,
        undelivered_at_quiet, delivered_ms, since()));
    ::unsetenv(hook_secret_env);
  }
}
