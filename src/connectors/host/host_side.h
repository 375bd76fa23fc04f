#pragma once
/// The host agenda of one user as a CalendarSide: what the sync engine pairs with that
/// user's Exchange calendar. Built on the store's change feed (Cursor = revision) and
/// revisions (VersionTag = the appointment's revision).
#include <cstddef>
#include <string>

#include "core/calendar_side.h"
#include "store/agenda_store.h"

namespace agendasync::host {

struct HostSideOptions {
  /// Feed entries read per changes_since() call; more are reported with complete = false.
  std::size_t page_size = 500;
  /// Appointments read from the store per list_paged() page.
  std::size_t list_page_size = 500;
};

/// Sees only the appointments of `user_name` (as owner or participant, R14). Items that
/// leave the user's agenda (deleted, or the user removed as participant) are reported as
/// deleted. Not thread-safe by itself; the store it uses is.
class HostCalendarSide final : public CalendarSide {
 public:
  HostCalendarSide(store::AgendaStore& store, std::string user_name, HostSideOptions options = {});

  std::string describe() const override;
  Result<ChangeBatch> changes_since(const Cursor& cursor) override;
  Result<std::pair<std::vector<SideItem>, Cursor>> list(const TimeWindow& window) override;
  /// The same listing read from the store `list_page_size` appointments at a time.
  Result<Cursor> list_paged(const TimeWindow& window, const ListPage& on_page) override;
  Result<std::vector<SideItem>> fetch(std::span<const ItemRef> refs) override;
  Result<std::optional<SideItem>> find_by_key(const IdempotencyKey& key) override;
  /// Creates, updates and deletes host appointments. Creates without an owner get this user
  /// as owner; updates whose item has no owner keep the stored host-only fields (owner,
  /// participants, activity type, project-task flag), since other sides do not carry them.
  /// A write with `occurrence` set edits (override) or deletes (EXDATE) one occurrence.
  std::vector<WriteResult> apply(std::span<const Write> writes) override;

 private:
  bool visible(const Appointment& item) const;
  /// The listed form of stored appointments in `window` (series without an occurrence in it
  /// left out), appended to `items`.
  Result<void> add_listed(std::vector<store::StoredAppointment> stored, const TimeWindow& window,
                          std::vector<SideItem>& items) const;
  Result<SideItem> side_item(const store::StoredAppointment& stored) const;
  Result<store::StoredAppointment> load_visible(const ItemRef& ref);
  Result<SideItem> create(const Write& write);
  Result<SideItem> update(const Write& write);
  Result<SideItem> remove(const Write& write);

  store::AgendaStore& store_;
  std::string user_name_;
  HostSideOptions options_;
};

}  // namespace agendasync::host
