#include "exsim/ews/find_count_budget.h"

#include <algorithm>

namespace exsim {

FindCountBudget::Charge::Charge(FindCountBudget& owner, std::string key, std::size_t rows)
    : owner_(owner), key_(std::move(key)), rows_(rows) {}

FindCountBudget::Charge::~Charge() { owner_.release(key_, rows_); }

std::optional<FindCountBudget::Grant> FindCountBudget::charge(const std::string& key,
                                                              std::size_t wanted, bool restricted,
                                                              bool partial) {
  std::lock_guard lock(mutex_);
  std::size_t rows = wanted;
  if (limit_ > 0) {
    const std::size_t limit = restricted ? restricted_limit_ : limit_;
    auto it = held_.find(key);
    const std::size_t held = it == held_.end() ? 0 : it->second;
    const std::size_t room = held >= limit ? 0 : limit - held;
    if (wanted > room) {
      // "If the user's budget for items drops below zero, the next request results in an
      // error": a paged request is cut to what fits, never to nothing.
      if (!partial || room == 0) {
        ++refused_;
        return std::nullopt;
      }
      rows = room;
      ++truncated_;
    }
  }
  held_[key] += rows;
  return Grant{rows, std::make_shared<Charge>(*this, key, rows)};
}

void FindCountBudget::release(const std::string& key, std::size_t rows) {
  std::lock_guard lock(mutex_);
  auto it = held_.find(key);
  if (it == held_.end()) return;
  it->second -= std::min(it->second, rows);
  if (it->second == 0) held_.erase(it);
}

std::map<std::string, std::size_t> FindCountBudget::held() const {
  std::lock_guard lock(mutex_);
  return held_;
}

int FindCountBudget::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

int FindCountBudget::truncated() const {
  std::lock_guard lock(mutex_);
  return truncated_;
}

}  // namespace exsim
