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

std::optional<std::chrono::seconds> MailboxUploadVolume::admit(const std::string& app,
                                                               std::uint32_t mailbox,
                                                               std::size_t bytes) {
  if (!limits_.upload_volume || bytes == 0) return std::nullopt;
  const auto window = limits_.upload_window;
  const std::size_t limit = limits_.upload_bytes_per_mailbox;
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  Log& log = logs_[{app, mailbox}];
  while (!log.uploads.empty() && log.uploads.front().first <= now - window) {
    log.total -= log.uploads.front().second;
    log.uploads.pop_front();
  }
  if (log.total + bytes > limit) {
    ++refused_;
    // Room again once enough of the oldest uploads have left the window (a body larger than
    // the whole limit never fits: it waits the window and is refused again, as Graph would).
    std::size_t freed = 0;
    auto leaves = now + window;
    for (const auto& [at, size] : log.uploads) {
      freed += size;
      if (log.total - freed + bytes <= limit) {
        leaves = at + window;
        break;
      }
    }
    return std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(leaves - now));
  }
  log.uploads.emplace_back(now, bytes);
  log.total += bytes;
  return std::nullopt;
}

std::size_t MailboxUploadVolume::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

}  // namespace exsim
