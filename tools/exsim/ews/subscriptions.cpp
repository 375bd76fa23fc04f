#include "exsim/ews/subscriptions.h"

namespace exsim {

void Subscriptions::expire(std::chrono::steady_clock::time_point now,
                           std::chrono::seconds lifetime) {
  for (auto it = subscriptions_.begin(); it != subscriptions_.end();) {
    const Subscription& s = it->second;
    bool gone = false;
    if (s.kind == Subscription::Kind::kPull) {
      gone = s.expires < now;
    } else if (lifetime.count() > 0) {
      // Microsoft's pages give a streaming subscription a timeout that each GetStreamingEvents
      // resets (GetStreamingEvents operation, remark 7) without naming its length; exsim uses
      // the configured lifetime, counted while no connection reads it.
      gone = s.open_connections == 0 && now - s.last_read > lifetime;
    }
    it = gone ? subscriptions_.erase(it) : std::next(it);
  }
}

int Subscriptions::count_charged_to(const std::string& key) const {
  int n = 0;
  for (const auto& [id, s] : subscriptions_) n += s.charged_to == key ? 1 : 0;
  return n;
}

size_t Subscriptions::restart(int server) {
  ++restarts_[server];
  return std::erase_if(subscriptions_,
                       [server](const auto& kv) { return kv.second.server == server; });
}

uint64_t Subscriptions::restarts(int server) const {
  auto it = restarts_.find(server);
  return it == restarts_.end() ? 0 : it->second;
}

void Subscriptions::lose_events(uint32_t mailbox, uint64_t after, uint64_t count) {
  if (count == 0) return;
  lost_[mailbox].emplace_back(after + 1, after + count);
}

bool Subscriptions::lost(uint32_t mailbox, uint64_t seq) const {
  auto it = lost_.find(mailbox);
  if (it == lost_.end()) return false;
  for (const auto& [first, last] : it->second) {
    if (seq >= first && seq <= last) return true;
  }
  return false;
}

}  // namespace exsim
