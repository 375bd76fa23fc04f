#pragma once
/// $orderby on event collections (/events, /calendarView, /instances): the OData system query
/// option Graph documents for every list of events, e.g. `$orderby=start/dateTime desc,subject`.
/// Reference: learn.microsoft.com/graph/query-parameters#orderby-parameter and
/// learn.microsoft.com/graph/api/user-list-events ("supports the OData query parameters").
#include <optional>
#include <string>
#include <vector>

#include "exsim/calendar/calendar_view.h"
#include "exsim/graph/graph_errors.h"
#include "exsim/store/store.h"

namespace exsim {

/// Sorts `rows` (stably) by `orderby`: comma-separated property paths of the event resource
/// (`start/dateTime`, `subject`, `lastModifiedDateTime`, ...), each optionally followed by
/// `asc` or `desc`. Empty `orderby` leaves the rows as they are. Returns a 400 for a property
/// the event resource does not have.
std::optional<GraphError> order_rows(const Mailbox& mb, std::vector<ViewRow>& rows,
                                     const std::string& orderby);

}  // namespace exsim
