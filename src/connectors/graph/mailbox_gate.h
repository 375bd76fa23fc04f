#pragma once
/// At most N requests in flight on one mailbox from this process (Graph's MailboxConcurrency
/// limit is 4 per app and mailbox).
#include <condition_variable>
#include <mutex>

namespace agendasync::graph {

class MailboxGate {
 public:
  explicit MailboxGate(int limit = 4) : limit_(limit < 1 ? 1 : limit) {}

  /// Holds one slot for its lifetime.
  class Slot {
   public:
    explicit Slot(MailboxGate& gate) : gate_(gate) { gate_.enter(); }
    ~Slot() { gate_.leave(); }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    MailboxGate& gate_;
  };

  int limit() const { return limit_; }

 private:
  void enter() {
    std::unique_lock lock(mutex_);
    free_.wait(lock, [this] { return in_flight_ < limit_; });
    ++in_flight_;
  }
  void leave() {
    {
      std::lock_guard lock(mutex_);
      --in_flight_;
    }
    free_.notify_one();
  }

  const int limit_;
  int in_flight_ = 0;
  std::mutex mutex_;
  std::condition_variable free_;
};

}  // namespace agendasync::graph
