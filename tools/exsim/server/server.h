#pragma once
/// The exsim HTTP(S) server: routes /EWS/Exchange.asmx, /autodiscover/* and /exsim/admin/*,
/// authenticates, applies injected faults and records traces. Usable in-process by tests.
#include <atomic>
#include <memory>
#include <string>

#include "exsim/server/config.h"

namespace httplib {
class Server;
}

namespace exsim {

class Store;
class Subscriptions;
class Authenticator;
class EwsService;
class FaultInjector;
class TokenService;
class GraphApi;
class GraphSubscriptions;
class SqlitePersistence;
struct TlsMaterial;

/// A running simulator.
class Server {
 public:
  explicit Server(ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds the port (0 = any) and prepares TLS. Returns false with a message on failure.
  bool start(std::string& error);
  /// Serves until stop(); call from a dedicated thread or main.
  void run();
  void stop();
  /// "http://127.0.0.1:PORT" or "https://...".
  std::string base_url() const;
  int port() const { return port_; }
  /// PEM of the generated CA (empty without TLS or with configured certificate files).
  const std::string& ca_pem() const;
  Store& store() { return *store_; }
  FaultInjector& faults() { return *faults_; }

 private:
  void install_routes();
  bool open_store(std::string& error);

  ServerConfig config_;
  std::unique_ptr<SqlitePersistence> persistence_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Subscriptions> subscriptions_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<EwsService> ews_;
  std::unique_ptr<FaultInjector> faults_;
  std::unique_ptr<TokenService> tokens_;
  std::unique_ptr<TlsMaterial> tls_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<GraphSubscriptions> graph_subscriptions_;
  std::unique_ptr<GraphApi> graph_;
  std::atomic<uint64_t> trace_counter_{0};
  int port_ = 0;
};

}  // namespace exsim
