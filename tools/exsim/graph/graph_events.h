#pragma once
/// The event handlers of exsim's Graph API: list/get/create/update/delete events, instances,
/// calendarView and calendarView/delta. Each runs with the store mutex held.
#include <string>

#include "exsim/graph/graph_delta.h"
#include "exsim/graph/graph_request.h"
#include "exsim/store/store.h"

namespace exsim {

/// What an event handler works on.
struct EventsContext {
  Store& store;
  Mailbox& mailbox;
  const GraphRequest& request;
  std::string link;  // absolute URL of the collection requested (for nextLink/deltaLink)
  GraphDelta& delta;
};

GraphReply list_events(EventsContext& ctx);
GraphReply get_event(EventsContext& ctx, const std::string& id);
GraphReply create_event(EventsContext& ctx);
GraphReply update_event(EventsContext& ctx, const std::string& id);
GraphReply delete_event(EventsContext& ctx, const std::string& id);
GraphReply list_instances(EventsContext& ctx, const std::string& id);
GraphReply calendar_view(EventsContext& ctx);
GraphReply calendar_view_delta(EventsContext& ctx);

}  // namespace exsim
