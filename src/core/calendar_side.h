#pragma once
/// One calendar the engine can sync: the host agenda, an Exchange mailbox (EWS or Graph), a
/// CalDAV collection. The engine pairs any two sides.
///
/// Why this lives in core (DESIGN.md put it in sync/): connectors implement it and the
/// engine consumes it; with the interface in core neither has to depend on the other, and
/// the service layer wires them together.
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/appointment.h"
#include "core/error.h"
#include "core/strong_id.h"

namespace agendasync {

/// An item as one side holds it.
struct SideItem {
  ItemRef ref;
  VersionTag version;
  /// Set when the item was created by AgendaSync (our extended property / X- property).
  std::optional<IdempotencyKey> idempotency_key;
  Appointment item;
  /// When the item was last changed, as the side records it (EWS LastModifiedTime, Graph
  /// lastModifiedDateTime, the host's revision time); nullopt when the side cannot tell.
  /// Newest-wins conflicts (R24) compare these; an unknown time lets the host win.
  std::optional<Instant> last_modified;
};

/// What changed since a cursor. `changed` lists refs only: the engine fetches what it needs.
struct ChangeBatch {
  ChangeBatch() = default;
  /// The form without versions (a side whose feed carries none).
  ChangeBatch(std::vector<ItemRef> changed_refs, std::vector<ItemRef> deleted_refs,
              Cursor next_cursor, bool is_complete)
      : changed(std::move(changed_refs)),
        deleted(std::move(deleted_refs)),
        next(std::move(next_cursor)),
        complete(is_complete) {}

  std::vector<ItemRef> changed;
  std::vector<ItemRef> deleted;
  /// The current version of each `changed` item when the feed carries it (EWS ChangeKey in
  /// SyncFolderItems, the host's revision): empty, or the same size as `changed`. Lets the
  /// engine recognise its own writes coming back without fetching them.
  std::vector<VersionTag> changed_versions;
  Cursor next;
  /// False when the side has more changes after `next` (EWS IncludesLastItemInRange false,
  /// Graph @odata.nextLink): call again with `next`.
  bool complete = true;
};

/// A time range [from, to) for full listings (first sync, resync after an invalid cursor).
struct TimeWindow {
  Instant from{};
  Instant to{};
};

enum class WriteOp {
  kCreate,
  kUpdate,
  kDelete,
  /// Writes only `key` (the idempotency-key extended property, which no client shows) on the
  /// existing item `ref`, so that an item the sync did not create (an Outlook item, a
  /// first-sync match) can be found by its key on another backend (R41). Nothing the user
  /// sees changes; `item` is the item as last read, and the result carries it with its new
  /// version. A side whose items carry no such property (the host) refuses it (kUnsupported).
  kStampKey,
};

struct Write {
  WriteOp op = WriteOp::kCreate;
  ItemRef ref;          ///< update/delete
  VersionTag expected;  ///< update/delete: optimistic concurrency (ChangeKey / If-Match)
  IdempotencyKey key;   ///< create, stamp: stamped on the item
  Appointment item;     ///< create/update: the full desired item
  /// update: the item as the side last had it, so a connector can send only changed fields
  /// (an update that does not touch the time leaves start and end byte-identical, R18).
  std::optional<Appointment> previous;
  /// R39: whether the write may send meeting requests, updates or cancellations. The engine
  /// sets it only when a setting asks for real meetings; a connector that cannot honour it
  /// refuses the write (kUnsupported) rather than sending mail it was not asked to.
  bool send_invitations = false;
  /// When set, update/delete addresses one occurrence of the series `ref`: the occurrence
  /// whose original start (recurrence id) is this instant.
  ///
  /// Contract for occurrence writes:
  /// - update: `item` is the whole series, with the change in it: the connector takes the
  ///   override whose recurrence_id equals `occurrence` from item.recurrence->overrides and
  ///   writes only that occurrence (the rest of `item` is not written). A series without
  ///   such an override is refused with kInvalidData. `previous`, when set, is the whole
  ///   series as the side last had it.
  /// - delete: nothing but `ref` and `occurrence` is needed; `item` is ignored.
  std::optional<Instant> occurrence;
};

struct WriteResult {
  Result<SideItem> outcome;  ///< the item as written (new ref and version), or why not
};

/// An item whose text arrived as invalid UTF-8 and was repaired (U+FFFD) by the side that
/// read it: the item is synced with the repaired text, never failed (issue 13).
struct TextRepair {
  ItemRef ref;
  std::vector<std::string> fields;  ///< names as core/appointment_text.h gives them
};

class CalendarSide {
 public:
  virtual ~CalendarSide() = default;

  /// A short label for logs and audit: "host:jdoe", "ews:jdoe@example.com".
  virtual std::string describe() const = 0;

  /// Changes since `cursor` (empty cursor = the current position, no changes). An expired or
  /// invalid cursor fails with ErrorKind::kCursorInvalid (R27). A failed or partial read must
  /// fail, never return fewer deletions or changes than happened (R38).
  virtual Result<ChangeBatch> changes_since(const Cursor& cursor) = 0;

  /// Every item overlapping `window`, plus series with occurrences in it (first sync, resync).
  /// Returns the cursor positioned at the time of the listing alongside.
  virtual Result<std::pair<std::vector<SideItem>, Cursor>> list(const TimeWindow& window) = 0;

  /// Receives one page of a paged listing; an error stops the listing with that error.
  using ListPage = std::function<Result<void>(std::vector<SideItem>&& page)>;
  /// The listing of `list`, handed to `on_page` a page at a time, so that a first sync of a
  /// large calendar holds one page, not the calendar (issue 14). Same items, same cursor
  /// (returned); an item may come in more than one page (the last one counts). The default
  /// hands over list() as one page: a side whose listing is small may keep it.
  virtual Result<Cursor> list_paged(const TimeWindow& window, const ListPage& on_page) {
    auto listing = list(window);
    if (!listing) return std::unexpected(listing.error());
    if (auto taken = on_page(std::move(listing->first)); !taken) {
      return std::unexpected(taken.error());
    }
    return std::move(listing->second);
  }

  /// The current state of the given items; a missing item is absent from the result.
  virtual Result<std::vector<SideItem>> fetch(std::span<const ItemRef> refs) = 0;

  /// Looks up an item by the idempotency key we stamped on it (crash recovery, R28).
  virtual Result<std::optional<SideItem>> find_by_key(const IdempotencyKey& key) = 0;

  /// Looks up several keys at once: the recovery of an interrupted batch. A key not found is
  /// absent from the result. A side that can ask for many keys in one request overrides this:
  /// one request per key would rarely all succeed under a fault rate, and recovery must
  /// succeed whole before a run may write. The default asks one key at a time.
  virtual Result<std::map<IdempotencyKey, SideItem>> find_by_keys(
      std::span<const IdempotencyKey> keys) {
    std::map<IdempotencyKey, SideItem> found;
    for (const IdempotencyKey& key : keys) {
      auto item = find_by_key(key);
      if (!item) return std::unexpected(item.error());
      if (*item) found.emplace(key, std::move(**item));
    }
    return found;
  }

  /// Applies writes, batched as the protocol allows. One result per write, same order; one
  /// failed write does not fail the others.
  virtual std::vector<WriteResult> apply(std::span<const Write> writes) = 0;
  /// The repairs made by reads since the last call (the engine logs and audits them), and
  /// forgets them. A side that cannot receive invalid text has none; a side that wraps
  /// another must forward this (the default would hide the inner side's repairs).
  virtual std::vector<TextRepair> take_text_repairs() { return {}; }
};

}  // namespace agendasync
