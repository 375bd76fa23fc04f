#include "net/reloadable_client.h"

#include <algorithm>

#include "net/tls_trust.h"

namespace agendasync::net {

namespace {

void add(ClientStats& total, const ClientStats& more) {
  total.requests += more.requests;
  total.attempts += more.attempts;
  total.retries += more.retries;
  total.transport_errors += more.transport_errors;
  total.retry_wait_ms += more.retry_wait_ms;
  total.queued_for_host_cap += more.queued_for_host_cap;
  total.failed += more.failed;
  total.paced_wait_ms += more.paced_wait_ms;
  total.paced_refused += more.paced_refused;
}

}  // namespace

ReloadableHttpClient::ReloadableHttpClient(ClientOptions options, ClientFactory factory)
    : factory_(std::move(factory)), options_(std::move(options)) {
  current_.client = std::shared_ptr<HttpClient>(factory_(options_));
}

ReloadableHttpClient::~ReloadableHttpClient() = default;

ReloadableHttpClient::Slot ReloadableHttpClient::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

Result<Response> ReloadableHttpClient::send(const Request& request,
                                            const Credentials& credentials) {
  // The copy keeps the client this request started on alive until it ends, whatever a
  // reload does meanwhile.
  auto slot = current();
  return slot.client->send(request, credentials);
}

void ReloadableHttpClient::send_async(Request request, Credentials credentials,
                                      std::function<void(Result<Response>)> done) {
  auto slot = current();
  // Counted while `slot` still holds the client: a reload's reap sees one or the other.
  slot.in_flight->fetch_add(1);
  slot.client->send_async(
      std::move(request), std::move(credentials),
      [in_flight = slot.in_flight, done = std::move(done)](Result<Response> result) {
        done(std::move(result));
        in_flight->fetch_sub(1);
      });
}

void ReloadableHttpClient::set_host_concurrency(std::string_view url, int limit) {
  std::shared_ptr<HttpClient> client;
  {
    std::lock_guard lock(mutex_);
    host_caps_[std::string(url)] = limit;
    client = current_.client;
  }
  client->set_host_concurrency(url, limit);
}

void ReloadableHttpClient::set_budget_concurrency(std::string_view key, int limit) {
  std::shared_ptr<HttpClient> client;
  {
    std::lock_guard lock(mutex_);
    budget_caps_[std::string(key)] = limit;
    client = current_.client;
  }
  client->set_budget_concurrency(key, limit);
}

void ReloadableHttpClient::hold_budget(std::string_view key, std::chrono::milliseconds wait) {
  // The holds live in ClientOptions::budget_holds, which every client made here shares.
  current().client->hold_budget(key, wait);
}

ClientStats ReloadableHttpClient::stats() const {
  std::lock_guard lock(mutex_);
  ClientStats total = reaped_;
  add(total, current_.client->stats());
  for (const auto& old : retired_) add(total, old.client->stats());
  return total;
}

void ReloadableHttpClient::replace_trust(const std::string& ca_bundle_path,
                                         const std::string& proxy) {
  ClientOptions next;
  {
    std::lock_guard lock(mutex_);
    next = options_;
  }
  next.tls.ca_bundle_path = ca_bundle_path;
  next.proxy = proxy;
  // Made outside the lock: requests keep flowing to the current client meanwhile.
  Slot fresh;
  fresh.client = std::shared_ptr<HttpClient>(factory_(next));
  std::lock_guard lock(mutex_);
  for (const auto& [url, limit] : host_caps_) fresh.client->set_host_concurrency(url, limit);
  for (const auto& [key, limit] : budget_caps_) fresh.client->set_budget_concurrency(key, limit);
  retired_.push_back(std::move(current_));
  current_ = std::move(fresh);
  options_ = std::move(next);
  reap_locked();
}

void ReloadableHttpClient::reap_locked() {
  std::erase_if(retired_, [this](const Slot& old) {
    // Only the list holds it and no callback is pending: no request can reach it any more
    // (it is not current), so nothing takes a new reference while it is destroyed.
    if (old.client.use_count() != 1 || old.in_flight->load() != 0) return false;
    add(reaped_, old.client->stats());
    return true;
  });
}

ClientOptions ReloadableHttpClient::options() const {
  std::lock_guard lock(mutex_);
  return options_;
}

std::size_t ReloadableHttpClient::retired_clients() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(
      retired_.begin(), retired_.end(),
      [](const Slot& old) { return old.client.use_count() > 1 || old.in_flight->load() != 0; }));
}

TrustedClients::TrustedClients(std::string ca_bundle_path, std::string proxy, ClientFactory factory)
    : factory_(std::move(factory)),
      ca_bundle_path_(std::move(ca_bundle_path)),
      proxy_(std::move(proxy)) {}

std::shared_ptr<HttpClient> TrustedClients::make(ClientOptions options) {
  std::lock_guard lock(mutex_);
  options.tls.ca_bundle_path = ca_bundle_path_;
  options.proxy = proxy_;
  auto client = std::make_shared<ReloadableHttpClient>(std::move(options), factory_);
  std::erase_if(clients_, [](const auto& weak) { return weak.expired(); });
  clients_.push_back(client);
  return client;
}

Result<std::size_t> TrustedClients::reload(std::string ca_bundle_path, std::string proxy) {
  // A bundle the clients could not read would fail every request later, far from the cause:
  // refuse it here and keep the trust that works.
  if (!ca_bundle_path.empty()) {
    auto bundle = ExtraCaBundle::load(ca_bundle_path);
    if (!bundle) return std::unexpected(bundle.error());
  }
  std::vector<std::shared_ptr<ReloadableHttpClient>> live;
  {
    std::lock_guard lock(mutex_);
    ca_bundle_path_ = std::move(ca_bundle_path);
    proxy_ = std::move(proxy);
    for (const auto& weak : clients_) {
      if (auto client = weak.lock()) live.push_back(std::move(client));
    }
    std::erase_if(clients_, [](const auto& weak) { return weak.expired(); });
  }
  const std::string path = this->ca_bundle_path();
  const std::string through = this->proxy();
  for (const auto& client : live) client->replace_trust(path, through);
  return live.size();
}

std::string TrustedClients::ca_bundle_path() const {
  std::lock_guard lock(mutex_);
  return ca_bundle_path_;
}

std::string TrustedClients::proxy() const {
  std::lock_guard lock(mutex_);
  return proxy_;
}

}  // namespace agendasync::net
