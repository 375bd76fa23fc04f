#pragma once
/// The node's outgoing TLS trust ([tls] ca_bundle) and proxy, changeable while the daemon runs
/// (SIGHUP, issue 19). A libcurl client reads its CA bundle once, when it is made, and its
/// transfers hold pointers into it; changing it under requests in flight is not safe. So a
/// reload does not touch a running client: new requests go to a new client made with the new
/// trust, and requests in flight (a 30-minute EWS stream included) finish on the old one,
/// which is dropped once nothing uses it.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "net/http.h"

namespace agendasync::net {

/// Makes one transport client (make_curl_client; tests pass fakes).
using ClientFactory = std::function<std::unique_ptr<HttpClient>(ClientOptions)>;

/// An HttpClient whose transport can be replaced: each request goes to the client that is
/// current when it starts. Counters (stats) add up every client it has had, so metrics never
/// go backwards; concurrency caps set at run time carry over to the next client.
class ReloadableHttpClient final : public HttpClient {
 public:
  ReloadableHttpClient(ClientOptions options, ClientFactory factory);
  ~ReloadableHttpClient() override;

  Result<Response> send(const Request& request, const Credentials& credentials) override;
  void send_async(Request request, Credentials credentials,
                  std::function<void(Result<Response>)> done) override;
  void set_host_concurrency(std::string_view url, int limit) override;
  void set_budget_concurrency(std::string_view key, int limit) override;
  void hold_budget(std::string_view key, std::chrono::milliseconds wait) override;
  ClientStats stats() const override;

  /// New requests use a client with this CA bundle and proxy; the other options stay.
  void replace_trust(const std::string& ca_bundle_path, const std::string& proxy);
  /// The options new requests are sent with.
  ClientOptions options() const;
  /// Old clients still held by requests in flight (tests, logs).
  std::size_t retired_clients() const;

 private:
  /// A transport client and its asynchronous requests not yet completed. The callbacks hold
  /// the count, not the client: destroying this wrapper destroys every client at once, which
  /// ends their open transfers (the EWS watchers rely on it to close their streams).
  struct Slot {
    std::shared_ptr<HttpClient> client;
    std::shared_ptr<std::atomic<int>> in_flight = std::make_shared<std::atomic<int>>(0);
  };
  Slot current() const;
  /// Drops retired clients nothing uses any more, keeping their counters. Called from
  /// replace_trust only: never on a client's own thread, whose destructor joins it.
  void reap_locked();

  const ClientFactory factory_;
  mutable std::mutex mutex_;
  ClientOptions options_;
  Slot current_;
  std::vector<Slot> retired_;
  ClientStats reaped_;
  std::map<std::string, int, std::less<>> host_caps_;
  std::map<std::string, int, std::less<>> budget_caps_;
};

/// Every outgoing client of a daemon that trusts what [tls] says: made through it, switched
/// together by reload().
class TrustedClients {
 public:
  TrustedClients(std::string ca_bundle_path, std::string proxy,
                 ClientFactory factory = make_curl_client);

  /// A client with `options`, except that its CA bundle and proxy are this node's, now and
  /// after every reload.
  std::shared_ptr<HttpClient> make(ClientOptions options);
  /// Checks the bundle first (readable, holds a certificate): an error names the file and
  /// changes nothing. Then every live client sends its next request with the new trust.
  /// Reloading the same path again picks up a file replaced in place. Returns how many
  /// clients were switched.
  Result<std::size_t> reload(std::string ca_bundle_path, std::string proxy);

  std::string ca_bundle_path() const;
  std::string proxy() const;

 private:
  ClientFactory factory_;
  mutable std::mutex mutex_;
  std::string ca_bundle_path_;
  std::string proxy_;
  std::vector<std::weak_ptr<ReloadableHttpClient>> clients_;
};

}  // namespace agendasync::net
