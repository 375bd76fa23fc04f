#pragma once
/// Private to the SQLite store: the class behind open_sqlite_agenda_store(). Appointments and
/// the feed live in sqlite_agenda_store.cpp, users/activity types/settings in
/// sqlite_directory.cpp.
#include <mutex>
#include <string>

#include "store/agenda_rules.h"
#include "store/agenda_store.h"
#include "store/sqlite_connection.h"

namespace agendasync::store {

/// Takes the next revision and records the feed entry; call inside a write transaction. Shared
/// by the store's writes and the migrations that rewrite rows (sqlite_utf8_repair.cpp).
Result<Revision> append_change(sqlite::Connection& db, ChangeEntity entity,
                               const std::string& entity_id, ChangeOp op, const UserSet& users);

class SqliteAgendaStore final : public AgendaStore {
 public:
  explicit SqliteAgendaStore(sqlite::Connection db) : db_(std::move(db)) {}

  std::string describe() const override;

  Result<OrganisationSettings> settings() override;
  Result<void> set_settings(const OrganisationSettings& settings) override;

  Result<void> add_user(const User& user) override;
  Result<void> update_user(const User& user) override;
  Result<std::optional<User>> user(std::string_view user_name) override;
  Result<std::vector<User>> users() override;

  Result<void> put_activity_type(const ActivityType& type) override;
  Result<ActivityType> update_activity_type(std::string_view current_name,
                                            const ActivityType& updated) override;
  Result<void> remove_activity_type(std::string_view name) override;
  Result<std::vector<ActivityType>> activity_types() override;

  Result<StoredAppointment> create_appointment(const Appointment& item,
                                               std::optional<IdempotencyKey> key) override;
  Result<StoredAppointment> update_appointment(AppointmentId id, const Appointment& item,
                                               std::optional<Revision> expected) override;
  Result<Revision> delete_appointment(AppointmentId id, std::optional<Revision> expected) override;
  Result<std::optional<StoredAppointment>> appointment(AppointmentId id) override;
  Result<std::optional<StoredAppointment>> appointment_by_key(const IdempotencyKey& key) override;
  Result<std::vector<StoredAppointment>> appointments(const AppointmentQuery& query) override;
  Result<std::optional<Tombstone>> tombstone(AppointmentId id) override;

  Result<std::vector<Change>> changes_since(const ChangeQuery& query) override;
  Result<Revision> head_revision() override;
  Result<std::optional<Instant>> revision_time(Revision revision) override;
  Result<std::int64_t> directory_revision() override;

 private:
  // Helpers run with mutex_ held, inside a transaction where noted.
  /// Takes the next revision and records the feed entry (inside a write transaction).
  Result<Revision> record_change(ChangeEntity entity, const std::string& entity_id, ChangeOp op,
                                 const UserSet& users);
  Result<std::optional<User>> load_user(std::string_view user_name);
  Result<std::optional<ActivityType>> load_activity_type(std::string_view name);
  Result<std::optional<StoredAppointment>> load_appointment(AppointmentId id);
  Result<void> check_references(const Appointment& item);
  /// Rewrites every appointment of type `from` as type `to`, a feed entry each (inside a
  /// write transaction).
  Result<void> retype_appointments(const std::string& from, const std::string& to);
  Result<void> write_appointment_row(AppointmentId id, Revision revision, const Appointment& item);

  std::mutex mutex_;
  sqlite::Connection db_;
};

}  // namespace agendasync::store
