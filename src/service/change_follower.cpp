#include "service/change_follower.h"

#include "service/log.h"

namespace agendasync::service {

void ChangeFollower::begin() {
  auto head = store_.head_revision();
  after_ = head ? *head : 0;
}

bool ChangeFollower::poll() {
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
      for (const auto& user : change.users) wake_(user);
    }
    if (changes->size() < query.limit) return true;
  }
}

bool ChangeFollower::poll_to(store::Revision head) {
  if (!poll()) return false;
  // Every revision up to `head` was committed before `head` was read (the feed is gap-free
  // for readers), so the pages above saw all of them.
  after_ = std::max(after_, head);
  return true;
}

}  // namespace agendasync::service
