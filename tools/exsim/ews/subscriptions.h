#pragma once
/// The notification subscriptions exsim holds, per simulated Mailbox server: their owners, what
/// they are charged to, expiry, server restarts (which lose them) and events lost on purpose
/// (ErrorMissedNotificationEvents). Guarded by the store mutex, like the store itself.
/// References:
/// learn.microsoft.com/exchange/client-developer/exchange-web-services/notification-subscriptions-mailbox-events-and-ews-in-exchange
/// learn.microsoft.com/exchange/client-developer/exchange-web-services/handling-notification-related-errors-in-ews-in-exchange
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "exsim/store/ids.h"

namespace exsim {

/// One subscription.
struct Subscription {
  enum class Kind { kStreaming, kPull };
  Kind kind = Kind::kStreaming;
  std::string id;
  std::string owner;       // account user that created it
  std::string charged_to;  // budget key its EWSMaxSubscriptions count is charged to
  int server = 0;          // the Mailbox server (0-based) that holds it
  uint32_t mailbox = 0;
  std::set<FolderKind> folders;  // empty = all folders
  std::set<std::string> event_types;
  uint64_t last_seq = 0;  // events up to here were delivered
  /// Pull: the subscription ends when no GetEvents arrives within Timeout minutes.
  std::chrono::minutes timeout{0};
  std::chrono::steady_clock::time_point expires{};
  /// Streaming: open GetStreamingEvents connections reading it, and when one last did.
  int open_connections = 0;
  std::chrono::steady_clock::time_point last_read{};
  /// Events of its mailbox were lost: the next GetStreamingEvents reports
  /// ErrorMissedNotificationEvents for it.
  bool missed_events = false;
  /// Streaming: the GetStreamingEvents connection that delivers its events (0: none). A newer
  /// connection naming the subscription takes it over; the older one answers
  /// ErrorNewEventStreamConnectionOpened for it and never delivers its events again.
  uint64_t stream_owner = 0;
};

/// All live subscriptions.
class Subscriptions {
 public:
  std::map<std::string, Subscription>& all() { return subscriptions_; }

  /// Forgets streaming subscriptions that no connection has read for `lifetime` (0 = never)
  /// and pull subscriptions past their Timeout.
  void expire(std::chrono::steady_clock::time_point now, std::chrono::seconds lifetime);
  /// Live subscriptions charged to `key`.
  int count_charged_to(const std::string& key) const;

  /// A restart of Mailbox server `server`: its subscriptions vanish. Returns how many.
  size_t restart(int server);
  /// Counts restarts; an open stream ends when its server's count changes.
  uint64_t restarts(int server) const;

  /// The next `count` changes of mailbox `mailbox` after sequence `after` are lost: no
  /// subscription reports them, each that would have gets ErrorMissedNotificationEvents.
  void lose_events(uint32_t mailbox, uint64_t after, uint64_t count);
  /// Whether the change with sequence `seq` of mailbox `mailbox` was lost.
  bool lost(uint32_t mailbox, uint64_t seq) const;

  /// The process is stopping: open streams end at their next wake-up. Needs no lock.
  void stop() { stopping_ = true; }
  bool stopping() const { return stopping_; }

 private:
  std::map<std::string, Subscription> subscriptions_;
  std::map<int, uint64_t> restarts_;
  // mailbox -> lost sequence ranges [first, last]
  std::map<uint32_t, std::vector<std::pair<uint64_t, uint64_t>>> lost_;
  std::atomic<bool> stopping_{false};
};

}  // namespace exsim
