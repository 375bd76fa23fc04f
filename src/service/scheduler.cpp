#include "service/scheduler.h"

#include "service/sync_progress.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "service/scheduler_fairness.h"

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
    : Scheduler([sync = std::move(sync)](const PairRef& pair) { return sync(pair.user); },
                std::move(options),
                observer ? PairRunObserver(
                               [observer = std::move(observer)](const PairRef& pair, Trigger why,
                                                                const Result<SyncResult>& result,
                                                                auto started, auto finished) {
                                 observer(pair.user, why, result, started, finished);
                               })
                         : PairRunObserver{}) {}

Scheduler::Scheduler(PairSyncFn sync, SchedulerOptions options, PairRunObserver observer)
    : sync_(std::move(sync)), options_(std::move(options)), observer_(std::move(observer)) {
  options_.workers = std::max<std::size_t>(1, options_.workers);
  // Headroom never takes the last worker: someone must run the queue.
  options_.reserved_workers = std::min(options_.reserved_workers, options_.workers - 1);
}

Scheduler::~Scheduler() { stop(); }

void Scheduler::start() {
  std::lock_guard lock(mutex_);
  if (started_) return;
  started_ = true;
  for (std::size_t i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { work(); });
  if (options_.safety_net.count() > 0 && (options_.all_users || options_.all_pairs)) {
    threads_.emplace_back([this] { safety_net_loop(); });
  }
}

bool Scheduler::trigger(const std::string& user, Trigger why) {
  return trigger(PairRef{"", user}, why);
}

std::optional<Trigger> parse_trigger(std::string_view text) {
  for (auto trigger :
       {Trigger::kHostChange, Trigger::kSyncNow, Trigger::kNotification, Trigger::kSafetyNet}) {
    if (text == to_string(trigger)) return trigger;
  }
  return std::nullopt;
}

bool Scheduler::trigger(const PairRef& pair, Trigger why) {
  // Another node's organisation: its owner queues the run (the hook sent it there).
  if (options_.elsewhere && !pair.org.empty() && options_.elsewhere(pair, why)) return true;
  auto now = std::chrono::steady_clock::now();
  // Host changes wait for the burst to end; everything else was asked for explicitly or
  // signals a change that already happened on the mailbox.
  auto due = why == Trigger::kHostChange ? now + options_.debounce : now;
  std::lock_guard lock(mutex_);
  if (stopping_) return false;
  orgs_[pair.org].served = true;
  auto [entry, inserted] =
      pending_.try_emplace(PairKey{pair.org, key_of(pair.user)}, Pending{pair, due, why});
  if (inserted) {
    due_order_[pair.org].emplace(due, entry->first);
  } else if (due < entry->second.due) {
    // An earlier request wins: coalescing never delays a run that was already due sooner.
    auto& order = due_order_[pair.org];
    order.erase({entry->second.due, entry->first});
    order.emplace(due, entry->first);
    entry->second.due = due;
    entry->second.why = why;
  }
  // One run more: one worker can take it (any waiting worker sees the same queue, so the
  // one woken takes it if any could). A safety net queues thousands at once, and waking
  // every worker for each made them queue up on the lock.
  changed_.notify_one();
  return true;
}

std::size_t Scheduler::forget_org(const std::string& org) {
  std::lock_guard lock(mutex_);
  std::size_t dropped = 0;
  for (auto entry = pending_.lower_bound(PairKey{org, ""});
       entry != pending_.end() && entry->first.org == org;) {
    entry = pending_.erase(entry);
    ++dropped;
  }
  due_order_.erase(org);
  if (auto state = orgs_.find(org); state != orgs_.end()) {
    if (state->second.running == 0) {
      orgs_.erase(state);
    } else {
      state->second.served = false;
    }
  }
  // Headroom kept for it may now go to the others.
  changed_.notify_all();
  return dropped;
}

bool Scheduler::several_orgs() const {
  std::size_t served = 0;
  for (const auto& [org, state] : orgs_) {
    if (state.served && ++served > 1) return true;
  }
  return false;
}

Scheduler::PendingMap::iterator Scheduler::choose(std::chrono::steady_clock::time_point now,
                                                  std::chrono::steady_clock::time_point& next_due) {
  // Per organisation, its longest-waiting due pair that is not running. One run per pair at
  // a time: a pair that is running keeps its request queued, and it runs again afterwards to
  // pick up what changed meanwhile. Each organisation's queue is read in due order, so this
  // skips at most the running pairs: a safety net of 10,000 queued pairs costs no scan of
  // them for each run (issue 14 §4).
  std::vector<PendingMap::iterator> first_due;
  std::vector<OrgTurn> turns;
  for (const auto& [org_id, order] : due_order_) {
    for (const auto& [due, key] : order) {
      if (running_.contains(key)) continue;
      if (due > now) {
        next_due = std::min(next_due, due);
        break;
      }
      const OrgState& org = orgs_[org_id];
      first_due.push_back(pending_.find(key));
      turns.push_back(OrgTurn{org.running, org.last_start, due});
      break;
    }
  }
  const auto pick = next_org(turns, options_.workers - running_.size(), options_.reserved_workers,
                             several_orgs());
  return pick ? first_due[*pick] : pending_.end();
}

void Scheduler::work() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto next_due = std::chrono::steady_clock::time_point::max();
    auto chosen = choose(std::chrono::steady_clock::now(), next_due);
    if (chosen == pending_.end()) {
      if (next_due == std::chrono::steady_clock::time_point::max()) {
        changed_.wait(lock);
      } else {
        changed_.wait_until(lock, next_due);
      }
      continue;
    }
    Pending job = chosen->second;
    PairKey key = chosen->first;
    if (auto order = due_order_.find(key.org); order != due_order_.end()) {
      order->second.erase({job.due, key});
      if (order->second.empty()) due_order_.erase(order);
    }
    pending_.erase(chosen);
    running_.insert(key);
    OrgState& org = orgs_[key.org];
    ++org.running;
    org.last_start = std::chrono::steady_clock::now();
    lock.unlock();

    auto started = std::chrono::system_clock::now();
    Result<SyncResult> result = [&]() -> Result<SyncResult> {
      try {
        return sync_(job.pair);
      } catch (const std::exception& error) {
        return fail(ErrorKind::kPermanent, std::string("sync failed: ") + error.what());
      }
    }();
    auto finished = std::chrono::system_clock::now();
    if (options_.progress) options_.progress->clear(job.pair.org, job.pair.user);
    if (observer_) observer_(job.pair, job.why, result, started, finished);

    lock.lock();
    running_.erase(key);
    if (auto state = orgs_.find(key.org); state != orgs_.end()) {
      --state->second.running;
      if (!state->second.served && state->second.running == 0) orgs_.erase(state);
    }
    changed_.notify_all();
  }
}

void Scheduler::safety_net_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    // Its own condition: woken by stop() only, not by every trigger and every run's end.
    stopped_.wait_for(lock, options_.safety_net, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    if (options_.all_users) {
      for (const auto& user : options_.all_users()) trigger(user, Trigger::kSafetyNet);
    }
    if (options_.all_pairs) {
      for (const auto& pair : options_.all_pairs()) trigger(pair, Trigger::kSafetyNet);
    }
    lock.lock();
  }
}

void Scheduler::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    pending_.clear();
    due_order_.clear();
    threads.swap(threads_);
    changed_.notify_all();
    stopped_.notify_all();
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

std::map<std::string, OrgLoad> Scheduler::load_by_org() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, OrgLoad> load;
  for (const auto& [key, pending] : pending_) ++load[key.org].queued;
  for (const auto& key : running_) ++load[key.org].running;
  return load;
}

bool Scheduler::workers_alive() const {
  std::lock_guard lock(mutex_);
  return started_ && !stopping_;
}

}  // namespace agendasync::service
