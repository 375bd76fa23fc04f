#include "exsim/graph/graph_mailbox_rate.h"

#include <algorithm>

#include "exsim/graph/graph_limits.h"

namespace exsim {

std::optional<std::chrono::seconds> MailboxRequestRate::admit(const std::string& app,
                                                              std::uint32_t mailbox) {
  if (!limits_.mailbox_request_rate || limits_.requests_per_mailbox <= 0) return std::nullopt;
  const auto window = limits_.mailbox_request_window;
  const auto limit = static_cast<std::size_t>(limits_.requests_per_mailbox);
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  auto& log = logs_[{app, mailbox}];
  while (!log.empty() && log.front() <= now - window) log.pop_front();
  if (log.size() >= limit) {
    ++refused_;
    // Room again once the request `limit` places back leaves the window.
    const auto wait = log[log.size() - limit] + window - now;
    return std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(wait));
  }
  log.push_back(now);
  return std::nullopt;
}

std::size_t MailboxRequestRate::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

}  // namespace exsim
