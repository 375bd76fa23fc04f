#pragma once
/// EWSFindCountLimit: the FindItem / FindFolder rows one charged account may hold in memory on
/// the server at once, summed over its concurrent requests. A request's rows are charged while
/// its response is built and released once the response is handed back. The limit is 1,000;
/// a search with a restriction (or an AQS query string) may hold only 250. Over the budget:
/// - a paged request (IndexedPageItemView / IndexedPageFolderView) of a client asking for
///   Exchange2010_SP1 or later gets the rows that still fit, with IncludesLastItemInRange
///   false, and pages on;
/// - any other request (no paging, CalendarView, or RequestServerVersion Exchange2010 and
///   older) fails with ErrorServerBusy.
/// References (table 1, "Throttling policy parameters that affect EWS search operations",
/// "Throttling policies and concurrency"):
/// learn.microsoft.com/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace exsim {

/// Rows held per charged account (budget_key in hanging_connections.h). Thread-safe.
class FindCountBudget {
 public:
  /// Exchange 2013+ and Exchange Online: 1,000 rows, 250 for a search with a restriction.
  static constexpr std::size_t kDefaultLimit = 1000;
  static constexpr std::size_t kDefaultRestrictedLimit = 250;

  /// Rows charged to one request; destroying it releases them.
  class Charge {
   public:
    Charge(FindCountBudget& owner, std::string key, std::size_t rows);
    ~Charge();
    Charge(const Charge&) = delete;
    Charge& operator=(const Charge&) = delete;

   private:
    FindCountBudget& owner_;
    std::string key_;
    std::size_t rows_;
  };

  /// What a request may return: `rows` rows, held by `charge` until the response is sent.
  struct Grant {
    std::size_t rows = 0;
    std::shared_ptr<Charge> charge;
  };

  /// `limit` (0 = no limit) and `restricted_limit` (0 = the same as `limit`).
  FindCountBudget(std::size_t limit, std::size_t restricted_limit)
      : limit_(limit), restricted_limit_(restricted_limit == 0 ? limit : restricted_limit) {}

  /// Charges `wanted` rows to `key`. When they do not fit: a request that may be answered in
  /// part (`partial`) gets the rows that still fit (at least one); otherwise, or when none
  /// fits, nullopt (the caller answers ErrorServerBusy).
  std::optional<Grant> charge(const std::string& key, std::size_t wanted, bool restricted,
                              bool partial);
  std::size_t limit() const { return limit_; }
  std::size_t restricted_limit() const { return restricted_limit_; }
  /// Rows held per charged account, and requests refused or cut short so far (admin, tests).
  std::map<std::string, std::size_t> held() const;
  int refused() const;
  int truncated() const;

 private:
  void release(const std::string& key, std::size_t rows);

  std::size_t limit_;
  std::size_t restricted_limit_;
  mutable std::mutex mutex_;
  std::map<std::string, std::size_t> held_;
  int refused_ = 0;
  int truncated_ = 0;
};

}  // namespace exsim
