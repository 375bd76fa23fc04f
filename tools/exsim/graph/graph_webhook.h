#pragma once
/// One HTTP POST from exsim's Graph to a subscriber's notificationUrl or
/// lifecycleNotificationUrl (validation requests and notifications), with a deadline on the
/// whole exchange and its duration measured, as Graph's notification publisher judges them.
/// Only loopback hosts are contacted (exsim runs in tests); other hosts fail.
#include <chrono>
#include <string>

namespace exsim {

/// What came back from a POST.
struct WebhookAnswer {
  int status = 0;  ///< 0: no HTTP answer (refused, reset, timed out, not a loopback host)
  std::string body;
  std::chrono::milliseconds elapsed{0};
  /// A 2xx answer within the deadline.
  bool ok = false;
};

/// POSTs `body` to `url` and waits at most `timeout` for the answer; an answer that arrives
/// later than `timeout` counts as none (ok false) even when it was a 2xx.
WebhookAnswer post_webhook(const std::string& url, const std::string& body,
                           const std::string& content_type, std::chrono::milliseconds timeout);

}  // namespace exsim
