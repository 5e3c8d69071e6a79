// The [outbound.email] section: where and how e-mail is submitted.
#include "outbound/config.hpp"

#include "outbound/email_message.hpp"
#include "sla/policy.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>

namespace switchboard::outbound {

using config::non_empty_string;

email_settings load_email_settings(const toml::table& email, const std::string& file, const std::string& default_from,
                                   const std::string& password) {
  config::reject_unknown_keys(email, file, {"smtp_url", "username", "from", "ca_file", "timeout", "starttls"},
                              "[outbound.email]");
  email_settings out;
  out.from = default_from;
  out.smtp.password = password;
  const toml::node* starttls_node = nullptr;
  std::optional<smtp_url> url;
  for (const auto& [key, node] : email) {
    const auto k = key.str();
    if (k == "smtp_url") {
      try {
        url = parse_smtp_url(non_empty_string(node, file, k));
      } catch (const std::invalid_argument& e) {
        config::fail_at(node, file, e.what());
      }
      out.smtp.url = url->url;
    } else if (k == "username") {
      out.smtp.username = non_empty_string(node, file, k);
    } else if (k == "from") {
      out.from = non_empty_string(node, file, k);
      try {
        address_of(out.from);
      } catch (const invalid_email& e) {
        config::fail_at(node, file, fmt::format("from: {}", e.what()));
      }
    } else if (k == "ca_file") {
      const std::filesystem::path path(non_empty_string(node, file, k));
      out.smtp.ca_file = path.is_absolute()
                             ? path.string()
                             : (std::filesystem::path(file).parent_path() / path).lexically_normal().string();
      std::error_code ec;
      if (!std::filesystem::is_regular_file(out.smtp.ca_file, ec))
        config::fail_at(node, file, fmt::format("ca_file {} is not a readable file", out.smtp.ca_file));
    } else if (k == "timeout") {
      const auto text = non_empty_string(node, file, k);
      const auto parsed = sla::parse_duration(text);
      if (!parsed || parsed->count() == 0 || parsed->count() > 600)
        config::fail_at(node, file,
                        fmt::format("timeout must be a duration from 1s to 10m like \"30s\", found \"{}\"", text));
      out.smtp.timeout = *parsed;
    } else if (k == "starttls") {
      const auto* flag = node.as_boolean();
      if (flag == nullptr) config::fail_at(node, file, "starttls must be true or false");
      out.smtp.starttls = flag->get();
      starttls_node = &node;
    }
  }
  if (!url) config::fail_at(email, file, "[outbound.email] needs smtp_url, like \"smtp://smtp.example.com:587\"");
  if (!out.smtp.starttls) {
    if (url->implicit_tls)
      config::fail_at(*starttls_node, file, "starttls = false does not apply to smtps:// (TLS from the first byte)");
    if (!url->loopback)
      config::fail_at(*starttls_node, file,
                      fmt::format("starttls = false would send mail and the password in clear to {}; it is allowed "
                                  "only for a loopback host (localhost, 127.0.0.1, ::1)",
                                  url->host));
  }
  if (out.from.empty()) config::fail_at(email, file, "[outbound.email] needs from (an e-mail address)");
  return out;
}

std::optional<email_settings> load_email_settings_file(const std::string& path, const std::string& default_from) {
  const auto root = config::parse_file(path);
  const auto* outbound = root.get("outbound");
  if (outbound == nullptr) return std::nullopt;
  const auto* table = outbound->as_table();
  if (table == nullptr) config::fail_at(*outbound, path, "[outbound] must be a table");
  config::reject_unknown_keys(*table, path, {"email"}, "[outbound]");
  const auto* email = table->get("email");
  if (email == nullptr) return std::nullopt;
  const auto* email_table = email->as_table();
  if (email_table == nullptr) config::fail_at(*email, path, "[outbound.email] must be a table");
  const char* password = std::getenv("SWITCHBOARD_SMTP_PASSWORD");
  return load_email_settings(*email_table, path, default_from, password ? password : "");
}

}  // namespace switchboard::outbound
