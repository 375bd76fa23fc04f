#pragma once
/// EWSMaxConcurrency: the EWS requests one charged account may have in flight at once (27 on
/// Exchange 2013 and later and on Exchange Online). A request is in flight from the moment it
/// is received until its response is handed back; one more is refused with
/// ErrorExceededConnectionCount, while the requests already in flight carry on.
/// GetStreamingEvents is not counted: streaming notifications have a budget of their own
/// (HangingConnectionLimit, hanging_connections.h).
/// References (tables 1 and 3, "Throttling policies and concurrency"):
/// learn.microsoft.com/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace exsim {

/// Requests in flight per charged account (budget_key in hanging_connections.h). Thread-safe.
class RequestConcurrency {
 public:
  /// Exchange 2013+ and Exchange Online's default EWSMaxConcurrency.
  static constexpr int kDefaultLimit = 27;

  /// One request in flight; destroying it frees its place.
  class Lease {
   public:
    Lease(RequestConcurrency& owner, std::string key);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

   private:
    RequestConcurrency& owner_;
    std::string key_;
  };

  /// `limit` requests in flight per charged account; 0 = no limit.
  explicit RequestConcurrency(int limit) : limit_(limit) {}
  /// A place for one more request of `key`, or null when `key` already has `limit` in flight.
  std::shared_ptr<Lease> acquire(const std::string& key);
  int limit() const { return limit_; }
  /// Requests in flight per charged account (for the admin endpoint and tests).
  std::map<std::string, int> in_flight() const;
  /// Requests refused so far.
  int refused() const;

 private:
  void release(const std::string& key);

  int limit_;
  mutable std::mutex mutex_;
  std::map<std::string, int> in_flight_;
  int refused_ = 0;
};

}  // namespace exsim
