// EwsCalendarSide::apply: creates, updates and deletes in batches (several items per
// CreateItem/UpdateItem/DeleteItem, R26), then the occurrence operations that carry a
// series' modified and deleted occurrences. What was written is reported with the ItemId and
// ChangeKey the Create/UpdateItem response carries; only items whose ChangeKey the occurrence
// operations moved on (or that no response named) are read back, in batched GetItems.
// Every write sends no mail (SendToNone, R39); updates carry the ChangeKey and only the
// fields that changed (R18).
#include <algorithm>
#include <functional>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "connectors/ews/calendar_schema.h"
#include "connectors/ews/ews_side.h"
#include "connectors/ews/mapping.h"
#include "connectors/ews/xml.h"

namespace agendasync::ews {

namespace {

/// The fields an occurrence can differ in, as EWS wants them for an occurrence update.
Result<CalendarItem> occurrence_item(const OccurrenceOverride& o, const Appointment& series) {
  CalendarItem out;
  out.subject = o.subject;
  out.body = o.body;
  out.location = o.location;
  out.free_busy = o.show_as == ShowAs::kUnknown ? ShowAs::kBusy : o.show_as;
  out.sensitivity = o.sensitivity;
  out.reminder_is_set = o.reminder.has_value();
  out.reminder_minutes = o.reminder ? static_cast<int>(o.reminder->count()) : 15;
  out.is_all_day = series.all_day;
  const auto start = ews_instant(o.start, series.all_day, series.time_zone);
  const auto end = ews_instant(o.end, series.all_day, series.time_zone);
  if (!start || !end) return fail(ErrorKind::kInvalidData, "An occurrence has unusable times.");
  out.start = *start;
  out.end = *end;
  return out;
}

/// The occurrence as the series generates it, before any modification.
OccurrenceOverride generated_occurrence(const Appointment& series, Instant recurrence_id) {
  OccurrenceOverride o;
  o.recurrence_id = recurrence_id;
  o.start = recurrence_id;
  o.end = recurrence_id + (series.end - series.start);
  o.subject = series.subject;
  o.body = series.body;
  o.location = series.location;
  o.show_as = series.show_as;
  o.sensitivity = series.sensitivity;
  o.reminder = series.reminder;
  return o;
}

const OccurrenceOverride* find_override(const Appointment& item, Instant recurrence_id) {
  if (!item.recurrence) return nullptr;
  for (const OccurrenceOverride& o : item.recurrence->overrides) {
    if (o.recurrence_id == recurrence_id) return &o;
  }
  return nullptr;
}

bool has_exdate(const Appointment& item, Instant when) {
  return item.recurrence &&
         std::find(item.recurrence->exdates.begin(), item.recurrence->exdates.end(), when) !=
             item.recurrence->exdates.end();
}

}  // namespace

std::vector<WriteResult> EwsCalendarSide::apply(std::span<const Write> writes) {
  const std::size_t n = writes.size();
  std::vector<std::optional<Error>> errors(n);
  std::vector<std::string> item_ids(n);  // the item (series) each write ended up on
  std::vector<bool> deleted(n, false);
  // The ChangeKey a Create/UpdateItem response gave; empty = read the item back to learn it.
  std::vector<std::string> change_keys(n);
  // A single item as Exchange stores it: what was sent, through the mapping and back (the
  // mapping drops what EWS does not keep). Series are read back: their occurrences live
  // outside the CalendarItem that was sent.
  std::vector<std::optional<Appointment>> as_stored(n);
  const auto fail_write = [&](std::size_t i, Error error) {
    if (!errors[i]) errors[i] = std::move(error);
  };
  const std::size_t batch = static_cast<std::size_t>(options_.write_batch_size);
  using Build = std::function<std::string(std::size_t, std::size_t)>;

  /// The batch from `begin`: at most `batch` of the `count` entries, halved while its request
  /// would be larger than Exchange accepts (max_request_bytes; items with long bodies), and
  /// that request. An entry too large alone is returned as a batch of one with an empty
  /// request: it is failed without being sent.
  const auto next_batch = [&](std::size_t begin, std::size_t count,
                              const Build& build) -> std::pair<std::size_t, std::string> {
    std::size_t end = std::min(count, begin + batch);
    std::string request = build(begin, end);
    while (request.size() > options_.max_request_bytes && end - begin > 1) {
      end = begin + (end - begin) / 2;
      request = build(begin, end);
    }
    if (request.size() > options_.max_request_bytes) request.clear();
    return {end, std::move(request)};
  };
  const auto too_large = [&](std::size_t bytes) {
    return Error::make(
        ErrorKind::kInvalidData,
        fmt::format("This item alone makes an EWS request of {} bytes, more than the {} bytes "
                    "Exchange accepts in one request (HTTP 413); shorten its description",
                    bytes, options_.max_request_bytes));
  };

  /// Sends `count` entries in batches; `build` makes the request for [begin, end), `done`
  /// receives each entry's response message or the call's error.
  const auto send_batched =
      [&](std::size_t count, bool idempotent, const Build& build,
          const std::function<void(std::size_t, const ResponseMessage*, const Error*)>& done) {
        for (std::size_t begin = 0, end = 0; begin < count; begin = end) {
          std::string request;
          std::tie(end, request) = next_batch(begin, count, build);
          if (request.empty()) {
            const Error error = too_large(build(begin, end).size());
            done(begin, nullptr, &error);
            continue;
          }
          auto response = call(std::move(request), idempotent);
          Error mismatch = Error::make(
              ErrorKind::kPermanent, "Exchange answered a batch with the wrong number of results.");
          for (std::size_t i = begin; i < end; ++i) {
            if (!response) {
              done(i, nullptr, &response.error());
            } else if (response->messages.size() != end - begin) {
              done(i, nullptr, &mismatch);
            } else {
              done(i, &response->messages[i - begin], nullptr);
            }
          }
        }
      };

  // ---- 1. creates ------------------------------------------------------------------
  std::vector<std::size_t> create_writes;
  std::vector<CalendarItem> create_items;
  // ---- 2. whole-item updates -------------------------------------------------------
  std::vector<std::size_t> update_writes;
  std::vector<ItemChange> update_changes;
  // ---- 3. deletes ------------------------------------------------------------------
  std::vector<std::size_t> delete_writes;
  std::vector<ItemTarget> delete_targets;

  for (std::size_t i = 0; i < n; ++i) {
    const Write& w = writes[i];
    item_ids[i] = w.ref.str();
    if (w.send_invitations) {
      // R39: every request here says SendToNone; a write that asks for meeting mail is
      // refused rather than silently sent without it.
      fail_write(i, Error::make(ErrorKind::kUnsupported,
                                "The EWS connector writes calendar items without sending meeting "
                                "requests or cancellations (R39); real meetings are not "
                                "supported. Turn off send_invitations for this pair."));
      continue;
    }
    if (w.occurrence) continue;  // phase 4
    if (w.op == WriteOp::kDelete) {
      delete_writes.push_back(i);
      delete_targets.emplace_back(ItemId{w.ref.str(), w.expected.str()});
      continue;
    }
    auto after = to_ews(w.item);
    if (!after) {
      fail_write(i, after.error());
      continue;
    }
    if (!w.item.recurrence) {
      if (auto stored = from_ews(*after)) as_stored[i] = std::move(*stored);
    }
    if (w.op == WriteOp::kCreate) {
      after->agenda_sync_key = w.key.str();
      create_writes.push_back(i);
      create_items.push_back(std::move(*after));
      continue;
    }
    CalendarItem before;
    if (w.previous) {
      auto mapped = to_ews(*w.previous);
      if (!mapped) {
        fail_write(i, mapped.error());
        continue;
      }
      before = std::move(*mapped);
    }
    // The key is written at create, and later only when the engine stamps it on an item it
    // did not create (R41: kStampKey, or an update that carries `key`); otherwise an update
    // never touches it. A stamp's `previous` is its `item`: the key is the only change.
    before.agenda_sync_key.reset();
    after->agenda_sync_key.reset();
    if (!w.key.empty()) after->agenda_sync_key = w.key.str();
    // Without the previous state every field is set; with it, only what changed (R18).
    if (w.previous && !has_field_changes(before, *after, options_.context.version)) continue;
    update_writes.push_back(i);
    update_changes.push_back(ItemChange{ItemId{w.ref.str(), w.expected.str()}, std::move(before),
                                        std::move(*after), !w.previous.has_value()});
  }

  // Creates have their own batch call: a stray answer must not create anything twice.
  const Build build_creates = [&](std::size_t b, std::size_t e) {
    return build_create_item(options_.context,
                             std::span<const CalendarItem>(create_items).subspan(b, e - b));
  };
  for (std::size_t begin = 0, end = 0; begin < create_items.size(); begin = end) {
    std::string request;
    std::tie(end, request) = next_batch(begin, create_items.size(), build_creates);
    const std::size_t count = end - begin;
    if (request.empty()) {
      fail_write(create_writes[begin], too_large(build_creates(begin, end).size()));
      continue;
    }
    auto created = create_batch(std::span<const CalendarItem>(create_items).subspan(begin, count));
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t i = create_writes[begin + k];
      if (!created[k]) {
        fail_write(i, created[k].error());
        continue;
      }
      item_ids[i] = created[k]->id;
      change_keys[i] = created[k]->change_key;
    }
  }
  send_batched(
      update_changes.size(), true,
      [&](std::size_t b, std::size_t e) {
        return build_update_item(options_.context,
                                 std::span<const ItemChange>(update_changes).subspan(b, e - b));
      },
      [&](std::size_t k, const ResponseMessage* message, const Error* error) {
        const std::size_t i = update_writes[k];
        if (error) return fail_write(i, *error);
        if (!message->ok()) return fail_write(i, message_error(*message));
        if (!message->items.empty() && message->items.front().item_id.id == item_ids[i])
          change_keys[i] = message->items.front().item_id.change_key;
      });
  send_batched(
      delete_targets.size(), true,
      [&](std::size_t b, std::size_t e) {
        return build_delete_item(options_.context,
                                 std::span<const ItemTarget>(delete_targets).subspan(b, e - b));
      },
      [&](std::size_t k, const ResponseMessage* message, const Error* error) {
        const std::size_t i = delete_writes[k];
        if (error) return fail_write(i, *error);
        if (!message->ok()) return fail_write(i, message_error(*message));
        deleted[i] = true;
      });

  // ---- 4. occurrences: explicit occurrence writes, and the overrides/exdates of series ----
  std::vector<std::size_t> occ_delete_writes;
  std::vector<ItemTarget> occ_delete_targets;
  std::vector<std::size_t> occ_update_writes;
  std::vector<ItemChange> occ_update_changes;
  std::map<std::string, Appointment> fetched_series;

  const auto series_for = [&](std::size_t i) -> Result<Appointment> {
    const Write& w = writes[i];
    if (w.item.recurrence) return w.item;
    if (w.previous && w.previous->recurrence) return *w.previous;
    if (auto it = fetched_series.find(item_ids[i]); it != fetched_series.end()) return it->second;
    auto items = fetch(std::vector<ItemRef>{ItemRef(item_ids[i])});
    if (!items) return std::unexpected(items.error());
    if (items->empty())
      return fail(ErrorKind::kNotFound, "The series of the occurrence no longer exists.");
    fetched_series[item_ids[i]] = items->front().item;
    return items->front().item;
  };
  const auto add_occurrence_delete = [&](std::size_t i, const Appointment& series,
                                         Instant recurrence_id) {
    auto index = instance_index(series, recurrence_id);
    if (!index) return fail_write(i, index.error());
    occ_delete_writes.push_back(i);
    occ_delete_targets.emplace_back(OccurrenceRef{item_ids[i], {}, *index});
  };
  const auto add_occurrence_update = [&](std::size_t i, const Appointment& series,
                                         const OccurrenceOverride& before_o,
                                         const OccurrenceOverride& after_o) {
    auto index = instance_index(series, after_o.recurrence_id);
    if (!index) return fail_write(i, index.error());
    auto before = occurrence_item(before_o, series);
    auto after = occurrence_item(after_o, series);
    if (!before || !after) return fail_write(i, before ? after.error() : before.error());
    if (!has_field_changes(*before, *after, options_.context.version)) return;
    occ_update_writes.push_back(i);
    occ_update_changes.push_back(
        ItemChange{OccurrenceRef{item_ids[i], {}, *index}, std::move(*before), std::move(*after)});
  };

  for (std::size_t i = 0; i < n; ++i) {
    const Write& w = writes[i];
    if (errors[i] || (w.op == WriteOp::kDelete && !w.occurrence)) continue;
    if (w.occurrence) {
      auto series = series_for(i);
      if (!series) {
        fail_write(i, series.error());
        continue;
      }
      if (w.op == WriteOp::kDelete) {
        add_occurrence_delete(i, *series, *w.occurrence);
        continue;
      }
      // core/calendar_side.h: `item` is the whole series; the override for `occurrence` in
      // it is the change.
      const OccurrenceOverride* change = find_override(w.item, *w.occurrence);
      if (change == nullptr) {
        fail_write(i, Error::make(ErrorKind::kInvalidData,
                                  fmt::format("An occurrence update for {} carries no modified "
                                              "occurrence at {} in its series; send the whole "
                                              "series with that occurrence's override in it.",
                                              w.ref.str(), format_date_time(*w.occurrence))));
        continue;
      }
      const OccurrenceOverride after = *change;
      OccurrenceOverride before = generated_occurrence(*series, *w.occurrence);
      if (w.previous) {
        if (const OccurrenceOverride* o = find_override(*w.previous, *w.occurrence)) before = *o;
      }
      add_occurrence_update(i, *series, before, after);
      continue;
    }
    // A stamp writes the key on the series item only; its occurrences stay as they are.
    if (!w.item.recurrence || w.op == WriteOp::kStampKey) continue;
    // A series: bring its occurrences in line with the model.
    const Appointment& series = w.item;
    const Appointment* previous =
        w.op == WriteOp::kUpdate && w.previous && w.previous->recurrence ? &*w.previous : nullptr;
    for (const Instant exdate : series.recurrence->exdates) {
      if (previous == nullptr || !has_exdate(*previous, exdate))
        add_occurrence_delete(i, series, exdate);
    }
    if (previous != nullptr) {
      for (const Instant exdate : previous->recurrence->exdates) {
        if (!has_exdate(series, exdate)) {
          fail_write(i,
                     Error::make(ErrorKind::kUnsupported,
                                 fmt::format("Exchange cannot restore the deleted occurrence "
                                             "of '{}' at {}; recreate the series instead.",
                                             series.subject, exdate.time_since_epoch().count())));
        }
      }
    }
    for (const OccurrenceOverride& o : series.recurrence->overrides) {
      const OccurrenceOverride* old =
          previous ? find_override(*previous, o.recurrence_id) : nullptr;
      if (old != nullptr && *old == o) continue;
      add_occurrence_update(i, series, old ? *old : generated_occurrence(series, o.recurrence_id),
                            o);
    }
    if (previous != nullptr) {
      for (const OccurrenceOverride& old : previous->recurrence->overrides) {
        if (find_override(series, old.recurrence_id) || has_exdate(series, old.recurrence_id))
          continue;
        // The modification was dropped: put the occurrence back as the series makes it.
        add_occurrence_update(i, series, old, generated_occurrence(series, old.recurrence_id));
      }
    }
  }

  send_batched(
      occ_update_changes.size(), true,
      [&](std::size_t b, std::size_t e) {
        return build_update_item(options_.context,
                                 std::span<const ItemChange>(occ_update_changes).subspan(b, e - b));
      },
      [&](std::size_t k, const ResponseMessage* message, const Error* error) {
        const std::size_t i = occ_update_writes[k];
        if (error) return fail_write(i, *error);
        if (!message->ok()) return fail_write(i, message_error(*message));
      });
  send_batched(
      occ_delete_targets.size(), true,
      [&](std::size_t b, std::size_t e) {
        return build_delete_item(options_.context,
                                 std::span<const ItemTarget>(occ_delete_targets).subspan(b, e - b));
      },
      [&](std::size_t k, const ResponseMessage* message, const Error* error) {
        const std::size_t i = occ_delete_writes[k];
        if (error) return fail_write(i, *error);
        if (!message->ok()) return fail_write(i, message_error(*message));
      });

  // ---- 5. report what Exchange now holds ----------------------------------------------
  // An occurrence operation changes its series' ChangeKey: those series are read back, as
  // are writes no response named (an update with nothing to change was not sent).
  for (std::size_t i : occ_update_writes) change_keys[i].clear();
  for (std::size_t i : occ_delete_writes) change_keys[i].clear();
  std::vector<ItemRef> to_read;
  for (std::size_t i = 0; i < n; ++i) {
    if (!errors[i] && !deleted[i] && !item_ids[i].empty() && change_keys[i].empty())
      to_read.emplace_back(item_ids[i]);
    else if (!errors[i] && !deleted[i] && !as_stored[i])
      to_read.emplace_back(item_ids[i]);
  }
  std::map<std::string, SideItem> current;
  std::optional<Error> read_error;
  if (!to_read.empty()) {
    auto items = fetch(to_read);
    if (items) {
      for (SideItem& item : *items) current[item.ref.str()] = std::move(item);
    } else {
      read_error = items.error();
    }
  }
  std::vector<WriteResult> results;
  results.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Write& w = writes[i];
    if (errors[i]) {
      results.push_back(WriteResult{std::unexpected(*errors[i])});
      continue;
    }
    if (deleted[i]) {
      results.push_back(WriteResult{SideItem{w.ref, {}, std::nullopt, {}, std::nullopt}});
      continue;
    }
    if (auto it = current.find(item_ids[i]); it != current.end()) {
      results.push_back(WriteResult{it->second});
      continue;
    }
    if (!change_keys[i].empty() && as_stored[i]) {
      // Exchange stored what was sent as the mapping reads it back (the exsim tests hold a
      // later read to the same content and ChangeKey), under the ChangeKey its response gave.
      SideItem written{ItemRef(item_ids[i]), VersionTag(change_keys[i]), std::nullopt,
                       std::move(*as_stored[i]), std::nullopt};
      if (!w.key.empty()) written.idempotency_key = w.key;
      results.push_back(WriteResult{std::move(written)});
      continue;
    }
    // Written, but the read-back failed or did not find it: report what we know (the id
    // is real, so the engine must not write again), without a version.
    SideItem known{ItemRef(item_ids[i]), {}, std::nullopt, w.item, std::nullopt};
    if (!w.key.empty()) known.idempotency_key = w.key;
    (void)read_error;
    results.push_back(WriteResult{std::move(known)});
  }
  return results;
}

}  // namespace agendasync::ews
