#pragma once
// Outbound-webhook subscriptions and delivery settings, from the config's [notify] section.
//
// [notify]
// initial_backoff = "5s"     # first retry delay; doubles per attempt, ±10 % jitter
// max_backoff = "1h"         # cap on one delay
// max_age = "24h"            # then the delivery is dead-lettered
// timeout = "15s"            # per attempt: resolve, connect, TLS, send, read
// poll_interval = "1s"       # how often the outbox is checked for due deliveries
// lease = "60s"              # a claimed row is this instance's for this long (longer than timeout):
//                            # every instance drains the one outbox (store::claim_due)
//
// [[notify.subscription]]
// name = "ops"                              # [a-z0-9_-]+
// url = "https://hooks.example.com/sb"      # or url_env = "ENV_VAR" holding the URL
// events = ["escalation.notified", "sla.*"] # exact types, "prefix.*" or "*"
// secret_env = "SWITCHBOARD_WEBHOOK_OPS"    # holds "whsec_<base64>" (several, space-separated,
//                                           # while rotating: each signs); required for "standard"
// format = "standard"                       # or "slack" (Slack incoming-webhook message)
// allow_private = false                     # true allows loopback/private addresses

#include "config/toml.hpp"
#include "engine/engine.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::notify {

enum class body_format { standard, slack };

struct url_parts {
  bool https = true;
  std::string host;    // a name or an IP literal (without brackets)
  std::uint16_t port = 443;
  std::string target;  // path and query, "/" at least
};

struct subscription {
  std::string name;
  std::string url;      // empty when url_env is set
  std::string url_env;  // the environment variable holding the URL
  std::vector<std::string> events;
  std::string secret_env;  // empty: unsigned (slack format only)
  body_format format = body_format::standard;
  bool allow_private = false;
};

struct settings {
  std::vector<subscription> subscriptions;
  std::chrono::seconds initial_backoff{5};
  std::chrono::seconds max_backoff{3600};
  std::chrono::seconds max_age{24 * 3600};
  std::chrono::seconds timeout{15};
  std::chrono::seconds poll_interval{1};
  // How long a row claimed for sending is this instance's (store::claim_due); must be longer than
  // `timeout`. The worker lengthens it to twice the send's timeout (webhooks: `timeout`; Slack
  // and e-mail rows: theirs) when that is longer.
  // An instance that dies holding rows leaves them to the others after this long.
  std::chrono::seconds lease{60};
};

// Reads a [notify] table; throws config::error with file:line:col on anything unknown or malformed.
settings load_settings(const toml::table& notify, const std::string& file);

// The [notify] section of a config file; default settings without subscriptions when absent.
settings load_settings_file(const std::string& path);

// Which events go to which subscription, for engine::policy::outbound.
std::vector<engine::outbound_route> routes(const settings& settings);

// "http(s)://host[:port][/path]"; nullopt-like failure as std::invalid_argument with the reason.
url_parts parse_url(std::string_view url);

}  // namespace switchboard::notify
