#include "exsim/server/server.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/socket.h>

#include <fmt/format.h>
#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "exsim/ews/autodiscover.h"
#include "exsim/ews/ews_service.h"
#include "exsim/ews/notifications.h"
#include "exsim/ews/soap.h"
#include "exsim/faults/faults.h"
#include "exsim/graph/graph_admin.h"
#include "exsim/graph/graph_api.h"
#include "exsim/graph/graph_http.h"
#include "exsim/graph/graph_subscriptions.h"
#include "exsim/identity/auth.h"
#include "exsim/identity/token_service.h"
#include "exsim/server/admin.h"
#include "exsim/server/admin_budgets.h"
#include "exsim/server/admin_hybrid.h"
#include "exsim/server/admin_streaming.h"
#include "exsim/server/thread_pool.h"
#include "exsim/server/tls.h"
#include "exsim/store/ids.h"
#include "exsim/store/sqlite_store.h"
#include "exsim/store/store.h"

namespace exsim {
namespace {

bool load_pem_into(SSL_CTX& ctx, const TlsMaterial& tls) {
  BIO* cb = BIO_new_mem_buf(tls.server_cert.data(), static_cast<int>(tls.server_cert.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO_free(cb);
  BIO* kb = BIO_new_mem_buf(tls.server_key.data(), static_cast<int>(tls.server_key.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  bool ok = cert && key && SSL_CTX_use_certificate(&ctx, cert) == 1 &&
            SSL_CTX_use_PrivateKey(&ctx, key) == 1;
  X509_free(cert);
  EVP_PKEY_free(key);
  return ok;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

Server::Server(ServerConfig config)
    : config_(std::move(config)),
      store_(std::make_unique<Store>()),
      subscriptions_(std::make_unique<Subscriptions>()),
      faults_(std::make_unique<FaultInjector>()) {}

bool Server::open_store(std::string& error) {
  if (config_.store.starts_with("sqlite:")) {
    persistence_ = SqlitePersistence::open(config_.store.substr(7), error);
    if (!persistence_ || !persistence_->load(*store_, error)) return false;
    // Sync states handed out before a restart stay valid: the signing key is kept too (as
    // base64 text: SQLite's text accessors stop at a NUL byte).
    config_.state_key = persistence_->state_key(
        config_.state_key.empty() ? base64_encode(random_bytes(32)) : config_.state_key);
  } else if (config_.store != "memory") {
    error = "store must be 'memory' or 'sqlite:PATH', not '" + config_.store + "'";
    return false;
  }
  for (const MailboxConfig& m : config_.mailboxes) {
    Mailbox& mb = store_->add_mailbox(m.address, m.display_name);
    if (persistence_) persistence_->save_mailbox(mb);
    // A placement in the config applies at every start (moves by the admin call are not
    // persisted).
    mb.location = parse_location(m.location).value_or(MailboxLocation::kEverywhere);
    mb.target_address = m.target_address.empty()
                            ? default_target_address(mb.address, config_.online_routing_domain)
                            : m.target_address;
  }
  store_->set_observer(persistence_.get());
  return true;
}

Server::~Server() { stop(); }

const std::string& Server::ca_pem() const {
  static const std::string kEmpty;
  return tls_ ? tls_->ca_cert : kEmpty;
}

bool Server::start(std::string& error) {
  if (!open_store(error)) return false;
  auth_ = std::make_unique<Authenticator>(
      config_, std::make_shared<StaticBearerTokens>(config_.bearer_tokens));
  ews_ = std::make_unique<EwsService>(*store_, config_, *subscriptions_);
  if (config_.tls.enabled) {
    int min_version = tls_version_from_text(config_.tls.min_version);
    if (!min_version) {
      error = "tls min_version must be 1.0, 1.1, 1.2 or 1.3";
      return false;
    }
    if (config_.tls.cert_file.empty()) {
      auto material = generate_tls_material(error);
      if (!material) return false;
      tls_ = std::make_unique<TlsMaterial>(*material);
      if (!config_.tls.ca_out.empty()) {
        std::ofstream(config_.tls.ca_out) << tls_->ca_cert;
      }
    } else {
      tls_ = std::make_unique<TlsMaterial>(
          TlsMaterial{"", read_file(config_.tls.cert_file), read_file(config_.tls.key_file)});
    }
    TlsMaterial material = *tls_;
    http_ = std::make_unique<httplib::SSLServer>([material, min_version](SSL_CTX& ctx) {
      SSL_CTX_set_min_proto_version(&ctx, min_version);
      // OpenSSL 3 refuses TLS 1.0/1.1 at its default security level.
      if (min_version < TLS1_2_VERSION) SSL_CTX_set_security_level(&ctx, 0);
      return load_pem_into(ctx, material);
    });
    if (!http_->is_valid()) {
      error = "TLS set-up failed: check tls.cert and tls.key (PEM files)";
      return false;
    }
  } else {
    http_ = std::make_unique<httplib::Server>();
  }
  size_t threads = static_cast<size_t>(std::max(1, config_.threads));
  size_t max_threads = std::max(threads, static_cast<size_t>(std::max(1, config_.max_threads)));
  http_->new_task_queue = [threads, max_threads] {
    return new ElasticThreadPool(threads, max_threads);
  };
  http_->set_keep_alive_max_count(1000);
  http_->set_keep_alive_timeout(30);
  http_->set_payload_max_length(config_.max_request_bytes * 4 + 65536);
  http_->set_tcp_nodelay(true);
  if (!config_.trace_dir.empty()) std::filesystem::create_directories(config_.trace_dir);
  install_routes();
  if (auto bad = tokens_->certificate_errors(); !bad.empty()) {
    error = bad.front();
    return false;
  }
  int listening = -1;
  http_->set_socket_options([&listening](socket_t sock) {
    httplib::default_socket_options(sock);
    listening = static_cast<int>(sock);
  });
  port_ = config_.port == 0 ? http_->bind_to_any_port(config_.host)
                            : (http_->bind_to_port(config_.host, config_.port) ? config_.port : -1);
  http_->set_socket_options(httplib::default_socket_options);
  if (port_ <= 0) {
    error = fmt::format("cannot listen on {}:{}: is the port in use?", config_.host, config_.port);
    return false;
  }
  // cpp-httplib listens with a backlog of 5: under an organisation's sync traffic the kernel
  // drops connection attempts beyond it and clients retry a second later. Listening again
  // only enlarges the queue (the kernel caps it at somaxconn).
  if (listening >= 0) ::listen(listening, 1024);
  return true;
}

void Server::run() { http_->listen_after_bind(); }

void Server::stop() {
  // Open GetStreamingEvents streams would otherwise hold their workers (and so the stop)
  // until their ConnectionTimeout.
  subscriptions_->stop();
  store_->changed().notify_all();
  if (http_) http_->stop();
}

std::string Server::base_url() const {
  return fmt::format("{}://{}:{}", config_.tls.enabled ? "https" : "http", config_.host, port_);
}

void Server::install_routes() {
  auto ews = [this](const httplib::Request& req, httplib::Response& res) {
    std::string connection = fmt::format("{}:{}", req.remote_addr, req.remote_port);
    AuthOutcome auth = auth_->authenticate(req.get_header_value("Authorization"), connection);
    if (!auth.account) {
      res.status = 401;
      for (const std::string& c : auth.www_authenticate) res.headers.emplace("WWW-Authenticate", c);
      res.set_content("", "text/html");
      return;
    }
    const AccountConfig& account = *auth.account;
    FaultDecision fault = faults_->decide();
    if (fault.http_error) {
      res.status = fault.http_error;
      res.set_content(fault.http_error == 503 ? "Service Unavailable" : "Internal Server Error",
                      "text/html");
      return;
    }
    if (fault.server_busy) {
      SoapFault f{"ErrorServerBusy",
                  "The server cannot service this request right now. Try again later.",
                  {{"BackOffMilliseconds", std::to_string(fault.back_off_ms)}},
                  {},
                  500};
      res.status = 500;
      res.set_content(fault_envelope(f, &config_.version), "text/xml; charset=utf-8");
      return;
    }
    if (req.body.size() > config_.max_request_bytes) {
      SoapFault f{"ErrorInvalidRequest",
                  fmt::format("The request is invalid. The request body of {} bytes exceeds the "
                              "maximum of {} bytes (max_request_bytes).",
                              req.body.size(), config_.max_request_bytes),
                  {},
                  {},
                  500};
      res.status = 413;
      res.set_content(fault_envelope(f, nullptr), "text/xml; charset=utf-8");
      return;
    }
    // GetStreamingEvents has a budget of its own (HangingConnectionLimit, checked by the
    // operation); the request concurrency limit does not apply to it ("More throttling changes
    // for Exchange Online": streaming notifications have a separate budget).
    bool counted = !opens_stream(req.body);
    if (counted && !faults_->enter(account.user)) {
      SoapFault f{"ErrorExceededConnectionCount",
                  "You have exceeded the available concurrent connections for your account. Try "
                  "again once your other requests have completed.",
                  {},
                  {},
                  500};
      res.status = 500;
      res.set_content(fault_envelope(f, &config_.version), "text/xml; charset=utf-8");
      return;
    }
    RoutingHeaders routing{req.get_header_value("X-AnchorMailbox"),
                           req.get_header_value("X-PreferServerAffinity"),
                           req.get_header_value("Cookie")};
    // Latency counts as time in flight (inside the handler, once EWSMaxConcurrency counts the
    // request), so that it also exercises the concurrency limits.
    EwsReply reply = ews_->handle(account, req.body, routing,
                                  std::chrono::milliseconds(std::max(0, fault.latency_ms)));
    // The reply holds its budget charges until it is handed back (set_content below).
    if (!reply.stream && fault.response_delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(fault.response_delay_ms));
    }
    if (counted) faults_->leave(account.user);
    uint64_t n = ++trace_counter_;
    if (!config_.trace_dir.empty()) {
      std::string stem = fmt::format("{}/{:06}-{}", config_.trace_dir, n,
                                     reply.operation.empty() ? "Invalid" : reply.operation);
      std::ofstream(stem + "-request.xml", std::ios::binary) << req.body;
      if (!reply.stream) std::ofstream(stem + "-response.xml", std::ios::binary) << reply.body;
    }
    res.status = reply.status;
    if (!reply.set_cookie.empty()) res.set_header("Set-Cookie", reply.set_cookie);
    if (reply.stream) {
      // httplib gzips chunked bodies when the client accepts it, and its compressor holds data
      // back until the end: notifications would arrive only when the stream closes. Exchange
      // streams them uncompressed, so drop the offer. (The Request object is the server's own,
      // not a const object, so the cast is well-defined.)
      const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
      std::string trace_stem =
          config_.trace_dir.empty()
              ? std::string()
              : fmt::format("{}/{:06}-GetStreamingEvents", config_.trace_dir, n);
      auto stream = reply.stream;
      res.set_chunked_content_provider(
          "text/xml; charset=utf-8", [stream, trace_stem](size_t, httplib::DataSink& sink) {
            int part = 0;
            bool ended = stream([&](const std::string& chunk) {
              if (!trace_stem.empty()) {
                std::ofstream(fmt::format("{}-response-part{:03}.xml", trace_stem, part++),
                              std::ios::binary)
                    << chunk;
              }
              return sink.is_writable() && sink.write(chunk.data(), chunk.size());
            });
            // Not ended (the Mailbox server restarted): returning false makes httplib drop the
            // connection without the last chunk, as a crashed server would.
            if (ended) sink.done();
            return ended;
          });
      return;
    }
    if (fault.reset || fault.truncate) {
      // Reset: promise the full length, send half, drop the connection. Truncate: a complete
      // HTTP response whose XML stops half-way.
      std::string half = reply.body.substr(0, reply.body.size() / 2);
      if (fault.truncate) {
        res.set_content(half, "text/xml; charset=utf-8");
        return;
      }
      res.set_content_provider(reply.body.size(), "text/xml; charset=utf-8",
                               [half](size_t offset, size_t, httplib::DataSink& sink) {
                                 if (offset == 0) sink.write(half.data(), half.size());
                                 return false;
                               });
      return;
    }
    res.set_content(reply.body, "text/xml; charset=utf-8");
  };
  // std::regex has no case-insensitive flag syntax; register the spellings clients use.
  // IIS runs the logon handshake for any verb: a GET (some clients probe with one) gets the
  // same 401 challenges, NTLM Type 2 included; once logged on, a short service page.
  auto ews_get = [this](const httplib::Request& req, httplib::Response& res) {
    std::string connection = fmt::format("{}:{}", req.remote_addr, req.remote_port);
    AuthOutcome auth = auth_->authenticate(req.get_header_value("Authorization"), connection);
    if (!auth.account) {
      res.status = 401;
      for (const std::string& c : auth.www_authenticate) res.headers.emplace("WWW-Authenticate", c);
      res.set_content("", "text/html");
      return;
    }
    res.set_content("<html><body>Exchange Web Services (exsim)</body></html>", "text/html");
  };
  for (const char* path : {"/EWS/Exchange.asmx", "/ews/exchange.asmx", "/EWS/exchange.asmx"}) {
    http_->Post(path, ews);
    http_->Get(path, ews_get);
  }
  install_autodiscover_routes(
      *http_, config_, *store_, ews_->servers(), [this] { return base_url(); },
      [this](const httplib::Request& req) {
        std::string connection = fmt::format("{}:{}", req.remote_addr, req.remote_port);
        return auth_->authenticate(req.get_header_value("Authorization"), connection);
      });
  install_admin_routes(*http_, config_, *store_, *faults_);
  install_hybrid_admin_routes(*http_, config_, *store_, *subscriptions_);
  install_streaming_admin_routes(*http_, config_, *store_, *subscriptions_, ews_->servers(),
                                 ews_->hanging_connections());
  install_budget_admin_routes(*http_, config_, ews_->concurrency(), ews_->find_count());
  tokens_ = std::make_unique<TokenService>(
      config_.graph_apps, std::chrono::seconds(config_.graph_token_lifetime_seconds));
  install_token_routes(*http_, *tokens_, [this] { return base_url(); });
  graph_ = std::make_unique<GraphApi>(
      *store_, [this] { return base_url(); }, config_.graph_mailbox_concurrency);
  graph_subscriptions_ = std::make_unique<GraphSubscriptions>(*store_, config_.graph_limits);
  graph_->set_subscriptions(graph_subscriptions_.get());
  graph_->set_limits(config_.graph_limits);
  install_graph_routes(*http_, *graph_, *tokens_, *faults_);
  install_graph_admin_routes(
      *http_,
      [this](const httplib::Request& req, httplib::Response& res) {
        return check_admin_token(config_, req, res);
      },
      *graph_subscriptions_, config_.graph_limits, *graph_);
}

}  // namespace exsim
