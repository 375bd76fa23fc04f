#pragma once
/// Where each running pair's sync is (R31: a progress bar while a long first sync runs). The
/// sync function reports into it as the engine reads and writes; the scheduler clears a
/// pair's entry when its run ends; the status API shows it.
#include <cctype>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace agendasync::service {

struct PairProgress {
  std::string phase;  ///< "reading", "writing", "done"
  std::size_t done = 0;
  std::size_t total = 0;  ///< 0 while unknown (reading)
};

class ProgressBoard {
 public:
  void set(const std::string& org, const std::string& user, PairProgress progress) {
    std::lock_guard lock(mutex_);
    pairs_[key(org, user)] = std::move(progress);
  }
  void clear(const std::string& org, const std::string& user) {
    std::lock_guard lock(mutex_);
    pairs_.erase(key(org, user));
  }
  std::optional<PairProgress> get(const std::string& org, const std::string& user) const {
    std::lock_guard lock(mutex_);
    auto found = pairs_.find(key(org, user));
    if (found == pairs_.end()) return std::nullopt;
    return found->second;
  }

 private:
  /// User names compare without case, as in the store.
  static std::string key(const std::string& org, const std::string& user) {
    std::string folded = org + '\n';
    for (char c : user) folded += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return folded;
  }
  mutable std::mutex mutex_;
  std::map<std::string, PairProgress> pairs_;
};

}  // namespace agendasync::service
