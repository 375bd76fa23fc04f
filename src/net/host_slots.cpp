#include "net/host_slots.h"

#include <algorithm>

namespace agendasync::net {

HostSlots::HostSlots(int default_limit) : default_limit_(std::max(default_limit, 1)) {}

bool HostSlots::acquire(const std::string& host, std::uint64_t id) {
  auto [it, inserted] = hosts_.try_emplace(host, Host{default_limit_, 0, {}});
  Host& entry = it->second;
  // Arrival order: a newcomer never overtakes requests already waiting.
  if (entry.waiting.empty() && entry.in_flight < entry.limit) {
    ++entry.in_flight;
    return true;
  }
  entry.waiting.push_back(id);
  return false;
}

std::vector<std::uint64_t> HostSlots::release(const std::string& host) {
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return {};
  Host& entry = it->second;
  if (entry.in_flight > 0) --entry.in_flight;
  return admit_waiting(entry);
}

bool HostSlots::forget(const std::string& host, std::uint64_t id) {
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return false;
  auto& waiting = it->second.waiting;
  auto found = std::find(waiting.begin(), waiting.end(), id);
  if (found == waiting.end()) return false;
  waiting.erase(found);
  return true;
}

std::vector<std::uint64_t> HostSlots::set_limit(const std::string& host, int limit) {
  auto [it, inserted] = hosts_.try_emplace(host, Host{default_limit_, 0, {}});
  it->second.limit = std::max(limit, 1);
  return admit_waiting(it->second);
}

int HostSlots::limit(const std::string& host) const {
  auto it = hosts_.find(host);
  return it == hosts_.end() ? default_limit_ : it->second.limit;
}

int HostSlots::in_flight(const std::string& host) const {
  auto it = hosts_.find(host);
  return it == hosts_.end() ? 0 : it->second.in_flight;
}

std::size_t HostSlots::queued(const std::string& host) const {
  auto it = hosts_.find(host);
  return it == hosts_.end() ? 0 : it->second.waiting.size();
}

std::vector<std::uint64_t> HostSlots::admit_waiting(Host& host) {
  std::vector<std::uint64_t> admitted;
  while (!host.waiting.empty() && host.in_flight < host.limit) {
    admitted.push_back(host.waiting.front());
    host.waiting.pop_front();
    ++host.in_flight;
  }
  return admitted;
}

}  // namespace agendasync::net
