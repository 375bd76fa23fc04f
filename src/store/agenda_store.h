#pragma once
/// The host agenda (R10, R12, R16, R22, R33): users, activity types, organisation settings,
/// appointments with ids and revisions, and the change feed. Core types only, so the SQLite
/// implementation here and a PostgreSQL one later satisfy the same contract; no SQL dialect
/// detail leaks through this header.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/appointment.h"
#include "core/error.h"
#include "core/settings.h"
#include "core/strong_id.h"

namespace agendasync::store {

/// The host application's appointment id.
using AppointmentId = std::int64_t;
/// A position in the change feed. Revisions are strictly increasing and gap-free: a reader
/// never sees revision N+1 committed before N.
using Revision = std::int64_t;

/// An appointment as the host agenda holds it.
struct StoredAppointment {
  AppointmentId id = 0;
  /// The revision of the last change to this appointment: its version tag (optimistic
  /// concurrency).
  Revision revision = 0;
  /// Set when AgendaSync created the appointment from another side (crash recovery, R28).
  std::optional<IdempotencyKey> idempotency_key;
  Appointment item;
  bool operator==(const StoredAppointment&) const = default;
};

/// R16: which host activity types sync to Exchange, which one is the default for items that
/// come from Exchange, and which one receives private Exchange items.
struct ActivityType {
  std::string name;
  bool synced = true;
  bool is_default = false;
  bool is_personal = false;
  bool operator==(const ActivityType&) const = default;
};

/// The type named `name` in `types`, compared as the agenda's name column does (SQLite
/// NOCASE: ASCII letters without regard to case); null when there is none.
inline const ActivityType* find_activity_type(const std::vector<ActivityType>& types,
                                              std::string_view name) {
  for (const auto& type : types) {
    if (std::equal(type.name.begin(), type.name.end(), name.begin(), name.end(),
                   [](char a, char b) {
                     return std::tolower(static_cast<unsigned char>(a)) ==
                            std::tolower(static_cast<unsigned char>(b));
                   })) {
      return &type;
    }
  }
  return nullptr;
}

/// Organisation-wide settings the admin edits at run time (R7, R12, R19, R21, R24, R25, R38,
/// R39); users may override some.
struct OrganisationSettings {
  std::string mail_domain;  ///< "E-mail DNS": user name @ this domain (R7); empty = not set
  /// The organisation's layer of the sync settings: a key left unset lets the configuration
  /// file's [sync] value, else the built-in default, apply (core/settings.h).
  SyncSettingsLayer sync;
  bool operator==(const OrganisationSettings&) const = default;
};

enum class ChangeEntity { kAppointment, kUser };
enum class ChangeOp { kUpsert, kDelete };
const char* to_string(ChangeEntity value);
const char* to_string(ChangeOp value);

/// One entry of the change feed.
struct Change {
  Revision revision = 0;
  ChangeEntity entity = ChangeEntity::kAppointment;
  /// Appointment id (decimal) or user name.
  std::string entity_id;
  ChangeOp op = ChangeOp::kUpsert;
  /// The users whose agenda the change touches: owner and participants before and after the
  /// change, so a participant who was removed learns that the item left their agenda.
  std::vector<std::string> users;
  bool operator==(const Change&) const = default;
};

/// What `changes_since` returns: entries after `after`, oldest first.
struct ChangeQuery {
  Revision after = 0;
  std::size_t limit = 1000;
  /// Only changes that touch this user (owner or participant, before or after).
  std::optional<std::string> user;
};

/// A filter for listing appointments. Every field narrows the result.
struct AppointmentQuery {
  /// Appointments where this user is owner or participant.
  std::optional<std::string> user;
  /// Items that may overlap [from, to): timed and all-day items that overlap, and every series
  /// that starts before `to` and whose rule does not end before `from`. Series are a superset:
  /// callers that need exact occurrences expand them.
  std::optional<Instant> from;
  std::optional<Instant> to;
  /// Paging (a first sync reads a large agenda a page at a time, issue 14): with either set,
  /// appointments come in id order, only ids after `after_id`, at most `limit` of them.
  std::optional<AppointmentId> after_id;
  std::optional<std::size_t> limit;
};

/// A deleted appointment as the feed remembers it.
struct Tombstone {
  AppointmentId id = 0;
  Revision revision = 0;
  std::optional<IdempotencyKey> idempotency_key;
  std::string owner;
  std::vector<std::string> participants;
  bool operator==(const Tombstone&) const = default;
};

/// The host agenda. Text must be valid UTF-8: writes refuse anything else with kInvalidData
/// naming the field (core/utf8.h), so nothing downstream (JSON, Exchange) meets broken bytes.
/// Every method is a single transaction; every write to an appointment (and
/// every user change that matters to sync) takes the next revision of the change feed.
/// Implementations are safe to use from several threads, and several processes may share one
/// database.
class AgendaStore {
 public:
  virtual ~AgendaStore() = default;

  /// Where the data lives, for messages ("sqlite:/var/lib/agendasync/agenda.db").
  virtual std::string describe() const = 0;

  virtual Result<OrganisationSettings> settings() = 0;
  /// Replaces the organisation settings; sync keys left unset are removed from the agenda. A
  /// mail domain that cannot form addresses, or a sync value out of range, is kInvalidData.
  virtual Result<void> set_settings(const OrganisationSettings& settings) = 0;

  /// Adds a user. kInvalidData (naming the user) for an empty name or an invalid deviating
  /// Exchange address (R7); kConflict when the user name exists.
  virtual Result<void> add_user(const User& user) = 0;
  /// Replaces an existing user's record (matched by user name). Same validation as add_user;
  /// kNotFound for an unknown user. A change to a field that matters to sync (address,
  /// blocked, sync enabled, overrides) is a feed entry.
  virtual Result<void> update_user(const User& user) = 0;
  virtual Result<std::optional<User>> user(std::string_view user_name) = 0;
  /// Every user, by user name.
  virtual Result<std::vector<User>> users() = 0;

  /// Adds or replaces an activity type. Setting is_default (or is_personal) clears it on the
  /// others: there is at most one of each.
  virtual Result<void> put_activity_type(const ActivityType& type) = 0;
  /// Changes the existing type `current_name` into `updated` (its flags, and its name when
  /// `updated.name` differs): one transaction. Every appointment of a renamed type is rewritten
  /// with the new name and gets a feed entry, so the sync reads it again and its links follow.
  /// kNotFound for an unknown type; kConflict when another type already has the new name;
  /// kInvalidData for an empty name or one that is not valid UTF-8.
  virtual Result<ActivityType> update_activity_type(std::string_view current_name,
                                                    const ActivityType& updated) = 0;
  /// Removes an activity type that no appointment uses. kConflict while appointments use it
  /// (removing it would change what they sync as, R16: the message says how many and what to
  /// do); kNotFound for an unknown type. Removing the "Personal" type makes private Exchange
  /// items take the default type; removing the default type makes Exchange items untyped.
  virtual Result<void> remove_activity_type(std::string_view name) = 0;
  virtual Result<std::vector<ActivityType>> activity_types() = 0;

  /// Creates an appointment. Owner and participants must be known users, the activity type
  /// (when set) a known type. With a key that an existing appointment already carries, that
  /// appointment is returned unchanged (a retried create is not a duplicate, R28).
  virtual Result<StoredAppointment> create_appointment(
      const Appointment& item, std::optional<IdempotencyKey> key = std::nullopt) = 0;
  /// Replaces an appointment. With `expected` set, kConflict unless it is the current
  /// revision. kNotFound for an unknown (or deleted) id.
  virtual Result<StoredAppointment> update_appointment(AppointmentId id, const Appointment& item,
                                                       std::optional<Revision> expected) = 0;
  /// Deletes an appointment, leaving a tombstone; returns the deletion's revision.
  virtual Result<Revision> delete_appointment(AppointmentId id,
                                              std::optional<Revision> expected) = 0;
  virtual Result<std::optional<StoredAppointment>> appointment(AppointmentId id) = 0;
  virtual Result<std::optional<StoredAppointment>> appointment_by_key(
      const IdempotencyKey& key) = 0;
  /// Live (not deleted) appointments matching `query`, by start then id.
  virtual Result<std::vector<StoredAppointment>> appointments(const AppointmentQuery& query) = 0;
  virtual Result<std::optional<Tombstone>> tombstone(AppointmentId id) = 0;

  /// Feed entries after `query.after`, in revision order.
  virtual Result<std::vector<Change>> changes_since(const ChangeQuery& query) = 0;
  /// The newest committed revision (0 for an empty feed).
  virtual Result<Revision> head_revision() = 0;
  /// When `revision` was committed (the feed's clock, whole seconds); nullopt for a revision
  /// the feed does not hold. The host side's modification time (newest-wins, R24).
  virtual Result<std::optional<Instant>> revision_time(Revision revision) = 0;

  /// A number that changes whenever a user, an organisation setting or an activity type is
  /// added, changed or removed, by any process or node (triggers in the database count every
  /// write of those tables). A reader that keeps them (the daemon's sync pool, across runs)
  /// reads this first and reads them again only when it moved. Not in the change feed: it
  /// says "something in the directory changed", nothing more.
  virtual Result<std::int64_t> directory_revision() = 0;
};

}  // namespace agendasync::store
