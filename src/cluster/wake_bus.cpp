#include "cluster/wake_bus.h"

#include <algorithm>
#include <cstdio>

#include "cluster/ownership.h"

namespace agendasync::cluster {

namespace {

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '%' || c == '\t' || c == '\n' || c == '\0') {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
      out += hex;
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    unsigned value = 0;
    if (std::sscanf(std::string(text.substr(i + 1, 2)).c_str(), "%2x", &value) != 1) {
      return std::nullopt;
    }
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

/// The longest a batch of sends grows: a burst of writes goes out in a few statements.
constexpr std::size_t kBatch = 200;

}  // namespace

std::string encode_wake(const Wake& wake) {
  return escape(wake.org) + '\t' + escape(wake.user) + '\t' + escape(wake.why);
}

std::optional<Wake> decode_wake(std::string_view payload) {
  const auto first = payload.find('\t');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = payload.find('\t', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  auto org = unescape(payload.substr(0, first));
  auto user = unescape(payload.substr(first + 1, second - first - 1));
  auto why = unescape(payload.substr(second + 1));
  if (!org || !user || !why || org->empty() || user->empty()) return std::nullopt;
  return Wake{*org, *user, *why};
}

std::string wake_channel(std::string_view scope, std::string_view org) {
  std::uint64_t hash = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : org) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return std::string(scope) + "_w_" + hex;
}

WakeBus::WakeBus(std::shared_ptr<store::pg::Pool> pool, PgListener& listener, std::string scope,
                 std::function<void(const Wake&)> deliver)
    : pool_(std::move(pool)),
      listener_(listener),
      scope_(std::move(scope)),
      deliver_(std::move(deliver)) {
  sender_ = std::thread([this] { send_loop(); });
}

WakeBus::~WakeBus() { stop(); }

void WakeBus::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (sender_.joinable()) sender_.join();
}

void WakeBus::publish(Wake wake) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    // A pair already waiting to be sent need not go twice (a burst of writes to one user).
    if (std::find(queue_.begin(), queue_.end(), wake) != queue_.end()) return;
    queue_.push_back(std::move(wake));
  }
  changed_.notify_one();
}

Result<void> WakeBus::publish_now(const Wake& wake) { return send({wake}); }

Result<void> WakeBus::send(const std::vector<Wake>& wakes) {
  std::vector<std::string> channels, payloads;
  for (const auto& wake : wakes) {
    channels.push_back(wake_channel(scope_, wake.org));
    payloads.push_back(encode_wake(wake));
  }
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto sent = (*db)->query("SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS t(c, p)",
                           {text_array(channels), text_array(payloads)});
  if (!sent) return std::unexpected(sent.error());
  std::lock_guard lock(mutex_);
  sent_ += wakes.size();
  return {};
}

void WakeBus::send_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) return;
    std::vector<Wake> batch;
    while (!queue_.empty() && batch.size() < kBatch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    // A failed send is not retried: the owner's safety net and its feed follower cover the
    // pair, and a retry loop here would hold up every later wake.
    (void)send(batch);
    lock.lock();
  }
}

void WakeBus::follow(const std::string& org) {
  listener_.listen(wake_channel(scope_, org), [this, org](const std::string& payload) {
    auto wake = decode_wake(payload);
    if (!wake || wake->org != org) return;  // malformed, or another organisation's hash
    ++received_;
    deliver_(*wake);
  });
}

void WakeBus::unfollow(const std::string& org) { listener_.unlisten(wake_channel(scope_, org)); }

std::uint64_t WakeBus::sent() const {
  std::lock_guard lock(mutex_);
  return sent_;
}

}  // namespace agendasync::cluster
