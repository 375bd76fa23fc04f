#pragma once
/// Test-only TCP servers on 127.0.0.1 that misbehave on purpose (reset connections, cut
/// bodies short) or relay (a CONNECT / forward proxy), where an HTTP library would be too
/// polite. Every wait is bounded.
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace agendasync::net::testing {

using std::chrono::milliseconds;

/// Accepts connections on 127.0.0.1:<free port> and runs `handler(fd, n)` for the n-th
/// connection (0-based) on its own thread; closes the socket after the handler returns.
class RawServer {
 public:
  using Handler = std::function<void(int fd, int connection_index)>;
  explicit RawServer(Handler handler);
  ~RawServer();
  RawServer(const RawServer&) = delete;
  RawServer& operator=(const RawServer&) = delete;

  int port() const { return port_; }
  int connections() const { return connections_.load(); }

 private:
  void accept_loop();

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::vector<std::thread> handlers_;
  std::thread acceptor_;
};

/// Reads an HTTP request head and, by Content-Length, its body. Empty on timeout or close.
std::string read_http_request(int fd, milliseconds timeout = milliseconds(5000));
bool send_all(int fd, std::string_view data);
/// Waits until `fd` has data (or its peer closed it); false on timeout.
bool wait_readable(int fd, milliseconds timeout);
/// Makes the coming close() send a TCP RST instead of a FIN: a "connection reset by peer".
void arm_reset(int fd);
/// A connected socket to 127.0.0.1:port, or -1.
int connect_loopback(int port);
/// Relays bytes both ways until one side closes or `idle` passes without traffic.
void relay(int a, int b, milliseconds idle = milliseconds(5000));
/// A port on 127.0.0.1 that nothing listens on (bound, read, released).
int unused_port();

}  // namespace agendasync::net::testing
