#pragma once
/// Outgoing webhooks to the host application (R29): registered URLs receive every change
/// feed entry as a signed JSON event. Signature header:
///   X-AgendaSync-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
/// (the timestamp lets a receiver refuse replays). A failed delivery (no answer, or not 2xx)
/// is retried with exponential back-off; after `max_attempts` it goes to the dead-letter
/// list, readable and re-deliverable through the API.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/secret.h"
#include "net/http.h"
#include "service/metrics.h"
#include "service/secret_store.h"
#include "service/service_db.h"

namespace agendasync::service {

/// "t=<timestamp>,v1=<hex>" for `body` sent at `timestamp`.
std::string webhook_signature(const Secret& secret, std::int64_t timestamp, std::string_view body);

struct WebhookOptions {
  int max_attempts = 6;
  std::chrono::milliseconds backoff_base{1000};  ///< wait after the first failure; doubles
  std::chrono::milliseconds backoff_max{std::chrono::minutes(10)};
  std::chrono::milliseconds request_timeout{5000};
};

struct WebhookInfo {
  std::int64_t id = 0;
  std::string url;
  std::int64_t created_at = 0;
};

struct DeadLetter {
  std::int64_t id = 0;
  std::int64_t webhook_id = 0;
  std::string url;
  std::string event_id;
  std::string body;
  int attempts = 0;
  std::string last_error;
  std::int64_t failed_at = 0;
};

class Webhooks {
 public:
  Webhooks(ServiceDb& db, SecretStore& secrets, net::HttpClient& http, Metrics& metrics,
           WebhookOptions options);
  ~Webhooks();

  /// Registers `url` (http or https) with `secret` (at least 16 characters).
  Result<WebhookInfo> add(std::string_view url, const Secret& secret);
  Result<std::vector<WebhookInfo>> list();
  Result<void> remove(std::int64_t id);
  Result<std::vector<DeadLetter>> dead_letters();
  /// Queues a dead letter for delivery again (removing it from the list).
  Result<void> redeliver(std::int64_t dead_letter_id);

  /// Queues `event` (an object with "id" and "type") for every registered webhook.
  void publish(const nlohmann::json& event);
  /// Deliveries waiting (first attempts and retries).
  std::size_t pending() const;

  /// Accepts deliveries. The delivery thread starts with the first one: an organisation
  /// without webhooks holds no thread.
  void start();
  /// Stops the delivery thread; deliveries still queued are dropped.
  void stop();
  /// Whether the delivery thread runs.
  bool delivering() const;

 private:
  struct Delivery {
    std::int64_t webhook_id = 0;
    std::string url;
    std::string event_id;
    std::string body;
    int attempts = 0;
    std::chrono::steady_clock::time_point due;
  };
  void run();
  Result<void> deliver(const Delivery& delivery);
  void dead_letter(const Delivery& delivery, const std::string& error);
  Result<Secret> secret_of(std::int64_t webhook_id);

  store::sql::Database& db_;
  SecretStore& secrets_;
  net::HttpClient& http_;
  Metrics& metrics_;
  WebhookOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Delivery> queue_;
  bool stopping_ = false;
  bool accepting_ = false;  ///< between start() and stop()
  /// Starts the delivery thread when there is something to deliver (mutex_ held).
  void launch_locked();
  std::thread thread_;
};

}  // namespace agendasync::service
