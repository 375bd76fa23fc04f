#pragma once
/// The reference products' rules, each a small named function the planner and the service
/// call. Every rule names its requirement; each has a table test in policies_test.cpp.
#include <chrono>
#include <cstddef>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/appointment.h"
#include "core/settings.h"
#include "sync/side.h"

namespace agendasync::sync {

// R12, R19, R24 (which direction and conflict policy a user's pair gets: built-in, the
// configuration file, the organisation, the user's override) are core's layer_sync_settings.

/// R15, R19: whether changes made on `side` flow to the other side under `direction`.
/// to-Exchange: only host changes; from-Exchange: only remote changes; two-way: both.
bool accepts_changes_from(SyncDirection direction, Side side);

/// R10, R11: a user whose calendar the sync touches: not blocked and sync enabled.
bool user_is_synced(const User& user);

/// R14: the users whose remote calendar gets host appointment `item`: its owner and every
/// participant who is synced (user_is_synced), whether or not the creator is. Sorted, unique.
std::vector<std::string> route_appointment(const Appointment& item, std::span<const User> users);

/// R16: which host items go to the remote, and what a remote item becomes on the host.
struct ActivityTypePolicy {
  /// Activity types the admin chose to sync to Exchange; empty = every type.
  std::set<std::string> synced_types;
  /// Activity types that exist in the host application.
  std::set<std::string> existing_types;
  std::string default_type = "Appointment";
  std::string personal_type = "Personal";

  /// Project tasks never; otherwise the type must be among the chosen ones.
  bool syncs_to_remote(const Appointment& host_item) const;
  /// The activity type a remote item gets on the host: private -> "Personal" if it exists,
  /// else the default type; everything else the default type.
  std::string host_type_for(const Appointment& remote_item) const;
};

/// R21: an item the first sync skips: it ended more than `keep` before `now`, and it does not
/// recur with occurrences after `now`. A series whose end cannot be computed is kept (never
/// drop data on doubt).
bool ended_too_long_ago(const Appointment& item, Instant now, std::chrono::days keep);

/// R24: which side's value wins a field both sides changed. Newest wins compares the items'
/// modification times (EWS LastModifiedTime, Graph lastModifiedDateTime, host revision
/// time); when either is unknown or they are equal, the host wins, because the host agenda
/// is the system of record.
Side conflict_winner(ConflictPolicy policy, std::optional<Instant> host_modified,
                     std::optional<Instant> remote_modified);

/// R38: stops a run that would create or delete more than a share of a calendar. The
/// defaults are the built-in ones; the settings breaker_share / breaker_min_items change them
/// (app::circuit_breaker).
struct CircuitBreaker {
  double max_share = 0.20;
  std::size_t min_items = 10;
  /// True when `changes` (creates + deletes on one side) is at least `min_items` and more
  /// than `max_share` of `calendar_size`.
  bool trips(std::size_t changes, std::size_t calendar_size) const;
};

}  // namespace agendasync::sync
