#include "daemon/stream_groups.h"

#include <algorithm>

namespace agendasync::daemon {

std::string key_of_group(const std::string& group_id) {
  return group_id.substr(0, group_id.rfind('#'));
}

GroupPlacement place_in_groups(const GroupPlacement& current, const WantedGroups& wanted,
                               std::size_t max_group_size) {
  GroupPlacement next;
  for (const auto& [mailbox, group] : current.group_of) {
    auto want = wanted.find(mailbox);
    if (want == wanted.end() || key_of_group(group) != want->second) continue;
    next.group_of[mailbox] = group;
    next.members[group].insert(mailbox);
  }
  for (const auto& [mailbox, key] : wanted) {
    if (next.group_of.contains(mailbox)) continue;
    std::string chosen;
    for (std::size_t n = 1;; ++n) {
      const std::string id = key + "#" + std::to_string(n);
      auto it = next.members.find(id);
      if (it == next.members.end() ||
          it->second.size() < std::max<std::size_t>(1, max_group_size)) {
        chosen = id;
        break;
      }
    }
    next.group_of[mailbox] = chosen;
    next.members[chosen].insert(mailbox);
  }
  return next;
}

}  // namespace agendasync::daemon
