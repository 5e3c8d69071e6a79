// The attacks of issue 11 section 1 against the real release server, each while a probe polls
// GET /healthz: the server must keep its peak memory within max_growth_mib of what it held
// before the attack, answer every probe, and answer none slower than max_probe_latency.
// The MIME part-count and nesting bombs live with the MIME caps (they reuse health_watch).
#include "engine/engine.hpp"
#include "http/client.hpp"
#include "http/webhooks/signature.hpp"
#include "support/api.hpp"
#include "support/configs.hpp"
#include "support/health_watch.hpp"
#include "support/raw_connection.hpp"
#include "support/sanitizer.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace switchboard;
namespace json = boost::json;
using model::role;
using testing::health_watch;
using testing::port_of;
using testing::raw_connection;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// The bounds every attack is held to (the README's "Reliability and limits" states them).
// Memory: the heaviest attack here was a 38 MiB Mailgun form, held about four times over while
// every part was parsed before the signature was checked (158 MiB measured; now the signature
// fields are scanned out first); the old bugs took 800 MiB to 6.4 GB.
constexpr double max_growth_mib = 200.0;

// Latency. The old bugs stalled /healthz for as long as the attack's work ran on the I/O thread
// (19-27 s). A fixed bound of 1 s failed on a saturated 2-core machine (load 6-10: 1.0-2.0 s,
// mostly attacks that move a lot of bytes, which the I/O threads must do), while work put back on
// the I/O thread stalls a probe for only 0.6-2 s now that parsing is linear (the 200,000 To
// addresses: 1.9-2.3 s at load 7). So two bounds, each a failure:
//  - no probe takes longer than max_probe_latency, on any machine: a stall of the old bugs' size;
//  - no probe is a stall of the attack: longer than the stall floor and than half the attack's
//    duration (from the baseline's end to finish()), i.e. /healthz held up for most of the
//    attack. The stall floor is quiet_stall_floor scaled by how slowly CPU work runs on this
//    machine now (1 / cpu_share, measured by the watch just before the attack: a probe's
//    queueing and the attack's work slow down alike), and at least four times the slowest
//    baseline probe (what /healthz takes here now with no attack at all).
// Checked: with the e-mail handlers run on the connection's strand instead of the worker pool,
// the 200,000 To addresses case fails by the second bound (on one I/O thread: one_io_thread).
constexpr auto max_probe_latency = 5000ms;
constexpr auto quiet_stall_floor = 400ms;

// In the sanitizer stage the server runs under AddressSanitizer, whose quarantine keeps freed
// memory resident (256 MiB by default) and whose checks slow every step: the memory bound says
// nothing there and is only printed, and the latency bounds are three times looser.
constexpr bool sanitized = testing::under_address_sanitizer;

// Files `count` requests with 60 KB bodies, for pages of many megabytes.
void file_large_requests(testing::server_process& server, int count) {
  auto ce = server.client(role::ce);
  for (int i = 0; i < count; ++i) {
    auto filing = json::parse(testing::troubleshooting_filing(fmt::format("Big {}", i))).as_object();
    filing["body"] = std::string(60000, 'x');
    REQUIRE(ce.post_json("/v1/requests", json::serialize(filing)).status == 201);
  }
}

void check_bounds(const char* attack, const health_watch::report& r) {
  using report = health_watch::report;
  using std::chrono::milliseconds;
  const int looser = sanitized ? 3 : 1;
  const auto baseline_max = report::quantile(r.baseline, 1.0);
  const auto stall_floor = std::max(
      milliseconds{static_cast<milliseconds::rep>(static_cast<double>(quiet_stall_floor.count()) / r.cpu_share)} * looser,
      4 * baseline_max);
  const auto stall = std::max(stall_floor, r.duration / 2);
  fmt::print(stderr,
             "abuse: {}: memory +{:.1f} MiB (baseline {} KiB, peak {} KiB), {} probes in {} ms, p99 {} ms, max {} ms, {} "
             "failed{}{}; before the attack: probes median {} ms, max {} ms, CPU share {:.2f}; a stall is over {} ms\n",
             attack, r.growth_mib(), r.baseline_kib, r.peak_kib, r.probes, r.duration.count(),
             report::quantile(r.latencies, 0.99).count(), r.max_latency.count(), r.failures,
             r.first_failure.empty() ? "" : ": ", r.first_failure, report::quantile(r.baseline, 0.5).count(),
             baseline_max.count(), r.cpu_share, stall.count());
  const std::string label = std::string("attack: ") + attack;
  INFO(label);
  CHECK(r.probes > 0);
  CHECK(r.failures == 0);
  CHECK(r.max_latency <= looser * max_probe_latency);
  CHECK_MESSAGE(r.max_latency <= stall, "/healthz was held up for most of the attack");
  if (!sanitized) CHECK(r.growth_mib() <= max_growth_mib);
}

// Runs `count` copies of `attack(i)` on threads of their own and waits for all of them.
void in_parallel(int count, const std::function<void(int)>& attack) {
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) threads.emplace_back(attack, i);
  for (auto& t : threads) t.join();
}

std::string repeat(std::string_view piece, std::size_t times) {
  std::string out;
  out.reserve(piece.size() * times);
  for (std::size_t i = 0; i < times; ++i) out += piece;
  return out;
}

// The integration secrets in the environment the server inherits, for as long as it lives.
struct integration_secrets {
  static constexpr const char* mailgun_key = "abuse-mailgun-key";
  static constexpr const char* postmark_password = "abuse-postmark-password";
  integration_secrets() {
    ::setenv("SWITCHBOARD_MAILGUN_SIGNING_KEY", mailgun_key, 1);
    ::setenv("SWITCHBOARD_POSTMARK_PASSWORD", postmark_password, 1);
  }
  ~integration_secrets() {
    ::unsetenv("SWITCHBOARD_MAILGUN_SIGNING_KEY");
    ::unsetenv("SWITCHBOARD_POSTMARK_PASSWORD");
  }
};

// A server whose connections are all served by one I/O thread (`io_threads = 1`), for the
// attacks whose danger is CPU work (parsing, template expansion): with one I/O thread per core
// (the default) a handler wrongly run on an I/O thread leaves the other threads to answer
// /healthz and no probe would see it; with one, any such work stalls the probe for its duration.
testing::server_args one_io_thread(const testing::temp_dir& dir, const std::string& server_lines = "") {
  return {testing::shipped_config_with(dir, "io_threads = 1\n" + server_lines), dir.file("switchboard.db"), {}};
}

constexpr std::size_t email_limit = 40 * 1024 * 1024;

// `count` Mailgun posts of just under the large-upload size, each sent but its last byte and
// held, from the client address `source(i)` (breaker11's repro_prebody_hold.sh).
std::vector<std::unique_ptr<raw_connection>> held_bodies(unsigned short port, int count,
                                                         const std::function<std::string(int)>& source) {
  constexpr std::size_t size = 1024 * 1024 - 1;
  const auto header = fmt::format("POST /v1/webhooks/email/mailgun HTTP/1.1\r\nHost: test\r\n"
                                  "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
                                  size);
  const std::string body(size - 1, 'a');
  std::vector<std::unique_ptr<raw_connection>> held;
  for (int i = 0; i < count; ++i) {
    const auto from = source(i);
    held.push_back(std::make_unique<raw_connection>(port, 0, from.c_str()));
    REQUIRE(held.back()->send_all(header));
    held.back()->send_all(body, 2s);
  }
  return held;
}

// How many of `held` were answered 503 busy with Retry-After: polled until `expected` have been
// (or 30 s pass: on a loaded machine the server may take its time over 160 connections), then
// for another half second, so that a refusal beyond `expected` is counted too. The admitted are
// held by their clients, so they answer nothing. raw_connection keeps a partial answer between
// reads.
int refused_busy(std::vector<std::unique_ptr<raw_connection>>& held, int expected) {
  int refused = 0;
  std::vector<bool> answered(held.size(), false);
  const auto poll_until = [&](clock_type::time_point deadline) {
    do {
      for (std::size_t i = 0; i < held.size(); ++i) {
        if (answered[i]) continue;
        const auto answer = held[i]->read_response(1ms);
        if (answer.status == 0) continue;
        answered[i] = true;
        if (answer.status == 503 && answer.head.find("Retry-After") != std::string::npos &&
            testing::error_code_of(answer) == "busy")
          ++refused;
      }
    } while (refused < expected && clock_type::now() < deadline);
  };
  poll_until(clock_type::now() + 30s);
  const auto grace = clock_type::now() + 500ms;
  while (clock_type::now() < grace) poll_until(grace);
  return refused;
}


}  // namespace

TEST_SUITE("abuse") {
  TEST_CASE("amplifying handoffs at the field limits and over them keep memory and healthz bounded") {
    testing::temp_dir dir;
    testing::server_process server(one_io_thread(dir));
    constexpr int senders = 4;
    constexpr int rounds = 3;
    std::vector<std::string> ids;
    {
      auto ce = server.client(role::ce);
      for (int i = 0; i < senders * rounds; ++i) {
        const auto res = ce.post_json(
            "/v1/requests",
            R"({"kind":"troubleshooting","customer":{"id":"acme","name":"Acme","stage":"trial"},"title":"Down"})");
        REQUIRE(res.status == 201);
        ids.push_back(std::to_string(testing::json_of(res).at("id").as_int64()));
      }
    }
    // Each field names the next one many times: substitution into substituted text once turned
    // 100 KB into 6.4 GB. At the limit (8 KiB a field) it must be accepted and bounded; the
    // 100 KB form must be refused.
    const auto limit = engine::max_handoff_field_bytes;
    const auto amplifying = json::serialize(json::object{{"type", "handoff"},
                                                         {"customer_impact", repeat("{environment}", limit / 13)},
                                                         {"environment", repeat("{steps_tried}", limit / 13)},
                                                         {"steps_tried", repeat("{customer_told}", limit / 15)},
                                                         {"customer_told", repeat("{customer}{ce}", limit / 14)}});
    const auto oversized = json::serialize(json::object{{"type", "handoff"},
                                                        {"customer_impact", repeat("{environment}", 25000 / 13)},
                                                        {"environment", repeat("{steps_tried}", 25000 / 13)},
                                                        {"steps_tried", repeat("{customer_told}", 25000 / 15)},
                                                        {"customer_told", repeat("{customer}{ce}", 25000 / 14)}});
    std::vector<std::vector<unsigned>> statuses(senders);
    health_watch watch(server.pid(), port_of(server.url()));
    in_parallel(senders, [&](int sender) {
      auto ce = server.client(role::ce);
      for (int round = 0; round < rounds; ++round) {
        const auto& id = ids[static_cast<std::size_t>(sender * rounds + round)];
        statuses[sender].push_back(ce.post_json("/v1/requests/" + id + "/events", oversized).status);
        statuses[sender].push_back(ce.post_json("/v1/requests/" + id + "/events", amplifying).status);
      }
    });
    check_bounds("handoff amplification", watch.finish());
    for (const auto& per_sender : statuses) {
      REQUIRE(per_sender.size() == 2u * rounds);
      for (std::size_t i = 0; i < per_sender.size(); ++i) CHECK(per_sender[i] == (i % 2 == 0 ? 422u : 200u));
    }
  }

  TEST_CASE("many anonymous 40 MiB uploads to unknown e-mail paths or with bad credentials are refused unread") {
    integration_secrets secrets;
    testing::temp_dir dir;
    testing::server_process server(one_io_thread(dir));
    const std::string body(email_limit, 'x');
    struct target {
      std::string path;
      std::string credentials;
      unsigned expected;
    };
    const std::vector<target> targets{
        {"/v1/webhooks/email/nonexistent", "", 404},
        {"/v1/webhooks/email/raw", "", 401},
        {"/v1/webhooks/email/raw", "Authorization: Bearer not-a-token\r\n", 401},
        {"/v1/webhooks/email/postmark", "Authorization: Basic cG9zdG1hcms6d3Jvbmc=\r\n", 401}};
    // 24 at once: read into memory before the route and credentials, as they once were, they
    // would take 960 MiB.
    constexpr int uploads = 24;
    std::vector<unsigned> statuses(uploads, 0);
    health_watch watch(server.pid(), port_of(server.url()));
    in_parallel(uploads, [&](int i) {
      const auto& t = targets[static_cast<std::size_t>(i) % targets.size()];
      try {
        raw_connection c(port_of(server.url()));
        if (!c.send_all(fmt::format("POST {} HTTP/1.1\r\nHost: test\r\nContent-Type: message/rfc822\r\n{}"
                                    "Content-Length: {}\r\n\r\n",
                                    t.path, t.credentials, body.size())))
          return;
        // Push the body until the server stops taking it (it drains a refused one for a while).
        c.send_all(body, 3s);
        statuses[static_cast<std::size_t>(i)] = c.read_response(10s).status;
      } catch (const std::exception&) {
        statuses[static_cast<std::size_t>(i)] = 0;
      }
    });
    check_bounds("anonymous uploads", watch.finish());
    for (int i = 0; i < uploads; ++i) {
      INFO(fmt::format("upload {} to {}", i, targets[static_cast<std::size_t>(i) % targets.size()].path));
      CHECK(statuses[static_cast<std::size_t>(i)] == targets[static_cast<std::size_t>(i) % targets.size()].expected);
    }
  }

  TEST_CASE("a Mailgun multipart post near 40 MiB with a bad signature is refused without parsing its attachments") {
    integration_secrets secrets;
    testing::temp_dir dir;
    testing::server_process server(one_io_thread(dir));
    const auto part = [](std::string_view name, std::string_view value) {
      return fmt::format("--xYzZY\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{}\r\n", name, value);
    };
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    // A forged signature, then many attachments: 38 MiB of form parts once meant 19 s of CPU on
    // the only I/O thread and 1.6 GB allocated before the signature was looked at.
    std::string body = part("recipient", "support@example.com") + part("timestamp", std::to_string(now)) +
                       part("token", std::string(50, 't')) + part("signature", std::string(64, '0')) +
                       part("subject", "Forged") + part("body-plain", "Hello.");
    const std::string attachment = std::string(64 * 1024 - 2, 'a') + "\r\n";
    for (int i = 0; body.size() + 100 * 1024 < 38u * 1024 * 1024; ++i)
      body += fmt::format("--xYzZY\r\nContent-Disposition: form-data; name=\"attachment-{}\"; filename=\"f{}.txt\"\r\n"
                          "Content-Type: text/plain\r\n\r\n{}\r\n",
                          i + 1, i, attachment);
    body += "--xYzZY--\r\n";
    REQUIRE(body.size() < email_limit);
    std::vector<unsigned> statuses;
    health_watch watch(server.pid(), port_of(server.url()));
    for (int i = 0; i < 2; ++i) {
      http::client mailgun(server.url(), std::chrono::seconds{60});
      statuses.push_back(
          mailgun.request("POST", "/v1/webhooks/email/mailgun", body, "multipart/form-data; boundary=xYzZY").status);
    }
    check_bounds("Mailgun large multipart, bad signature", watch.finish());
    for (const auto status : statuses) CHECK(status == 401);
  }

  TEST_CASE("a forged URL-encoded Mailgun form of 3 million fields is refused after a scan for its signature fields") {
    integration_secrets secrets;
    testing::temp_dir dir;
    testing::server_process server(one_io_thread(dir));
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    // breaker11's repro_mailgun_urlencoded.sh: 32 MB of fields, the forged signature last. Each
    // post was split into all its fields first: +295 MiB and 3 s of CPU per post.
    std::string body;
    body.reserve(33u * 1024 * 1024);
    for (int i = 0; i < 3000000; ++i) fmt::format_to(std::back_inserter(body), "{}f{}=v", i == 0 ? "" : "&", i);
    body += fmt::format("&timestamp={}&token={}&signature={}", now, std::string(50, 't'), std::string(64, '0'));
    REQUIRE(body.size() < email_limit);
    // Two at once, from two addresses: both fit the 64 MiB budget for unauthenticated bodies (a
    // third would be 503), each within its address's half.
    std::vector<unsigned> statuses(2);
    health_watch watch(server.pid(), port_of(server.url()), std::chrono::seconds{5}, testing::probe_mode::new_connection);
    in_parallel(2, [&](int i) {
      const auto source = fmt::format("127.0.0.{}", 2 + i);
      raw_connection mailgun(port_of(server.url()), 0, source.c_str());
      const auto header = fmt::format("POST /v1/webhooks/email/mailgun HTTP/1.1\r\nHost: test\r\nContent-Type: "
                                      "application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
                                      body.size());
      if (mailgun.send_all(header) && mailgun.send_all(body, 60s))
        statuses[static_cast<std::size_t>(i)] = mailgun.read_response(60s).status;
    });
    check_bounds("Mailgun URL-encoded 3 million fields, bad signature", watch.finish());
    for (const auto status : statuses) CHECK(status == 401);
  }

  TEST_CASE("a signed URL-encoded Mailgun form with more fields than the cap is refused with 406 and files nothing") {
    integration_secrets secrets;
    testing::temp_dir dir;
    testing::server_process server(dir.file("switchboard.db"));
    const auto now = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
    const std::string token(50, 'k');
    const auto signature = http::webhooks::hmac_sha256_hex(integration_secrets::mailgun_key, now + token);
    std::string body = "timestamp=" + now + "&token=" + token + "&signature=" + signature +
                       "&from=alice%40acme.example&subject=Many&body-plain=hello";
    for (int i = 0; i < 1000; ++i) body += fmt::format("&x{}=y", i);
    http::client mailgun(server.url(), std::chrono::seconds{30});
    const auto res = mailgun.request("POST", "/v1/webhooks/email/mailgun", body, "application/x-www-form-urlencoded");
    CHECK(res.status == 406);
    CHECK(res.body.find("too_many_fields") != std::string::npos);
    auto viewer = server.client(model::role::viewer);
    CHECK(testing::all_requests(viewer).empty());
  }

  TEST_CASE("a mail with 200000 To addresses is stored with its recipients capped while healthz answers") {
    testing::temp_dir dir;
    // What is checked is memory, /healthz and that the mail is stored, not the handler deadline:
    // under ASan on a loaded 2-core machine the 4.4 MB header can take longer than the shipped 30 s.
    testing::server_process server(one_io_thread(dir, "handler_timeout_seconds = 300"));
    // Under ASan every step is many times slower: 20,000 addresses (still twenty times the cap)
    // keep the run within the test's deadlines there.
    const int addresses = sanitized ? 20000 : 200000;
    std::string to = "To: ";
    for (int i = 0; i < addresses; ++i) to += fmt::format("{}r{}@many.example", i == 0 ? "" : ",\r\n ", i);
    const auto mail = "From: sender@many.example\r\n" + to +
                      "\r\nSubject: Everyone\r\nMessage-ID: <many-to@many.example>\r\nMIME-Version: 1.0\r\n"
                      "Content-Type: text/plain; charset=utf-8\r\n\r\nHello all.\r\n";
    REQUIRE(mail.size() < email_limit);
    health_watch watch(server.pid(), port_of(server.url()));
    http::client integration(server.url(), std::chrono::seconds{60});
    integration.set_token(testing::token_for(role::integration));
    const auto res = integration.request("POST", "/v1/webhooks/email/raw", mail, "message/rfc822");
    check_bounds("200,000 To addresses", watch.finish());
    CHECK_MESSAGE(res.status == 200, res.body);
  }

  TEST_CASE("clients that never read their responses are dropped at the write deadline") {
    testing::temp_dir dir;
    testing::server_process server(
        {testing::shipped_config_with(dir, "write_timeout_seconds = 1"), dir.file("switchboard.db"), {}});
    std::string burst;
    for (int i = 0; i < 50; ++i) burst += "GET /dashboard/app.js HTTP/1.1\r\nHost: test\r\n\r\n";
    constexpr int sinks = 4;
    std::vector<char> dropped(sinks, 0);
    health_watch watch(server.pid(), port_of(server.url()));
    in_parallel(sinks, [&](int i) {
      raw_connection sink(port_of(server.url()), 4096);
      // Pipelined requests for a 26 KB file, never read: 1,000 answers fill both socket buffers
      // and the server is left holding an unwritable answer.
      std::size_t offset = 0;
      int bursts = 0;
      const auto deadline = clock_type::now() + 30s;
      while (!dropped[static_cast<std::size_t>(i)] && clock_type::now() < deadline) {
        if (bursts < 20) {
          const auto sent = sink.send_some(std::string_view(burst).substr(offset));
          if (sent < 0) break;
          offset += static_cast<std::size_t>(sent);
          if (offset == burst.size()) {
            offset = 0;
            ++bursts;
          }
        }
        dropped[static_cast<std::size_t>(i)] = sink.closed_by_peer(bursts < 20 ? 10ms : 200ms);
      }
      if (!dropped[static_cast<std::size_t>(i)]) dropped[static_cast<std::size_t>(i)] = sink.closed_by_peer(0ms);
    });
    check_bounds("clients that never read", watch.finish());
    for (int i = 0; i < sinks; ++i) CHECK(dropped[static_cast<std::size_t>(i)]);
  }

  TEST_CASE("large answers held for clients that never read stay within max_buffered_response_bytes") {
    testing::temp_dir dir;
    testing::server_process server({testing::shipped_config_with(
                                        dir, "max_page_bytes = 16777216\nmax_buffered_response_bytes = 12000000"),
                                    dir.file("switchboard.db"), {}});
    // A page of 130 requests with 60 KB bodies: about 8 MB, more than the socket buffers take.
    file_large_requests(server, 130);
    const std::string page = "/v1/requests?limit=200";
    auto reader = server.client(role::se);
    const auto whole = reader.get(page);
    REQUIRE(whole.status == 200);
    REQUIRE(whole.body.size() > 7'000'000);

    // break11: 63 such clients held 470 MiB of answers until their write deadlines.
    auto sink = std::make_unique<raw_connection>(port_of(server.url()), 4096);
    REQUIRE(sink->send_all(fmt::format("GET {} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\n\r\n", page,
                                       testing::token_for(role::se))));
    // Its answer is being written (more than the socket buffers take, so the write waits for a
    // reader that never comes): the next large one does not fit beside it, and is 503 busy.
    REQUIRE(sink->peek(12, 10s) == "HTTP/1.1 200");
    const auto refused = reader.get(page);
    CHECK(refused.status == 503);
    CHECK(refused.header("Retry-After") == "5");
    CHECK(testing::json_of(refused).at("error").at("code") == "busy");
    // Small answers do not count.
    CHECK(reader.get("/v1/requests?limit=5").status == 200);
    CHECK(reader.get("/healthz").status == 200);
    // The client goes: its answer is freed, and the page is served again.
    sink.reset();
    http::client_response again;
    const auto deadline = clock_type::now() + 20s;
    while (clock_type::now() < deadline) {
      again = reader.get(page);
      if (again.status == 200) break;
    }
    CHECK(again.status == 200);
    CHECK(again.body.size() > 7'000'000);
  }

  TEST_CASE("many clients asking at once for the largest pages stay within the memory bound") {
    testing::temp_dir dir;
    testing::server_process server(
        {testing::shipped_config_with(dir, "max_connections_per_client = 0\nmax_buffered_response_bytes = 67108864"), dir.file("switchboard.db"), {}});
    // A page of 80 requests with 60 KB bodies stops at max_page_bytes (4 MiB).
    file_large_requests(server, 80);
    const std::string page = "/v1/requests?limit=200";
    REQUIRE(server.client(role::se).get(page).body.size() > 4'000'000);
    // break11b: 256 clients asking at once peaked at about 1 GiB before refusals began: each
    // finished page waited behind the other clients' handlers in the worker pool's queue before
    // it reached its connection, where the answer budget counts it. Now a page goes to its
    // connection as soon as it is built: at most one per worker thread is held beyond the budget
    // (64 MiB here: about 100 MiB in all).
    const auto port = port_of(server.url());
    health_watch watch(server.pid(), port);
    constexpr int clients = 256;
    std::vector<std::unique_ptr<raw_connection>> askers;
    const auto ask = fmt::format("GET {} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\n\r\n", page,
                                 testing::token_for(role::se));
    for (int i = 0; i < clients; ++i) {
      askers.push_back(std::make_unique<raw_connection>(port, 4096));
      REQUIRE(askers.back()->send_all(ask));
    }
    int answered = 0;
    int busy = 0;
    for (auto& c : askers) {
      const auto answer = c->read_response(60s);
      if (answer.status == 200) ++answered;
      if (answer.status == 503) ++busy;
    }
    CHECK(answered + busy == clients);
    CHECK(answered >= 1);
    askers.clear();
    check_bounds("many largest pages at once", watch.finish());
  }

  TEST_CASE("slowloris headers and bodies are closed at their deadlines while healthz answers") {
    testing::temp_dir dir;
    testing::server_process server({testing::shipped_config_with(dir, "header_timeout_seconds = 1\nbody_timeout_seconds = 1"),
                                    dir.file("switchboard.db"),
                                    {}});
    constexpr int header_drips = 40;
    constexpr int body_drips = 10;
    health_watch watch(server.pid(), port_of(server.url()));
    std::vector<std::unique_ptr<raw_connection>> lorises;
    for (int i = 0; i < header_drips + body_drips; ++i) {
      lorises.push_back(std::make_unique<raw_connection>(port_of(server.url())));
      const auto start = i < header_drips
                             ? std::string("GET /healthz HTTP/1.1\r\nHost: test\r\n")
                             : fmt::format("POST /v1/requests HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\n"
                                           "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{{",
                                           testing::token_for(role::ce));
      REQUIRE(lorises.back()->send_all(start));
    }
    // Drip a byte on each open connection whenever the server stays quiet for a moment.
    std::vector<char> closed(lorises.size(), 0);
    std::size_t open = lorises.size();
    const auto deadline = clock_type::now() + 20s;
    while (open > 0 && clock_type::now() < deadline) {
      bool paced = false;
      for (std::size_t i = 0; i < lorises.size(); ++i) {
        if (closed[i]) continue;
        const bool gone = lorises[i]->closed_by_peer(paced ? 0ms : 100ms) ||
                          lorises[i]->send_some(i < static_cast<std::size_t>(header_drips) ? "X-Drip: 1\r\n" : " ") < 0;
        paced = true;
        if (gone) {
          closed[i] = 1;
          --open;
        }
      }
    }
    check_bounds("slowloris", watch.finish());
    CHECK(open == 0u);
  }

  TEST_CASE("a flood of connections beyond max_connections gets 503 while an open connection keeps being served") {
    testing::temp_dir dir;
    testing::server_process server({testing::shipped_config_with(dir, "max_connections = 64\nmax_connections_per_client = 0"),
                                    dir.file("switchboard.db"), {}});
    constexpr std::string_view healthz = "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n";
    // A new connection per probe: at the cap, connections waiting for a request (a kept-alive
    // probe's among them) are closed to make room.
    health_watch watch(server.pid(), port_of(server.url()), 5s, testing::probe_mode::new_connection);
    std::vector<std::unique_ptr<raw_connection>> flood;
    for (int i = 0; i < 400; ++i) {
      flood.push_back(std::make_unique<raw_connection>(port_of(server.url())));
      flood.back()->send_all(healthz);
    }
    int served = 0;
    int refused = 0;
    int closed = 0;
    for (auto& c : flood) {
      const auto answer = c->read_response(10s);
      served += answer.status == 200 ? 1 : 0;
      refused += answer.status == 503 && testing::error_code_of(answer) == "too_many_connections" ? 1 : 0;
      closed += answer.status == 0 && c->closed_by_peer(1s) ? 1 : 0;
    }
    flood.clear();
    check_bounds("connection flood", watch.finish());
    // Each was answered, refused, or closed unanswered to make room (as a keep-alive connection
    // may be at any time: clients retry such a request on a new connection).
    CHECK(served + refused + closed == 400);
    CHECK(served >= 1);
  }

  TEST_CASE("out of file descriptors the server backs off and keeps serving its open connections and recovers") {
    testing::temp_dir dir;
    const auto config = testing::shipped_config_with(dir, "header_timeout_seconds = 2\nmax_connections_per_client = 0");
    auto server = std::make_unique<testing::server_process>(testing::server_args{config, dir.file("switchboard.db"), {}});
    // Lowered under the running server, after it sized its connection cap to the limit it
    // started with (the next case): something else took the descriptors, and accept() fails.
    rlimit tight{};
    REQUIRE(::prlimit(server->pid(), RLIMIT_NOFILE, nullptr, &tight) == 0);
    tight.rlim_cur = 96;
    REQUIRE(::prlimit(server->pid(), RLIMIT_NOFILE, &tight, nullptr) == 0);
    const auto port = port_of(server->url());
    health_watch watch(server->pid(), port);
    std::vector<std::unique_ptr<raw_connection>> flood;
    for (int i = 0; i < 200; ++i) flood.push_back(std::make_unique<raw_connection>(port));
    // Wait until the server has run out and said so.
    const auto deadline = clock_type::now() + 15s;
    while (server->stderr_text().find("accept failed") == std::string::npos && clock_type::now() < deadline)
      flood.front()->closed_by_peer(50ms);
    const bool ran_out = server->stderr_text().find("accept failed") != std::string::npos;
    flood.clear();
    // Descriptors come back as the server closes the idle ones: a new client is served again.
    unsigned status = 0;
    const auto recovered_by = clock_type::now() + 20s;
    while (status != 200 && clock_type::now() < recovered_by) {
      raw_connection next(port);
      next.send_all("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n");
      status = next.read_response(5s).status;
    }
    check_bounds("descriptor exhaustion", watch.finish());
    CHECK(ran_out);
    CHECK(status == 200);
  }

  TEST_CASE("the connection cap fits the file descriptor limit: a flood of idle connections never runs the server out") {
    testing::temp_dir dir;
    const auto config = testing::shipped_config_with(dir, "header_timeout_seconds = 30\nmax_connections_per_client = 0");
    // break11's case: the shipped max_connections (1024) above what the descriptors allow.
    testing::server_process server(
        testing::server_args{config, dir.file("switchboard.db"), {}}, {"/usr/bin/prlimit", "--nofile=300:300", "--"});
    CHECK_MESSAGE(server.stderr_text().find("serving at most") != std::string::npos, server.stderr_text());
    const auto port = port_of(server.url());
    // A new connection per probe, as a load balancer's check: a kept-alive probe connection is
    // itself idle between probes, and the oldest idle connection is the one closed for room.
    health_watch watch(server.pid(), port, 5s, testing::probe_mode::new_connection);
    std::vector<std::unique_ptr<raw_connection>> flood;
    for (int i = 0; i < 400; ++i) flood.push_back(std::make_unique<raw_connection>(port));
    // Idle connections are closed to make room (well before header_timeout), so a new client is
    // served at once, and accept() never fails.
    raw_connection next(port);
    const auto asked = clock_type::now();
    next.send_all("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n");
    const auto answer = next.read_response(10s);
    const auto waited = clock_type::now() - asked;
    CHECK(answer.status == 200);
    CHECK(waited < 5s);
    CHECK(server.stderr_text().find("accept failed") == std::string::npos);
    flood.clear();
    check_bounds("idle flood within the descriptor limit", watch.finish());
  }
}

// Issue 11's second round (breaker11): what one client's open connections and slow or
// unauthenticated bodies may take from everyone else.
TEST_SUITE("abuse") {
  TEST_CASE("a flood of refused connections never runs the server out of descriptors") {
    testing::temp_dir dir;
    const auto config = testing::shipped_config_with(
        dir, "max_connections = 16\nmax_connections_per_client = 0\nmin_body_bytes_per_second = 0");
    testing::server_process server(
        testing::server_args{config, dir.file("switchboard.db"), {}}, {"/usr/bin/prlimit", "--nofile=220:220", "--"});
    const auto port = port_of(server.url());
    // break11b: connections in the middle of a body cannot be closed for room, so at the cap
    // every new one is refused; each refusal lingered 5 s, and 4,200 of them in 8 s filled the
    // descriptor limit.
    std::vector<std::unique_ptr<raw_connection>> busy;
    for (int i = 0; i < 16; ++i) {
      busy.push_back(std::make_unique<raw_connection>(port));
      REQUIRE(busy.back()->send_all(fmt::format("POST /v1/requests HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer "
                                                "{}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{",
                                                testing::token_for(role::ce))));
    }
    std::vector<std::unique_ptr<raw_connection>> flood;
    int refused = 0;
    for (int i = 0; i < 600; ++i) flood.push_back(std::make_unique<raw_connection>(port));
    for (auto& c : flood) {
      const auto answer = c->read_response(5s);
      if (answer.status == 503) ++refused;
    }
    // Some were answered 503 (at most 64 linger at once), the rest closed unanswered; the
    // process never ran out of descriptors to accept with.
    CHECK(refused >= 1);
    CHECK(server.stderr_text().find("accept failed") == std::string::npos);
    flood.clear();
    busy.clear();
    http::client probe(server.url());
    const auto deadline = clock_type::now() + 20s;
    auto status = probe.get("/healthz").status;
    while (status != 200 && clock_type::now() < deadline) status = probe.get("/healthz").status;
    CHECK(status == 200);
  }

  TEST_CASE("slow anonymous Mailgun bodies take no slot from authenticated raw e-mail and are answered 408") {
    integration_secrets secrets;
    testing::temp_dir dir;
    testing::server_process server(dir.file("switchboard.db"));
    const auto port = port_of(server.url());
    // breaker11's repro_slot_starvation.sh: four anonymous 2 MiB Mailgun posts that drip.
    const auto header = fmt::format("POST /v1/webhooks/email/mailgun HTTP/1.1\r\nHost: test\r\n"
                                    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
                                    2 * 1024 * 1024);
    // Five anonymous posts for four anonymous slots: whichever of them the server reads last
    // (its two I/O threads may take them in any order) is refused at once, and the four others
    // hold the slots. From three addresses: one address takes at most two (the next case).
    std::vector<std::unique_ptr<raw_connection>> slow;
    for (int i = 0; i < 5; ++i) {
      const auto source = fmt::format("127.0.0.{}", 2 + i % 3);
      slow.push_back(std::make_unique<raw_connection>(port, 0, source.c_str()));
      REQUIRE(slow.back()->send_all(header));
      REQUIRE(slow.back()->send_all(std::string(1024, 'a')));
    }
    std::optional<testing::raw_response> busy;
    const auto refused_by = clock_type::now() + 10s;
    while (!busy && clock_type::now() < refused_by) {
      for (auto it = slow.begin(); it != slow.end(); ++it) {
        auto answer = (*it)->read_response(20ms);
        if (answer.status == 0) continue;
        busy = std::move(answer);
        slow.erase(it);
        break;
      }
    }
    REQUIRE(busy.has_value());
    CHECK(busy->status == 503);
    CHECK(testing::error_code_of(*busy) == "busy");
    REQUIRE(slow.size() == 4);

    std::string mail = "From: Alice <alice@acme.example>\r\nTo: support@example.com\r\nSubject: Big log\r\n"
                       "Message-ID: <big-log@acme.example>\r\nContent-Type: text/plain\r\n\r\n";
    while (mail.size() < 2200000) mail += "log line of a customer's attachment pasted inline, 64 bytes wide.\r\n";
    http::client integration(server.url(), std::chrono::seconds{30});
    integration.set_token(testing::token_for(role::integration));
    const auto res = integration.request("POST", "/v1/webhooks/email/raw", mail, "message/rfc822");
    CHECK_MESSAGE(res.status == 200, res.body);

    // Past the grace, a body slower than the minimum rate is answered 408 and closed, long
    // before body_timeout (60 s).
    const auto started = clock_type::now();
    for (auto& c : slow) {
      const auto answer = c->read_response(30s);
      CHECK(answer.status == 408);
      CHECK(testing::error_code_of(answer) == "body_too_slow");
    }
    CHECK(clock_type::now() - started < 40s);
  }

  TEST_CASE("one client address takes at most half of the anonymous large-upload slots") {
    integration_secrets secrets;
    testing::temp_dir dir;
    testing::server_process server(dir.file("switchboard.db"));
    const auto port = port_of(server.url());
    // break11b: four slow 2 MiB Mailgun bodies from one address took every anonymous slot, and
    // every other sender's large post got 503 for as long as they dripped.
    const std::string body(2 * 1024 * 1024, 'a');
    const auto header = fmt::format("POST /v1/webhooks/email/mailgun HTTP/1.1\r\nHost: test\r\n"
                                    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
                                    body.size());
    std::vector<std::unique_ptr<raw_connection>> slow;
    for (int i = 0; i < 3; ++i) {
      slow.push_back(std::make_unique<raw_connection>(port, 0, "127.0.0.2"));
      REQUIRE(slow.back()->send_all(header));
      REQUIRE(slow.back()->send_all(std::string_view(body).substr(0, 1024)));
    }
    // Whichever the server reads last (its I/O threads take them in any order) is over the
    // address's two and refused at once; the other two hold their slots and answer nothing.
    std::optional<testing::raw_response> busy;
    const auto refused_by = clock_type::now() + 10s;
    while (!busy && clock_type::now() < refused_by)
      for (auto& c : slow)
        if (auto answer = c->read_response(20ms); answer.status != 0) {
          busy = std::move(answer);
          break;
        }
    REQUIRE(busy.has_value());
    CHECK(busy->status == 503);
    CHECK(testing::error_code_of(*busy) == "busy");
    // Another address still has the other two slots: its whole post is read and judged.
    raw_connection other(port, 0, "127.0.0.3");
    REQUIRE(other.send_all(header));
    REQUIRE(other.send_all(body, 20s));
    const auto answer = other.read_response(20s);
    CHECK_MESSAGE(answer.status != 503, answer.head);
    CHECK(answer.status >= 400);
    CHECK(answer.status < 500);
  }

  TEST_CASE("unauthenticated bodies beyond the shared budget get 503 with Retry-After at once while new connections get healthz") {
    integration_secrets secrets;
    testing::temp_dir dir;
    testing::server_process server(dir.file("switchboard.db"));
    const auto port = port_of(server.url());
    // breaker11's repro_prebody_hold.sh, from four client addresses (each within the per-client cap).
    health_watch watch(server.pid(), port, 5s, testing::probe_mode::new_connection);
    auto held = held_bodies(port, 160, [](int i) { return fmt::format("127.0.0.{}", 2 + i % 4); });
    const int refused = refused_busy(held, 160 - 64);
    held.clear();
    check_bounds("held unauthenticated bodies", watch.finish());
    // 64 MiB of budget holds 64 of them; the rest are refused.
    CHECK(refused >= 160 - 64);
  }

  TEST_CASE("one client address holds at most half of the unauthenticated budget, so another still gets its body read") {
    integration_secrets secrets;
    testing::temp_dir dir;
    testing::server_process server(dir.file("switchboard.db"));
    const auto port = port_of(server.url());
    // break11: 64 slow bodies from one address took the whole 64 MiB, and every other sender got 503.
    auto held = held_bodies(port, 60, [](int) { return std::string("127.0.0.2"); });
    const int refused = refused_busy(held, 60 - 32);
    // 32 MiB is half: 32 bodies of just under 1 MiB fit, the other 28 are refused at once.
    CHECK(refused == 60 - 32);
    // Another address's whole body is read and judged (a bad signature), not refused for room.
    raw_connection other(port, 0, "127.0.0.3");
    const std::string whole(1024 * 1024 - 1, 'a');
    REQUIRE(other.send_all(fmt::format("POST /v1/webhooks/email/mailgun HTTP/1.1\r\nHost: test\r\nContent-Type: "
                                       "application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{}",
                                       whole.size(), whole),
                           10s));
    const auto answer = other.read_response(10s);
    CHECK_MESSAGE(answer.status != 503, answer.head);
    CHECK(answer.status >= 400);
    CHECK(answer.status < 500);
  }

  TEST_CASE("at the connection cap idle connections are closed to make room, and one client address is capped") {
    testing::temp_dir dir;
    constexpr std::string_view healthz = "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n";
    {
      // breaker11's repro_idle_cap.sh, scaled to a cap of 64: 100 idle sockets from one address.
      testing::server_process server({testing::shipped_config_with(dir, "max_connections = 64\nmax_connections_per_client = 0"),
                                      dir.file("switchboard.db"), {}});
      const auto port = port_of(server.url());
      std::vector<std::unique_ptr<raw_connection>> idle;
      for (int i = 0; i < 100; ++i) idle.push_back(std::make_unique<raw_connection>(port));
      for (int probe = 0; probe < 5; ++probe) {
        raw_connection check(port);
        REQUIRE(check.send_all(healthz));
        const auto answer = check.read_response(5s);
        CHECK_MESSAGE(answer.status == 200, answer.head, answer.body);
      }
      // The oldest were closed: at most 64 are left open.
      int closed = 0;
      const auto deadline = clock_type::now() + 10s;
      for (auto& c : idle) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
        closed += c->closed_by_peer(std::max(left, 1ms)) ? 1 : 0;
      }
      CHECK(closed >= 36);
    }
    {
      testing::temp_dir other;
      testing::server_process server({testing::shipped_config_with(other, "max_connections_per_client = 8"),
                                      other.file("switchboard.db"), {}});
      const auto port = port_of(server.url());
      std::vector<std::unique_ptr<raw_connection>> mine;
      for (int i = 0; i < 8; ++i) {
        mine.push_back(std::make_unique<raw_connection>(port));
        REQUIRE(mine.back()->send_all(healthz));
        REQUIRE(mine.back()->read_response().status == 200);
      }
      raw_connection ninth(port);
      REQUIRE(ninth.send_all(healthz));
      const auto refused = ninth.read_response();
      CHECK(refused.status == 503);
      CHECK(testing::error_code_of(refused) == "too_many_client_connections");
      raw_connection elsewhere(port, 0, "127.0.0.2");
      REQUIRE(elsewhere.send_all(healthz));
      CHECK(elsewhere.read_response().status == 200);
      // One closed: the address may connect again.
      mine.pop_back();
      unsigned status = 0;
      const auto deadline = clock_type::now() + 10s;
      while (status != 200 && clock_type::now() < deadline) {
        raw_connection next(port);
        next.send_all(healthz);
        status = next.read_response(5s).status;
      }
      CHECK(status == 200);
    }
  }
}
