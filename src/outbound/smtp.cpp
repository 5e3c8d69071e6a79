// SMTP submission through libcurl's easy interface, and the verdict on its outcome.
#include "outbound/smtp.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace switchboard::outbound {
namespace {

struct url_deleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct easy_deleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct list_deleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct curl_text {
  char* text = nullptr;
  ~curl_text() { curl_free(text); }
};

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

// One exchange's state for libcurl's callbacks.
struct exchange {
  std::string_view message;
  std::size_t sent = 0;
  std::string last_reply;     // the server's last reply line, e.g. "250 OK queued as 1"
  std::string failure_reply;  // its first 4xx or 5xx line, e.g. "550 5.1.1 <x@y>: no such user"
};

std::size_t read_message(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto& x = *static_cast<exchange*>(user);
  const auto n = std::min(size * count, x.message.size() - x.sent);
  std::memcpy(buffer, x.message.data() + x.sent, n);
  x.sent += n;
  return n;
}

// Only what the server said (CURLINFO_HEADER_IN): what we send includes AUTH's credentials.
int keep_replies(CURL*, curl_infotype type, char* data, std::size_t size, void* user) {
  if (type != CURLINFO_HEADER_IN) return 0;
  auto& x = *static_cast<exchange*>(user);
  std::string_view line(data, size);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  // "250-PIPELINING" continues a multi-line reply; its last line ("250 HELP") ends it.
  if (line.size() < 3 || (line.size() > 3 && line[3] == '-')) return 0;
  x.last_reply.assign(line.substr(0, 512));
  // After a refusal libcurl says QUIT, and "221 Bye" would hide why.
  if (x.failure_reply.empty() && (line[0] == '4' || line[0] == '5')) x.failure_reply = x.last_reply;
  return 0;
}

smtp_verdict judge(CURLcode rc, long code, const exchange& x, const char* error_buffer) {
  const auto& said = x.failure_reply.empty() || (rc == CURLE_OK && code >= 200 && code < 300) ? x.last_reply
                                                                                            : x.failure_reply;
  const auto reply = said.empty() ? fmt::format("SMTP {}", code) : said;
  const auto why = error_buffer[0] != '\0' ? std::string(error_buffer) : std::string(curl_easy_strerror(rc));
  const int smtp_code = static_cast<int>(code);
  if (rc == CURLE_OK && code >= 200 && code < 300) return {smtp_outcome::delivered, smtp_code, reply};
  if (rc == CURLE_USE_SSL_FAILED)
    return {smtp_outcome::retry, smtp_code,
            fmt::format("the server did not start TLS (STARTTLS, RFC 3207); not sent in clear: {}", why)};
  if (code >= 500 && code < 600) return {smtp_outcome::dead, smtp_code, reply};
  if (code >= 400 && code < 500) return {smtp_outcome::retry, smtp_code, reply};
  switch (rc) {
    case CURLE_LOGIN_DENIED:
      return {smtp_outcome::dead, smtp_code, fmt::format("authentication refused: {}", why)};
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return {smtp_outcome::dead, smtp_code, fmt::format("the SMTP settings are wrong: {}", why)};
    default:
      return {smtp_outcome::retry, smtp_code, why};
  }
}

}  // namespace

void smtp_global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  });
}

std::string_view to_string(smtp_outcome outcome) {
  switch (outcome) {
    case smtp_outcome::delivered: return "delivered";
    case smtp_outcome::retry: return "retry";
    case smtp_outcome::dead: return "dead";
  }
  return "retry";
}

smtp_url parse_smtp_url(const std::string& text) {
  std::unique_ptr<CURLU, url_deleter> url(curl_url());
  if (!url) throw std::runtime_error("out of memory");
  if (const auto rc = curl_url_set(url.get(), CURLUPART_URL, text.c_str(), 0); rc != CURLUE_OK)
    throw std::invalid_argument(fmt::format("smtp_url \"{}\" is not a URL: {}", text, curl_url_strerror(rc)));
  auto part = [&url](CURLUPart which) -> std::string {
    curl_text value;
    if (curl_url_get(url.get(), which, &value.text, 0) != CURLUE_OK || value.text == nullptr) return {};
    return value.text;
  };
  smtp_url out;
  const auto scheme = part(CURLUPART_SCHEME);
  if (scheme == "smtps") {
    out.implicit_tls = true;
    out.port = 465;
  } else if (scheme != "smtp") {
    throw std::invalid_argument(
        fmt::format("smtp_url \"{}\" must start with smtp:// (STARTTLS, port 587) or smtps:// (port 465)", text));
  }
  if (!part(CURLUPART_USER).empty() || !part(CURLUPART_PASSWORD).empty())
    throw std::invalid_argument("smtp_url must not carry user:password@ (username in the config, the password in "
                                "SWITCHBOARD_SMTP_PASSWORD)");
  const auto path = part(CURLUPART_PATH);
  if ((!path.empty() && path != "/") || !part(CURLUPART_QUERY).empty() || !part(CURLUPART_FRAGMENT).empty())
    throw std::invalid_argument(fmt::format("smtp_url \"{}\" must be only scheme://host[:port]", text));
  out.host = part(CURLUPART_HOST);
  if (out.host.size() > 2 && out.host.front() == '[') out.host = out.host.substr(1, out.host.size() - 2);
  if (out.host.empty()) throw std::invalid_argument(fmt::format("smtp_url \"{}\" has no host", text));
  if (const auto port = part(CURLUPART_PORT); !port.empty()) out.port = std::stoi(port);
  out.loopback = is_loopback(out.host);
  const bool v6 = out.host.find(':') != std::string::npos;
  out.url = fmt::format("{}://{}{}{}:{}", scheme, v6 ? "[" : "", out.host, v6 ? "]" : "", out.port);
  return out;
}

smtp_verdict submit(const smtp_settings& settings, const std::string& envelope_from,
                    const std::vector<std::string>& recipients, std::string_view message) {
  smtp_global_init();
  if (recipients.empty()) return {smtp_outcome::dead, 0, "no recipient"};
  // A CR or LF would end the SMTP command and start another (RFC 5321 §2.3.8); callers pass
  // address_of's output, and this keeps any other caller from injecting one.
  auto unsafe = [](const std::string& address) {
    return address.empty() || std::any_of(address.begin(), address.end(), [](char c) {
             return static_cast<unsigned char>(c) < 0x21 || c == 0x7f || c == '<' || c == '>';
           });
  };
  if (unsafe(envelope_from) || std::any_of(recipients.begin(), recipients.end(), unsafe))
    return {smtp_outcome::dead, 0, "an envelope address is empty or holds spaces, controls or angle brackets"};
  std::unique_ptr<CURL, easy_deleter> easy(curl_easy_init());
  if (!easy) return {smtp_outcome::retry, 0, "libcurl could not make a handle"};
  exchange x{message, 0, {}, {}};
  char error_buffer[CURL_ERROR_SIZE] = {};
  std::unique_ptr<curl_slist, list_deleter> rcpt;
  for (const auto& to : recipients) {
    auto* grown = curl_slist_append(rcpt.get(), fmt::format("<{}>", to).c_str());
    if (grown == nullptr) return {smtp_outcome::retry, 0, "out of memory"};
    static_cast<void>(rcpt.release());
    rcpt.reset(grown);
  }
  const auto from = fmt::format("<{}>", envelope_from);
  auto* h = easy.get();
  curl_easy_setopt(h, CURLOPT_URL, settings.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, static_cast<long>(settings.timeout.count()));
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  // Never plaintext unless the settings say so (a loopback host only): CURLUSESSL_ALL fails the
  // exchange when the server offers no STARTTLS instead of going on in clear.
  curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(settings.starttls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
  if (!settings.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, settings.ca_file.c_str());
  if (!settings.username.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, settings.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, settings.password.c_str());
  }
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, read_message);
  curl_easy_setopt(h, CURLOPT_READDATA, &x);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, keep_replies);
  curl_easy_setopt(h, CURLOPT_DEBUGDATA, &x);
  curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);  // the debug function above sees the replies only then
  const auto rc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  return judge(rc, code, x, error_buffer);
}

}  // namespace switchboard::outbound
