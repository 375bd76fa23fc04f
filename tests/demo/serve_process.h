#pragma once
/// Test-only: `agendasync serve` as a real child process. Waits (bounded) for its "listening
/// on http://HOST:PORT" line, keeps its log lines (stderr) in a file, and stops it with a
/// signal, reporting the exit status.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace agendasync::demotest {

class ServeProcess {
 public:
  /// Runs `binary args...`; throws (the test fails) when no listening line comes within
  /// `ready_limit` or the process exits first.
  ServeProcess(const std::string& binary, const std::vector<std::string>& args,
               const std::filesystem::path& log_file,
               std::chrono::seconds ready_limit = std::chrono::seconds(60));
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  /// Everything logged so far.
  std::string log() const;

  /// Sends `signal` and waits up to `limit` for the exit. Returns the exit code, 128+signal
  /// when killed by a signal, or -1 when it did not end in time (it is then killed).
  int stop(int signal, std::chrono::seconds limit = std::chrono::seconds(60));

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::filesystem::path log_file_;
};

}  // namespace agendasync::demotest
