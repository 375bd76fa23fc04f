#pragma once
/// Builders for every EWS SOAP request the connector sends. Each returns the full envelope
/// text; the soap:Header carries RequestServerVersion and, in impersonation mode,
/// ExchangeImpersonation (R3). Writes always send no mail (SendToNone, R39).
/// Reference:
/// https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/ews-operations-in-exchange
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "connectors/ews/calendar_item.h"
#include "connectors/ews/version.h"

namespace agendasync::ews {

/// How the service account reaches the user's mailbox (R3).
enum class AccessMode { kImpersonation, kDelegate };

/// Who a request acts for.
struct RequestContext {
  ServerVersion version = ServerVersion::kExchange2016;
  AccessMode mode = AccessMode::kImpersonation;
  std::string mailbox;  ///< the user's SMTP address
};

/// An occurrence of a series addressed by its position (OccurrenceItemId).
struct OccurrenceRef {
  std::string master_id;
  std::string change_key;  ///< of the master; may be empty
  int instance_index = 1;  ///< 1-based
};
/// What an UpdateItem/DeleteItem addresses: an item (or occurrence) by its own id, or an
/// occurrence by series + index.
using ItemTarget = std::variant<ItemId, OccurrenceRef>;

/// One UpdateItem change: only the fields that differ between `before` and `after` are sent.
struct ItemChange {
  ItemTarget target;
  CalendarItem before;
  CalendarItem after;
  /// No `before` known: set every writable field `after` has a value for.
  bool set_all = false;
};

std::string build_get_item(const RequestContext& context, std::span<const ItemId> ids);
/// GetItem of the series masters of occurrences (RecurringMasterItemId).
std::string build_get_masters(const RequestContext& context,
                              std::span<const std::string> occurrence_ids);
/// FindItem with a CalendarView on the calendar folder; `max_entries` per page.
std::string build_find_calendar_view(const RequestContext& context, Instant from, Instant to,
                                     int max_entries);
/// FindItem (shallow, ids only) for the items stamped with our idempotency key.
std::string build_find_by_key(const RequestContext& context, const std::string& key);
/// FindItem for the items stamped with any of `keys`: ids and the key property, so each id
/// can be matched to its key (the lookup after a CreateItem whose answer was lost).
std::string build_find_by_keys(const RequestContext& context, std::span<const std::string> keys);
/// SyncFolderItems on the calendar; an empty `sync_state` starts from the beginning.
std::string build_sync_folder_items(const RequestContext& context, const std::string& sync_state,
                                    int max_changes = 512);
std::string build_create_item(const RequestContext& context, std::span<const CalendarItem> items);
std::string build_update_item(const RequestContext& context, std::span<const ItemChange> changes);
std::string build_delete_item(const RequestContext& context, std::span<const ItemTarget> targets);
/// A streaming subscription to the calendar folder's item events.
std::string build_subscribe_streaming(const RequestContext& context);
/// GetStreamingEvents' ConnectionTimeout: 1..30 minutes (types.xsd; Exchange answers anything
/// else with ErrorInvalidArgument / a schema error). Every value asked for is brought into it.
inline constexpr int kMinConnectionTimeoutMinutes = 1;
inline constexpr int kMaxConnectionTimeoutMinutes = 30;
/// Streaming events for `subscription_ids`; the connection stays open for
/// `connection_timeout_minutes`, clamped to 1..30.
std::string build_get_streaming_events(const RequestContext& context,
                                       std::span<const std::string> subscription_ids,
                                       int connection_timeout_minutes);
/// GetFolder on the calendar: the cheapest call that proves impersonation and calendar
/// access (doctor).
std::string build_get_calendar_folder(const RequestContext& context);

/// The HTTP headers every EWS call carries (content type, X-AnchorMailbox for routing).
std::vector<std::pair<std::string, std::string>> request_headers(const RequestContext& context);

}  // namespace agendasync::ews
