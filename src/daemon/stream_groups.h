#pragma once
/// Which streaming group each watched mailbox belongs to (issue 14). Mailboxes may share a
/// group (one GetStreamingEvents connection, one anchor) when they have the same EWS URL and
/// Autodiscover GroupingInformation; a group holds at most 200. Placement is incremental: a
/// mailbox keeps its group while it stays watched, so adding or removing users touches only
/// the groups they join or leave, and the other groups' streams go on undisturbed.
#include <cstddef>
#include <map>
#include <set>
#include <string>

namespace agendasync::daemon {

/// mailbox -> group key (EWS URL + GroupingInformation).
using WantedGroups = std::map<std::string, std::string>;

struct GroupPlacement {
  /// mailbox -> group id ("<key>#<n>").
  std::map<std::string, std::string> group_of;
  /// group id -> its mailboxes (alphabetical: the first is the group's anchor).
  std::map<std::string, std::set<std::string>> members;
};

/// The placement after `wanted`: mailboxes no longer wanted, or whose key changed, leave
/// their group; new ones join the first group of their key with room (lowest number), else a
/// new group. Groups left empty disappear.
GroupPlacement place_in_groups(const GroupPlacement& current, const WantedGroups& wanted,
                               std::size_t max_group_size);

/// The key a group id was made from.
std::string key_of_group(const std::string& group_id);

}  // namespace agendasync::daemon
