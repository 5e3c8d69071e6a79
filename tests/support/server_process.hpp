#pragma once
// Runs the real switchboard server binary on 127.0.0.1 with an ephemeral port, for tests
// that must go through real sockets, restarts and kills.

#include "http/client.hpp"
#include "model/enums.hpp"

#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace switchboard::testing {

// The test token of each role ("test-token-<role>", person "<role>-person"); every test server
// accepts them.
std::string token_for(model::role role);
std::string person_for(model::role role);
// The tokens file holding every role's test token (made once per test process).
const std::string& test_tokens_path();

struct server_args {
  std::string config;    // default: the shipped config/switchboard.toml
  std::string database;  // passed as --db; empty: no --db (the config's database, e.g. PostgreSQL)
  std::vector<std::string> extra;
  // Variables set (or replaced) in the server's environment on top of the test's own, e.g.
  // SWITCHBOARD_DATABASE_URL; the test's environment is left as it is. Defaulted, so that
  // server_args{config, database, extra} still compiles under -Wmissing-field-initializers.
  std::vector<std::pair<std::string, std::string>> environment = {};
};

class server_process {
 public:
  // Starts the server and waits (up to 30 s) for it to print the port it bound.
  // Throws std::runtime_error, with the server's stderr, if it exits or never listens.
  explicit server_process(server_args args) : server_process(std::move(args), {}) {}
  // `launcher`: a program that execs the server with its own arguments appended (the same
  // process id), e.g. {"/usr/bin/prlimit", "--nofile=300:300", "--"} for a resource limit.
  server_process(server_args args, std::vector<std::string> launcher);
  explicit server_process(const std::string& database) : server_process(server_args{"", database, {}}) {}
  ~server_process();  // SIGKILL if still running
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  const std::string& url() const { return url_; }
  pid_t pid() const { return pid_; }

  // A client of this server carrying `role`'s test token.
  http::client client(model::role role) const;

  int terminate();  // SIGTERM, wait; returns the exit status (or 128+signal)
  void send_signal(int signal) const;  // without waiting
  int wait();                          // for the exit; returns the exit status (or 128+signal)
  void kill();      // SIGKILL, wait

  std::string stderr_text() const;  // what the server logged so far

 private:
  pid_t pid_ = -1;
  std::string url_;
  std::string stderr_path_;
};

// Runs a program to completion; returns its exit code and collects stdout and stderr.
struct run_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// `environment`: variables set (or replaced) on top of the test's own, as server_args'.
run_result run_program(const std::vector<std::string>& argv,
                       const std::vector<std::pair<std::string, std::string>>& environment = {});

}  // namespace switchboard::testing
