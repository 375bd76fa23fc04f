#include "net/host_slots.h"

#include <algorithm>

namespace agendasync::net {

std::string budget_slot_key(std::string_view budget_key) {
  return "budget:" + std::string(budget_key);
}

HostSlots::HostSlots(int default_limit) : default_limit_(std::max(default_limit, 1)) {}

HostSlots::Key& HostSlots::entry(const std::string& key, int limit_if_new) {
  const int limit = limit_if_new < 1 ? default_limit_ : limit_if_new;
  return keys_.try_emplace(key, Key{limit, limit, 0, {}}).first->second;
}

bool HostSlots::acquire(const std::string& key, std::uint64_t id, int limit_if_new) {
  Key& slot = entry(key, limit_if_new);
  // Arrival order: a newcomer never overtakes requests already waiting.
  if (slot.waiting.empty() && slot.in_flight < slot.limit) {
    ++slot.in_flight;
    return true;
  }
  slot.waiting.push_back(id);
  return false;
}

std::vector<std::uint64_t> HostSlots::release(const std::string& key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) return {};
  if (it->second.in_flight > 0) --it->second.in_flight;
  auto admitted = admit_waiting(it->second);
  drop_if_idle(it);
  return admitted;
}

bool HostSlots::forget(const std::string& key, std::uint64_t id) {
  auto it = keys_.find(key);
  if (it == keys_.end()) return false;
  auto& waiting = it->second.waiting;
  auto found = std::find(waiting.begin(), waiting.end(), id);
  if (found == waiting.end()) return false;
  waiting.erase(found);
  drop_if_idle(it);
  return true;
}

std::vector<std::uint64_t> HostSlots::set_limit(const std::string& key, int limit) {
  Key& slot = entry(key, 0);
  slot.limit = std::max(limit, 1);
  return admit_waiting(slot);
}

int HostSlots::limit(const std::string& key) const {
  auto it = keys_.find(key);
  return it == keys_.end() ? default_limit_ : it->second.limit;
}

int HostSlots::in_flight(const std::string& key) const {
  auto it = keys_.find(key);
  return it == keys_.end() ? 0 : it->second.in_flight;
}

std::size_t HostSlots::queued(const std::string& key) const {
  auto it = keys_.find(key);
  return it == keys_.end() ? 0 : it->second.waiting.size();
}

std::vector<std::uint64_t> HostSlots::admit_waiting(Key& key) {
  std::vector<std::uint64_t> admitted;
  while (!key.waiting.empty() && key.in_flight < key.limit) {
    admitted.push_back(key.waiting.front());
    key.waiting.pop_front();
    ++key.in_flight;
  }
  return admitted;
}

void HostSlots::drop_if_idle(std::unordered_map<std::string, Key>::iterator it) {
  const Key& key = it->second;
  if (key.in_flight == 0 && key.waiting.empty() && key.limit == key.initial_limit) {
    keys_.erase(it);
  }
}

}  // namespace agendasync::net
