// Spawning the real server and CLI binaries for integration tests.
#include "support/server_process.hpp"

#include "support/temp_dir.hpp"

#include "config/tokens.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace switchboard::testing {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// The test's environment with `overrides` set on top (a variable named there replaces the test's).
std::vector<std::string> environment_with(const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::string> out;
  for (char** at = environ; *at != nullptr; ++at) {
    const std::string_view entry(*at);
    const auto name = entry.substr(0, entry.find('='));
    const bool replaced = std::any_of(overrides.begin(), overrides.end(),
                                      [&](const auto& pair) { return pair.first == name; });
    if (!replaced) out.emplace_back(entry);
  }
  for (const auto& [name, value] : overrides) out.push_back(name + "=" + value);
  return out;
}

pid_t spawn(const std::vector<std::string>& argv, int stdout_fd, int stderr_fd,
            const std::vector<std::pair<std::string, std::string>>& environment = {}) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, stderr_fd, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> variables;
  std::vector<char*> envp;
  if (!environment.empty()) {
    variables = environment_with(environment);
    for (auto& v : variables) envp.push_back(v.data());
    envp.push_back(nullptr);
  }
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.empty() ? environ : envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int temp_file_fd(std::string& path) {
  path = std::filesystem::temp_directory_path() / "switchboard-stream-XXXXXX";
  const int fd = ::mkstemp(path.data());
  if (fd < 0) throw std::runtime_error("cannot create a temporary file");
  return fd;
}

// A tokens file with every role's test token, written once per test process.
const std::string& tokens_file() {
  static const std::string path = [] {
    std::string file = (std::filesystem::temp_directory_path() /
                        ("switchboard-test-tokens-" + std::to_string(::getpid()) + ".toml"))
                           .string();
    std::string content;
    for (int r = 0; r <= static_cast<int>(model::role::viewer); ++r) {
      const auto role = static_cast<model::role>(r);
      content += "[[token]]\nperson = \"" + person_for(role) + "\"\nrole = \"" + std::string(model::to_string(role)) +
                 "\"\nsha256 = \"" + config::sha256_hex(token_for(role)) + "\"\n";
    }
    write_file(file, content);
    return file;
  }();
  return path;
}

// SWITCHBOARD_TEST_ROUTE_LOG=DIR (set by tools/dev test): a copy of the server's stderr as it
// stops, DIR/<test pid>-<n>.log, whose access lines tools/check-openapi-coverage matches with the
// OpenAPI document's operations and statuses.
void keep_route_log(const std::string& stderr_path) {
  const char* dir = std::getenv("SWITCHBOARD_TEST_ROUTE_LOG");
  if (!dir || !*dir) return;
  static std::atomic<int> count{0};
  std::error_code ignored;  // a missing copy shrinks the coverage, which the check reports
  std::filesystem::copy_file(stderr_path,
                             std::filesystem::path(dir) / (std::to_string(::getpid()) + "-" + std::to_string(count++) + ".log"),
                             ignored);
}

}  // namespace

const std::string& test_tokens_path() { return tokens_file(); }

std::string token_for(model::role role) { return "test-token-" + std::string(model::to_string(role)); }
std::string person_for(model::role role) { return std::string(model::to_string(role)) + "-person"; }

server_process::server_process(server_args args, std::vector<std::string> launcher) {
  std::vector<std::string> argv{SWITCHBOARD_SERVER_PATH, "--config",
                                args.config.empty() ? source_path("config/switchboard.toml") : args.config,
                                "--listen", "127.0.0.1:0"};
  if (!args.database.empty()) argv.insert(argv.end(), {"--db", args.database});
  if (std::find(args.extra.begin(), args.extra.end(), "--tokens") == args.extra.end())
    argv.insert(argv.end(), {"--tokens", tokens_file()});
  argv.insert(argv.end(), args.extra.begin(), args.extra.end());
  argv.insert(argv.begin(), launcher.begin(), launcher.end());

  int out_pipe[2];
  if (::pipe(out_pipe) != 0) throw std::runtime_error("pipe failed");
  const int err_fd = temp_file_fd(stderr_path_);
  pid_ = spawn(argv, out_pipe[1], err_fd, args.environment);
  ::close(out_pipe[1]);
  ::close(err_fd);

  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd fd{out_pipe[0], POLLIN, 0};
    if (::poll(&fd, 1, 100) <= 0) continue;
    char c;
    if (::read(out_pipe[0], &c, 1) != 1) break;  // the server exited
    if (c != '\n') {
      line += c;
      continue;
    }
    const auto at = line.find("http://");
    if (at != std::string::npos) {
      url_ = line.substr(at);
      break;
    }
    line.clear();
  }
  ::close(out_pipe[0]);
  if (url_.empty()) {
    kill();
    throw std::runtime_error("the server did not start: " + stderr_text());
  }
}

server_process::~server_process() {
  if (pid_ > 0) kill();
  keep_route_log(stderr_path_);
  std::remove(stderr_path_.c_str());
}

http::client server_process::client(model::role role) const {
  http::client out(url_);
  out.set_token(token_for(role));
  return out;
}

int server_process::terminate() {
  ::kill(pid_, SIGTERM);
  const int status = wait_for(pid_);
  pid_ = -1;
  return status;
}

void server_process::send_signal(int signal) const { ::kill(pid_, signal); }

int server_process::wait() {
  const int status = wait_for(pid_);
  pid_ = -1;
  return status;
}

void server_process::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  wait_for(pid_);
  pid_ = -1;
}

std::string server_process::stderr_text() const { return slurp(stderr_path_); }

run_result run_program(const std::vector<std::string>& argv,
                       const std::vector<std::pair<std::string, std::string>>& environment) {
  std::string out_path, err_path;
  const int out_fd = temp_file_fd(out_path);
  const int err_fd = temp_file_fd(err_path);
  const pid_t pid = spawn(argv, out_fd, err_fd, environment);
  ::close(out_fd);
  ::close(err_fd);
  run_result result;
  result.exit_code = wait_for(pid);
  result.out = slurp(out_path);
  result.err = slurp(err_path);
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
  return result;
}

}  // namespace switchboard::testing
