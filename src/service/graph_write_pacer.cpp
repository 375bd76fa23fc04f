#include "service/graph_write_pacer.h"

#include <algorithm>
#include <map>

namespace agendasync::service {

GraphWritePacer::Clock::time_point GraphWritePacer::next_start(Clock::time_point now) {
  while (!started_.empty() && started_.front() <= now - window_) started_.pop_front();
  Clock::time_point at = std::max(now, held_until_);
  if (per_window_ > 0 && started_.size() >= per_window_) {
    // The window is full: the next write may start once its oldest write leaves it.
    at = std::max(at, started_[started_.size() - per_window_] + window_);
  }
  return at;
}

bool GraphWritePacer::acquire(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    const auto now = Clock::now();
    const auto at = next_start(now);
    if (at <= now) {
      started_.push_back(now);
      return true;
    }
    // Only a stop ends the wait early: a new hold only moves the time later, which the next
    // round sees.
    changed_.wait_until(lock, stop, at, [] { return false; });
  }
  return false;
}

bool GraphWritePacer::acquire_until(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  while (true) {
    const auto now = Clock::now();
    const auto at = next_start(now);
    if (at <= now) {
      started_.push_back(now);
      return true;
    }
    if (at > deadline) return false;
    changed_.wait_until(lock, at);
  }
}

bool GraphWritePacer::acquire_both(GraphWritePacer& a, GraphWritePacer& b, std::stop_token stop,
                                   Clock::time_point deadline) {
  if (&a == &b)
    return deadline == Clock::time_point::max() ? a.acquire(stop) : a.acquire_until(deadline);
  while (!stop.stop_requested()) {
    Clock::time_point at;
    {
      // Both budgets checked and charged together: a slot of one taken while waiting for the
      // other would let the writes that hold it bunch up once the other opens.
      std::scoped_lock lock(a.mutex_, b.mutex_);
      const auto now = Clock::now();
      at = std::max(a.next_start(now), b.next_start(now));
      if (at <= now) {
        a.started_.push_back(now);
        b.started_.push_back(now);
        return true;
      }
    }
    if (at > deadline) return false;
    std::mutex mutex;
    std::condition_variable_any woken;
    std::unique_lock wait(mutex);
    woken.wait_until(wait, stop, at, [] { return false; });
  }
  return false;
}

std::optional<GraphWritePacer::Clock::time_point> GraphWritePacer::try_acquire(GraphWritePacer& a,
                                                                               GraphWritePacer* b) {
  if (b == nullptr || b == &a) {
    std::lock_guard lock(a.mutex_);
    const auto now = Clock::now();
    const auto at = a.next_start(now);
    if (at > now) return at;
    a.started_.push_back(now);
    return std::nullopt;
  }
  std::scoped_lock lock(a.mutex_, b->mutex_);
  const auto now = Clock::now();
  const auto at = std::max(a.next_start(now), b->next_start(now));
  if (at > now) return at;
  a.started_.push_back(now);
  b->started_.push_back(now);
  return std::nullopt;
}

bool GraphWritePacer::hold(Clock::duration retry_after) {
  std::lock_guard lock(mutex_);
  const auto until = Clock::now() + retry_after;
  if (until <= held_until_) return false;
  held_until_ = until;
  changed_.notify_all();
  return true;
}

GraphWritePacer::Clock::time_point GraphWritePacer::held_until() const {
  std::lock_guard lock(mutex_);
  return held_until_;
}

std::size_t GraphWritePacer::in_window() const {
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  return static_cast<std::size_t>(
      std::count_if(started_.begin(), started_.end(), [&](auto at) { return at > now - window_; }));
}

std::shared_ptr<GraphWritePacer> shared_write_pacer(const std::string& key, std::size_t per_window,
                                                    GraphWritePacer::Clock::duration window) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<GraphWritePacer>> pacers;
  std::lock_guard lock(mutex);
  if (auto held = pacers[key].lock()) return held;
  // Keys of tenants no keeper serves any more go (a node's organisations come and go).
  std::erase_if(pacers,
                [&](const auto& entry) { return entry.second.expired() && entry.first != key; });
  auto made = std::make_shared<GraphWritePacer>(per_window, window);
  pacers[key] = made;
  return made;
}

}  // namespace agendasync::service
