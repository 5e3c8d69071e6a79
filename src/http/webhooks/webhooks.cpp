// Route registration, per-endpoint body limits and the helpers the webhook handlers share.
#include "http/webhooks/webhooks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace switchboard::http::webhooks {

void add_routes(router& routes, context& ctx) {
  add_slack_routes(routes, ctx);
  add_email_routes(routes, ctx);
}

std::function<std::size_t(std::string_view target)> body_limits(const integrations& config, std::size_t other) {
  return [slack = config.slack_max_body_bytes, email = config.email_max_body_bytes, other](std::string_view target) {
    if (target.starts_with("/v1/webhooks/slack/")) return slack;
    if (target.starts_with("/v1/webhooks/email/")) return email;
    return other;
  };
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_form_urlencoded(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> fields;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const auto pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    std::string name, value;
    if (!url_decode(pair.substr(0, eq), name, true)) return std::nullopt;
    if (eq != std::string_view::npos && !url_decode(pair.substr(eq + 1), value, true)) return std::nullopt;
    fields.emplace_back(std::move(name), std::move(value));
  }
  return fields;
}

std::string field(const std::vector<std::pair<std::string, std::string>>& fields, std::string_view name) {
  for (const auto& [key, value] : fields)
    if (std::equal(key.begin(), key.end(), name.begin(), name.end(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return value;
  return {};
}

std::string media_type(std::string_view content_type) {
  auto media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  while (!media.empty() && media.front() == ' ') media.remove_prefix(1);
  std::string out(media);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::int64_t real_unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

response not_configured(std::string_view what) {
  return error_response(status::service_unavailable, "not_configured",
                        fmt::format("{} is not configured on this server", what));
}

}  // namespace switchboard::http::webhooks
