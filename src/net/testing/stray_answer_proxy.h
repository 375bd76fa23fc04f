#pragma once
/// Test-only: an HTTP/1.1 relay on 127.0.0.1 that writes a "stray answer" when told: the
/// unsolicited `HTTP/1.1 400 Bad Request` + `Connection: close` a real Exchange server wrote
/// on a kept-alive connection right after a 200 (issue 15 §5), on the wire as the next
/// request goes out, so libcurl reads it as that request's answer. The relay sits in front of any
/// plain-HTTP server (a cpp-httplib test server, exsim), so what that server applied can be checked
/// after.
#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "net/testing/raw_server.h"

namespace agendasync::net::testing {

class StrayAnswerProxy {
 public:
  enum class When {
    /// Written the moment request n starts to arrive, before a byte of it is read; the
    /// request is then read and dropped, never forwarded. (Written while the connection is
    /// idle, libcurl would see the unread data and not reuse the connection.)
    kBeforeForwarding,
    /// Request n is forwarded and applied upstream; its answer is dropped and the stray
    /// answer written instead.
    kAfterForwarding,
  };

  /// Relays to 127.0.0.1:`upstream_port`, one upstream connection per client connection.
  explicit StrayAnswerProxy(int upstream_port);

  /// Request number `n` (1-based, counted over all connections since the proxy started)
  /// gets a stray answer instead of its own. Call before request n is sent.
  void stray_answer_to(int n, When when);

  int port() const { return server_.port(); }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port()) + path;
  }
  /// Client connections accepted so far.
  int connections() const { return server_.connections(); }
  /// Requests that arrived so far (forwarded or not).
  int requests() const { return requests_.load(); }
  /// Stray answers written so far.
  int strays_written() const { return strays_.load(); }

  /// The stray answer, exactly as written.
  static constexpr const char* kStrayAnswer =
      "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

 private:
  void serve(int client_fd);
  /// Whether a stray answer is planned for request `n` at `when`; a yes is used up.
  bool planned(int n, When when);

  int upstream_port_;
  std::atomic<int> requests_{0};
  std::atomic<int> strays_{0};
  std::mutex mutex_;
  std::map<int, When> plan_;
  RawServer server_;  // last: its threads use the members above
};

}  // namespace agendasync::net::testing
