#pragma once
/// The concurrency cap per server or budget key: at most `limit` requests in flight per key,
/// the rest wait in arrival order. A key is a server ("https://host:443", the default) or a
/// request's budget key (Request::budget_key, see budget_slot_key). Owned and used by one
/// thread (the client's event loop).
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace agendasync::net {

/// The slot key of a Request::budget_key: prefixed so that it can never name a server
/// (server keys start with their scheme).
std::string budget_slot_key(std::string_view budget_key);

class HostSlots {
 public:
  explicit HostSlots(int default_limit);

  /// Takes a slot for `id` on `key` and returns true, or queues `id` and returns false.
  /// `limit_if_new` (< 1: the default) is the cap of a key met for the first time.
  bool acquire(const std::string& key, std::uint64_t id, int limit_if_new = 0);
  /// Frees one slot of `key`; returns the queued ids that now hold a slot (oldest first).
  std::vector<std::uint64_t> release(const std::string& key);
  /// Drops a queued `id` (a cancelled request). Returns false when it was not queued.
  bool forget(const std::string& key, std::uint64_t id);
  /// Changes the cap of `key` (< 1 counts as 1); returns queued ids that may now start.
  std::vector<std::uint64_t> set_limit(const std::string& key, int limit);

  int limit(const std::string& key) const;
  int in_flight(const std::string& key) const;
  std::size_t queued(const std::string& key) const;
  /// Keys with state: busy, or with a cap other than the one they started with.
  std::size_t keys() const { return keys_.size(); }

 private:
  struct Key {
    int limit = 0;
    int initial_limit = 0;  ///< what acquire() would give it again
    int in_flight = 0;
    std::deque<std::uint64_t> waiting;
  };
  Key& entry(const std::string& key, int limit_if_new);
  std::vector<std::uint64_t> admit_waiting(Key& key);
  /// Forgets an idle key at its initial cap: budget keys are per mailbox, and a node serving
  /// 100,000 mailboxes must not keep 100,000 entries for keys that are not in use.
  void drop_if_idle(std::unordered_map<std::string, Key>::iterator it);

  int default_limit_;
  std::unordered_map<std::string, Key> keys_;
};

}  // namespace agendasync::net
