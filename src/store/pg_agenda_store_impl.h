#pragma once
/// Private to the PostgreSQL store: the class behind open_pg_agenda_store(). Appointments and
/// the feed live in pg_agenda_store.cpp, users/activity types/settings in pg_directory.cpp.
#include <memory>
#include <string>

#include "store/agenda_rules.h"
#include "store/agenda_store.h"
#include "store/pg_pool.h"

namespace agendasync::store {

/// Runs `body` in a transaction that first locks the organisation's feed counter row: every
/// write of one organisation waits for the one before it to commit, as SQLite's BEGIN
/// IMMEDIATE makes writers of one file wait. That is what keeps the feed gap-free (revision
/// N+1 is taken only after N committed) and makes the reads inside `body` current.
template <class F>
auto pg_write_transaction(pg::Connection& db, F&& body) -> decltype(body()) {
  return pg::transaction(db, [&]() -> decltype(body()) {
    if (auto locked = db.query("SELECT last_revision FROM feed_counter WHERE id = 1 FOR UPDATE");
        !locked) {
      return std::unexpected(locked.error());
    }
    return body();
  });
}

class PgAgendaStore final : public AgendaStore {
 public:
  explicit PgAgendaStore(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

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
  // Helpers run on a borrowed connection, inside a write transaction where noted.
  /// Takes the next revision and records the feed entry (inside a write transaction).
  Result<Revision> record_change(pg::Connection& db, ChangeEntity entity,
                                 const std::string& entity_id, ChangeOp op, const UserSet& users);
  Result<std::optional<User>> load_user(pg::Connection& db, std::string_view user_name);
  Result<std::optional<ActivityType>> load_activity_type(pg::Connection& db, std::string_view name);
  Result<std::optional<StoredAppointment>> load_appointment(pg::Connection& db, AppointmentId id);
  Result<void> check_references(pg::Connection& db, const Appointment& item);
  /// Rewrites every appointment of type `from` as type `to`, a feed entry each (inside a
  /// write transaction).
  Result<void> retype_appointments(pg::Connection& db, const std::string& from,
                                   const std::string& to);
  Result<void> write_appointment_row(pg::Connection& db, AppointmentId id, Revision revision,
                                     const Appointment& item);
  Error damaged(AppointmentId id, const Error& error) const;

  std::shared_ptr<pg::Pool> pool_;
};

}  // namespace agendasync::store
