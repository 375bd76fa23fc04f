#pragma once
/// The in-memory mailbox store: calendar items as Exchange keeps them (properties as the
/// client set them, plus the state Exchange derives), the change log that SyncFolderItems and
/// streaming notifications read, and the outbox of mail Exchange would have sent.
/// Thread safety: callers hold Store::mutex() for every access.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <pugixml.hpp>

#include "exsim/calendar/recurrence.h"
#include "exsim/store/ews_time.h"
#include "exsim/store/ids.h"
#include "exsim/store/mailbox_location.h"

namespace exsim {

/// Properties of one item (or of one modified occurrence) as the client set them, held as
/// <t:CalendarItem> children with the "t:" prefix, in schema order.
using PropertyBag = std::shared_ptr<pugi::xml_document>;
PropertyBag new_property_bag();
PropertyBag clone_property_bag(const PropertyBag& bag);
/// The <t:CalendarItem> root of a bag.
pugi::xml_node bag_root(const PropertyBag& bag);

/// A modified occurrence of a recurring master (an "Exception" in EWS terms).
struct OccurrenceOverride {
  PropertyBag props;  // only the properties that differ from the master
  Seconds start;
  Seconds end;
};

/// One calendar item.
struct StoredItem {
  uint64_t id = 0;
  FolderKind folder = FolderKind::kCalendar;
  uint64_t version = 1;     // ChangeKey; bumps on every change of the item or its occurrences
  uint64_t create_seq = 0;  // mailbox change sequence at creation
  uint64_t change_seq = 0;  // mailbox change sequence at the last change
  PropertyBag props;
  std::map<std::string, uint64_t> field_versions;  // field URI -> version that last set it
  Seconds start{};
  Seconds end{};
  std::optional<RecurrenceRule> rule;
  Zone zone;                                        // the zone the series repeats in
  std::map<Seconds, OccurrenceOverride> overrides;  // by original start
  std::set<Seconds> deleted_occurrences;            // by original start
  Seconds created{};
  Seconds modified{};
  bool meeting_request_sent = false;
  int sequence_number = 0;
};

/// A bound for open-ended expansion (2200-01-01): far beyond any sync window, still a date
/// every calendar library handles.
Seconds far_future();
/// Occurrence starts of a master in order (original starts), at most `max`, none after `until`.
std::vector<Seconds> occurrence_starts(const StoredItem& master, Seconds until, size_t max);
/// True when the item has attendees (it is a meeting).
bool has_attendees(const StoredItem& item);
/// Addresses of every attendee of the item.
std::vector<std::string> attendee_addresses(const StoredItem& item);

/// A removed item, kept so that SyncFolderItems can report the deletion.
struct Tombstone {
  uint64_t id;
  FolderKind folder;
  uint64_t create_seq;
  uint64_t seq;
};

/// A change as streaming notifications report it.
struct ChangeEvent {
  enum class Kind { kCreated, kModified, kDeleted } kind;
  uint64_t seq;
  uint64_t item;
  FolderKind folder;
  Seconds when;
};

/// Mail Exchange would have sent on the organiser's behalf.
struct OutboxMessage {
  std::string kind;  // MeetingRequest, MeetingUpdate, MeetingCancellation
  std::string from;
  std::vector<std::string> to;
  std::string subject;
  std::string uid;
  Seconds when;
};

/// One mailbox.
struct Mailbox {
  uint32_t index = 0;
  std::string address;
  std::string display_name;
  std::map<uint64_t, StoredItem> items;
  std::vector<Tombstone> tombstones;
  std::deque<ChangeEvent> events;  // bounded log for notifications
  uint64_t seq = 0;                // change sequence (SyncFolderItems watermark)
  MailboxLocation location = MailboxLocation::kEverywhere;  // hybrid placement
  std::string target_address;  // where on-premises Autodiscover redirects once moved online
};

/// Told about every change, after it happened (persistence hooks in here).
class StoreObserver {
 public:
  virtual ~StoreObserver() = default;
  virtual void item_saved(const Mailbox& mb, const StoredItem& item) = 0;
  virtual void item_removed(const Mailbox& mb, const Tombstone& tombstone) = 0;
  virtual void mail_recorded(const OutboxMessage& message) = 0;
};

/// All mailboxes, the outbox and the clock.
class Store {
 public:
  Store();
  std::mutex& mutex() { return mutex_; }
  /// Signalled after every change (streaming subscriptions wait on it with mutex()).
  std::condition_variable& changed() { return changed_; }

  Mailbox& add_mailbox(const std::string& address, const std::string& display_name);
  /// Case-insensitive lookup by SMTP address.
  Mailbox* find_mailbox(std::string_view address);
  Mailbox* mailbox_at(uint32_t index);
  const std::vector<std::unique_ptr<Mailbox>>& mailboxes() const { return mailboxes_; }

  /// A new item in `mb` (not yet counted as a change; call record_create).
  StoredItem& new_item(Mailbox& mb, FolderKind folder);
  void record_create(Mailbox& mb, StoredItem& item);
  /// Bumps version and change sequence after a modification.
  void record_update(Mailbox& mb, StoredItem& item);
  /// Removes the item, leaving a tombstone.
  void remove_item(Mailbox& mb, uint64_t id);

  std::vector<OutboxMessage>& outbox() { return outbox_; }
  /// Records mail Exchange would have sent.
  void record_mail(OutboxMessage message);
  /// Persistence (or any observer) of changes; not owned; null = none.
  void set_observer(StoreObserver* observer) { observer_ = observer; }
  /// Restores a saved item as it was (ids, versions, sequences); no change is recorded.
  StoredItem& restore_item(Mailbox& mb, uint64_t id);
  void restore_tombstone(Mailbox& mb, const Tombstone& t) { mb.tombstones.push_back(t); }
  Seconds now() const;

 private:
  void push_event(Mailbox& mb, ChangeEvent::Kind kind, uint64_t item, FolderKind folder);

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::unique_ptr<Mailbox>> mailboxes_;
  std::map<std::string, Mailbox*> by_address_;  // lower-case address -> mailbox
  std::vector<OutboxMessage> outbox_;
  uint64_t next_item_id_ = 1;
  StoreObserver* observer_ = nullptr;
};

}  // namespace exsim
