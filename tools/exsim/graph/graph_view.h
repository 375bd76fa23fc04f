#pragma once
/// How Microsoft Graph sees the mailbox store: REST ids of events (Exchange's item ids in
/// URL-safe base64, as Graph's ConvertId calls them "restId") and user ids. The calendarView
/// expansion is shared with EWS FindItem (calendar_view.h).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exsim/calendar/calendar_view.h"
#include "exsim/graph/graph_errors.h"
#include "exsim/store/store.h"

namespace exsim {

/// An event as Graph addresses it: an item, or one occurrence of a recurring master.
struct GraphEventRef {
  Mailbox* mailbox = nullptr;
  StoredItem* item = nullptr;
  std::optional<Seconds> occurrence;  // original start
};

/// The REST id of an item or occurrence (URL-safe, path-safe).
std::string graph_event_id(const Mailbox& mb, const StoredItem& item,
                           std::optional<Seconds> occurrence);
/// Resolves a REST id in `mb` (the calendar folder only); nullopt when it names nothing there,
/// including an occurrence that was deleted or never existed.
std::optional<GraphEventRef> resolve_graph_event(Mailbox& mb, std::string_view id);

/// The stable directory object id of a mailbox's user (a GUID derived from its address).
std::string graph_user_id(const Mailbox& mb);
/// Finds a mailbox by user id or user principal name (case-insensitive).
Mailbox* find_graph_user(Store& store, std::string_view id_or_upn);
/// Exchange Online's refusal of a mailbox it does not host (one on premises only); nullopt
/// when Exchange Online holds `mb`. The user itself stays readable (it is in the directory).
std::optional<GraphError> mailbox_not_online(const Mailbox& mb);

}  // namespace exsim
