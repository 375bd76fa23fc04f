#pragma once
/// Outlook's request rate on Microsoft Graph: at most 10,000 API requests in a 10-minute
/// period per app ID and mailbox combination ("If an application exceeds the limit in one
/// mailbox, it does not affect the ability to access another mailbox"). $batch members count
/// one each. Beyond it: 429 ApplicationThrottled with Retry-After (the wait until the oldest
/// request of the window leaves it).
/// References:
/// learn.microsoft.com/graph/throttling-limits#outlook-service-limits
/// learn.microsoft.com/graph/throttling (429 Too Many Requests, Retry-After)
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace exsim {

struct GraphLimits;

/// Requests per (app, mailbox) in a sliding window. Thread-safe.
class MailboxRequestRate {
 public:
  explicit MailboxRequestRate(const GraphLimits& limits) : limits_(limits) {}
  /// Counts a request of `app` on mailbox `mailbox` and returns nullopt when the window has
  /// room; otherwise counts nothing and returns the wait until it has (whole seconds, >= 1).
  std::optional<std::chrono::seconds> admit(const std::string& app, std::uint32_t mailbox);
  /// Requests refused so far.
  std::size_t refused() const;

 private:
  using Clock = std::chrono::steady_clock;
  const GraphLimits& limits_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::uint32_t>, std::deque<Clock::time_point>> logs_;
  std::size_t refused_ = 0;
};

/// Upload volume per (app, mailbox): the bodies of POST, PATCH and PUT requests, at most
/// GraphLimits::upload_bytes_per_mailbox (150 MB) in a sliding upload_window (5 minutes).
/// Beyond it: 429 ApplicationThrottled with Retry-After. Thread-safe.
class MailboxUploadVolume {
 public:
  explicit MailboxUploadVolume(const GraphLimits& limits) : limits_(limits) {}
  /// Counts `bytes` uploaded by `app` to `mailbox` and returns nullopt when they fit in the
  /// window; otherwise counts nothing and returns the wait until they would (>= 1 s).
  std::optional<std::chrono::seconds> admit(const std::string& app, std::uint32_t mailbox,
                                            std::size_t bytes);
  std::size_t refused() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Log {
    std::deque<std::pair<Clock::time_point, std::size_t>> uploads;
    std::size_t total = 0;
  };
  const GraphLimits& limits_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::uint32_t>, Log> logs_;
  std::size_t refused_ = 0;
};

}  // namespace exsim
