#pragma once
/// Parsers for EWS SOAP responses into typed values. One ResponseMessage per element of
/// m:ResponseMessages (one per item for batch operations), so one failed item does not
/// hide the others. A SOAP Fault (ErrorServerBusy and friends) becomes `fault`.
/// Reference:
/// https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/verifying-the-results-of-an-ews-or-ews-managed-api-call
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/ews/calendar_item.h"
#include "core/error.h"

namespace agendasync::ews {

/// SyncFolderItems change kinds.
enum class ChangeKind { kCreate, kUpdate, kDelete, kReadFlag };
struct ItemChangeEvent {
  ChangeKind kind = ChangeKind::kCreate;
  ItemId item_id;
};

/// One notification event (CreatedEvent, ModifiedEvent, ...) of a streaming subscription.
struct NotificationEvent {
  std::string type;             ///< element name, e.g. "ModifiedEvent", "StatusEvent"
  std::string subscription_id;  ///< the Notification's subscription (one stream carries many)
  ItemId item_id;               ///< empty for folder events and StatusEvent
};

struct ResponseMessage {
  std::string element;         ///< e.g. "GetItemResponseMessage"
  std::string response_class;  ///< Success, Warning, Error
  std::string response_code;   ///< NoError, ErrorItemNotFound, ...
  std::string message_text;
  std::optional<std::chrono::milliseconds> back_off;  ///< MessageXml BackOffMilliseconds
  std::vector<CalendarItem> items;                    ///< calendar items (Items, RootFolder/Items)
  std::vector<ItemId> other_item_ids;                 ///< ids of non-calendar items in Items
  // FindItem RootFolder / SyncFolderItems paging
  std::optional<bool> includes_last_item_in_range;
  int total_items_in_view = 0;
  // SyncFolderItems
  std::string sync_state;
  std::vector<ItemChangeEvent> changes;
  // Subscribe / GetStreamingEvents
  std::string subscription_id;
  std::string watermark;
  std::string connection_status;  ///< GetStreamingEvents: OK or Closed
  std::vector<NotificationEvent> notifications;
  /// GetStreamingEvents: the subscriptions the server the request reached does not hold (lost
  /// in a restart, or created on another mailbox server); the others keep streaming.
  /// https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/errorsubscriptionids
  std::vector<std::string> error_subscription_ids;

  bool ok() const { return response_class == "Success" || response_class == "Warning"; }
};

struct ServerVersionInfo {
  int major = 0;
  int minor = 0;
  int major_build = 0;
  int minor_build = 0;
  std::string version;  ///< "V2_6", "Exchange2016", ... when sent
};

struct SoapResponse {
  std::string operation;  ///< e.g. "GetItemResponse"
  std::optional<ServerVersionInfo> server_version;
  std::vector<ResponseMessage> messages;
  /// A SOAP Fault: its ResponseCode (e.g. ErrorServerBusy), text and BackOffMilliseconds.
  std::optional<ResponseMessage> fault;
};

/// Parses one response envelope. kInvalidData when it is not XML, has a DOCTYPE, or is no
/// SOAP envelope with a body.
Result<SoapResponse> parse_response(std::string_view text);

}  // namespace agendasync::ews
