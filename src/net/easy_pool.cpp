#include "net/easy_pool.h"

namespace agendasync::net {

EasyPool::~EasyPool() { clear(); }

CURL* EasyPool::take() {
  std::lock_guard lock(mutex_);
  if (idle_.empty()) return nullptr;
  CURL* easy = idle_.back();
  idle_.pop_back();
  return easy;
}

void EasyPool::give_back(CURL* easy) {
  if (easy == nullptr) return;
  {
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_idle_) {
      idle_.push_back(easy);
      return;
    }
  }
  curl_easy_cleanup(easy);
}

void EasyPool::clear() {
  std::vector<CURL*> idle;
  {
    std::lock_guard lock(mutex_);
    idle.swap(idle_);
  }
  for (CURL* easy : idle) curl_easy_cleanup(easy);
}

}  // namespace agendasync::net
