#pragma once
/// Fault injection, switchable at run time through the admin endpoint: latency (before the
/// request is processed, or before its response is handed back), HTTP 500/503,
/// ErrorServerBusy with BackOffMilliseconds, a per-account concurrency limit answered with
/// ErrorExceededConnectionCount, connection resets mid-response and truncated bodies.
#include <map>
#include <mutex>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

namespace exsim {

/// The current fault settings. Each fault fires for the next `*_next` requests, then at `*_rate`.
struct FaultSettings {
  int latency_ms = 0;
  /// EWS: a produced response waits this long before it is handed back, its budget charges
  /// (EWSFindCountLimit rows, EWSMaxConcurrency) still held, as while a large answer is sent.
  int response_delay_ms = 0;
  double http_error_rate = 0;
  int http_error_next = 0;
  int http_error_status = 503;
  double server_busy_rate = 0;
  int server_busy_next = 0;
  int back_off_ms = 2000;
  int max_concurrent_per_account = 0;  // 0 = unlimited
  double reset_rate = 0;
  int reset_next = 0;
  double truncate_rate = 0;
  int truncate_next = 0;
};

nlohmann::json to_json(const FaultSettings& f);

/// What to do to one request.
struct FaultDecision {
  int latency_ms = 0;
  int response_delay_ms = 0;
  int http_error = 0;  // status to answer with, 0 = none
  bool server_busy = false;
  int back_off_ms = 0;
  bool reset = false;
  bool truncate = false;
};

/// Thread-safe holder of the settings, the per-account in-flight counts and the dice.
class FaultInjector {
 public:
  FaultSettings get();
  /// Merges the keys present in `patch` into the settings; returns an error text or "".
  std::string update(const nlohmann::json& patch);
  FaultDecision decide();
  /// Counts a request in flight for `account`; false when over the limit (then not counted).
  bool enter(const std::string& account);
  void leave(const std::string& account);

 private:
  bool roll(double rate, int& next);
  std::mutex mutex_;
  FaultSettings settings_;
  std::map<std::string, int> in_flight_;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace exsim
