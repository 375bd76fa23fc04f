#pragma once
/// Graph's `event` resource over the mailbox store. Reads render a stored item (or one
/// occurrence) as Graph JSON; writes translate the JSON into the same CalendarItem properties
/// an EWS client would set and apply them with calendar_fields' set_field, so that an event
/// written over one API reads back identically over the other.
/// Reference: learn.microsoft.com/graph/api/resources/event
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "exsim/graph/graph_errors.h"
#include "exsim/graph/graph_time.h"
#include "exsim/store/store.h"

namespace exsim {

/// How to render events: the zone of start/end (Prefer: outlook.timezone), $select and the
/// singleValueExtendedProperties $expand.
struct EventRendering {
  GraphZone zone{"UTC", "UTC", Zone()};
  std::set<std::string> select;  // empty = every property
  bool expand_extended = false;
  std::vector<std::string> extended_ids;  // $filter=id eq '...' (empty = all)
};

/// The event JSON of an item or of one occurrence of it.
nlohmann::json render_event(const Mailbox& mb, const StoredItem& item,
                            std::optional<Seconds> occurrence, const EventRendering& how);

/// The W/"changeKey" etag of an item (occurrences share their master's).
std::string event_etag(const StoredItem& item);

/// Applies a POST or PATCH body to `item` (or to its occurrence `occurrence`, which becomes an
/// exception). The caller restores the item when an error comes back.
std::optional<GraphError> apply_event_json(StoredItem& item, std::optional<Seconds> occurrence,
                                           const nlohmann::json& body);

/// The EWS extended-property key (calendar_fields' extended_key) of a Graph property id such
/// as "String {guid} Name X"; nullopt when the id is not in one of Graph's forms.
std::optional<std::string> extended_key_of_graph_id(const std::string& id);

}  // namespace exsim
