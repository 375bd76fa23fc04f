#include "sync/policies.h"

#include <algorithm>

#include "core/expand.h"

namespace agendasync::sync {

bool accepts_changes_from(SyncDirection direction, Side side) {
  switch (direction) {
    case SyncDirection::kTwoWay:
      return true;
    case SyncDirection::kToExchange:
      return side == Side::kHost;
    case SyncDirection::kFromExchange:
      return side == Side::kRemote;
  }
  return false;
}

bool user_is_synced(const User& user) { return !user.blocked && user.sync_enabled; }

std::vector<std::string> route_appointment(const Appointment& item, std::span<const User> users) {
  std::vector<std::string> wanted{item.owner};
  wanted.insert(wanted.end(), item.participants.begin(), item.participants.end());
  std::vector<std::string> routed;
  for (const auto& name : wanted) {
    auto user = std::find_if(users.begin(), users.end(),
                             [&](const User& candidate) { return candidate.user_name == name; });
    if (user != users.end() && user_is_synced(*user)) routed.push_back(name);
  }
  std::sort(routed.begin(), routed.end());
  routed.erase(std::unique(routed.begin(), routed.end()), routed.end());
  return routed;
}

bool ActivityTypePolicy::syncs_to_remote(const Appointment& host_item) const {
  if (host_item.project_task) return false;
  return synced_types.empty() || synced_types.contains(host_item.activity_type);
}

std::string ActivityTypePolicy::host_type_for(const Appointment& remote_item) const {
  const bool is_private = remote_item.sensitivity == Sensitivity::kPrivate;
  if (is_private && existing_types.contains(personal_type)) return personal_type;
  return default_type;
}

bool ended_too_long_ago(const Appointment& item, Instant now, std::chrono::days keep) {
  const Instant cutoff = now - keep;
  if (!item.recurrence) return item.end < cutoff;
  // Every original start of a series is at or after its first (item.start), so a series whose
  // first occurrence and every moved one end at or after the cutoff has not ended: answered
  // without walking the series (a first sync asks this of every item; the walk through the
  // time-zone rules was a twentieth of its CPU).
  const auto duration = item.end - item.start;
  const bool moved_early = std::ranges::any_of(
      item.recurrence->overrides, [&](const auto& o) { return o.start + duration < cutoff; });
  if (item.end >= cutoff && !moved_early) return false;
  auto last = last_occurrence_start(item);
  if (!last) return false;               // cannot tell: keep it
  if (!last->has_value()) return false;  // endless series: occurrences in the future
  return **last + duration < cutoff;
}

Side conflict_winner(ConflictPolicy policy, std::optional<Instant> host_modified,
                     std::optional<Instant> remote_modified) {
  switch (policy) {
    case ConflictPolicy::kHostWins:
      return Side::kHost;
    case ConflictPolicy::kExchangeWins:
      return Side::kRemote;
    case ConflictPolicy::kNewestWins:
      if (host_modified && remote_modified && *remote_modified > *host_modified) {
        return Side::kRemote;
      }
      return Side::kHost;
  }
  return Side::kHost;
}

bool CircuitBreaker::trips(std::size_t changes, std::size_t calendar_size) const {
  if (changes < min_items) return false;
  return static_cast<double>(changes) > max_share * static_cast<double>(calendar_size);
}

}  // namespace agendasync::sync
