#pragma once
// A small blocking HTTP/1.1 client over one keep-alive connection, for the CLI and tests.
// Every request has one deadline for the whole call (resolve, connect, write, the answer's header
// and its whole body): a server that accepts and never answers, or sends an endless body, makes
// request() throw "... timed out after N s" once it passes. Interim 1xx answers (RFC 9110
// section 15.2, such as an unrequested 100 Continue) are skipped: request() returns the final
// answer, under the same deadline. Every POST carries an Idempotency-Key
// (a fresh random one unless the caller sets its own), and only then is it ever resent.
//
// Thread-safety: one client, one thread.

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::http {

struct client_response {
  unsigned status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  std::string header(std::string_view name) const;  // case-insensitive; empty when absent
};

class client {
 public:
  // base_url: "http://HOST:PORT" (no path). Connects lazily; reconnects once if the server closed
  // an idle keep-alive connection. `timeout` bounds each request() call in all. Throws
  // std::runtime_error when it cannot connect, the call passed its timeout, or the answer is
  // over 64 MiB.
  explicit client(const std::string& base_url, std::chrono::seconds timeout = std::chrono::seconds{30});
  ~client();
  client(client&&) noexcept;
  client& operator=(client&&) noexcept;

  // Sends "Authorization: Bearer <token>" with every request from now on.
  void set_token(std::string token);

  client_response request(std::string_view method, std::string_view target, std::string body = {},
                          std::string_view content_type = "application/json",
                          const std::vector<std::pair<std::string, std::string>>& headers = {});
  client_response get(std::string_view target) { return request("GET", target); }
  client_response post_json(std::string_view target, std::string body) {
    return request("POST", target, std::move(body));
  }

 private:
  struct connection;
  std::unique_ptr<connection> connection_;
};

}  // namespace switchboard::http
