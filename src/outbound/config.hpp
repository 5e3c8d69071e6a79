#pragma once
// Outbound e-mail settings, from the config's [outbound.email] section.
//
// [outbound.email]
// smtp_url = "smtp://smtp.example.com:587"  # smtp:// upgrades with STARTTLS (required); smtps:// for 465
// username = "switchboard"                  # AUTH user; the password only from SWITCHBOARD_SMTP_PASSWORD
// from = "Support <support@example.com>"    # default: [integrations.email] support_address
// ca_file = "/etc/ssl/private-ca.pem"       # trusted CAs when not the system's; relative to the config file
// timeout = "30s"                           # one submission, connect to the final reply
// starttls = false                          # only for a loopback smtp_url (a local relay); default true
//
// Without [outbound.email] nothing is sent by e-mail (the outbox's e-mail rows are dead-lettered).
// The notifier sends the outbox's e-mail rows with it: public answers to e-mail requests.

#include "outbound/smtp.hpp"

#include "config/toml.hpp"

#include <optional>
#include <string>

namespace switchboard::outbound {

struct email_settings {
  smtp_settings smtp;  // smtp.url is parse_smtp_url's normalised form
  std::string from;    // one mailbox, checked with email_message.hpp address_of
};

// Reads an [outbound.email] table; `default_from` stands in for a missing `from`; `password` is
// SWITCHBOARD_SMTP_PASSWORD's value (empty when unset: AUTH then fails at the server, and
// `switchboard-cli outbound test-email` says why). Throws config::error with file:line:col on
// anything unknown or malformed, and on starttls = false for a host that is not loopback.
email_settings load_email_settings(const toml::table& email, const std::string& file,
                                   const std::string& default_from, const std::string& password);

// The [outbound.email] section of a config file, with the password from the environment;
// nullopt when the file has none.
std::optional<email_settings> load_email_settings_file(const std::string& path, const std::string& default_from);

}  // namespace switchboard::outbound
