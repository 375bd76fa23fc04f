#pragma once
/// Wake-ups across nodes (issue 17 §4): a write through the API of any node, or a Graph
/// notification reaching any node, must wake the pair on the node that owns its organisation.
/// The sender NOTIFYs the organisation's channel; only its owner LISTENs there (follow() on
/// gaining it, unfollow() on losing it), so the sender need not know who that is and no other
/// node hears it. Sends go out from one thread, many per statement, so a caller (an API
/// request, the feed loop) never waits on PostgreSQL. A wake sent while nobody LISTENs (the
/// organisation between owners) is lost: the next owner catches up every pair when it takes
/// the organisation, and a node whose LISTEN connection dropped rescans (PgListener).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cluster/pg_listener.h"
#include "core/error.h"
#include "store/pg_pool.h"

namespace agendasync::cluster {

/// One wake-up: the pair (organisation, user) and why (the scheduler's trigger name).
struct Wake {
  std::string org;
  std::string user;
  std::string why;
  bool operator==(const Wake&) const = default;
};

/// The payload text of `wake` ("org<TAB>user<TAB>why", each field %-escaped), and back.
std::string encode_wake(const Wake& wake);
std::optional<Wake> decode_wake(std::string_view payload);

/// The channel of organisation `org` among the nodes sharing the cluster schema `scope`:
/// "<scope>_w_<64-bit hash of org>" (channel names are identifiers of at most 63 bytes;
/// organisation ids may be 59). A hash collision only delivers a wake the receiver drops,
/// since the payload names the organisation.
std::string wake_channel(std::string_view scope, std::string_view org);

class WakeBus {
 public:
  /// `pool` sends (any schema of the server); `listener` receives; `scope` is the cluster
  /// schema, so clusters (or tests) sharing a server do not hear each other; `deliver` runs
  /// on the listener's thread for each wake of a followed organisation.
  WakeBus(std::shared_ptr<store::pg::Pool> pool, PgListener& listener, std::string scope,
          std::function<void(const Wake&)> deliver);
  ~WakeBus();
  WakeBus(const WakeBus&) = delete;
  WakeBus& operator=(const WakeBus&) = delete;

  /// Queues `wake` for its organisation's owner; returns at once.
  void publish(Wake wake);
  /// Sends `wake` now, on the caller's thread.
  Result<void> publish_now(const Wake& wake);
  /// Receive (stop receiving) the wakes of `org`.
  void follow(const std::string& org);
  void unfollow(const std::string& org);
  /// Stops the sender (what is queued is sent first). Idempotent.
  void stop();

  std::uint64_t sent() const;
  std::uint64_t received() const { return received_.load(); }

 private:
  void send_loop();
  Result<void> send(const std::vector<Wake>& wakes);

  std::shared_ptr<store::pg::Pool> pool_;
  PgListener& listener_;
  std::string scope_;
  std::function<void(const Wake&)> deliver_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Wake> queue_;
  bool stopping_ = false;
  std::uint64_t sent_ = 0;
  std::atomic<std::uint64_t> received_{0};
  std::thread sender_;
};

}  // namespace agendasync::cluster
