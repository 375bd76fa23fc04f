#pragma once
/// Shared back-offs on PostgreSQL (issue 17 §5): net::BudgetHolds for every node of a
/// cluster. A hold is a row per budget key with an until-time (the server's clock), written
/// by a thread of its own so the HTTP client's loop never waits, and announced with NOTIFY so
/// the other nodes hold the key within milliseconds; a node reads every live row when it
/// starts and again after its LISTEN connection dropped (a NOTIFY sent meanwhile was lost).
/// Lookups are in memory: the client asks before every request with a budget key.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "cluster/pg_listener.h"
#include "core/error.h"
#include "net/budget_holds.h"
#include "store/pg_pool.h"

namespace agendasync::cluster {

class PgBudgetHolds final : public net::BudgetHolds {
 public:
  /// `pool` reaches the cluster schema `scope` (its name also scopes the channel);
  /// `listener` hears the other nodes' holds.
  PgBudgetHolds(std::shared_ptr<store::pg::Pool> pool, PgListener& listener, std::string scope);
  ~PgBudgetHolds() override;
  PgBudgetHolds(const PgBudgetHolds&) = delete;
  PgBudgetHolds& operator=(const PgBudgetHolds&) = delete;

  std::optional<std::chrono::steady_clock::time_point> held_until(std::string_view key) override;
  void hold(std::string_view key, std::chrono::milliseconds wait) override;

  /// Reads every live hold (start, reconnect).
  Result<void> load();
  /// Writes what is queued and stops the writer. Idempotent.
  void stop();
  /// Holds written by this node / heard from any node (its own included).
  std::uint64_t written() const;
  std::uint64_t heard() const;

 private:
  using Clock = std::chrono::steady_clock;
  void note(const std::string& key, Clock::time_point until);
  void write_loop();

  std::shared_ptr<store::pg::Pool> pool_;
  std::string scope_;
  std::string channel_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::unordered_map<std::string, Clock::time_point> holds_;
  std::deque<std::pair<std::string, std::chrono::milliseconds>> to_write_;
  bool stopping_ = false;
  std::uint64_t written_ = 0;
  std::uint64_t heard_ = 0;
  std::thread writer_;
};

}  // namespace agendasync::cluster
