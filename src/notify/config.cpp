// The [notify] section: outbound-webhook subscriptions and retry settings.
#include "notify/config.hpp"

#include "sla/policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace switchboard::notify {
namespace {

using config::non_empty_string;

std::chrono::seconds duration_value(const toml::node& node, const std::string& file, std::string_view key,
                                    bool allow_zero) {
  const auto text = non_empty_string(node, file, key);
  const auto parsed = sla::parse_duration(text);
  if (!parsed || (!allow_zero && parsed->count() == 0))
    config::fail_at(node, file, fmt::format("{} must be a {}duration like \"30s\", \"5m\" or \"24h\", found \"{}\"", key,
                                            allow_zero ? "" : "positive ", text));
  return *parsed;
}

bool valid_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool valid_event_pattern(std::string_view p) {
  if (p == "*") return true;
  if (p.ends_with(".*")) p.remove_suffix(2);
  if (p.empty()) return false;
  return std::all_of(p.begin(), p.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
  }) && !p.starts_with('.') && !p.ends_with('.');
}

subscription load_subscription(const toml::table& table, const std::string& file) {
  subscription sub;
  bool has_events = false;
  config::reject_unknown_keys(table, file,
                              {"name", "url", "url_env", "events", "secret_env", "format", "allow_private"},
                              "[[notify.subscription]]");
  for (const auto& [key, node] : table) {
    const auto k = key.str();
    if (k == "name") {
      sub.name = non_empty_string(node, file, k);
      if (!valid_name(sub.name))
        config::fail_at(node, file, fmt::format("subscription name \"{}\" must match [a-z0-9_-]+", sub.name));
    } else if (k == "url") {
      sub.url = non_empty_string(node, file, k);
      try {
        parse_url(sub.url);
      } catch (const std::invalid_argument& e) {
        config::fail_at(node, file, e.what());
      }
    } else if (k == "url_env") {
      sub.url_env = non_empty_string(node, file, k);
    } else if (k == "secret_env") {
      sub.secret_env = non_empty_string(node, file, k);
    } else if (k == "events") {
      const auto* array = node.as_array();
      if (array == nullptr || array->empty())
        config::fail_at(node, file, "events must be a non-empty array of event types (\"sla.breached\", \"sla.*\")");
      for (const auto& item : *array) {
        const auto type = non_empty_string(item, file, "an event type");
        if (!valid_event_pattern(type))
          config::fail_at(item, file,
                          fmt::format("\"{}\" is not an event type: expected an exact type (\"sla.breached\"), a "
                                      "prefix (\"sla.*\") or \"*\"",
                                      type));
        sub.events.push_back(type);
      }
      has_events = true;
    } else if (k == "format") {
      const auto text = non_empty_string(node, file, k);
      if (text == "standard") sub.format = body_format::standard;
      else if (text == "slack") sub.format = body_format::slack;
      else config::fail_at(node, file, fmt::format("format must be \"standard\" or \"slack\", found \"{}\"", text));
    } else if (k == "allow_private") {
      const auto* flag = node.as_boolean();
      if (flag == nullptr) config::fail_at(node, file, "allow_private must be true or false");
      sub.allow_private = flag->get();
    }
  }
  if (sub.name.empty()) config::fail_at(table, file, "a [[notify.subscription]] needs a name");
  if (sub.url.empty() == sub.url_env.empty())
    config::fail_at(table, file, fmt::format("subscription \"{}\" needs exactly one of url or url_env", sub.name));
  if (!has_events) config::fail_at(table, file, fmt::format("subscription \"{}\" needs events", sub.name));
  if (sub.format == body_format::standard && sub.secret_env.empty())
    config::fail_at(table, file,
                    fmt::format("subscription \"{}\" needs secret_env (the environment variable holding its "
                                "whsec_ signing secret)",
                                sub.name));
  return sub;
}

}  // namespace

url_parts parse_url(std::string_view url) {
  url_parts parts;
  if (url.starts_with("https://")) {
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    parts.https = false;
    parts.port = 80;
    url.remove_prefix(7);
  } else {
    throw std::invalid_argument(fmt::format("url \"{}\" must start with https:// or http://", url));
  }
  const auto slash = url.find_first_of("/?#");
  auto authority = url.substr(0, slash);
  parts.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (parts.target.starts_with('?')) parts.target.insert(0, "/");
  if (const auto hash = parts.target.find('#'); hash != std::string::npos) parts.target.erase(hash);
  if (parts.target.empty()) parts.target = "/";
  if (authority.find('@') != std::string_view::npos)
    throw std::invalid_argument("url must not carry user:password@ (use the signing secret)");
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("url has an unclosed [IPv6] host");
    parts.host = std::string(authority.substr(1, close - 1));
    auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) throw std::invalid_argument("url has junk after its [IPv6] host");
      port_text = rest.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    parts.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (parts.host.empty()) throw std::invalid_argument("url has no host");
  if (!port_text.empty() || authority.ends_with(':')) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || value == 0 || value > 65535)
      throw std::invalid_argument(fmt::format("url port \"{}\" is not a port number", port_text));
    parts.port = static_cast<std::uint16_t>(value);
  }
  return parts;
}

settings load_settings(const toml::table& notify, const std::string& file) {
  settings out;
  config::reject_unknown_keys(notify, file,
                              {"initial_backoff", "max_backoff", "max_age", "timeout", "poll_interval", "lease", "subscription"},
                              "[notify]");
  for (const auto& [key, node] : notify) {
    const auto k = key.str();
    if (k == "initial_backoff") out.initial_backoff = duration_value(node, file, k, false);
    else if (k == "max_backoff") out.max_backoff = duration_value(node, file, k, false);
    else if (k == "max_age") out.max_age = duration_value(node, file, k, false);
    else if (k == "timeout") out.timeout = duration_value(node, file, k, false);
    else if (k == "poll_interval") out.poll_interval = duration_value(node, file, k, false);
    else if (k == "lease") out.lease = duration_value(node, file, k, false);
    else if (k == "subscription") {
      const auto* array = node.as_array();
      if (array == nullptr) config::fail_at(node, file, "notify.subscription must be an array of tables ([[notify.subscription]])");
      for (const auto& item : *array) {
        const auto* table = item.as_table();
        if (table == nullptr) config::fail_at(item, file, "each notify.subscription must be a table");
        auto sub = load_subscription(*table, file);
        for (const auto& existing : out.subscriptions)
          if (existing.name == sub.name)
            config::fail_at(*table, file, fmt::format("a subscription named \"{}\" is already defined", sub.name));
        out.subscriptions.push_back(std::move(sub));
      }
    }
  }
  if (out.max_backoff < out.initial_backoff) config::fail_at(notify, file, "max_backoff must be at least initial_backoff");
  // A lease shorter than a send would let another instance send the row again while this one
  // still waits for the answer.
  if (out.lease <= out.timeout)
    config::fail_at(notify, file, "lease must be longer than timeout (a claimed row's lease covers one send and its record)");
  return out;
}

settings load_settings_file(const std::string& path) {
  const auto root = config::parse_file(path);
  const auto* node = root.get("notify");
  if (node == nullptr) return {};
  const auto* table = node->as_table();
  if (table == nullptr) config::fail_at(*node, path, "[notify] must be a table");
  return load_settings(*table, path);
}

std::vector<engine::outbound_route> routes(const settings& settings) {
  std::vector<engine::outbound_route> out;
  for (const auto& sub : settings.subscriptions) out.push_back({sub.name, sub.events});
  return out;
}

}  // namespace switchboard::notify
