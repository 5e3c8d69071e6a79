// Starting and reading tests/support/smtp_sink.py.
#include "support/smtp_sink.hpp"

#include "support/server_process.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace switchboard::testing {
namespace {

constexpr const char* python = "/usr/bin/python3";  // Debian's: pyenv's python3 on PATH lacks aiosmtpd

std::optional<received_mail> read_mail(const std::string& dir, std::size_t n) {
  const auto base = dir + "/" + std::to_string(n);
  if (!std::filesystem::exists(base + ".json")) return std::nullopt;  // written last, renamed into place
  received_mail mail;
  mail.raw = read_text(base + ".eml");
  const auto meta = boost::json::parse(read_text(base + ".json")).as_object();
  mail.mail_from = std::string(meta.at("mail_from").as_string());
  for (const auto& to : meta.at("rcpt_tos").as_array()) mail.rcpt_tos.emplace_back(to.as_string());
  mail.tls = meta.at("tls").as_bool();
  if (meta.at("auth_user").is_string()) mail.auth_user = std::string(meta.at("auth_user").as_string());
  return mail;
}

}  // namespace

smtp_sink::smtp_sink(smtp_sink_options options) : options_(std::move(options)) {
  mail_dir_ = dir_.file("mail");
  std::filesystem::create_directory(mail_dir_);
  std::vector<std::string> argv{python, source_path("tests/support/smtp_sink.py"), "--dir", mail_dir_, "--user",
                                options_.user};
  if (options_.starttls) {
    const auto made = run_program({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                   "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                                   "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout",
                                   dir_.file("key.pem"), "-out", ca_file()});
    if (made.exit_code != 0) throw std::runtime_error("openssl could not make the sink's certificate: " + made.err);
    argv.insert(argv.end(), {"--cert", ca_file(), "--key", dir_.file("key.pem")});
  }
  for (const auto& address : options_.reject) argv.insert(argv.end(), {"--reject", address});
  for (const auto& address : options_.defer) argv.insert(argv.end(), {"--defer", address});

  std::vector<std::string> env_text{"SMTP_SINK_PASSWORD=" + options_.password};
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "SMTP_SINK_PASSWORD=", 19) != 0) env_text.emplace_back(*e);
  std::vector<char*> envp, args;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  const auto err_path = dir_.file("stderr.txt");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const int rc = posix_spawn(&pid_, python, &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    throw std::runtime_error(std::string("cannot start ") + python);
  }

  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
  while (port_ == 0 && std::chrono::steady_clock::now() < deadline) {
    pollfd fd{out_pipe[0], POLLIN, 0};
    if (::poll(&fd, 1, 100) <= 0) continue;
    char c;
    if (::read(out_pipe[0], &c, 1) != 1) break;  // it exited
    if (c != '\n') {
      line += c;
    } else if (line.starts_with("port ")) {
      port_ = std::stoi(line.substr(5));
    } else {
      line.clear();
    }
  }
  ::close(out_pipe[0]);
  if (port_ == 0) {
    auto err = read_text(err_path);
    if (err.find("No module named 'aiosmtpd'") != std::string::npos)
      err = "install python3-aiosmtpd (tools/dev does): " + err;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    throw std::runtime_error("the SMTP sink did not start: " + err);
  }
}

smtp_sink::~smtp_sink() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

std::vector<received_mail> smtp_sink::messages() const {
  std::vector<received_mail> out;
  for (std::size_t n = 1;; ++n) {
    auto mail = read_mail(mail_dir_, n);
    if (!mail) return out;
    out.push_back(std::move(*mail));
  }
}

std::optional<received_mail> smtp_sink::wait_for(std::size_t n, std::chrono::milliseconds deadline) const {
  // Watch first, then look: a file renamed in between is seen by the look.
  const int watch = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (watch < 0) throw std::runtime_error("inotify_init1 failed");
  ::inotify_add_watch(watch, mail_dir_.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE);
  const auto until = std::chrono::steady_clock::now() + deadline;
  std::optional<received_mail> mail;
  while (!(mail = read_mail(mail_dir_, n))) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd fd{watch, POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(left.count())) > 0) {
      char events[4096];
      while (::read(watch, events, sizeof events) > 0) {
      }
    }
  }
  ::close(watch);
  return mail;
}

std::string header_field(const std::string& raw, const std::string& name) {
  const auto header_end = raw.find("\r\n\r\n") != std::string::npos ? raw.find("\r\n\r\n") : raw.find("\n\n");
  const std::string_view header(raw.data(), std::min(header_end, raw.size()));
  std::size_t at = 0;
  while (at < header.size()) {
    auto end = header.find('\n', at);
    // A field runs on over lines that start with white space (folding).
    while (end != std::string_view::npos && end + 1 < header.size() && (header[end + 1] == ' ' || header[end + 1] == '\t'))
      end = header.find('\n', end + 1);
    const auto field = header.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
    const auto colon = field.find(':');
    if (colon != std::string_view::npos && colon == name.size() &&
        std::equal(name.begin(), name.end(), field.begin(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); })) {
      std::string value;
      for (char c : field.substr(colon + 1))
        if (c != '\r' && c != '\n') value += c;
      const auto first = value.find_first_not_of(" \t");
      return first == std::string::npos ? std::string{} : value.substr(first);
    }
    if (end == std::string_view::npos) break;
    at = end + 1;
  }
  return {};
}

}  // namespace switchboard::testing
