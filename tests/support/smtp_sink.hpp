#pragma once
// A real SMTP server on 127.0.0.1 for tests: tests/support/smtp_sink.py (aiosmtpd, run with
// Debian's /usr/bin/python3) with STARTTLS under a certificate made for the test, and AUTH.

#include "support/temp_dir.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace switchboard::testing {

struct smtp_sink_options {
  bool starttls = true;  // false: a server that offers no STARTTLS (and takes mail without AUTH)
  std::string user = "switchboard";
  std::string password = "sink-secret";
  std::vector<std::string> reject;  // RCPT TO these addresses gets 550
  std::vector<std::string> defer;   // RCPT TO these addresses gets 451 (try again later)
};

struct received_mail {
  std::string raw;  // the message as received (N.eml)
  std::string mail_from;
  std::vector<std::string> rcpt_tos;
  bool tls = false;       // received after STARTTLS
  std::string auth_user;  // empty: not authenticated
};

class smtp_sink {
 public:
  // Makes the certificate (openssl), starts the server and waits up to 20 s for its port.
  // Throws std::runtime_error with the server's stderr if it exits or never listens.
  explicit smtp_sink(smtp_sink_options options = {});
  ~smtp_sink();  // SIGKILL and wait
  smtp_sink(const smtp_sink&) = delete;
  smtp_sink& operator=(const smtp_sink&) = delete;

  int port() const { return port_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  // The sink's self-signed certificate, as a CA file for the client.
  std::string ca_file() const { return dir_.file("cert.pem"); }
  const smtp_sink_options& options() const { return options_; }

  // The messages received so far, in order.
  std::vector<received_mail> messages() const;
  // The n-th message (from 1), once it is there, or nullopt at the deadline; waits on the
  // sink's folder (inotify), not by sleeping.
  std::optional<received_mail> wait_for(std::size_t n, std::chrono::milliseconds deadline) const;

 private:
  smtp_sink_options options_;
  temp_dir dir_;
  std::string mail_dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// The value of the first header field `name` of a raw message, unfolded (RFC 5322 §2.2.3);
// empty when absent.
std::string header_field(const std::string& raw, const std::string& name);

}  // namespace switchboard::testing
