// Crash test: clients file and act over many connections while a driver SIGKILLs and restarts
// the server at random moments. Afterwards everything acknowledged is there exactly once, and
// every request's read model equals what folding its event log computes. On both store adapters
// (support/server_backends.hpp): SQLite's file and a PostgreSQL schema.
//
// SWITCHBOARD_CRASH_ROUNDS (default 20) and SWITCHBOARD_CRASH_SEED (default: random, printed)
// make the long run and a reproduction: see README "Reliability".
#include "engine/engine.hpp"
#include "store/database.hpp"
#include "store/requests.hpp"
#include "support/server_backends.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/events.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

using namespace switchboard;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::atoi(value) : fallback;
}

// What the clients were told was stored, and the server they should talk to now.
struct ledger {
  std::mutex mutex;
  std::condition_variable changed;
  std::string url;                 // empty while the server is down
  std::uint64_t generation = 0;    // bumped on each restart
  std::uint64_t acknowledgements = 0;
  bool stop = false;
  std::set<model::request_id> filed;
  std::map<std::string, model::request_id> responses;  // message -> request it was sent on
};

// One client connection: file a troubleshooting request, answer it, pend it, now and then.
void run_client(ledger& book, int number) {
  std::uint64_t generation = 0;
  std::optional<http::client> ce;
  std::optional<http::client> se;
  std::vector<model::request_id> mine;
  for (int n = 0;; ++n) {
    {
      std::unique_lock lock(book.mutex);
      book.changed.wait(lock, [&] { return book.stop || !book.url.empty(); });
      if (book.stop) return;
      if (generation != book.generation || !ce) {
        generation = book.generation;
        ce.emplace(book.url, 5s);
        ce->set_token(testing::token_for(model::role::ce));
        se.emplace(book.url, 5s);
        se->set_token(testing::token_for(model::role::se));
      }
    }
    try {
      if (mine.empty() || n % 3 == 0) {
        const auto body = json::serialize(json::object{
            {"kind", "troubleshooting"},
            {"customer", json::object{{"id", fmt::format("c{}", number)}, {"name", "C"}, {"stage", "trial"}}},
            {"title", fmt::format("client {} request {}", number, n)}});
        const auto res = ce->post_json("/v1/requests", body);
        if (res.status != 201) continue;
        const auto id = json::parse(res.body).at("id").as_int64();
        mine.push_back(id);
        std::lock_guard lock(book.mutex);
        book.filed.insert(id);
        ++book.acknowledgements;
        book.changed.notify_all();
      } else {
        const auto id = mine[static_cast<std::size_t>(n) % mine.size()];
        const auto message = fmt::format("answer {}-{}", number, n);
        const auto type = n % 5 == 0 ? "pend" : "respond";
        const auto res = se->post_json(fmt::format("/v1/requests/{}/events", id),
                                       json::serialize(json::object{{"type", type}, {"message", message}}));
        if (res.status != 200) continue;
        std::lock_guard lock(book.mutex);
        book.responses.emplace(message, id);
        ++book.acknowledgements;
        book.changed.notify_all();
      }
    } catch (const std::exception&) {
      // The server died under us: what was not acknowledged may or may not be stored.
      std::unique_lock lock(book.mutex);
      book.changed.wait_for(lock, 50ms, [&] { return book.stop || book.generation != generation; });
    }
  }
}

}  // namespace

TEST_SUITE("reliability::crash") {
  TEST_CASE("SIGKILL at random moments under load loses nothing acknowledged and duplicates nothing") {
    testing::for_each_server_backend([&](testing::server_backend& backend) {
      const int rounds = env_int("SWITCHBOARD_CRASH_ROUNDS", 20);
      const auto seed = static_cast<unsigned>(env_int("SWITCHBOARD_CRASH_SEED", static_cast<int>(std::random_device{}() & 0x7fffffff)));
      MESSAGE("crash test on " << backend.name() << ": " << rounds << " rounds, SWITCHBOARD_CRASH_SEED=" << seed);
      std::mt19937 random(seed);
      constexpr int connections = 16;

      ledger book;
      std::vector<std::thread> clients;
      for (int c = 0; c < connections; ++c) clients.emplace_back(run_client, std::ref(book), c);

      for (int round = 0; round < rounds; ++round) {
        testing::server_process server(backend.args());
        std::uint64_t target = 0;
        {
          std::lock_guard lock(book.mutex);
          book.url = server.url();
          ++book.generation;
          // Kill after a random number of further acknowledgements: a moment in the middle of
          // the traffic, chosen by progress rather than by the wall clock.
          target = book.acknowledgements + std::uniform_int_distribution<std::uint64_t>(5, 120)(random);
          book.changed.notify_all();
        }
        {
          std::unique_lock lock(book.mutex);
          const bool reached = book.changed.wait_for(lock, 60s, [&] { return book.acknowledgements >= target; });
          REQUIRE_MESSAGE(reached, "round " << round << ": the clients made no progress\n" << server.stderr_text());
          book.url.clear();
        }
        server.kill();
      }
      {
        std::lock_guard lock(book.mutex);
        book.stop = true;
        book.changed.notify_all();
      }
      for (auto& t : clients) t.join();

      // One clean start after the last kill: migrations and recovery run, then it stops.
      { testing::server_process last(backend.args()); CHECK(last.terminate() == 0); }

      // What is stored, read through the store (the events, which the API shows only as JSON), on
      // a session of the backend's own with no server running.
      backend.inspect([&](store::read_session db) {
        std::size_t requests_checked = 0;
        std::size_t clocks_checked = 0;
        for (const auto id : book.filed) {
          const auto stored = store::find_request(db, id);
          REQUIRE_MESSAGE(stored.has_value(), "acknowledged request " << id << " is missing");
          const auto events = store::events_of(db, id);
          CHECK(std::count_if(events.begin(), events.end(), [](const auto& e) { return testing::type_of(e) == "request.created"; }) == 1);
          // The read model is what its events compute.
          model::request replayed;
          for (const auto& e : events) engine::apply(replayed, e);
          CHECK(replayed.status == stored->status);
          REQUIRE(replayed.clocks.size() == stored->clocks.size());
          for (std::size_t i = 0; i < stored->clocks.size(); ++i) {
            const auto& want = replayed.clocks[i];
            const auto& got = stored->clocks[i];
            INFO("request " << id << " clock " << i);
            CHECK(got.state == want.state);
            CHECK(got.used == want.used);
            CHECK(got.completed == want.completed);
            if (!got.completed) {
              CHECK(got.deadline == want.deadline);
              CHECK(got.warning_deadline == want.warning_deadline);
            }
            ++clocks_checked;
          }
          ++requests_checked;
        }
        // Every acknowledged answer is in its request's history exactly once.
        std::map<model::request_id, std::vector<engine::event>> histories;
        for (const auto& response : book.responses) {
          // Named, not a structured binding: clang 14 cannot capture one in the lambda below.
          const std::string& message = response.first;
          const model::request_id id = response.second;
          auto& events = histories[id];
          if (events.empty()) events = store::events_of(db, id);
          const auto copies = std::count_if(events.begin(), events.end(), [&](const engine::event& e) {
            const auto data = testing::data_of(e);
            const auto* text = data.if_contains("message");
            return text != nullptr && text->is_string() && text->as_string() == message;
          });
          CHECK_MESSAGE(copies == 1, "answer '" << message << "' on request " << id << " is stored " << copies << " times");
        }
        MESSAGE("checked " << requests_checked << " requests, " << clocks_checked << " clocks, " << book.responses.size()
                           << " answers after " << rounds << " kills");
        CHECK(requests_checked > 0);
        CHECK(book.responses.size() > 0);
      });
    });
  }
}
