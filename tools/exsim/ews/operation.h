#pragma once
/// What every EWS operation handler gets: the store, the caller, the request and the response
/// under construction; plus the helpers they share (folder and item id resolution, errors).
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <pugixml.hpp>

#include "exsim/ews/soap.h"
#include "exsim/server/config.h"
#include "exsim/store/calendar_fields.h"
#include "exsim/store/ids.h"
#include "exsim/store/store.h"

namespace exsim {

class FindCountBudget;
class Outbox;
class Subscriptions;

/// Per-request context. The store mutex is held for the whole operation.
struct OperationContext {
  Store& store;
  const ServerConfig& config;
  const SyncStateCodec& sync_states;
  Subscriptions& subscriptions;
  const AccountConfig& account;
  Mailbox* principal;  // the mailbox the caller acts as (own or impersonated); may be null
  TimeContext time;
  pugi::xml_node request;  // the operation element
  SoapResponse& response;
  /// Set by a handler whose whole request fails (answered as a SOAP fault).
  std::optional<SoapFault> fault;
  /// The simulated Mailbox server the request was routed to (mailbox_servers.h).
  int server = 0;
  /// What the request's budgets are charged to (hanging_connections.h).
  std::string budget_key;
  /// The rank of the request's RequestServerVersion (versions.h); 0 (Exchange2007) without one.
  int request_version = 0;
  /// EWSFindCountLimit (find_count_budget.h); null: rows are not counted.
  FindCountBudget* find_count = nullptr;
  /// Budget charges that last until the response is handed back.
  std::vector<std::shared_ptr<void>> holds{};
};

/// An EWS error for one response message.
struct EwsError {
  std::string code;
  std::string message;
};

/// Resolves a folder id element (DistinguishedFolderId / FolderId) to a mailbox and folder,
/// checking that the caller may open it.
std::variant<std::pair<Mailbox*, FolderKind>, EwsError> resolve_folder(OperationContext& ctx,
                                                                       pugi::xml_node id);

/// An item (or one occurrence of it) named by ItemId, OccurrenceItemId or RecurringMasterItemId.
struct ResolvedItem {
  Mailbox* mailbox;
  StoredItem* item;
  std::optional<Seconds> occurrence;  // original start
};
std::variant<ResolvedItem, EwsError> resolve_item(OperationContext& ctx, pugi::xml_node id);

/// The mailbox at `address` as the on-premises server sees it: null when there is none or
/// when it moved to Exchange Online (the on-premises object is then a mail user without a
/// mailbox, so EWS answers ErrorNonExistentMailbox; README "Hybrid mailboxes").
Mailbox* on_premises_mailbox(Store& store, std::string_view address);
/// ErrorNonExistentMailbox's text for `address`.
std::string no_mailbox_message(std::string_view address);

/// Whether the caller may open `mb`.
bool may_access(const OperationContext& ctx, const Mailbox& mb);

/// Whether the request's RequestServerVersion (Exchange2010_SP1 or later) lets a paged
/// FindItem/FindFolder over EWSFindCountLimit be answered in part.
bool pages_partially(const OperationContext& ctx);
/// Charges `rows` FindItem/FindFolder rows to the caller's EWSFindCountLimit and holds them in
/// `ctx.holds`. Returns the rows that may be answered (fewer for a `paged` request that does
/// not fit), or nullopt after setting `ctx.fault` to ErrorServerBusy.
std::optional<std::size_t> charge_find_rows(OperationContext& ctx, std::size_t rows,
                                            bool restricted, bool paged);

/// Operation handlers (one file per family).
void handle_get_folder(OperationContext& ctx);
void handle_find_folder(OperationContext& ctx);
void handle_create_item(OperationContext& ctx);
void handle_get_item(OperationContext& ctx);
void handle_update_item(OperationContext& ctx);
void handle_delete_item(OperationContext& ctx);
void handle_find_item(OperationContext& ctx);
void handle_sync_folder_items(OperationContext& ctx);
void handle_resolve_names(OperationContext& ctx);
void handle_convert_id(OperationContext& ctx);
void handle_get_server_time_zones(OperationContext& ctx);
void handle_subscribe(OperationContext& ctx);
void handle_unsubscribe(OperationContext& ctx);
void handle_get_events(OperationContext& ctx);

}  // namespace exsim
