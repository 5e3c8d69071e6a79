#include "outbound/config.hpp"

#include "config/error.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace switchboard;

namespace {

outbound::email_settings load_text(const testing::temp_dir& dir, const std::string& text) {
  const auto path = testing::write_file(dir.file("switchboard.toml"), text);
  const auto root = config::parse_file(path);
  return outbound::load_email_settings(*root["outbound"]["email"].as_table(), path, "support@example.com", "pw");
}

std::string error_of(const testing::temp_dir& dir, const std::string& text) {
  try {
    load_text(dir, text);
  } catch (const config::error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_SUITE("outbound::config") {
  TEST_CASE("an [outbound.email] section loads with its defaults") {
    testing::temp_dir dir;
    testing::write_file(dir.file("ca.pem"), "not checked here");
    const auto settings = load_text(dir, R"([outbound.email]
smtp_url = "smtp://smtp.example.com"
username = "switchboard"
ca_file = "ca.pem"
)");
    CHECK(settings.smtp.url == "smtp://smtp.example.com:587");
    CHECK(settings.smtp.username == "switchboard");
    CHECK(settings.smtp.password == "pw");
    CHECK(settings.smtp.ca_file == dir.file("ca.pem"));
    CHECK(settings.smtp.timeout == std::chrono::seconds{30});
    CHECK(settings.smtp.starttls);
    CHECK(settings.from == "support@example.com");

    const auto tls = load_text(dir, "[outbound.email]\nsmtp_url = \"smtps://[::1]\"\nfrom = \"Help <help@example.com>\"\n"
                                    "timeout = \"5s\"\n");
    CHECK(tls.smtp.url == "smtps://[::1]:465");
    CHECK(tls.from == "Help <help@example.com>");
    CHECK(tls.smtp.timeout == std::chrono::seconds{5});
    CHECK(load_text(dir, "[outbound.email]\nsmtp_url = \"smtp://localhost:2525\"\nstarttls = false\n").smtp.starttls ==
          false);
  }

  TEST_CASE("every refusal names file, line and column") {
    testing::temp_dir dir;
    const auto file = dir.file("switchboard.toml");
    CHECK(error_of(dir, "[outbound.email]\nsmtp_url = \"http://smtp.example.com\"\n") ==
          file + ":2:12: smtp_url \"http://smtp.example.com\" must start with smtp:// (STARTTLS, port 587) or "
                 "smtps:// (port 465)");
    CHECK(error_of(dir, "[outbound.email]\nsmtp_url = \"smtp://u:p@smtp.example.com\"\n")
              .starts_with(file + ":2:12: smtp_url must not carry user:password@"));
    CHECK(error_of(dir, "[outbound.email]\nsmtp_url = \"smtp://smtp.example.com/x\"\n")
              .starts_with(file + ":2:12: smtp_url \"smtp://smtp.example.com/x\" must be only"));
    CHECK(error_of(dir, "[outbound.email]\nusername = \"u\"\n").starts_with(file + ":1:1: [outbound.email] needs smtp_url"));
    CHECK(error_of(dir, "[outbound.email]\nsmtp_url = \"smtp://smtp.example.com\"\npassword = \"x\"\n")
              .starts_with(file + ":3:1: unknown key \"password\" in [outbound.email]"));
    CHECK(error_of(dir, "[outbound.email]\nsmtp_url = \"smtp://smtp.example.com\"\nstarttls = false\n")
              .starts_with(file + ":3:12: starttls = false would send mail and the password in clear to smtp.example.com"));
    CHECK(error_of(dir, "[outbound.email]\nsmtp_url = \"smtp://smtp.example.com\"\nfrom = \"nobody\"\n")
              .starts_with(file + ":3:8: from: "));
    CHECK(error_of(dir, "[outbound.email]\nsmtp_url = \"smtp://smtp.example.com\"\ntimeout = \"0s\"\n")
              .starts_with(file + ":3:11: timeout must be a duration"));
    CHECK(error_of(dir, "[outbound.email]\nsmtp_url = \"smtp://smtp.example.com\"\nca_file = \"missing.pem\"\n")
              .starts_with(file + ":3:11: ca_file " + dir.file("missing.pem") + " is not a readable file"));
  }

  TEST_CASE("a config file without [outbound.email] sends no e-mail, and a misspelt section is refused") {
    testing::temp_dir dir;
    CHECK_FALSE(outbound::load_email_settings_file(testing::write_file(dir.file("a.toml"), "[server]\n"), "s@x.example"));
    const auto path = testing::write_file(dir.file("b.toml"), "[outbound.mail]\nsmtp_url = \"smtp://x\"\n");
    std::string error;
    try {
      outbound::load_email_settings_file(path, "s@x.example");
    } catch (const config::error& e) {
      error = e.what();
    }
    CHECK(error.starts_with(path + ":1:11: unknown key \"mail\" in [outbound]"));
  }
}

TEST_SUITE("outbound::config") {
  TEST_CASE("the README's [outbound.email] example loads as it says") {
    const auto readme = testing::read_text(testing::source_path("README.md"));
    const auto section = readme.find("### Sending e-mail (SMTP)");
    REQUIRE(section != std::string::npos);
    const auto start = readme.find("```toml\n", section) + 8;
    const auto block = readme.substr(start, readme.find("```", start) - start);
    testing::temp_dir dir;
    const auto settings = load_text(dir, block);
    CHECK(settings.smtp.url == "smtp://smtp.example.com:587");
    CHECK(settings.smtp.username == "switchboard");
    CHECK(settings.from == "Acme Support <support@example.com>");
    CHECK(settings.smtp.timeout == std::chrono::seconds{30});
    CHECK(settings.smtp.starttls);
  }
}
