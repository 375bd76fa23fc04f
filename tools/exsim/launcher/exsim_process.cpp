#include "tools/exsim/launcher/exsim_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace agendasync::exsimtest {

std::string ExsimProcess::binary() {
  return std::string(AGENDASYNC_BINARY_DIR) + "/tools/exsim/exsim";
}

ExsimProcess::ExsimProcess(const std::vector<std::string>& args, bool tls) {
  if (!std::filesystem::exists(binary())) {
    throw std::runtime_error("exsim not built at " + binary() +
                             " (cmake --build <dir> --target exsim)");
  }
  char templ[] = "/tmp/ews-exsim-XXXXXX";
  if (mkdtemp(templ) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = templ;
  ca_path_ = dir_ + "/ca.pem";
  std::vector<std::string> argv{binary(), "--host",        "127.0.0.1", "--port",
                                "0",      "--admin-token", admin_token_};
  if (tls) argv.insert(argv.end(), {"--tls", "--tls-ca-out", ca_path_});
  argv.insert(argv.end(), args.begin(), args.end());
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    std::vector<char*> raw;
    for (std::string& a : argv) raw.push_back(a.data());
    raw.push_back(nullptr);
    execv(raw[0], raw.data());
    _exit(127);
  }
  close(out[1]);
  // exsim prints its base URL on stdout when it is ready; wait at most 20 s for it.
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd fd{out[0], POLLIN, 0};
    if (poll(&fd, 1, 200) <= 0) continue;
    char buffer[256];
    const ssize_t n = read(out[0], buffer, sizeof buffer);
    if (n <= 0) break;
    line.append(buffer, static_cast<std::size_t>(n));
  }
  close(out[0]);
  const auto newline = line.find('\n');
  if (newline == std::string::npos) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    throw std::runtime_error("exsim did not print its base URL: '" + line + "'");
  }
  base_url_ = line.substr(0, newline);
  while (!base_url_.empty() && (base_url_.back() == '\r' || base_url_.back() == '/'))
    base_url_.pop_back();
}

int ExsimProcess::port() const { return std::stoi(base_url_.substr(base_url_.rfind(':') + 1)); }

ExsimProcess::~ExsimProcess() {
  if (pid_ > 0) {
    // A second for a clean exit (so sanitizer builds check exsim's shutdown), then SIGKILL:
    // exsim's HTTP server notices stop() only when idle keep-alive connections time out
    // (30 s), and the tests throw its store away anyway.
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 10; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      usleep(100'000);
    }
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace agendasync::exsimtest
