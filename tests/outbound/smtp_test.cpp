#include "outbound/smtp.hpp"

#include "http/webhooks/mime.hpp"
#include "outbound/email_message.hpp"
#include "outbound/smtp_pool.hpp"
#include "support/configs.hpp"
#include "support/server_process.hpp"
#include "support/smtp_sink.hpp"

#include <boost/json.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

using namespace switchboard;
using namespace std::chrono_literals;

namespace {

outbound::smtp_settings settings_for(const testing::smtp_sink& sink) {
  outbound::smtp_settings settings;
  settings.url = sink.url();
  settings.username = sink.options().user;
  settings.password = sink.options().password;
  settings.ca_file = sink.ca_file();
  settings.timeout = 20s;
  return settings;
}

std::string message_to(const std::string& to, const std::string& subject = "Re: Suche geht nicht — 検索 [SB-42]") {
  outbound::email_spec spec;
  spec.from = "Support <support@example.com>";
  spec.to = {to};
  spec.reply_to = "support+42.0f1e2d3c@example.com";
  spec.subject = subject;
  spec.message_id = "sb.42.7.a1b2c3d4e5f60718@example.com";
  spec.in_reply_to = "cust-2@customer.example";
  spec.references = {"cust-1@customer.example", "cust-2@customer.example"};
  spec.text = "The index is rebuilt.\n.\nA line that was a lone dot stays in the text.\n";
  return outbound::compose(spec, std::chrono::system_clock::now());
}

std::string lf_lines(std::string text) {
  std::erase(text, '\r');
  return text;
}

// A loopback port that nothing listens on: bound and closed by us, so it is free now.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace

TEST_SUITE("outbound::smtp") {
  TEST_CASE("a message sent over STARTTLS with AUTH reads back with its subject and threading fields") {
    testing::smtp_sink sink;
    const auto verdict = outbound::submit(settings_for(sink), "support@example.com", {"zoe@customer.example"},
                                          message_to("Zoë <zoe@customer.example>"));
    INFO(verdict.text);
    CHECK(verdict.outcome == outbound::smtp_outcome::delivered);
    CHECK(verdict.code == 250);
    const auto mail = sink.wait_for(1, 10s);
    REQUIRE(mail);
    CHECK(mail->tls);
    CHECK(mail->auth_user == "switchboard");
    CHECK(mail->mail_from == "support@example.com");
    CHECK(mail->rcpt_tos == std::vector<std::string>{"zoe@customer.example"});
    const auto parsed = http::webhooks::parse_rfc822(mail->raw);
    REQUIRE(parsed);
    CHECK(parsed->subject == "Re: Suche geht nicht — 検索 [SB-42]");
    CHECK(testing::header_field(mail->raw, "Subject").find("=?UTF-8?") != std::string::npos);  // RFC 2047 on the wire
    CHECK(parsed->message_id == "sb.42.7.a1b2c3d4e5f60718@example.com");
    CHECK(parsed->in_reply_to == std::vector<std::string>{"cust-2@customer.example"});
    CHECK(parsed->references == std::vector<std::string>{"cust-1@customer.example", "cust-2@customer.example"});
    CHECK(http::webhooks::parse_mailbox(testing::header_field(mail->raw, "Reply-To")).first ==
          "support+42.0f1e2d3c@example.com");
    CHECK(parsed->from_address == "support@example.com");
    CHECK(parsed->recipients == std::vector<std::string>{"zoe@customer.example"});
    // The lone dot went through dot-stuffing (RFC 5321 §4.5.2) and came back as text.
    CHECK(lf_lines(parsed->text) == "The index is rebuilt.\n.\nA line that was a lone dot stays in the text.\n");
  }

  TEST_CASE("a server without STARTTLS receives nothing, and the verdict is retry, not sent in clear") {
    testing::smtp_sink_options plain;
    plain.starttls = false;
    testing::smtp_sink sink(plain);
    auto settings = settings_for(sink);
    settings.ca_file.clear();
    const auto verdict = outbound::submit(settings, "support@example.com", {"zoe@customer.example"},
                                          message_to("zoe@customer.example"));
    CHECK(verdict.outcome == outbound::smtp_outcome::retry);
    CHECK(verdict.text.find("not sent in clear") != std::string::npos);
    // submit returns after the server's last reply, and the sink writes a message before its 250.
    CHECK(sink.messages().empty());
  }

  TEST_CASE("a wrong password (535) is dead") {
    testing::smtp_sink sink;
    auto settings = settings_for(sink);
    settings.password = "wrong";
    const auto verdict =
        outbound::submit(settings, "support@example.com", {"zoe@customer.example"}, message_to("zoe@customer.example"));
    CHECK(verdict.outcome == outbound::smtp_outcome::dead);
    CHECK(verdict.code == 535);
    CHECK(verdict.text.starts_with("535"));
    CHECK(sink.messages().empty());
  }

  TEST_CASE("a recipient refused with 550 is dead, with the server's reply") {
    testing::smtp_sink_options options;
    options.reject = {"gone@customer.example"};
    testing::smtp_sink sink(options);
    const auto verdict = outbound::submit(settings_for(sink), "support@example.com", {"gone@customer.example"},
                                          message_to("gone@customer.example"));
    CHECK(verdict.outcome == outbound::smtp_outcome::dead);
    CHECK(verdict.code == 550);
    CHECK(verdict.text.find("gone@customer.example") != std::string::npos);
    CHECK(sink.messages().empty());
  }

  TEST_CASE("a recipient deferred with 451 is retried, with the server's reply") {
    testing::smtp_sink_options options;
    options.defer = {"busy@customer.example"};
    testing::smtp_sink sink(options);
    const auto verdict = outbound::submit(settings_for(sink), "support@example.com", {"busy@customer.example"},
                                          message_to("busy@customer.example"));
    CHECK(verdict.outcome == outbound::smtp_outcome::retry);
    CHECK(verdict.code == 451);
    CHECK(verdict.text.starts_with("451 4.3.0 <busy@customer.example>"));
    CHECK(sink.messages().empty());
  }

  TEST_CASE("a server that never greets is retried once the timeout passes") {
    // Listening without accepting: the kernel completes the connection and nobody speaks.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(fd, 4) == 0);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    outbound::smtp_settings settings;
    settings.url = "smtp://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
    settings.timeout = 1s;
    const auto verdict =
        outbound::submit(settings, "support@example.com", {"zoe@customer.example"}, message_to("zoe@customer.example"));
    ::close(fd);
    CHECK(verdict.outcome == outbound::smtp_outcome::retry);
    CHECK(verdict.code == 0);
    INFO(verdict.text);
    CHECK(verdict.text.find("timed out") != std::string::npos);
  }

  TEST_CASE("a certificate the CA file does not vouch for is not trusted") {
    testing::smtp_sink sink;
    auto settings = settings_for(sink);
    settings.ca_file.clear();  // the system store does not know the sink's self-signed certificate
    const auto verdict =
        outbound::submit(settings, "support@example.com", {"zoe@customer.example"}, message_to("zoe@customer.example"));
    CHECK(verdict.outcome == outbound::smtp_outcome::retry);
    CHECK(sink.messages().empty());
  }

  TEST_CASE("an envelope address with a line break is dead before any connection") {
    outbound::smtp_settings settings;
    settings.url = "smtp://127.0.0.1:" + std::to_string(closed_port());
    const auto verdict = outbound::submit(settings, "support@example.com", {"a@x.example>\r\nRCPT TO:<b@x.example"},
                                          message_to("a@x.example"));
    CHECK(verdict.outcome == outbound::smtp_outcome::dead);
    CHECK(verdict.code == 0);
  }

  TEST_CASE("a closed port is retried") {
    outbound::smtp_settings settings;
    settings.url = "smtp://127.0.0.1:" + std::to_string(closed_port());
    settings.timeout = 10s;
    const auto verdict =
        outbound::submit(settings, "support@example.com", {"zoe@customer.example"}, message_to("zoe@customer.example"));
    CHECK(verdict.outcome == outbound::smtp_outcome::retry);
    CHECK(verdict.code == 0);
    CHECK_FALSE(verdict.text.empty());
  }
}

TEST_SUITE("outbound::smtp") {
  TEST_CASE("switchboard-cli outbound test-email delivers through the configured server, or exits 1 saying why") {
    testing::smtp_sink_options options;
    options.reject = {"gone@customer.example"};
    testing::smtp_sink sink(options);
    testing::temp_dir dir;
    const auto config = testing::shipped_config_with(dir, "");
    testing::write_file(config, testing::read_text(config) + "\n[outbound.email]\nsmtp_url = \"" + sink.url() +
                                    "\"\nusername = \"switchboard\"\nfrom = \"Acme Support <help@acme.example>\"\n"
                                    "ca_file = \"" + sink.ca_file() + "\"\ntimeout = \"20s\"\n");
    auto cli = [&config](const std::string& password, const std::string& to) {
      return testing::run_program({"/usr/bin/env", "SWITCHBOARD_SMTP_PASSWORD=" + password, SWITCHBOARD_CLI_PATH,
                                   "--config", config, "--json", "outbound", "test-email", "--to", to});
    };
    const auto sent = cli("sink-secret", "ops@acme.example");
    INFO(sent.out, sent.err);
    REQUIRE(sent.exit_code == 0);
    const auto answer = boost::json::parse(sent.out).as_object();
    CHECK(answer.at("outcome") == "delivered");
    const auto mail = sink.wait_for(1, 10s);
    REQUIRE(mail);
    CHECK(mail->mail_from == "help@acme.example");
    CHECK(mail->rcpt_tos == std::vector<std::string>{"ops@acme.example"});
    const auto parsed = http::webhooks::parse_rfc822(mail->raw);
    REQUIRE(parsed);
    CHECK(parsed->message_id == answer.at("message_id").as_string());
    CHECK(parsed->automatic);  // Auto-Submitted: auto-generated

    const auto refused = cli("sink-secret", "gone@customer.example");
    CHECK(refused.exit_code == 1);
    CHECK(boost::json::parse(refused.out).at("outcome") == "dead");
    const auto wrong = cli("wrong", "ops@acme.example");
    CHECK(wrong.exit_code == 1);
    CHECK(boost::json::parse(wrong.out).at("code") == 535);
    CHECK(sink.messages().size() == 1);
  }

  TEST_CASE("switchboard-cli rules check refuses starttls = false for a host that is not loopback") {
    testing::temp_dir dir;
    const auto config = testing::shipped_config_with(dir, "");
    testing::write_file(config, testing::read_text(config) +
                                    "\n[outbound.email]\nsmtp_url = \"smtp://smtp.example.com:587\"\nstarttls = false\n");
    const auto checked = testing::run_program({SWITCHBOARD_CLI_PATH, "--config", config, "rules", "check"});
    CHECK(checked.exit_code == 1);
    CHECK(checked.err.find("starttls = false would send mail and the password in clear") != std::string::npos);
  }
}

TEST_SUITE("outbound::smtp") {
  TEST_CASE("the pool submits in the order posted, off the caller's thread, and reports each verdict") {
    testing::smtp_sink_options options;
    options.reject = {"gone@customer.example"};
    testing::smtp_sink sink(options);
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::pair<std::string, outbound::smtp_outcome>> verdicts;
    std::vector<std::thread::id> threads;
    {
      outbound::smtp_pool pool(settings_for(sink));
      for (const std::string to : {"a@customer.example", "gone@customer.example", "b@customer.example"})
        pool.post("support@example.com", {to}, message_to(to), [&, to](outbound::smtp_verdict verdict) {
          const std::lock_guard lock(mutex);
          verdicts.emplace_back(to, verdict.outcome);
          threads.push_back(std::this_thread::get_id());
          changed.notify_all();
        });
      std::unique_lock lock(mutex);
      REQUIRE(changed.wait_for(lock, 30s, [&] { return verdicts.size() == 3; }));
    }
    using outcome = outbound::smtp_outcome;
    CHECK(verdicts == std::vector<std::pair<std::string, outcome>>{{"a@customer.example", outcome::delivered},
                                                                  {"gone@customer.example", outcome::dead},
                                                                  {"b@customer.example", outcome::delivered}});
    CHECK(threads[0] != std::this_thread::get_id());
    const auto mails = sink.messages();
    REQUIRE(mails.size() == 2);
    CHECK(mails[0].rcpt_tos == std::vector<std::string>{"a@customer.example"});
    CHECK(mails[1].rcpt_tos == std::vector<std::string>{"b@customer.example"});
  }
}
