// Loading and validating the [server], [storage], [customers] and [auth] sections of the config file.
#include "config/settings.hpp"

#include "config/toml.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <type_traits>

namespace switchboard::config {
namespace {

std::string string_value(const toml::node& node, std::string_view file, std::string_view what) {
  const auto* value = node.as_string();
  if (value == nullptr) fail_at(node, file, fmt::format("{} must be a string", what));
  return value->get();
}

std::string resolve(const std::string& base_file, const std::string& path) {
  if (path == ":memory:" || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(base_file).parent_path() / path).lexically_normal().string();
}

}  // namespace

std::string parse_public_url(std::string_view url) {
  const bool https = url.starts_with("https://");
  if (!https && !url.starts_with("http://"))
    throw std::invalid_argument(fmt::format("public_url \"{}\" must start with https:// (http:// only for a loopback host)", url));
  if (url.size() > 2000) throw std::invalid_argument("public_url must be at most 2000 bytes");
  for (const char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>' || c == '\\')
      throw std::invalid_argument("public_url must not hold spaces, control characters, quotes or angle brackets");
  if (url.find_first_of("?#") != std::string_view::npos)
    throw std::invalid_argument("public_url must not carry a query or a fragment");
  const auto rest = url.substr(https ? 8 : 7);
  const auto authority = rest.substr(0, rest.find('/'));
  if (authority.find('@') != std::string_view::npos) throw std::invalid_argument("public_url must not carry user:password@");
  const auto host = authority.starts_with('[') ? authority.substr(0, authority.find(']') + 1)
                                               : authority.substr(0, authority.rfind(':'));
  if (host.empty()) throw std::invalid_argument("public_url has no host");
  if (!https && host != "localhost" && host != "[::1]" && !host.starts_with("127."))
    throw std::invalid_argument("public_url must be https:// (http:// only for localhost, 127.0.0.0/8 or [::1])");
  std::string out(url);
  while (out.ends_with('/')) out.pop_back();
  return out;
}

listen_address parse_listen_address(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw std::invalid_argument(fmt::format("\"{}\" is not HOST:PORT", text));
  listen_address address;
  address.host = text.substr(0, colon);
  if (address.host.size() > 2 && address.host.front() == '[' && address.host.back() == ']')
    address.host = address.host.substr(1, address.host.size() - 2);
  const auto port_text = std::string_view(text).substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535)
    throw std::invalid_argument(fmt::format("\"{}\" is not HOST:PORT with a port from 0 to 65535", text));
  address.port = static_cast<std::uint16_t>(port);
  return address;
}

settings load_settings(const std::string& path) {
  const auto root = parse_file(path);
  settings result;
  result.file = path;
  result.database_path = resolve(path, "../var/switchboard.db");
  result.rules_path = resolve(path, "../rules/routing.toml");

  reject_unknown_keys(root, path, {"server", "customers", "calendars", "sla", "auth", "workflow", "escalation", "notify",
                                      "integrations", "outbound", "people", "use_cases", "assignment", "storage"},
                    "the top level");

  if (const auto* server = root.get("server")) {
    const auto* table = server->as_table();
    if (table == nullptr) fail_at(*server, path, "[server] must be a table");
    reject_unknown_keys(*table, path,
                        {"listen",
                         "database",
                         "max_body_bytes",
                         "rules",
                         "io_threads",
                         "worker_threads",
                         "intake_threads",
                         "max_intake_jobs",
                         "max_connections",
                         "max_large_uploads",
                         "header_timeout_seconds",
                         "body_timeout_seconds",
                         "write_timeout_seconds",
                         "handler_timeout_seconds",
                         "shutdown_timeout_seconds",
                         "health_deadline_ms",
                         "max_connections_per_client",
                         "min_body_bytes_per_second",
                         "body_rate_grace_seconds",
                         "large_body_bytes",
                         "max_unauthenticated_body_bytes",
                         "max_page_bytes",
                         "max_buffered_response_bytes",
                         "log_format",
                         "public_url"},
                        "[server]");
    if (const auto* listen = table->get("listen")) {
      try {
        result.listen = parse_listen_address(string_value(*listen, path, "listen"));
      } catch (const std::invalid_argument& e) {
        fail_at(*listen, path, e.what());
      }
    }
    if (const auto* database = table->get("database"))
      result.database_path = resolve(path, string_value(*database, path, "database"));
    if (const auto* rules = table->get("rules")) result.rules_path = resolve(path, string_value(*rules, path, "rules"));
    if (const auto* format = table->get("log_format")) {
      result.log_format = string_value(*format, path, "log_format");
      if (result.log_format != "text" && result.log_format != "json")
        fail_at(*format, path, "log_format must be \"text\" or \"json\"");
    }
    if (const auto* url = table->get("public_url")) {
      try {
        result.public_url = parse_public_url(string_value(*url, path, "public_url"));
      } catch (const std::invalid_argument& e) {
        fail_at(*url, path, e.what());
      }
    }
    if (const auto* limit = table->get("max_body_bytes")) {
      const auto* value = limit->as_integer();
      if (value == nullptr || value->get() <= 0)
        fail_at(*limit, path, "max_body_bytes must be a positive integer (bytes)");
      result.max_body_bytes = static_cast<std::size_t>(value->get());
    }
    // Counts and seconds: whole numbers, at least `minimum`.
    const auto whole = [&](std::string_view key, auto& into, std::int64_t minimum) {
      const auto* node = table->get(key);
      if (node == nullptr) return;
      const auto* value = node->as_integer();
      if (value == nullptr || value->get() < minimum || value->get() > 1'000'000)
        fail_at(*node, path, std::string(key) + " must be a whole number from " + std::to_string(minimum) +
                                 " to 1000000");
      into = static_cast<std::remove_reference_t<decltype(into)>>(value->get());
    };
    whole("io_threads", result.io_threads, 0);
    whole("worker_threads", result.worker_threads, 0);
    whole("intake_threads", result.intake_threads, 1);
    whole("max_intake_jobs", result.max_intake_jobs, 0);
    whole("max_connections", result.max_connections, 1);
    whole("max_large_uploads", result.max_large_uploads, 1);
    whole("max_connections_per_client", result.max_connections_per_client, 0);
    whole("header_timeout_seconds", result.header_timeout_seconds, 1);
    whole("body_timeout_seconds", result.body_timeout_seconds, 1);
    whole("write_timeout_seconds", result.write_timeout_seconds, 1);
    whole("handler_timeout_seconds", result.handler_timeout_seconds, 1);
    whole("shutdown_timeout_seconds", result.shutdown_timeout_seconds, 1);
    whole("health_deadline_ms", result.health_deadline_ms, 1);
    whole("body_rate_grace_seconds", result.body_rate_grace_seconds, 1);
    // Bytes: whole numbers from `minimum` to 1 TiB (a bound that keeps sums of them from
    // overflowing, far above any sensible limit).
    const auto bytes = [&](std::string_view key, std::size_t& into, std::int64_t minimum) {
      constexpr std::int64_t most = std::int64_t{1} << 40;
      const auto* node = table->get(key);
      if (node == nullptr) return;
      const auto* value = node->as_integer();
      if (value == nullptr || value->get() < minimum || value->get() > most)
        fail_at(*node, path, fmt::format("{} must be a whole number of bytes from {} to {}", key, minimum, most));
      into = static_cast<std::size_t>(value->get());
    };
    bytes("min_body_bytes_per_second", result.min_body_bytes_per_second, 0);
    bytes("large_body_bytes", result.large_body_bytes, 1);
    bytes("max_unauthenticated_body_bytes", result.max_unauthenticated_body_bytes, 1);
    bytes("max_page_bytes", result.max_page_bytes, 1);
    bytes("max_buffered_response_bytes", result.max_buffered_response_bytes, 0);
  }

  // [storage]: which store adapter, and the embedded database's file. `path` is [server] database's newer
  // name; the old one is still read, and giving both is refused rather than one silently winning.
  if (const auto* storage = root.get("storage")) {
    const auto* table = storage->as_table();
    if (table == nullptr) fail_at(*storage, path, "[storage] must be a table");
    // A URL holds the PostgreSQL password: it stays out of files that get committed and copied.
    if (const auto* url = table->get("url"))
      fail_at(*url, path,
              "url is not read from the file: the PostgreSQL URL comes from SWITCHBOARD_DATABASE_URL");
    reject_unknown_keys(*table, path, {"backend", "path", "readers", "connect_wait_ms", "lease_seconds"}, "[storage]");
    if (const auto* backend = table->get("backend")) {
      const auto name = string_value(*backend, path, "backend");
      if (name == "postgres")
        result.storage_kind = storage_backend::postgres;
      else if (name != "sqlite")
        fail_at(*backend, path, fmt::format("unknown backend \"{}\"; expected \"sqlite\" or \"postgres\"", name));
    }
    const auto whole = [&](const char* key, std::int64_t minimum, std::int64_t most) -> std::optional<std::int64_t> {
      const auto* node = table->get(key);
      if (node == nullptr) return std::nullopt;
      const auto* value = node->as_integer();
      if (value == nullptr || value->get() < minimum || value->get() > most)
        fail_at(*node, path, fmt::format("{} must be a whole number from {} to {}", key, minimum, most));
      return value->get();
    };
    if (const auto readers = whole("readers", 0, 1024)) result.storage_readers = static_cast<std::size_t>(*readers);
    if (const auto wait = whole("connect_wait_ms", 0, 600000)) result.storage_connect_wait_ms = static_cast<unsigned>(*wait);
    if (const auto lease = whole("lease_seconds", 1, 3600)) result.storage_lease_seconds = static_cast<unsigned>(*lease);
    if (const auto* file = table->get("path");
        file != nullptr && result.storage_kind == storage_backend::postgres)
      fail_at(*file, path, "path is the embedded database's file; with backend \"postgres\" the database is SWITCHBOARD_DATABASE_URL's");
    if (const auto* file = table->get("path")) {
      const auto* server = root.get("server");
      const auto* old_name = server != nullptr && server->as_table() != nullptr ? server->as_table()->get("database")
                                                                                 : nullptr;
      if (old_name != nullptr)
        fail_at(*file, path, "give the database file once: [storage] path, or its older name [server] database");
      result.database_path = resolve(path, string_value(*file, path, "path"));
    }
  }

  // The database file's names: a URL there would be taken for a path (a folder named after it,
  // password and all, printed in the start-up line). [server] database stays allowed with
  // backend "postgres" (the shipped config sets it; it is not used there), [storage] path not.
  {
    const auto* server = root.get("server");
    const auto* storage = root.get("storage");
    for (const auto& [node, key] : {std::pair{server != nullptr && server->as_table() != nullptr ? server->as_table()->get("database") : nullptr, "database"},
                                    std::pair{storage != nullptr && storage->as_table() != nullptr ? storage->as_table()->get("path") : nullptr, "path"}}) {
      if (node == nullptr) continue;
      const auto* text = node->as_string();
      if (text == nullptr) continue;
      const std::string_view value = text->get();
      if (value.find("://") != std::string_view::npos || value.rfind("postgres:", 0) == 0 || value.rfind("postgresql:", 0) == 0)
        fail_at(*node, path, fmt::format("{} is the embedded database's file, and this looks like a URL; for PostgreSQL set "
                                         "[storage] backend = \"postgres\" and the URL in SWITCHBOARD_DATABASE_URL", key));
    }
  }

  if (const auto* customers = root.get("customers")) {
    const auto* table = customers->as_table();
    if (table == nullptr) fail_at(*customers, path, "[customers] must be a table");
    reject_unknown_keys(*table, path, {"tiers"}, "[customers]");
    if (const auto* tiers = table->get("tiers")) {
      const auto* array = tiers->as_array();
      if (array == nullptr || array->empty()) fail_at(*tiers, path, "tiers must be a non-empty array of strings");
      result.tiers.clear();
      for (const auto& tier : *array) result.tiers.push_back(string_value(tier, path, "a tier"));
    }
  }
  if (const auto* auth = root.get("auth")) {
    const auto* table = auth->as_table();
    if (table == nullptr) fail_at(*auth, path, "[auth] must be a table");
    reject_unknown_keys(*table, path, {"tokens_file"}, "[auth]");
    if (const auto* file = table->get("tokens_file"))
      result.tokens_file = resolve(path, string_value(*file, path, "tokens_file"));
  }
  return result;
}

}  // namespace switchboard::config
