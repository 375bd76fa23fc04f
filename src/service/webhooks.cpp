#include "service/webhooks.h"

#include <openssl/hmac.h>

#include <algorithm>

#include "service/log.h"
#include "service/secrets/hex.h"

namespace agendasync::service {

namespace {

std::string aad_for(std::int64_t id) { return "webhook:" + std::to_string(id); }

}  // namespace

std::string webhook_signature(const Secret& secret, std::int64_t timestamp, std::string_view body) {
  std::string signed_text = std::to_string(timestamp) + "." + std::string(body);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.reveal().data(), static_cast<int>(secret.reveal().size()),
       reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(), digest,
       &length);
  return "t=" + std::to_string(timestamp) + ",v1=" + secrets::to_hex(digest, length);
}

Webhooks::Webhooks(ServiceDb& db, SecretStore& secrets, net::HttpClient& http, Metrics& metrics,
                   WebhookOptions options)
    : db_(db.sql()), secrets_(secrets), http_(http), metrics_(metrics), options_(options) {}

Webhooks::~Webhooks() { stop(); }

Result<WebhookInfo> Webhooks::add(std::string_view url, const Secret& secret) {
  if (!(url.starts_with("http://") || url.starts_with("https://")) || url.size() < 10) {
    return fail(ErrorKind::kInvalidData,
                "url: \"" + std::string(url) + "\" is not an http:// or https:// URL");
  }
  if (secret.reveal().size() < 16) {
    return fail(ErrorKind::kInvalidData,
                "secret: use at least 16 characters, so signatures cannot be guessed");
  }
  return db_.transaction([&](store::sql::Session& db) -> Result<WebhookInfo> {
    WebhookInfo info{0, std::string(url), unix_now()};
    auto added = db.query(
        "INSERT INTO service_webhook(url, secret_sealed, created_at) VALUES (?1, '', ?2) "
        "RETURNING id",
        {info.url, info.created_at});
    if (!added) return std::unexpected(added.error());
    info.id = added->int_at(0, 0);
    // Sealed under its own id, so a sealed secret cannot be moved to another webhook.
    auto sealed = secrets_.seal(aad_for(info.id), secret);
    if (!sealed) return std::unexpected(sealed.error());
    if (auto stored = db.run("UPDATE service_webhook SET secret_sealed = ?2 WHERE id = ?1",
                             {info.id, *sealed});
        !stored) {
      return std::unexpected(stored.error());
    }
    return info;
  });
}

Result<std::vector<WebhookInfo>> Webhooks::list() {
  auto rows = db_.query("SELECT id, url, created_at FROM service_webhook ORDER BY id");
  if (!rows) return std::unexpected(rows.error());
  std::vector<WebhookInfo> hooks;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    hooks.push_back({rows->int_at(i, 0), rows->text_at(i, 1), rows->int_at(i, 2)});
  }
  return hooks;
}

Result<void> Webhooks::remove(std::int64_t id) {
  auto removed = db_.run("DELETE FROM service_webhook WHERE id = ?1", {id});
  if (!removed) return std::unexpected(removed.error());
  if (*removed == 0) return fail(ErrorKind::kNotFound, "no webhook has id " + std::to_string(id));
  return {};
}

Result<std::vector<DeadLetter>> Webhooks::dead_letters() {
  auto rows = db_.query(
      "SELECT id, webhook_id, url, event_id, body, attempts, last_error, failed_at "
      "FROM service_dead_letter ORDER BY id");
  if (!rows) return std::unexpected(rows.error());
  std::vector<DeadLetter> letters;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    letters.push_back({rows->int_at(i, 0), rows->int_at(i, 1), rows->text_at(i, 2),
                       rows->text_at(i, 3), rows->text_at(i, 4),
                       static_cast<int>(rows->int_at(i, 5)), rows->text_at(i, 6),
                       rows->int_at(i, 7)});
  }
  return letters;
}

Result<void> Webhooks::redeliver(std::int64_t dead_letter_id) {
  auto letters = dead_letters();
  if (!letters) return std::unexpected(letters.error());
  auto found = std::find_if(letters->begin(), letters->end(),
                            [&](const DeadLetter& letter) { return letter.id == dead_letter_id; });
  if (found == letters->end()) {
    return fail(ErrorKind::kNotFound, "no dead letter has id " + std::to_string(dead_letter_id));
  }
  auto removed = db_.run("DELETE FROM service_dead_letter WHERE id = ?1", {dead_letter_id});
  if (!removed) return std::unexpected(removed.error());
  std::lock_guard lock(mutex_);
  queue_.push_back(Delivery{found->webhook_id, found->url, found->event_id, found->body, 0,
                            std::chrono::steady_clock::now()});
  launch_locked();
  changed_.notify_all();
  return {};
}

void Webhooks::publish(const nlohmann::json& event) {
  auto hooks = list();
  if (!hooks) {
    log_event(spdlog::level::err, "webhook_list_failed", {{"error", hooks.error().message}});
    return;
  }
  if (hooks->empty()) return;
  std::string body = event.dump();
  std::string event_id = event.value("id", "");
  std::lock_guard lock(mutex_);
  for (const auto& hook : *hooks) {
    queue_.push_back(
        Delivery{hook.id, hook.url, event_id, body, 0, std::chrono::steady_clock::now()});
  }
  launch_locked();
  changed_.notify_all();
}

std::size_t Webhooks::pending() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void Webhooks::start() {
  std::lock_guard lock(mutex_);
  accepting_ = true;
  stopping_ = false;
  launch_locked();
}

void Webhooks::launch_locked() {
  if (accepting_ && !stopping_ && !queue_.empty() && !thread_.joinable()) {
    thread_ = std::thread([this] { run(); });
  }
}

bool Webhooks::delivering() const {
  std::lock_guard lock(mutex_);
  return thread_.joinable();
}

void Webhooks::stop() {
  std::thread joining;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    accepting_ = false;
    changed_.notify_all();
    joining.swap(thread_);
  }
  if (joining.joinable()) joining.join();
}

Result<Secret> Webhooks::secret_of(std::int64_t webhook_id) {
  auto rows = db_.query("SELECT secret_sealed FROM service_webhook WHERE id = ?1", {webhook_id});
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) {
    return fail(ErrorKind::kNotFound, "webhook " + std::to_string(webhook_id) + " was removed");
  }
  return secrets_.open(aad_for(webhook_id), rows->text_at(0, 0));
}

Result<void> Webhooks::deliver(const Delivery& delivery) {
  auto secret = secret_of(delivery.webhook_id);
  if (!secret) return std::unexpected(secret.error());
  net::Request request;
  request.method = "POST";
  request.url = delivery.url;
  request.body = delivery.body;
  request.retry_allowed = false;  // retries are ours: with back-off and a dead-letter list
  request.timeout = options_.request_timeout;
  request.headers = {
      {"Content-Type", "application/json"},
      {"X-AgendaSync-Event-Id", delivery.event_id},
      {"X-AgendaSync-Signature", webhook_signature(*secret, unix_now(), delivery.body)}};
  auto response = http_.send(request, net::Credentials{});
  if (!response) return std::unexpected(response.error());
  if (response->status < 200 || response->status > 299) {
    return fail(ErrorKind::kTransient,
                "the receiver answered HTTP " + std::to_string(response->status));
  }
  return {};
}

void Webhooks::dead_letter(const Delivery& delivery, const std::string& error) {
  auto stored = db_.run(
      "INSERT INTO service_dead_letter(webhook_id, url, event_id, body, attempts, last_error, "
      "failed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      {delivery.webhook_id, delivery.url, delivery.event_id, delivery.body,
       static_cast<std::int64_t>(delivery.attempts), error, unix_now()});
  metrics_.add(metric::kWebhookDeliveries, {{"result", "dead-lettered"}});
  log_event(spdlog::level::warn, "webhook_dead_lettered",
            {{"webhook", delivery.webhook_id},
             {"event_id", delivery.event_id},
             {"attempts", delivery.attempts},
             {"error", error},
             {"stored", stored.has_value()}});
}

void Webhooks::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto now = std::chrono::steady_clock::now();
    auto ready = std::find_if(queue_.begin(), queue_.end(),
                              [&](const Delivery& delivery) { return delivery.due <= now; });
    if (ready == queue_.end()) {
      if (queue_.empty()) {
        changed_.wait(lock);
      } else {
        auto next =
            std::min_element(queue_.begin(), queue_.end(),
                             [](const Delivery& a, const Delivery& b) { return a.due < b.due; })
                ->due;
        changed_.wait_until(lock, next);
      }
      continue;
    }
    Delivery delivery = *ready;
    queue_.erase(ready);
    lock.unlock();

    delivery.attempts += 1;
    auto delivered = deliver(delivery);
    if (delivered) {
      metrics_.add(metric::kWebhookDeliveries, {{"result", "delivered"}});
    } else if (delivered.error().kind == ErrorKind::kNotFound) {
      // The webhook was removed meanwhile: nothing to deliver to.
    } else if (delivery.attempts >= options_.max_attempts) {
      dead_letter(delivery, delivered.error().message);
    } else {
      metrics_.add(metric::kWebhookDeliveries, {{"result", "retry"}});
      auto wait = options_.backoff_base * (1LL << std::min(delivery.attempts - 1, 20));
      delivery.due = std::chrono::steady_clock::now() +
                     std::min<std::chrono::milliseconds>(wait, options_.backoff_max);
      log_event(spdlog::level::info, "webhook_retry",
                {{"webhook", delivery.webhook_id},
                 {"event_id", delivery.event_id},
                 {"attempt", delivery.attempts},
                 {"error", delivered.error().message}});
      lock.lock();
      queue_.push_back(std::move(delivery));
      continue;
    }
    lock.lock();
  }
}

}  // namespace agendasync::service
