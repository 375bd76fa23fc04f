#include "service/pooled_agenda_store.h"

#include "store/sqlite_agenda_store.h"

namespace agendasync::service {

Result<std::unique_ptr<PooledAgendaStore>> PooledAgendaStore::open(
    std::unique_ptr<store::AgendaStore> writer, const std::filesystem::path& path,
    std::size_t readers, std::chrono::milliseconds idle_limit) {
  auto open_reader = [path]() -> Result<std::unique_ptr<store::AgendaStore>> {
    return store::open_sqlite_agenda_store(path);
  };
  return std::unique_ptr<PooledAgendaStore>(new PooledAgendaStore(
      std::move(writer), std::move(open_reader),
      {.max_open = std::max<std::size_t>(1, readers), .keep_open = 0, .idle_limit = idle_limit}));
}

// --- reads: any idle reader ------------------------------------------------------------

Result<store::OrganisationSettings> PooledAgendaStore::settings() {
  return read([](store::AgendaStore& s) { return s.settings(); });
}
Result<std::optional<User>> PooledAgendaStore::user(std::string_view user_name) {
  return read([&](store::AgendaStore& s) { return s.user(user_name); });
}
Result<std::vector<User>> PooledAgendaStore::users() {
  return read([](store::AgendaStore& s) { return s.users(); });
}
Result<std::vector<store::ActivityType>> PooledAgendaStore::activity_types() {
  return read([](store::AgendaStore& s) { return s.activity_types(); });
}
Result<std::optional<store::StoredAppointment>> PooledAgendaStore::appointment(
    store::AppointmentId id) {
  return read([&](store::AgendaStore& s) { return s.appointment(id); });
}
Result<std::optional<store::StoredAppointment>> PooledAgendaStore::appointment_by_key(
    const IdempotencyKey& key) {
  return read([&](store::AgendaStore& s) { return s.appointment_by_key(key); });
}
Result<std::vector<store::StoredAppointment>> PooledAgendaStore::appointments(
    const store::AppointmentQuery& query) {
  return read([&](store::AgendaStore& s) { return s.appointments(query); });
}
Result<std::optional<store::Tombstone>> PooledAgendaStore::tombstone(store::AppointmentId id) {
  return read([&](store::AgendaStore& s) { return s.tombstone(id); });
}
Result<std::vector<store::Change>> PooledAgendaStore::changes_since(
    const store::ChangeQuery& query) {
  return read([&](store::AgendaStore& s) { return s.changes_since(query); });
}
Result<store::Revision> PooledAgendaStore::head_revision() {
  return read([](store::AgendaStore& s) { return s.head_revision(); });
}
Result<std::int64_t> PooledAgendaStore::directory_revision() {
  return read([](store::AgendaStore& s) { return s.directory_revision(); });
}
Result<std::optional<Instant>> PooledAgendaStore::revision_time(store::Revision revision) {
  return read([&](store::AgendaStore& s) { return s.revision_time(revision); });
}

// --- writes: the one writer connection ---------------------------------------------------

Result<void> PooledAgendaStore::set_settings(const store::OrganisationSettings& settings) {
  return writer_->set_settings(settings);
}
Result<void> PooledAgendaStore::add_user(const User& user) { return writer_->add_user(user); }
Result<void> PooledAgendaStore::update_user(const User& user) { return writer_->update_user(user); }
Result<void> PooledAgendaStore::put_activity_type(const store::ActivityType& type) {
  return writer_->put_activity_type(type);
}
Result<store::ActivityType> PooledAgendaStore::update_activity_type(
    std::string_view current_name, const store::ActivityType& updated) {
  return writer_->update_activity_type(current_name, updated);
}
Result<void> PooledAgendaStore::remove_activity_type(std::string_view name) {
  return writer_->remove_activity_type(name);
}
Result<store::StoredAppointment> PooledAgendaStore::create_appointment(
    const Appointment& item, std::optional<IdempotencyKey> key) {
  return writer_->create_appointment(item, std::move(key));
}
Result<store::StoredAppointment> PooledAgendaStore::update_appointment(
    store::AppointmentId id, const Appointment& item, std::optional<store::Revision> expected) {
  return writer_->update_appointment(id, item, expected);
}
Result<store::Revision> PooledAgendaStore::delete_appointment(
    store::AppointmentId id, std::optional<store::Revision> expected) {
  return writer_->delete_appointment(id, expected);
}

}  // namespace agendasync::service
