#include "exsim/ews/request_concurrency.h"

namespace exsim {

RequestConcurrency::Lease::Lease(RequestConcurrency& owner, std::string key)
    : owner_(owner), key_(std::move(key)) {}

RequestConcurrency::Lease::~Lease() { owner_.release(key_); }

std::shared_ptr<RequestConcurrency::Lease> RequestConcurrency::acquire(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = in_flight_.find(key);
  const int open = it == in_flight_.end() ? 0 : it->second;
  if (limit_ > 0 && open >= limit_) {
    ++refused_;
    return nullptr;
  }
  ++in_flight_[key];
  return std::make_shared<Lease>(*this, key);
}

void RequestConcurrency::release(const std::string& key) {
  std::lock_guard lock(mutex_);
  if (--in_flight_[key] <= 0) in_flight_.erase(key);
}

std::map<std::string, int> RequestConcurrency::in_flight() const {
  std::lock_guard lock(mutex_);
  return in_flight_;
}

int RequestConcurrency::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

}  // namespace exsim
