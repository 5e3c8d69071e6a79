// JSON responses, the one error body shape, and what the server checks of a message's framing and logs of its target.
#include "http/message.hpp"

#include "http/host_check.hpp"
#include "http/router.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace switchboard::http {

void append_json(std::string& out, const boost::json::value& value) {
  // boost::json::serialize grows its string by resize, which zero-fills every byte before it is
  // written, and starts again from a small buffer for every answer: by perf, more than half of a
  // 130 KB page's serialising (issue 11). Chunks through a buffer on the stack append instead.
  boost::json::serializer writer;
  writer.reset(&value);
  char chunk[16 * 1024];
  while (!writer.done()) {
    const auto written = writer.read(chunk, sizeof chunk);
    out.append(written.data(), written.size());
  }
}

response json_text_response(status code, std::string body) {
  response res{code, 11};
  res.set(beast_http::field::content_type, "application/json");
  res.body() = std::move(body);
  res.body() += '\n';
  res.prepare_payload();
  return res;
}

response json_response(status code, const boost::json::value& body) {
  std::string text;
  text.reserve(1024);
  append_json(text, body);
  return json_text_response(code, std::move(text));
}

response error_response(status code, std::string_view error_code, std::string_view message,
                        boost::json::array fields) {
  boost::json::object error{{"code", error_code}, {"message", message}};
  if (!fields.empty()) error["fields"] = std::move(fields);
  return json_response(code, boost::json::object{{"error", std::move(error)}});
}

std::optional<response> refuse_transfer_coding(const beast_http::request_header<>& header) {
  auto [first, last] = header.equal_range(beast_http::field::transfer_encoding);
  if (first == last) return std::nullopt;
  std::vector<std::string> codings;
  for (auto it = first; it != last; ++it)
    for (auto coding : beast_http::token_list{it->value()}) codings.emplace_back(coding);
  if (codings.size() == 1 && boost::beast::iequals(codings.front(), "chunked")) return std::nullopt;
  std::string listed;
  for (auto it = first; it != last; ++it) listed += (listed.empty() ? "" : ", ") + std::string(it->value());
  return error_response(status::not_implemented, "unsupported_transfer_encoding",
                        fmt::format("Transfer-Encoding \"{}\" is not supported; send the body with Content-Length "
                                    "or Transfer-Encoding: chunked",
                                    listed));
}

std::optional<response> refuse_host(const beast_http::request_header<>& header) {
  const auto hosts = header.count(beast_http::field::host);
  if (hosts > 1)
    return error_response(status::bad_request, "duplicate_host",
                          fmt::format("the request has {} Host headers; send exactly one (RFC 9112 section 3.2)", hosts));
  if (hosts == 0 && header.version() >= 11)
    return error_response(status::bad_request, "missing_host",
                          "an HTTP/1.1 request needs a Host header (RFC 9112 section 3.2)");
  // The value is not echoed: it may hold bytes that are not UTF-8, which a JSON string cannot.
  if (hosts == 1 && !is_valid_host(header[beast_http::field::host]))
    return error_response(status::bad_request, "invalid_host",
                          "the Host header is not a valid host with an optional port, such as example.com:8080, "
                          "192.0.2.1 or [2001:db8::1]:443 (RFC 9112 section 3.2, RFC 3986 section 3.2.2)");
  return std::nullopt;
}

bool is_malformed_body(const boost::system::error_code& ec) {
  // Beast's parse errors share one category; of them, these two mean the stream ended early.
  return ec && ec.category() == make_error_code(beast_http::error::bad_chunk).category() &&
         ec != beast_http::error::end_of_stream && ec != beast_http::error::partial_message &&
         ec != beast_http::error::body_limit;
}

namespace {

bool is_url_safe(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_'; }

// Whether one run of URL-safe characters looks like a credential: our API tokens ("sb_" and 43
// characters, config/tokens.hpp), Slack tokens ("xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-" per
// Slack's token types; not "xoxo-", which is a word), Standard Webhooks secrets ("whsec_"), or any 32 or more
// characters that are all hex digits or mix letters and digits with few separators, as hex
// digests and base64url keys do (a slug such as "vpn-drops-2026-11-30-after-upgrade" has a
// separator every few characters, and stays).
bool secret_run(std::string_view run) {
  if (run.starts_with("sb_") && run.size() >= 3 + 20) return true;
  if (run.starts_with("whsec_") && run.size() >= 6 + 8) return true;
  // "xoxb-1-2-abc": the shortest shape Slack's docs show; a real one is far longer.
  if (run.size() >= 5 + 4 && run.starts_with("xox") &&
      std::string_view("abprs").find(run[3]) != std::string_view::npos && run[4] == '-')
    return true;
  if (run.size() < 32) return false;
  if (std::all_of(run.begin(), run.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }))
    return true;
  const auto digits = std::count_if(run.begin(), run.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
  const auto letters = std::count_if(run.begin(), run.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; });
  const auto separators = static_cast<std::ptrdiff_t>(run.size()) - digits - letters;
  return digits > 0 && letters > 0 && separators * 8 <= static_cast<std::ptrdiff_t>(run.size());
}

// Whether some maximal run of characters for which `in_run` holds, in `text`, passes `secret`.
template <class InRun, class Secret>
bool any_run(std::string_view text, InRun in_run, Secret secret) {
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto begin = std::find_if(rest.begin(), rest.end(), in_run);
    if (begin == rest.end()) break;
    const auto end = std::find_if_not(begin, rest.end(), in_run);
    if (secret(rest.substr(static_cast<std::size_t>(begin - rest.begin()), static_cast<std::size_t>(end - begin))))
      return true;
    rest.remove_prefix(static_cast<std::size_t>(end - rest.begin()));
  }
  return false;
}

// The standard base64 alphabet ('+', '/' and '=' besides the URL-safe characters): a key in it
// is split by '+' and '/' into runs too short for secret_run, so it is judged whole here.
bool is_base64(char c) { return is_url_safe(c) || c == '+' || c == '/' || c == '='; }

// A credential sent as an Authorization value ("Bearer <token>") in a query string.
bool bearer_credential(std::string_view text) {
  constexpr std::string_view scheme = "bearer ";
  for (std::size_t at = 0; at + scheme.size() < text.size(); ++at) {
    if (!std::equal(scheme.begin(), scheme.end(), text.begin() + static_cast<std::ptrdiff_t>(at),
                    [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); }))
      continue;
    const auto token = text.substr(at + scheme.size());
    if (std::find_if_not(token.begin(), token.end(), is_base64) - token.begin() >= 8) return true;
  }
  return false;
}

// Whether `raw` (percent-decoded first, so that encoding hides nothing) holds a credential-like run.
bool looks_secret(std::string_view raw) {
  std::string text;
  if (!url_decode(raw, text, true)) text = raw;
  if (any_run(text, is_url_safe, secret_run) || bearer_credential(text)) return true;
  // Decoded again with '+' kept: in a query '+' means a space, but in a base64 key it is a digit.
  std::string kept;
  if (!url_decode(raw, kept, false)) kept = raw;
  // Both cases and digits, as random bytes in base64 have and a path such as
  // "/dashboard/requests/12345/events/history" has not.
  return any_run(kept, is_base64, [](std::string_view run) {
    const auto has = [&](auto test) {
      return std::any_of(run.begin(), run.end(), [&](char c) { return test(static_cast<unsigned char>(c)) != 0; });
    };
    return run.size() >= 32 && has(::isupper) && has(::islower) && has(::isdigit) && secret_run(run);
  });
}

// Whether a query parameter's name says its value is a credential.
bool sensitive_name(std::string_view raw) {
  static constexpr std::array<std::string_view, 19> names{
      "token",    "access_token", "key",        "api_key",  "apikey",     "signature",   "sig",
      "password", "passwd",       "pwd",        "pass",     "passphrase", "secret",      "auth",
      "credential", "credentials", "session",   "sessionid", "jwt"};
  static constexpr std::array<std::string_view, 6> suffixes{"_token", "_key", "_secret", "_password", "_passwd", "_pwd"};
  std::string name;
  if (!url_decode(raw, name, true)) name = raw;
  // Case-insensitive, and "api-key" or "X-Api-Key" name what "api_key" does.
  for (auto& c : name) c = c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // PHP and Rails style array names ("key[]", "auth[token]") name the same thing.
  if (const auto bracket = name.find('['); bracket != std::string::npos) {
    const auto inner = name.substr(bracket + 1, name.find(']', bracket) - bracket - 1);
    name.resize(bracket);
    if (!inner.empty() && (std::find(names.begin(), names.end(), inner) != names.end() ||
                           std::any_of(suffixes.begin(), suffixes.end(), [&](std::string_view s) { return inner.ends_with(s); })))
      return true;
  }
  return std::find(names.begin(), names.end(), name) != names.end() ||
         std::any_of(suffixes.begin(), suffixes.end(), [&](std::string_view s) { return name.ends_with(s); });
}

// RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in
// thousandths; nullopt when it is not one.
std::optional<int> parse_qvalue(std::string_view text) {
  if (text.empty() || (text[0] != '0' && text[0] != '1')) return std::nullopt;
  const int whole = text[0] - '0';
  if (text.size() == 1) return whole * 1000;
  if (text[1] != '.' || text.size() > 5) return std::nullopt;
  int thousandths = 0;
  for (std::size_t i = 2; i < 5; ++i) {
    const char digit = i < text.size() ? text[i] : '0';
    if (digit < '0' || digit > '9') return std::nullopt;
    thousandths = thousandths * 10 + (digit - '0');
  }
  if (whole == 1 && thousandths != 0) return std::nullopt;
  return whole * 1000 + thousandths;
}

std::string_view trimmed(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

}  // namespace

std::optional<std::size_t> negotiate_media_type(std::string_view accept,
                                                std::initializer_list<std::string_view> offered) {
  // Per offered type: the best (most specific) range's specificity and q; -1 while none matched.
  std::vector<int> specificity(offered.size(), -1);
  std::vector<int> quality(offered.size(), 0);
  bool any_element = false;
  for (std::string_view rest = accept; !rest.empty();) {
    const auto comma = rest.find(',');
    const auto element = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto semicolon = element.find(';');
    const auto range = trimmed(element.substr(0, semicolon));
    const auto slash = range.find('/');
    if (range.empty() || slash == std::string_view::npos || slash == 0 || slash + 1 == range.size()) continue;
    int q = 1000;
    bool well_formed = true;
    for (auto params = semicolon == std::string_view::npos ? std::string_view{} : element.substr(semicolon + 1);
         !params.empty();) {
      const auto next = params.find(';');
      const auto param = trimmed(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
      const auto eq = param.find('=');
      if (eq == std::string_view::npos || !boost::beast::iequals(trimmed(param.substr(0, eq)), "q")) continue;
      const auto parsed = parse_qvalue(trimmed(param.substr(eq + 1)));
      if (!parsed) well_formed = false;
      q = parsed.value_or(0);
      break;  // parameters after q are accept-ext (RFC 7231's grammar), not the media type's
    }
    if (!well_formed) continue;
    any_element = true;
    const auto type = range.substr(0, slash);
    const auto subtype = range.substr(slash + 1);
    std::size_t index = 0;
    for (const auto candidate : offered) {
      const auto candidate_slash = candidate.find('/');
      const auto candidate_type = candidate.substr(0, candidate_slash);
      const auto candidate_subtype = candidate.substr(candidate_slash + 1);
      int matched = -1;
      if (type == "*" && subtype == "*")
        matched = 0;
      else if (boost::beast::iequals(type, candidate_type) && subtype == "*")
        matched = 1;
      else if (boost::beast::iequals(type, candidate_type) && boost::beast::iequals(subtype, candidate_subtype))
        matched = 2;
      if (matched > specificity[index]) {
        specificity[index] = matched;
        quality[index] = q;
      }
      ++index;
    }
  }
  if (!any_element) return offered.size() == 0 ? std::nullopt : std::optional<std::size_t>(0);
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < offered.size(); ++i)
    if (specificity[i] >= 0 && quality[i] > 0 && (!best || quality[i] > quality[*best])) best = i;
  return best;
}

std::string redacted_target(std::string_view target) {
  const auto question = target.find('?');
  std::string out;
  out.reserve(target.size());
  auto path = target.substr(0, question);
  for (bool first = true;; first = false) {
    const auto slash = path.find('/');
    const auto segment = path.substr(0, slash);
    if (!first) out += '/';
    out.append(looks_secret(segment) ? std::string_view("REDACTED") : segment);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  if (question == std::string_view::npos) return out;
  out += '?';
  auto query = target.substr(question + 1);
  for (bool first = true;; first = false) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    if (!first) out += '&';
    const auto eq = pair.find('=');
    const auto name = pair.substr(0, eq);
    if (looks_secret(name))
      out.append("REDACTED");
    else if (eq != std::string_view::npos && (sensitive_name(name) || looks_secret(pair.substr(eq + 1))))
      out.append(pair.substr(0, eq + 1)).append("REDACTED");
    else
      out.append(pair);
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return out;
}

}  // namespace switchboard::http
