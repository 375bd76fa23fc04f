#include "service/change_follower.h"

#include "service/log.h"

namespace agendasync::service {

ChangeFollower::ChangeFollower(store::AgendaStore& store, Scheduler& scheduler,
                               std::chrono::milliseconds poll)
    : store_(store), scheduler_(scheduler), poll_(poll) {}

ChangeFollower::~ChangeFollower() { stop(); }

void ChangeFollower::start() {
  auto head = store_.head_revision();
  after_ = head ? *head : 0;
  thread_ = std::thread([this] { loop(); });
}

void ChangeFollower::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool ChangeFollower::wake_new_changes() {
  // Pages of 500: a bulk import by another process wakes its pairs in a few polls.
  for (;;) {
    store::ChangeQuery query;
    query.after = after_;
    query.limit = 500;
    auto changes = store_.changes_since(query);
    if (!changes) {
      log_event(spdlog::level::warn, "change_follow_failed",
                {{"error", changes.error().message}, {"after", after_}});
      return false;
    }
    for (const auto& change : *changes) {
      after_ = change.revision;
      // Appointments only: a user's own record (sync switch, address) is acted on by the API
      // route that changes it (sync-now), and waking it here as well ran the pair twice.
      if (change.entity != store::ChangeEntity::kAppointment) continue;
      for (const auto& user : change.users) scheduler_.trigger(user, Trigger::kHostChange);
    }
    if (changes->size() < query.limit) return true;
  }
}

void ChangeFollower::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    wake_new_changes();
    lock.lock();
    wake_.wait_for(lock, poll_, [this] { return stopping_; });
  }
}

}  // namespace agendasync::service
