#pragma once
/// Back-offs shared beyond one client (issue 17 §5): Exchange's limits are per mailbox,
/// account and app, not per node, so a Retry-After or ErrorServerBusy one node is given must
/// hold the requests of every node spending that budget key (Request::budget_key). The
/// client asks `held_until` before it starts a request with a budget key and reports each
/// 429/503 Retry-After through `hold`; an implementation shares them (cluster::PgBudgetHolds
/// through PostgreSQL). Both are called on the client's event loop, and on the threads of
/// blocking sends (which run on their caller's thread): quick, thread-safe, never blocking.
#include <chrono>
#include <optional>
#include <string_view>

namespace agendasync::net {

class BudgetHolds {
 public:
  virtual ~BudgetHolds() = default;
  /// Until when requests spending `key` must wait; nullopt (or a past time) = go now.
  virtual std::optional<std::chrono::steady_clock::time_point> held_until(std::string_view key) = 0;
  /// The server asked the requests of `key` to wait `wait` from now.
  virtual void hold(std::string_view key, std::chrono::milliseconds wait) = 0;
};

}  // namespace agendasync::net
