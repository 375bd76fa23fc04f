#pragma once
/// A concurrency budget shared by every mailbox on one Exchange server (R26). Exchange's
/// ErrorExceededConnectionCount lowers it; it never drops below one request at a time.
#include <condition_variable>
#include <mutex>

namespace agendasync::ews {

class ConcurrencyBudget {
 public:
  /// `limit` concurrent EWS calls; kept below EWS's usual EWSMaxConcurrency of 27.
  explicit ConcurrencyBudget(int limit = 10) : limit_(limit < 1 ? 1 : limit) {}

  /// Holds one slot while alive.
  class Slot {
   public:
    explicit Slot(ConcurrencyBudget* budget) : budget_(budget) {}
    Slot(Slot&& other) noexcept : budget_(other.budget_) { other.budget_ = nullptr; }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (budget_ != nullptr) budget_->release();
    }

   private:
    ConcurrencyBudget* budget_;
  };

  /// Blocks until a slot is free.
  Slot acquire() {
    std::unique_lock lock(mutex_);
    freed_.wait(lock, [this] { return in_use_ < limit_; });
    ++in_use_;
    return Slot(this);
  }

  /// Halves the limit (at least 1): the server said we hold too many connections.
  void lower() {
    std::lock_guard lock(mutex_);
    limit_ = limit_ / 2 < 1 ? 1 : limit_ / 2;
  }

  int limit() const {
    std::lock_guard lock(mutex_);
    return limit_;
  }

 private:
  void release() {
    {
      std::lock_guard lock(mutex_);
      --in_use_;
    }
    freed_.notify_one();
  }

  mutable std::mutex mutex_;
  std::condition_variable freed_;
  int limit_;
  int in_use_ = 0;
};

}  // namespace agendasync::ews
