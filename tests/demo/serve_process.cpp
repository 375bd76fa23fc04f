#include "tests/demo/serve_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace agendasync::demotest {

ServeProcess::ServeProcess(const std::string& binary, const std::vector<std::string>& args,
                           const std::filesystem::path& log_file, std::chrono::seconds ready_limit)
    : log_file_(log_file) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    int log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (log >= 0) ::dup2(log, STDERR_FILENO);
    // Nothing of the test process reaches the daemon: a descriptor inherited from the test
    // runner (ctest's log, which another ctest may delete) would look like a file the daemon
    // writes after it was deleted.
    ::close_range(3, ~0U, 0);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  std::string seen;
  const auto deadline = std::chrono::steady_clock::now() + ready_limit;
  const std::string marker = "listening on http://";
  while (port_ == 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd poll_fd{out[0], POLLIN, 0};
    if (::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) break;
    char buffer[512];
    ssize_t got = ::read(out[0], buffer, sizeof buffer);
    if (got <= 0) break;  // exited before listening
    seen.append(buffer, static_cast<std::size_t>(got));
    auto at = seen.find(marker);
    auto line_end = at == std::string::npos ? at : seen.find('\n', at);
    if (line_end != std::string::npos) {
      auto address = seen.substr(at + marker.size(), line_end - at - marker.size());
      port_ = std::stoi(address.substr(address.rfind(':') + 1));
    }
  }
  // Later stdout is not needed; closing it would give the daemon SIGPIPE on a later print.
  std::thread([fd = out[0]] {
    char buffer[512];
    while (::read(fd, buffer, sizeof buffer) > 0) {
    }
    ::close(fd);
  }).detach();
  if (port_ == 0) {
    stop(SIGKILL, std::chrono::seconds(10));
    throw std::runtime_error("agendasync serve did not report its port; its log:\n" + log() +
                             "\nits stdout:\n" + seen);
  }
}

ServeProcess::~ServeProcess() {
  if (pid_ > 0) stop(SIGKILL, std::chrono::seconds(10));
}

std::string ServeProcess::log() const {
  std::ifstream in(log_file_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int ServeProcess::stop(int signal, std::chrono::seconds limit) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (true) {
    pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace agendasync::demotest
