#pragma once
/// Exchange's budgets for streaming notifications: who a request is charged to, and the
/// HangingConnectionLimit on open GetStreamingEvents connections (a budget of its own, apart
/// from the concurrency limit of ordinary requests).
/// References:
/// learn.microsoft.com/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange
/// learn.microsoft.com/exchange/client-developer/exchange-web-services/handling-notification-related-errors-in-ews-in-exchange
/// learn.microsoft.com/exchange/client-developer/exchange-web-services/how-to-maintain-affinity-between-group-of-subscriptions-and-mailbox-server
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "exsim/server/config.h"

namespace exsim {

/// The account a request's budgets are charged to: under ExchangeImpersonation a copy of the
/// impersonated mailbox's budget ("impersonation:<address>", shared by every service account
/// impersonating it), otherwise the authenticated account ("account:<user>"). Lower case.
std::string budget_key(const AccountConfig& caller, std::string_view impersonated_address);

/// Open GetStreamingEvents connections per charged account, at most `limit` each.
class HangingConnections {
 public:
  /// One open connection; destroying it frees its slot.
  class Lease {
   public:
    Lease(HangingConnections& owner, std::string key, int server);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

   private:
    HangingConnections& owner_;
    std::string key_;
    int server_;
  };

  explicit HangingConnections(int limit) : limit_(limit) {}
  /// A slot for `key` on Mailbox server `server`, or null when `key` already holds `limit`
  /// connections (limit 0 = no limit).
  std::shared_ptr<Lease> acquire(const std::string& key, int server);
  int limit() const { return limit_; }
  /// Open connections per charged account and per server (for the admin endpoint and tests).
  std::map<std::string, int> by_account() const;
  std::map<int, int> by_server() const;
  int total() const;

 private:
  void release(const std::string& key, int server);

  int limit_;
  mutable std::mutex mutex_;
  std::map<std::string, int> by_account_;
  std::map<int, int> by_server_;
};

}  // namespace exsim
