#pragma once
/// The per-server concurrency cap: at most `limit` requests in flight per server, the rest
/// wait in arrival order. Owned and used by one thread (the client's event loop).
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

namespace agendasync::net {

class HostSlots {
 public:
  explicit HostSlots(int default_limit);

  /// Takes a slot for `id` on `host` and returns true, or queues `id` and returns false.
  bool acquire(const std::string& host, std::uint64_t id);
  /// Frees one slot of `host`; returns the queued ids that now hold a slot (oldest first).
  std::vector<std::uint64_t> release(const std::string& host);
  /// Drops a queued `id` (a cancelled request). Returns false when it was not queued.
  bool forget(const std::string& host, std::uint64_t id);
  /// Changes the cap of `host` (< 1 counts as 1); returns queued ids that may now start.
  std::vector<std::uint64_t> set_limit(const std::string& host, int limit);

  int limit(const std::string& host) const;
  int in_flight(const std::string& host) const;
  std::size_t queued(const std::string& host) const;

 private:
  struct Host {
    int limit = 0;
    int in_flight = 0;
    std::deque<std::uint64_t> waiting;
  };
  std::vector<std::uint64_t> admit_waiting(Host& host);

  int default_limit_;
  std::unordered_map<std::string, Host> hosts_;
};

}  // namespace agendasync::net
