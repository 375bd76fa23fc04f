#pragma once
/// The daemon's HTTP/1.1 server (Boost.Beast on Asio; docs/DECISIONS.md, "The daemon's HTTP
/// server"). Connections live on one or two I/O threads and cost no thread while they wait, so
/// slow or idle clients cannot starve the API: a request is read completely under deadlines,
/// then handed to a worker pool, and its answer written back without blocking a worker. Every
/// refusal (too large, too slow, malformed, too many connections) is application/problem+json.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/error.h"
#include "service/http_types.h"

namespace agendasync::service {

using namespace std::chrono_literals;

struct HttpLimits {
  /// Open connections; beyond it a new connection gets 503 and is closed.
  std::size_t max_connections = 1024;
  /// Request body (413 beyond it, before the body is read when Content-Length says so).
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  /// Request target, i.e. path and query (414 beyond it).
  std::size_t max_target_bytes = 8 * 1024;
  /// The whole header block including the request line (431 beyond it).
  std::size_t max_header_bytes = 64 * 1024;
  /// How long a connection may wait, silent, for its next request's first byte (also the first
  /// request of a new connection); then it is closed without an answer.
  std::chrono::milliseconds idle_timeout = 30s;
  /// From a request's first byte to the end of its header; then 408.
  std::chrono::milliseconds header_timeout = 10s;
  /// From the end of the header to the end of the body; then 408. 4 MiB in 60 s is ~70 KiB/s.
  std::chrono::milliseconds body_timeout = 60s;
  /// Writing one answer (a client that does not read); then the connection is closed.
  std::chrono::milliseconds write_timeout = 30s;
  /// Threads that run the sockets (parsing and writing only; handlers run on the workers).
  std::size_t io_threads = 1;
};

/// Answers one complete request; called on a worker thread.
using RequestHandler = std::function<Reply(const HttpRequest&)>;

class HttpServer {
 public:
  /// Listens on listen:port (0 = a free port) with `workers` handler threads; connections wait
  /// in the kernel's backlog until serve(). Fails naming the address when it cannot listen.
  static Result<std::unique_ptr<HttpServer>> listen(const std::string& listen, int port,
                                                    std::size_t workers, const HttpLimits& limits,
                                                    RequestHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  /// Starts accepting and answering (once).
  void serve();
  /// Stops accepting, lets the handlers that run finish and their answers go out (bounded by
  /// the write timeout, at most 5 s), then closes every connection.
  void stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace agendasync::service
