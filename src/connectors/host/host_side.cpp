#include "connectors/host/host_side.h"

#include <strings.h>
#include <algorithm>
#include <charconv>
#include <set>

#include "core/expand.h"

namespace agendasync::host {

namespace {

/// Parses a non-negative decimal number (cursor, version tag, item ref).
std::optional<std::int64_t> parse_number(const std::string& text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

bool same_user(const std::string& a, const std::string& b) {
  return ::strcasecmp(a.c_str(), b.c_str()) == 0;
}

Result<store::AppointmentId> appointment_id(const ItemRef& ref) {
  auto id = parse_number(ref.str());
  if (!id) {
    return fail(ErrorKind::kNotFound,
                "\"" + ref.str() + "\" is not a host appointment id (expected a number)");
  }
  return *id;
}

Result<std::optional<store::Revision>> expected_revision(const VersionTag& tag) {
  if (tag.empty()) return std::optional<store::Revision>{};
  auto revision = parse_number(tag.str());
  if (!revision) {
    return fail(ErrorKind::kConflict,
                "version \"" + tag.str() + "\" is not a host revision; read the item again");
  }
  return std::optional<store::Revision>{*revision};
}

/// The override a write carries for its occurrence (core/calendar_side.h: the write's item
/// is the whole series with the change in it).
const OccurrenceOverride* override_for(const Appointment& series, Instant recurrence_id) {
  if (!series.recurrence) return nullptr;
  for (const auto& change : series.recurrence->overrides) {
    if (change.recurrence_id == recurrence_id) return &change;
  }
  return nullptr;
}

}  // namespace

HostCalendarSide::HostCalendarSide(store::AgendaStore& store, std::string user_name,
                                   HostSideOptions options)
    : store_(store), user_name_(std::move(user_name)), options_(options) {}

std::string HostCalendarSide::describe() const { return "host:" + user_name_; }

bool HostCalendarSide::visible(const Appointment& item) const {
  if (same_user(item.owner, user_name_)) return true;
  return std::any_of(item.participants.begin(), item.participants.end(),
                     [&](const std::string& name) { return same_user(name, user_name_); });
}

Result<SideItem> HostCalendarSide::side_item(const store::StoredAppointment& stored) const {
  // The revision's commit time is the item's modification time (newest-wins, R24).
  auto modified = store_.revision_time(stored.revision);
  if (!modified) return std::unexpected(modified.error());
  return SideItem{ItemRef(std::to_string(stored.id)), VersionTag(std::to_string(stored.revision)),
                  stored.idempotency_key, stored.item, *modified};
}

Result<ChangeBatch> HostCalendarSide::changes_since(const Cursor& cursor) {
  // The head is read first: every revision up to it is committed (the feed is gap-free), so
  // reading up to it misses nothing, and later changes are left for the next call.
  auto head = store_.head_revision();
  if (!head) return std::unexpected(head.error());
  if (cursor.empty()) return ChangeBatch{{}, {}, Cursor(std::to_string(*head)), true};
  auto after = parse_number(cursor.str());
  if (!after || *after > *head) {
    return fail(ErrorKind::kCursorInvalid,
                describe() + ": cursor \"" + cursor.str() +
                    "\" is not a position in this agenda's change feed (head is " +
                    std::to_string(*head) + "); a full resync is needed");
  }
  store::ChangeQuery query;
  query.after = *after;
  query.limit = options_.page_size;
  query.user = user_name_;
  auto entries = store_.changes_since(query);
  if (!entries) return std::unexpected(entries.error());

  ChangeBatch batch;
  batch.complete = entries->size() < options_.page_size;
  store::Revision last = *after;
  std::set<std::string> seen;
  for (const auto& change : *entries) {
    if (change.revision > *head) {
      batch.complete = true;  // the rest is newer than the head we report
      break;
    }
    last = change.revision;
    if (change.entity != store::ChangeEntity::kAppointment ||
        !seen.insert(change.entity_id).second) {
      continue;
    }
    // Report the current state: present and visible = changed, otherwise it left the agenda.
    ItemRef ref(change.entity_id);
    auto id = appointment_id(ref);
    if (!id) continue;
    auto stored = store_.appointment(*id);
    if (!stored) return std::unexpected(stored.error());
    if (*stored && visible((*stored)->item)) {
      batch.changed.push_back(ref);
      // The revision is the version: the engine recognises its own writes without a fetch.
      batch.changed_versions.emplace_back(std::to_string((*stored)->revision));
    } else {
      batch.deleted.push_back(ref);
    }
  }
  batch.next = Cursor(std::to_string(batch.complete ? *head : last));
  return batch;
}

Result<void> HostCalendarSide::add_listed(std::vector<store::StoredAppointment> stored,
                                          const TimeWindow& window,
                                          std::vector<SideItem>& items) const {
  for (auto& appointment : stored) {
    if (appointment.item.recurrence) {
      // The store's window is a superset for series; expansion decides. A series that cannot
      // be expanded is kept: dropping it could read as a deletion (R38).
      auto occurrences = expand(appointment.item, window.from, window.to, 1);
      if (occurrences && occurrences->empty()) continue;
    }
    auto item = side_item(appointment);
    if (!item) return std::unexpected(item.error());
    items.push_back(std::move(*item));
  }
  return {};
}

Result<std::pair<std::vector<SideItem>, Cursor>> HostCalendarSide::list(const TimeWindow& window) {
  auto head = store_.head_revision();
  if (!head) return std::unexpected(head.error());
  store::AppointmentQuery query;
  query.user = user_name_;
  query.from = window.from;
  query.to = window.to;
  auto stored = store_.appointments(query);
  if (!stored) return std::unexpected(stored.error());
  std::vector<SideItem> items;
  if (auto added = add_listed(std::move(*stored), window, items); !added) {
    return std::unexpected(added.error());
  }
  return std::pair{std::move(items), Cursor(std::to_string(*head))};
}

Result<Cursor> HostCalendarSide::list_paged(const TimeWindow& window, const ListPage& on_page) {
  // The head first, as in list(): a change committed while we page is in the feed after it.
  auto head = store_.head_revision();
  if (!head) return std::unexpected(head.error());
  store::AppointmentQuery query;
  query.user = user_name_;
  query.from = window.from;
  query.to = window.to;
  query.limit = std::max<std::size_t>(1, options_.list_page_size);
  for (;;) {
    auto stored = store_.appointments(query);
    if (!stored) return std::unexpected(stored.error());
    if (stored->empty()) break;
    const bool last = stored->size() < *query.limit;
    query.after_id = stored->back().id;
    std::vector<SideItem> page;
    if (auto added = add_listed(std::move(*stored), window, page); !added) {
      return std::unexpected(added.error());
    }
    if (!page.empty()) {
      if (auto taken = on_page(std::move(page)); !taken) return std::unexpected(taken.error());
    }
    if (last) break;
  }
  return Cursor(std::to_string(*head));
}

Result<std::vector<SideItem>> HostCalendarSide::fetch(std::span<const ItemRef> refs) {
  std::vector<SideItem> items;
  for (const auto& ref : refs) {
    auto id = parse_number(ref.str());
    if (!id) continue;  // not ours: absent, like a deleted item
    auto stored = store_.appointment(*id);
    if (!stored) return std::unexpected(stored.error());
    if (!*stored || !visible((*stored)->item)) continue;
    auto item = side_item(**stored);
    if (!item) return std::unexpected(item.error());
    items.push_back(std::move(*item));
  }
  return items;
}

Result<std::optional<SideItem>> HostCalendarSide::find_by_key(const IdempotencyKey& key) {
  auto stored = store_.appointment_by_key(key);
  if (!stored) return std::unexpected(stored.error());
  if (!*stored || !visible((*stored)->item)) return std::optional<SideItem>{};
  auto item = side_item(**stored);
  if (!item) return std::unexpected(item.error());
  return std::optional<SideItem>{std::move(*item)};
}

std::vector<WriteResult> HostCalendarSide::apply(std::span<const Write> writes) {
  std::vector<WriteResult> results;
  results.reserve(writes.size());
  for (const auto& write : writes) {
    switch (write.op) {
      case WriteOp::kCreate:
        results.push_back({create(write)});
        break;
      case WriteOp::kUpdate:
        results.push_back({update(write)});
        break;
      case WriteOp::kDelete:
        results.push_back({remove(write)});
        break;
      case WriteOp::kStampKey:
        // The engine stamps only Exchange items (R41); host items it links carry no key of
        // their own to be found by on another backend.
        results.push_back(
            {fail(ErrorKind::kUnsupported, describe() + ": the host agenda takes no key stamps")});
        break;
    }
  }
  return results;
}

Result<store::StoredAppointment> HostCalendarSide::load_visible(const ItemRef& ref) {
  auto id = appointment_id(ref);
  if (!id) return std::unexpected(id.error());
  auto stored = store_.appointment(*id);
  if (!stored) return std::unexpected(stored.error());
  if (!*stored || !visible((*stored)->item)) {
    return fail(ErrorKind::kNotFound,
                describe() + ": appointment " + ref.str() + " is not in this user's agenda");
  }
  return std::move(**stored);
}

Result<SideItem> HostCalendarSide::create(const Write& write) {
  Appointment item = write.item;
  if (item.owner.empty()) item.owner = user_name_;
  if (!visible(item)) {
    return fail(ErrorKind::kInvalidData, describe() + ": cannot create \"" + item.subject +
                                             "\" for owner " + item.owner +
                                             " without this user as participant");
  }
  std::optional<IdempotencyKey> key;
  if (!write.key.empty()) key = write.key;
  auto created = store_.create_appointment(item, key);
  if (!created) return std::unexpected(created.error());
  return side_item(*created);
}

Result<SideItem> HostCalendarSide::update(const Write& write) {
  auto current = load_visible(write.ref);
  if (!current) return std::unexpected(current.error());
  auto expected = expected_revision(write.expected);
  if (!expected) return std::unexpected(expected.error());

  Appointment item = current->item;
  if (write.occurrence) {
    if (!item.recurrence) {
      return fail(ErrorKind::kInvalidData, describe() + ": appointment " + write.ref.str() +
                                               " is not a series; it has no occurrences to edit");
    }
    const OccurrenceOverride* change = override_for(write.item, *write.occurrence);
    if (!change) {
      return fail(ErrorKind::kInvalidData,
                  describe() + ": the update of one occurrence of appointment " + write.ref.str() +
                      " carries no override for that occurrence; nothing was written");
    }
    // Only that occurrence is written: the rest of the stored series stays as it is.
    auto& overrides = item.recurrence->overrides;
    std::erase_if(overrides, [&](const auto& o) { return o.recurrence_id == *write.occurrence; });
    overrides.push_back(*change);
    std::sort(overrides.begin(), overrides.end(),
              [](const auto& a, const auto& b) { return a.recurrence_id < b.recurrence_id; });
    std::erase(item.recurrence->exdates, *write.occurrence);
  } else {
    item = write.item;
    if (item.owner.empty()) {
      // Other sides do not carry the host-only fields: keep them.
      item.owner = current->item.owner;
      item.participants = current->item.participants;
      item.activity_type = current->item.activity_type;
      item.project_task = current->item.project_task;
    }
  }
  auto updated = store_.update_appointment(current->id, item, *expected);
  if (!updated) return std::unexpected(updated.error());
  return side_item(*updated);
}

Result<SideItem> HostCalendarSide::remove(const Write& write) {
  auto current = load_visible(write.ref);
  if (!current) return std::unexpected(current.error());
  auto expected = expected_revision(write.expected);
  if (!expected) return std::unexpected(expected.error());

  if (write.occurrence) {
    Appointment item = current->item;
    if (!item.recurrence) {
      return fail(ErrorKind::kInvalidData, describe() + ": appointment " + write.ref.str() +
                                               " is not a series; it has no occurrences to delete");
    }
    std::erase_if(item.recurrence->overrides,
                  [&](const auto& o) { return o.recurrence_id == *write.occurrence; });
    auto& exdates = item.recurrence->exdates;
    if (std::find(exdates.begin(), exdates.end(), *write.occurrence) == exdates.end()) {
      exdates.push_back(*write.occurrence);
      std::sort(exdates.begin(), exdates.end());
    }
    auto updated = store_.update_appointment(current->id, item, *expected);
    if (!updated) return std::unexpected(updated.error());
    return side_item(*updated);
  }
  auto revision = store_.delete_appointment(current->id, *expected);
  if (!revision) return std::unexpected(revision.error());
  return SideItem{write.ref, VersionTag(std::to_string(*revision)), current->idempotency_key,
                  current->item, std::nullopt};
}

}  // namespace agendasync::host
