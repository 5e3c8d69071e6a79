// The Slack Web API client: verdicts on answers recorded from Slack's documentation, and the
// client against a fake Slack on loopback (tests/support/fake_slack).
#include "outbound/slack_api.hpp"

#include "config/error.hpp"
#include "http/webhooks/integrations.hpp"
#include "support/configs.hpp"
#include "support/fake_slack.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <functional>

using namespace switchboard;
namespace asio = boost::asio;
using outbound::slack_outcome;
using std::chrono::seconds;

namespace {

constexpr const char* token = "xoxb-test-0000-token";

const auto now = std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 50);

outbound::post_result answer(int status, std::string body, std::string retry_after = {}) {
  return {status, std::move(retry_after), std::move(body), {}};
}

outbound::slack_api_settings settings_for(const testing::fake_slack& slack, std::string bot_token = token) {
  auto settings = outbound::parse_api_base_url(slack.base_url());
  settings.bot_token = std::move(bot_token);
  settings.timeout = seconds{10};
  return settings;
}

// Runs one call of a client on its own io_context until it is answered.
outbound::slack_verdict run(const outbound::slack_api_settings& settings,
                            const std::function<asio::awaitable<outbound::slack_verdict>(outbound::slack_api&)>& call) {
  asio::io_context io;
  outbound::slack_api api(io.get_executor(), settings);
  auto verdict = asio::co_spawn(io, call(api), asio::use_future);
  io.run();
  return verdict.get();
}

std::string error_of(const testing::temp_dir& dir, const std::string& text) {
  try {
    outbound::load_slack_api_settings_file(testing::write_file(dir.file("switchboard.toml"), text));
  } catch (const config::error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_SUITE("outbound::slack_api") {
  TEST_CASE("verdicts on recorded answers follow the plan's table") {
    SUBCASE("200 ok with ts is delivered, the ts its external id") {
      const auto v = outbound::judge(
          answer(200, R"({"ok":true,"channel":"C123ABC456","ts":"1503435956.000247",)"
                      R"("message":{"text":"Here's a message for you","type":"message","ts":"1503435956.000247"}})"),
          now);
      CHECK(v.outcome == slack_outcome::delivered);
      CHECK(v.ts == "1503435956.000247");
      CHECK(v.channel == "C123ABC456");
    }
    SUBCASE("conversations.open gives the DM channel") {
      const auto v = outbound::judge(answer(200, R"({"ok":true,"channel":{"id":"D069C7QFK"}})"), now);
      CHECK(v.outcome == slack_outcome::delivered);
      CHECK(v.channel == "D069C7QFK");
    }
    SUBCASE("429 ratelimited is retried no sooner than Retry-After") {
      const auto v = outbound::judge(answer(429, R"({"ok":false,"error":"ratelimited"})", "30"), now);
      CHECK(v.outcome == slack_outcome::retry);
      CHECK(v.error == "HTTP 429 ratelimited");
      REQUIRE(v.retry_after);
      CHECK(*v.retry_after == seconds{30});
      CHECK(outbound::retry_delay(v, seconds{5}, seconds{3600}) == seconds{30});
      CHECK(outbound::retry_delay(v, seconds{90}, seconds{3600}) == seconds{90});
    }
    SUBCASE("5xx and 408 are retried, with or without Retry-After") {
      const auto v = outbound::judge(answer(503, "<html>Service Unavailable</html>"), now);
      CHECK(v.outcome == slack_outcome::retry);
      CHECK(v.error == "HTTP 503");
      CHECK_FALSE(v.retry_after);
      CHECK(outbound::judge(answer(500, R"({"ok":false,"error":"internal_error"})", "2"), now).retry_after == seconds{2});
      CHECK(outbound::judge(answer(408, ""), now).outcome == slack_outcome::retry);
    }
    SUBCASE("no answer (connect, timeout) is retried with the reason") {
      const auto v = outbound::judge(outbound::post_result{{}, {}, {}, "timeout during connect"}, now);
      CHECK(v.outcome == slack_outcome::retry);
      CHECK(v.error == "timeout during connect");
    }
    SUBCASE("a refused token is dead, flagged so it is logged once") {
      for (const char* code : {"invalid_auth", "not_authed", "token_revoked", "account_inactive", "missing_scope"}) {
        CAPTURE(code);
        const auto v = outbound::judge(answer(200, fmt::format(R"({{"ok":false,"error":"{}"}})", code)), now);
        CHECK(v.outcome == slack_outcome::dead);
        CHECK(v.token_refused);
        CHECK(v.error == fmt::format("Slack refused the bot token: {}", code));
      }
    }
    SUBCASE("any other ok:false is dead with Slack's code verbatim") {
      for (const char* code :
           {"channel_not_found", "not_in_channel", "is_archived", "msg_too_long", "no_text", "user_not_found", "weird_new"}) {
        CAPTURE(code);
        const auto v = outbound::judge(
            answer(200, fmt::format(R"({{"ok":false,"error":"{}","warning":"missing_charset"}})", code)), now);
        CHECK(v.outcome == slack_outcome::dead);
        CHECK_FALSE(v.token_refused);
        CHECK(v.error == code);
      }
    }
    SUBCASE("a 404 or a 200 that is not Slack's JSON is dead") {
      CHECK(outbound::judge(answer(404, "Not Found"), now).error == "HTTP 404");
      const auto v = outbound::judge(answer(200, "<html>captive portal</html>"), now);
      CHECK(v.outcome == slack_outcome::dead);
      CHECK(v.error.starts_with("unreadable answer (HTTP 200"));
    }
  }

  TEST_CASE("a message posted to the fake is delivered with its ts, sent with the bearer token and Slack's JSON") {
    testing::fake_slack slack(token);
    slack.script(testing::fake_slack_answer::ok_ts("1700000001.000100"));
    const auto v = run(settings_for(slack), [](outbound::slack_api& api) {
      return api.post_message("C0SUPPORT01", "We are on it", "1699999999.000200");
    });
    CHECK(v.outcome == slack_outcome::delivered);
    CHECK(v.ts == "1700000001.000100");
    const auto calls = slack.calls();
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].method == "chat.postMessage");
    CHECK(calls[0].authorization == std::string("Bearer ") + token);
    CHECK(calls[0].content_type.starts_with("application/json"));
    CHECK(calls[0].body == boost::json::object{
                               {"channel", "C0SUPPORT01"}, {"text", "We are on it"}, {"thread_ts", "1699999999.000200"}});
  }

  TEST_CASE("a top-level post has no thread_ts, and open_dm gives the DM to post to") {
    testing::fake_slack slack(token);
    const auto settings = settings_for(slack);
    const auto dm = run(settings, [](outbound::slack_api& api) { return api.open_dm("U0CEDANA01"); });
    CHECK(dm.outcome == slack_outcome::delivered);
    CHECK(dm.channel == "D0U0CEDANA01");
    const auto posted = run(settings, [&dm](outbound::slack_api& api) { return api.post_message(dm.channel, "Hi", ""); });
    CHECK(posted.outcome == slack_outcome::delivered);
    CHECK_FALSE(posted.ts.empty());
    const auto calls = slack.calls();
    REQUIRE(calls.size() == 2);
    CHECK(calls[0].method == "conversations.open");
    CHECK(calls[0].body == boost::json::object{{"users", "U0CEDANA01"}});
    CHECK(calls[1].body == boost::json::object{{"channel", "D0U0CEDANA01"}, {"text", "Hi"}});
  }

  TEST_CASE("a 429 from the fake is retried no sooner than its Retry-After, and the next call goes through") {
    testing::fake_slack slack(token);
    slack.script(testing::fake_slack_answer::ratelimited(7));
    const auto settings = settings_for(slack);
    const auto limited = run(settings, [](outbound::slack_api& api) { return api.post_message("C0SUPPORT01", "one", ""); });
    CHECK(limited.outcome == slack_outcome::retry);
    REQUIRE(limited.retry_after);
    CHECK(*limited.retry_after == seconds{7});
    CHECK(outbound::retry_delay(limited, seconds{1}, seconds{3600}) >= seconds{7});
    const auto next = run(settings, [](outbound::slack_api& api) { return api.post_message("C0SUPPORT01", "one", ""); });
    CHECK(next.outcome == slack_outcome::delivered);
    CHECK(slack.calls().size() == 2);
  }

  TEST_CASE("channel_not_found from the fake is dead with Slack's code") {
    testing::fake_slack slack(token);
    slack.script(testing::fake_slack_answer::error("channel_not_found"));
    const auto v = run(settings_for(slack), [](outbound::slack_api& api) { return api.post_message("C0GONE", "x", ""); });
    CHECK(v.outcome == slack_outcome::dead);
    CHECK(v.error == "channel_not_found");
    CHECK_FALSE(v.token_refused);
  }

  TEST_CASE("a wrong token is refused by the fake, and without a token nothing is sent") {
    testing::fake_slack slack(token);
    const auto wrong = run(settings_for(slack, "xoxb-wrong"),
                           [](outbound::slack_api& api) { return api.post_message("C0SUPPORT01", "x", ""); });
    CHECK(wrong.outcome == slack_outcome::dead);
    CHECK(wrong.token_refused);
    CHECK(wrong.error == "Slack refused the bot token: invalid_auth");
    REQUIRE(slack.calls().size() == 1);
    CHECK(slack.calls()[0].authorization == "Bearer xoxb-wrong");

    const auto unset = run(settings_for(slack, ""),
                           [](outbound::slack_api& api) { return api.post_message("C0SUPPORT01", "x", ""); });
    CHECK(unset.outcome == slack_outcome::dead);
    CHECK(unset.error == "SWITCHBOARD_SLACK_BOT_TOKEN is not set");
    CHECK(slack.calls().size() == 1);
  }

  TEST_CASE("a 500 from the fake and a closed port are retried") {
    testing::fake_slack slack(token);
    slack.script(testing::fake_slack_answer::server_error());
    const auto failed = run(settings_for(slack), [](outbound::slack_api& api) { return api.post_message("C1", "x", ""); });
    CHECK(failed.outcome == slack_outcome::retry);
    CHECK(failed.error == "HTTP 500");

    std::uint16_t closed = 0;
    {
      asio::io_context io;
      asio::ip::tcp::acceptor probe(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
      closed = probe.local_endpoint().port();
    }
    auto settings = outbound::parse_api_base_url(fmt::format("http://127.0.0.1:{}/api/", closed));
    settings.bot_token = token;
    const auto refused = run(settings, [](outbound::slack_api& api) { return api.post_message("C1", "x", ""); });
    CHECK(refused.outcome == slack_outcome::retry);
    CHECK(refused.error.starts_with("connect: "));
  }
}

TEST_SUITE("outbound::slack_api config") {
  TEST_CASE("api_base_url defaults to Slack, and a loopback http:// fake is accepted") {
    testing::temp_dir dir;
    const auto defaults = outbound::load_slack_api_settings_file(testing::write_file(dir.file("a.toml"), "[server]\n"));
    CHECK(defaults.base_url == "https://slack.com/api/");
    CHECK(defaults.base.https);
    CHECK(defaults.base.host == "slack.com");
    CHECK(defaults.base.target == "/api/");
    CHECK_FALSE(defaults.allow_private);

    const auto path = testing::write_file(dir.file("b.toml"), R"([integrations.slack]
api_base_url = "http://127.0.0.1:8089/api"
)");
    const auto local = outbound::load_slack_api_settings_file(path);
    CHECK(local.base_url == "http://127.0.0.1:8089/api/");
    CHECK(local.base.target == "/api/");
    CHECK(local.base.port == 8089);
    CHECK(local.allow_private);
    // The [integrations] loader accepts the key it does not read itself.
    CHECK_NOTHROW(http::webhooks::load_integrations(path, {"standard"}));
  }

  TEST_CASE("a bot token over http:// to a non-loopback host is refused at file, line and column") {
    testing::temp_dir dir;
    const auto file = dir.file("switchboard.toml");
    CHECK(error_of(dir, "[integrations.slack]\napi_base_url = \"http://slack.example.com/api/\"\n")
              .starts_with(file + ":2:16: api_base_url \"http://slack.example.com/api/\" would send the bot token in clear"));
    CHECK(error_of(dir, "[integrations.slack]\napi_base_url = \"http://10.0.0.5/api/\"\n")
              .starts_with(file + ":2:16: api_base_url \"http://10.0.0.5/api/\" would send the bot token in clear"));
    CHECK(error_of(dir, "[integrations.slack]\napi_base_url = \"ftp://slack.com/api/\"\n")
              .starts_with(file + ":2:16: url \"ftp://slack.com/api/\" must start with https:// or http://"));
    CHECK(error_of(dir, "[integrations.slack]\napi_base_url = \"https://slack.com/api/?x=1\"\n")
              .starts_with(file + ":2:16: api_base_url \"https://slack.com/api/?x=1\" must not carry a query"));
    CHECK(error_of(dir, "[integrations.slack]\napi_base_url = 3\n").starts_with(file + ":2:16: api_base_url must be"));
  }
}

TEST_SUITE("outbound::slack_api config") {
  TEST_CASE("the server and switchboard-cli rules check refuse an http:// api_base_url to a non-loopback host") {
    testing::temp_dir dir;
    const auto config = testing::shipped_config_with(dir, "");
    const auto text = testing::read_text(config);
    // Into the shipped [integrations.slack] table when there is one, else a new table.
    const auto at = text.find("[integrations.slack]\n");
    const std::string line = "api_base_url = \"http://slack.example.com/api/\"\n";
    testing::write_file(config, at == std::string::npos
                                    ? text + "\n[integrations.slack]\n" + line
                                    : text.substr(0, at + 21) + line + text.substr(at + 21));
    const auto checked = testing::run_program({SWITCHBOARD_CLI_PATH, "--config", config, "rules", "check"});
    CHECK(checked.exit_code == 1);
    CHECK(checked.err.find(config + ":") != std::string::npos);
    CHECK(checked.err.find("would send the bot token in clear") != std::string::npos);
    std::string refused;
    try {
      testing::server_process server({config, dir.file("switchboard.db"), {}});
    } catch (const std::runtime_error& e) {
      refused = e.what();
    }
    CHECK(refused.find("would send the bot token in clear") != std::string::npos);
  }
  TEST_CASE("a response_url is accepted on hooks.slack.com or the api_base_url's scheme, host and port only") {
    const auto slack = outbound::slack_api_settings{};  // https://slack.com/api/
    CHECK(outbound::allowed_response_url("https://hooks.slack.com/actions/T0/1/abc", slack));
    CHECK(outbound::allowed_response_url("https://slack.com/actions/1", slack));
    CHECK_FALSE(outbound::allowed_response_url("http://hooks.slack.com/actions/1", slack));
    CHECK_FALSE(outbound::allowed_response_url("https://hooks.slack.com:8443/actions/1", slack));
    CHECK_FALSE(outbound::allowed_response_url("https://hooks.slack.com.evil.example/actions/1", slack));
    CHECK_FALSE(outbound::allowed_response_url("https://evil.example/hooks.slack.com/", slack));
    CHECK_FALSE(outbound::allowed_response_url("https://hooks.slack.com@evil.example/x", slack));
    CHECK_FALSE(outbound::allowed_response_url("http://127.0.0.1:9/actions/1", slack));
    CHECK_FALSE(outbound::allowed_response_url("not a url", slack));
    const auto fake = outbound::parse_api_base_url("http://127.0.0.1:4567/api/");
    const auto local = outbound::allowed_response_url("http://127.0.0.1:4567/actions/1", fake);
    REQUIRE(local);
    CHECK(local->target == "/actions/1");
    CHECK_FALSE(outbound::allowed_response_url("http://127.0.0.1:4568/actions/1", fake));
    CHECK_FALSE(outbound::allowed_response_url("http://localhost:4567/actions/1", fake));
  }
}
