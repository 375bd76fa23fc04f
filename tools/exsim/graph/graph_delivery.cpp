#include "exsim/graph/graph_delivery.h"

#include <algorithm>

#include "exsim/graph/graph_webhook.h"

namespace exsim {

using nlohmann::json;

NotificationDelivery::EndpointState NotificationDelivery::state_of(const std::string& url,
                                                                   Clock::time_point now) {
  if (!limits_.notification_deadline) return EndpointState::kNormal;
  Endpoint& endpoint = endpoints_[url];
  if (endpoint.window_start == Clock::time_point{} ||
      now - endpoint.window_start >= limits_.slow_flush) {
    endpoint = Endpoint{now, 0, 0};  // "the accumulation of responses is flushed"
  }
  if (endpoint.seen < limits_.slow_sample || endpoint.seen == 0) return EndpointState::kNormal;
  const double share = static_cast<double>(endpoint.slow) / static_cast<double>(endpoint.seen);
  if (share >= limits_.slow_drop_share) return EndpointState::kDropping;
  if (share >= limits_.slow_throttle_share) return EndpointState::kThrottled;
  return EndpointState::kNormal;
}

void NotificationDelivery::account(const std::string& url, std::size_t notifications, bool slow,
                                   Clock::time_point now) {
  if (!limits_.notification_deadline) return;
  (void)state_of(url, now);  // starts a new window when the old one is over
  Endpoint& endpoint = endpoints_[url];
  endpoint.seen += notifications;
  if (slow) endpoint.slow += notifications;
}

void NotificationDelivery::queue(const std::string& url, json notification) {
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  switch (state_of(url, now)) {
    case EndpointState::kDropping:
      ++dropped_;
      return;
    case EndpointState::kThrottled:
      ++delayed_;
      pending_.push_back({url, std::move(notification), now, now + limits_.throttle_delay});
      return;
    case EndpointState::kNormal:
      pending_.push_back({url, std::move(notification), now, now});
      return;
  }
}

void NotificationDelivery::deliver_due() {
  struct Batch {
    std::string url;
    std::vector<Pending> members;
  };
  std::vector<Batch> batches;
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    std::map<std::string, std::size_t> open;  // url -> index of its batch that still has room
    std::vector<Pending> later;
    for (Pending& p : pending_) {
      if (p.due > now) {
        later.push_back(std::move(p));
        continue;
      }
      auto it = open.find(p.url);
      if (it == open.end() ||
          batches[it->second].members.size() >= limits_.notification_batch_max) {
        batches.push_back({p.url, {}});
        it = open.insert_or_assign(p.url, batches.size() - 1).first;
      }
      batches[it->second].members.push_back(std::move(p));
    }
    pending_ = std::move(later);
  }
  for (Batch& batch : batches) {
    json value = json::array();
    std::size_t retries = 0;
    for (const Pending& p : batch.members) {
      value.push_back(p.notification);
      if (p.retry) ++retries;
    }
    WebhookAnswer answer = post_webhook(batch.url, json{{"value", value}}.dump(),
                                        "application/json", limits_.notification_timeout);
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    const std::size_t n = batch.members.size();
    ++posts_;
    retried_ += retries;
    max_batch_ = std::max(max_batch_, n);
    max_elapsed_ = std::max(max_elapsed_, answer.elapsed);
    const bool slow = answer.elapsed > limits_.notification_slow;
    if (slow) slow_ += n;
    account(batch.url, n, slow, now);
    if (answer.ok) {
      delivered_ += n;
      continue;
    }
    failed_ += n;
    for (Pending& p : batch.members) {
      if (now - p.first >= limits_.retry_for) {
        ++dropped_;  // "it discards the change notification"
        continue;
      }
      p.due = now + limits_.retry_delay;
      p.retry = true;
      pending_.push_back(std::move(p));
    }
  }
}

json NotificationDelivery::stats() const {
  std::lock_guard lock(mutex_);
  json throttled = json::array();
  const auto now = Clock::now();
  for (const auto& [url, endpoint] : endpoints_) {
    if (now - endpoint.window_start >= limits_.slow_flush || endpoint.seen < limits_.slow_sample ||
        endpoint.seen == 0) {
      continue;
    }
    const double share = static_cast<double>(endpoint.slow) / static_cast<double>(endpoint.seen);
    if (share >= limits_.slow_throttle_share) {
      throttled.push_back(
          {{"url", url}, {"slow_share", share}, {"dropping", share >= limits_.slow_drop_share}});
    }
  }
  return {{"posts", posts_},
          {"delivered", delivered_},
          {"failed", failed_},
          {"retried", retried_},
          {"dropped", dropped_},
          {"slow", slow_},
          {"delayed", delayed_},
          {"pending", pending_.size()},
          {"max_batch", max_batch_},
          {"max_elapsed_ms", max_elapsed_.count()},
          {"throttled_endpoints", throttled}};
}

}  // namespace exsim
