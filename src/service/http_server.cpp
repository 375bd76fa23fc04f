// The only translation unit that includes Boost.Beast and Asio (they compile slowly; the rest of
// the daemon sees HttpRequest/Reply). Why Beast and not deadlines in front of cpp-httplib or
// libmicrohttpd: docs/DECISIONS.md, "The daemon's HTTP server".
#include "service/http_server.h"

#include <array>
#include <atomic>
#include <future>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "service/log.h"

namespace agendasync::service {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

/// After a refusal the server stops sending and reads what the client still sends for this
/// long before closing: closing with unread bytes makes the kernel send a reset, which can
/// destroy the refusal before the client has read it.
constexpr auto kLinger = 2s;
constexpr auto kStopGrace = 5s;

std::string duration_text(std::chrono::milliseconds duration) {
  if (duration.count() % 1000 == 0) return std::to_string(duration.count() / 1000) + " s";
  return std::to_string(duration.count()) + " ms";
}

std::string size_text(std::size_t bytes) {
  std::string text = std::to_string(bytes) + " bytes";
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) {
    text += " (" + std::to_string(bytes / (1024 * 1024)) + " MiB)";
  } else if (bytes >= 1024 && bytes % 1024 == 0) {
    text += " (" + std::to_string(bytes / 1024) + " KiB)";
  }
  return text;
}

/// A syntax error of the request (400), as opposed to the client going away.
bool is_malformed(const error_code& error) {
  return error.category() == http::make_error_code(http::error::bad_method).category() &&
         error != http::error::end_of_stream && error != http::error::partial_message;
}

/// What every connection shares with the server.
struct Shared {
  Shared(const HttpLimits& limits, RequestHandler handler, std::size_t workers)
      : limits(limits), handler(std::move(handler)), workers(workers) {}
  const HttpLimits limits;
  const RequestHandler handler;
  std::atomic<std::size_t> open{0};
  /// Requests between their hand-over to a worker and the end of their answer (stop waits).
  std::atomic<std::size_t> busy{0};
  std::atomic<bool> stopping{false};
  asio::thread_pool workers;
};

/// One client connection. Every step is an asynchronous operation on the connection's strand
/// under one deadline timer, so a waiting connection holds a socket and a few kilobytes, never a
/// thread. The steps: wait for a first byte (idle timeout), read the header (header deadline),
/// read the body (body deadline), hand the request to a worker, write the answer (write
/// deadline), then the next request or close.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Shared& shared)
      : socket_(std::move(socket)), deadline_(socket_.get_executor()), shared_(shared) {
    ++shared_.open;
  }
  ~Connection() { --shared_.open; }

  tcp::socket::executor_type executor() { return socket_.get_executor(); }

  void start() { wait_for_request(); }

  /// Answers `reply` without reading a request, then closes (the connection cap's 503).
  void refuse_at_once(Reply reply) { refuse(std::move(reply)); }

 private:
  void wait_for_request() {
    if (shared_.stopping) return close();
    if (buffer_.size() > 0) return read_header();  // a pipelined request is already here
    arm(shared_.limits.idle_timeout);
    socket_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](error_code error, std::size_t bytes) {
                              self->disarm();
                              // Closed, reset, or silent for the idle timeout: no answer.
                              if (error) return self->close();
                              self->buffer_.commit(bytes);
                              self->read_header();
                            });
  }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_.limits.max_header_bytes));
    parser_->body_limit(shared_.limits.max_body_bytes);
    arm(shared_.limits.header_timeout);
    http::async_read_header(socket_, buffer_, *parser_,
                            [self = shared_from_this()](error_code error, std::size_t) {
                              self->disarm();
                              self->on_header(error);
                            });
  }

  void on_header(const error_code& error) {
    if (timed_out_) {
      return refuse(problem(408, "request-timeout", "Request timeout",
                            "the request header was not complete within " +
                                duration_text(shared_.limits.header_timeout) +
                                " of its first byte; send the request line and every header "
                                "field without pausing",
                            ""));
    }
    if (error == http::error::header_limit) {
      return refuse(request_line_too_long() ? target_too_long() : header_too_large());
    }
    if (error == http::error::body_limit) return refuse(body_too_large());
    if (error) return is_malformed(error) ? refuse(malformed(error)) : close();
    auto& request = parser_->get();
    if (request.target().size() > shared_.limits.max_target_bytes) {
      return refuse(target_too_long());
    }
    if (parser_->is_done()) return dispatch();
    // curl and others wait (up to a second) for this before sending a large body.
    if (beast::iequals(request[http::field::expect], "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      arm(shared_.limits.write_timeout);
      asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](error_code error, std::size_t) {
                          self->disarm();
                          if (error) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    arm(shared_.limits.body_timeout);
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](error_code error, std::size_t) {
                       self->disarm();
                       self->on_body(error);
                     });
  }

  void on_body(const error_code& error) {
    if (timed_out_) {
      return refuse(problem(408, "request-timeout", "Request timeout",
                            "the request body did not arrive within " +
                                duration_text(shared_.limits.body_timeout) +
                                " of the header's end; send it without pausing, or send less",
                            target()));
    }
    if (error == http::error::body_limit) return refuse(body_too_large());
    if (error) return is_malformed(error) ? refuse(malformed(error)) : close();
    dispatch();
  }

  /// Hands the complete request to a worker; the socket waits without a deadline meanwhile (the
  /// handler's time is the server's, not the client's).
  void dispatch() {
    if (shared_.stopping) return close();
    auto& message = parser_->get();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body());
    keep_alive_ = message.keep_alive();
    head_ = message.method() == http::verb::head;
    parser_.reset();
    ++shared_.busy;
    busy_ = true;
    asio::post(shared_.workers, [self = shared_from_this(), request = std::move(request)] {
      Reply reply;
      try {
        reply = self->shared_.handler(request);
      } catch (const std::exception& failure) {
        // The router catches handler exceptions; this is the server's own last line.
        log_event(spdlog::level::err, "http_handler_exception", {{"what", failure.what()}});
        reply = problem(500, "internal", "Internal error",
                        "the server failed on this request; the log has the details", "");
      }
      asio::post(self->executor(),
                 [self, reply = std::move(reply)]() mutable { self->write(std::move(reply)); });
    });
  }

  void write(Reply reply) {
    response_.emplace();
    auto& response = *response_;
    response.version(11);
    response.result(static_cast<unsigned>(reply.status));
    for (auto& [name, value] : reply.headers) response.insert(name, value);
    response.set(http::field::content_type, reply.content_type);
    response.body() = std::move(reply.body);
    response.keep_alive(keep_alive_);
    response.prepare_payload();
    if (head_) {
      // A HEAD answer announces the GET body's length and sends none.
      auto length = response.body().size();
      response.body().clear();
      response.content_length(length);
    }
    arm(shared_.limits.write_timeout);
    http::async_write(socket_, response,
                      [self = shared_from_this()](error_code error, std::size_t) {
                        self->disarm();
                        self->end_busy();
                        if (error) return self->close();
                        if (!self->response_->keep_alive()) return self->linger();
                        self->response_.reset();
                        self->wait_for_request();
                      });
  }

  /// Answers with `reply` and closes: the request was not read to its end, so the connection
  /// cannot carry another one.
  void refuse(Reply reply) {
    auto problem_body = nlohmann::json::parse(reply.body, nullptr, false);
    log_event(spdlog::level::warn, "http_refused",
              {{"status", reply.status},
               {"peer", peer()},
               {"detail", problem_body.is_object() ? problem_body.value("detail", "") : ""}});
    keep_alive_ = false;
    head_ = false;
    if (reply.status == 503) reply.headers.emplace_back("Retry-After", "1");
    write(std::move(reply));
  }

  void linger() {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    arm(kLinger);
    drain();
  }

  void drain() {
    socket_.async_read_some(asio::buffer(scratch_),
                            [self = shared_from_this()](error_code error, std::size_t) {
                              if (error) return self->close();  // the client closed, or kLinger
                              self->drain();
                            });
  }

  void close() {
    disarm();
    end_busy();
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  /// One deadline at a time: when it passes, the pending socket operation is cancelled and its
  /// completion sees timed_out_.
  void arm(std::chrono::steady_clock::duration after) {
    timed_out_ = false;
    deadline_.expires_after(after);
    deadline_.async_wait([self = shared_from_this(), generation = ++generation_](error_code error) {
      if (error || generation != self->generation_) return;
      self->timed_out_ = true;
      error_code ignored;
      self->socket_.cancel(ignored);
    });
  }

  void disarm() {
    ++generation_;
    deadline_.cancel();
  }

  void end_busy() {
    if (busy_) --shared_.busy;
    busy_ = false;
  }

  std::string target() const {
    return parser_ ? std::string(parser_->get().target()) : std::string();
  }

  std::string peer() const {
    error_code error;
    auto endpoint = socket_.remote_endpoint(error);
    return error ? std::string() : endpoint.address().to_string();
  }

  /// The header limit was hit: by one long request line (414) or by the fields (431)? The parser
  /// consumes nothing until the header is complete, so the buffer starts with the request line.
  bool request_line_too_long() const {
    auto data = buffer_.data();
    std::string_view bytes(static_cast<const char*>(data.data()), data.size());
    auto end = bytes.find('\n');
    return end == std::string_view::npos || end > shared_.limits.max_target_bytes;
  }

  Reply body_too_large() const {
    return problem(413, "payload-too-large", "Request body too large",
                   "the request body is larger than " + size_text(shared_.limits.max_body_bytes) +
                       ", the server's limit; send fewer or smaller items per request",
                   target());
  }

  Reply target_too_long() const {
    return problem(414, "uri-too-long", "Request target too long",
                   "the request target (path and query) is longer than " +
                       size_text(shared_.limits.max_target_bytes) +
                       ", the server's limit; shorten the query or send the data in a body",
                   "");
  }

  Reply header_too_large() const {
    return problem(431, "header-fields-too-large", "Request header fields too large",
                   "the request header (request line and fields) is larger than " +
                       size_text(shared_.limits.max_header_bytes) +
                       ", the server's limit; send fewer or shorter header fields",
                   "");
  }

  static Reply malformed(const error_code& error) {
    return problem(400, "malformed-request", "Malformed request",
                   "the request is not valid HTTP/1.1 (" + error.message() +
                       "); check the client's request line, header syntax and body framing",
                   "");
  }

  tcp::socket socket_;
  asio::steady_timer deadline_;
  Shared& shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  std::array<char, 4096> scratch_{};
  std::uint64_t generation_ = 0;
  bool timed_out_ = false;
  bool keep_alive_ = true;
  bool head_ = false;
  bool busy_ = false;
};

}  // namespace

struct HttpServer::Impl {
  Impl(const HttpLimits& limits, RequestHandler handler, std::size_t workers)
      : shared(limits, std::move(handler), workers) {}

  // Declared first, destroyed last: connections still queued in the io_context decrement its
  // counters when the io_context destroys them.
  Shared shared;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::steady_timer accept_retry{io};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::vector<std::thread> threads;
  int port = 0;
  bool stopped = false;

  void accept() {
    acceptor.async_accept(asio::make_strand(io), [this](error_code error, tcp::socket socket) {
      if (!acceptor.is_open()) return;
      if (error) {
        log_event(spdlog::level::warn, "http_accept_failed", {{"error", error.message()}});
        // Out of file descriptors: accepting again at once would spin; wait for some to close.
        accept_retry.expires_after(100ms);
        accept_retry.async_wait([this](error_code cancelled) {
          if (!cancelled) accept();
        });
        return;
      }
      // Answers are one write of header and body, but a request's 100 Continue and small
      // answers must not wait for the client's delayed ACK (Nagle: 40 ms each on Linux, which
      // capped a keep-alive connection at ~25 requests/s under cpp-httplib).
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto connection = std::make_shared<Connection>(std::move(socket), shared);
      bool over = shared.open > shared.limits.max_connections;
      asio::post(connection->executor(), [connection, over, max = shared.limits.max_connections] {
        if (!over) return connection->start();
        connection->refuse_at_once(problem(
            503, "too-many-connections", "Too many connections",
            "the server has " + std::to_string(max) +
                " connections open, its limit ([server] max_connections); retry in a moment, and "
                "reuse keep-alive connections rather than opening new ones",
            ""));
      });
      accept();
    });
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(); }

int HttpServer::port() const { return impl_->port; }

Result<std::unique_ptr<HttpServer>> HttpServer::listen(const std::string& listen, int port,
                                                       std::size_t workers,
                                                       const HttpLimits& limits,
                                                       RequestHandler handler) {
  auto impl = std::make_unique<Impl>(limits, std::move(handler), std::max<std::size_t>(1, workers));
  auto cannot = [&](const std::string& why) {
    return fail(ErrorKind::kPermanent,
                "cannot listen on " + listen + ":" + std::to_string(port) + " (" + why +
                    "); is another process using the port? Change [server] listen or port in the "
                    "configuration");
  };
  error_code error;
  tcp::resolver resolver(impl->io);
  auto endpoints = resolver.resolve(listen, std::to_string(port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, error);
  if (error || endpoints.empty()) return cannot(error ? error.message() : "no such address");
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  auto& acceptor = impl->acceptor;
  acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) return cannot(error.message());
  impl->port = acceptor.local_endpoint().port();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::serve() {
  if (!impl_->threads.empty() || impl_->stopped) return;
  impl_->keep_running.emplace(impl_->io.get_executor());
  impl_->accept();
  for (std::size_t i = 0; i < std::max<std::size_t>(1, impl_->shared.limits.io_threads); ++i) {
    impl_->threads.emplace_back([io = &impl_->io] {
      for (;;) {
        try {
          io->run();
          return;
        } catch (const std::exception& failure) {
          log_event(spdlog::level::err, "http_io_exception", {{"what", failure.what()}});
        }
      }
    });
  }
}

void HttpServer::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  auto& shared = impl_->shared;
  shared.stopping = true;
  // No new connections; the acceptor belongs to the I/O threads, so they close it.
  if (impl_->threads.empty()) {
    error_code ignored;
    impl_->acceptor.close(ignored);  // never served: no I/O thread owns it yet
  } else {
    std::promise<void> closed;
    asio::post(impl_->io, [this, &closed] {
      error_code ignored;
      impl_->acceptor.close(ignored);
      impl_->accept_retry.cancel();
      closed.set_value();
    });
    closed.get_future().wait();
  }
  // Handlers that run finish; their answers are queued on the I/O threads, which write them.
  shared.workers.join();
  auto grace = std::chrono::steady_clock::now() +
               std::min<std::chrono::milliseconds>(shared.limits.write_timeout, kStopGrace);
  while (shared.busy > 0 && std::chrono::steady_clock::now() < grace) {
    std::this_thread::sleep_for(5ms);
  }
  impl_->keep_running.reset();
  impl_->io.stop();
  for (auto& thread : impl_->threads) thread.join();
  impl_->threads.clear();
}

}  // namespace agendasync::service
