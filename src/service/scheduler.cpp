#include "service/scheduler.h"

#include <algorithm>
#include <cctype>

namespace agendasync::service {

namespace {

std::string key_of(const std::string& user) {
  std::string key = user;
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return key;
}

}  // namespace

const char* to_string(Trigger trigger) {
  switch (trigger) {
    case Trigger::kHostChange:
      return "host-change";
    case Trigger::kSyncNow:
      return "sync-now";
    case Trigger::kNotification:
      return "notification";
    case Trigger::kSafetyNet:
      return "safety-net";
  }
  return "unknown";
}

Scheduler::Scheduler(SyncFn sync, SchedulerOptions options, RunObserver observer)
    : sync_(std::move(sync)), options_(std::move(options)), observer_(std::move(observer)) {
  options_.workers = std::max<std::size_t>(1, options_.workers);
}

Scheduler::~Scheduler() { stop(); }

void Scheduler::start() {
  std::lock_guard lock(mutex_);
  if (started_) return;
  started_ = true;
  for (std::size_t i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { work(); });
  if (options_.safety_net.count() > 0 && options_.all_users) {
    threads_.emplace_back([this] { safety_net_loop(); });
  }
}

bool Scheduler::trigger(const std::string& user, Trigger why) {
  auto now = std::chrono::steady_clock::now();
  // Host changes wait for the burst to end; everything else was asked for explicitly or
  // signals a change that already happened on the mailbox.
  auto due = why == Trigger::kHostChange ? now + options_.debounce : now;
  std::lock_guard lock(mutex_);
  if (stopping_) return false;
  auto [entry, inserted] = pending_.try_emplace(key_of(user), Pending{user, due, why});
  if (!inserted && due < entry->second.due) {
    // An earlier request wins: coalescing never delays a run that was already due sooner.
    entry->second.due = due;
    entry->second.why = why;
  }
  changed_.notify_all();
  return true;
}

void Scheduler::work() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto now = std::chrono::steady_clock::now();
    auto next_due = std::chrono::steady_clock::time_point::max();
    auto chosen = pending_.end();
    for (auto entry = pending_.begin(); entry != pending_.end(); ++entry) {
      // One run per pair at a time: a pair that is running keeps its request queued, and it
      // runs again afterwards to pick up what changed meanwhile.
      if (running_.contains(entry->first)) continue;
      if (entry->second.due <= now) {
        if (chosen == pending_.end() || entry->second.due < chosen->second.due) chosen = entry;
      } else {
        next_due = std::min(next_due, entry->second.due);
      }
    }
    if (chosen == pending_.end()) {
      if (next_due == std::chrono::steady_clock::time_point::max()) {
        changed_.wait(lock);
      } else {
        changed_.wait_until(lock, next_due);
      }
      continue;
    }
    Pending job = chosen->second;
    std::string key = chosen->first;
    pending_.erase(chosen);
    running_.insert(key);
    lock.unlock();

    auto started = std::chrono::system_clock::now();
    Result<SyncResult> result = [&]() -> Result<SyncResult> {
      try {
        return sync_(job.user);
      } catch (const std::exception& error) {
        return fail(ErrorKind::kPermanent, std::string("sync failed: ") + error.what());
      }
    }();
    auto finished = std::chrono::system_clock::now();
    if (observer_) observer_(job.user, job.why, result, started, finished);

    lock.lock();
    running_.erase(key);
    changed_.notify_all();
  }
}

void Scheduler::safety_net_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    changed_.wait_for(lock, options_.safety_net, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    auto users = options_.all_users();
    for (const auto& user : users) trigger(user, Trigger::kSafetyNet);
    lock.lock();
  }
}

void Scheduler::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    pending_.clear();
    threads.swap(threads_);
    changed_.notify_all();
  }
  for (auto& thread : threads) thread.join();
}

std::size_t Scheduler::queue_depth() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

std::size_t Scheduler::running() const {
  std::lock_guard lock(mutex_);
  return running_.size();
}

bool Scheduler::workers_alive() const {
  std::lock_guard lock(mutex_);
  return started_ && !stopping_;
}

}  // namespace agendasync::service
