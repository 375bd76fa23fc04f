#pragma once
/// The API's view of the agenda: one writer connection and a pool of reader connections on
/// the same SQLite file. Each SQLite store serialises its calls on one connection, so with a
/// single store every API request (and every sync reading the agenda) queued behind the one
/// in progress; under WAL, readers on their own connections run alongside each other and
/// alongside the writer. Writes stay on one connection so they queue in-process instead of
/// spinning in SQLite's busy handler.
#include <chrono>
#include <filesystem>
#include <memory>

#include "store/agenda_store.h"
#include "store/reader_pool.h"

namespace agendasync::service {

class PooledAgendaStore final : public store::AgendaStore {
 public:
  /// `writer` is the store already opened (and migrated); up to `readers` more connections
  /// are opened on `path` when reads run at once, and closed after `idle_limit` unused: an
  /// idle organisation holds its writer and the reader its feed is polled on, not five.
  static Result<std::unique_ptr<PooledAgendaStore>> open(
      std::unique_ptr<store::AgendaStore> writer, const std::filesystem::path& path,
      std::size_t readers, std::chrono::milliseconds idle_limit = std::chrono::seconds(30));

  /// Closes readers idle past the limit (for a caller that ticks).
  void close_idle_readers() { readers_.trim(); }
  /// Reader connections open now.
  std::size_t open_readers() const { return readers_.open_count(); }

  std::string describe() const override { return writer_->describe(); }
  Result<store::OrganisationSettings> settings() override;
  Result<void> set_settings(const store::OrganisationSettings& settings) override;
  Result<void> add_user(const User& user) override;
  Result<void> update_user(const User& user) override;
  Result<std::optional<User>> user(std::string_view user_name) override;
  Result<std::vector<User>> users() override;
  Result<void> put_activity_type(const store::ActivityType& type) override;
  Result<store::ActivityType> update_activity_type(std::string_view current_name,
                                                   const store::ActivityType& updated) override;
  Result<void> remove_activity_type(std::string_view name) override;
  Result<std::vector<store::ActivityType>> activity_types() override;
  Result<store::StoredAppointment> create_appointment(
      const Appointment& item, std::optional<IdempotencyKey> key = std::nullopt) override;
  Result<store::StoredAppointment> update_appointment(
      store::AppointmentId id, const Appointment& item,
      std::optional<store::Revision> expected) override;
  Result<store::Revision> delete_appointment(store::AppointmentId id,
                                             std::optional<store::Revision> expected) override;
  Result<std::optional<store::StoredAppointment>> appointment(store::AppointmentId id) override;
  Result<std::optional<store::StoredAppointment>> appointment_by_key(
      const IdempotencyKey& key) override;
  Result<std::vector<store::StoredAppointment>> appointments(
      const store::AppointmentQuery& query) override;
  Result<std::optional<store::Tombstone>> tombstone(store::AppointmentId id) override;
  Result<std::vector<store::Change>> changes_since(const store::ChangeQuery& query) override;
  Result<store::Revision> head_revision() override;
  Result<std::int64_t> directory_revision() override;
  Result<std::optional<Instant>> revision_time(store::Revision revision) override;

 private:
  PooledAgendaStore(std::unique_ptr<store::AgendaStore> writer,
                    store::ReaderPool<store::AgendaStore>::Opener open,
                    store::ReaderPool<store::AgendaStore>::Options options)
      : writer_(std::move(writer)), readers_(std::move(open), options) {}
  /// Runs `read` on an idle reader connection (opening one, or waiting for one when all are
  /// busy).
  template <class F>
  auto read(F&& read) -> decltype(read(std::declval<store::AgendaStore&>())) {
    return readers_.with(std::forward<F>(read));
  }

  std::unique_ptr<store::AgendaStore> writer_;
  store::ReaderPool<store::AgendaStore> readers_;
};

}  // namespace agendasync::service
