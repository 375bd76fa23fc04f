#pragma once
/// Runs a cpp-httplib server (plain or TLS) on 127.0.0.1:<free port> for the length of a test.
#include <httplib.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

namespace agendasync::net::testing {

template <class Server>
class LocalServer {
 public:
  /// Starts `server` (routes already set or set later: httplib reads them per request).
  explicit LocalServer(Server& server, int threads = 64) : server_(server) {
    server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server_.set_keep_alive_max_count(100000);
    // Without it, Nagle and delayed ACKs add 40 ms to every response and blur timings.
    server_.set_tcp_nodelay(true);
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("test server cannot bind 127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (!server_.is_running()) throw std::runtime_error("test server did not start");
  }
  ~LocalServer() {
    server_.stop();
    thread_.join();
  }
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path, const char* scheme = "http") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  Server& server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace agendasync::net::testing
