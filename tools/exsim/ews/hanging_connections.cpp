#include "exsim/ews/hanging_connections.h"

#include <algorithm>
#include <cctype>

namespace exsim {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string budget_key(const AccountConfig& caller, std::string_view impersonated_address) {
  // "EWS throttling in Exchange" and the Exchange team's note on impersonation budgets: calls
  // under ApplicationImpersonation are charged to a copy of the target mailbox's budget,
  // shared by all service accounts impersonating it; other calls to the caller.
  if (!impersonated_address.empty()) return "impersonation:" + lower(impersonated_address);
  return "account:" + lower(caller.user);
}

HangingConnections::Lease::Lease(HangingConnections& owner, std::string key, int server)
    : owner_(owner), key_(std::move(key)), server_(server) {}

HangingConnections::Lease::~Lease() { owner_.release(key_, server_); }

std::shared_ptr<HangingConnections::Lease> HangingConnections::acquire(const std::string& key,
                                                                       int server) {
  std::lock_guard lock(mutex_);
  int& open = by_account_[key];
  if (limit_ > 0 && open >= limit_) {
    if (open == 0) by_account_.erase(key);
    return nullptr;
  }
  ++open;
  ++by_server_[server];
  return std::make_shared<Lease>(*this, key, server);
}

void HangingConnections::release(const std::string& key, int server) {
  std::lock_guard lock(mutex_);
  if (--by_account_[key] <= 0) by_account_.erase(key);
  if (--by_server_[server] <= 0) by_server_.erase(server);
}

std::map<std::string, int> HangingConnections::by_account() const {
  std::lock_guard lock(mutex_);
  return by_account_;
}

std::map<int, int> HangingConnections::by_server() const {
  std::lock_guard lock(mutex_);
  return by_server_;
}

int HangingConnections::total() const {
  std::lock_guard lock(mutex_);
  int n = 0;
  for (const auto& [key, open] : by_account_) n += open;
  return n;
}

}  // namespace exsim
