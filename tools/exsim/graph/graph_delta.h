#pragma once
/// calendarView/delta: a round starts with a window (startDateTime, endDateTime), pages with
/// @odata.nextLink ($skiptoken), ends with @odata.deltaLink ($deltatoken). A delta token names
/// a snapshot of the window (instance id -> version); the next round reports instances that
/// are new or changed since it and `@removed` entries for those gone. Like Exchange Online's
/// delta token cache, old snapshots are evicted: an unknown token is 410 Gone
/// (syncStateNotFound) and the client starts over.
/// Reference: learn.microsoft.com/graph/api/event-delta, graph/delta-query-overview
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "exsim/graph/graph_event_json.h"
#include "exsim/graph/graph_request.h"
#include "exsim/store/store.h"

namespace exsim {

/// Snapshots and paging sessions of delta rounds, shared by every mailbox.
class GraphDelta {
 public:
  /// `max_tokens`: how many snapshots are kept before the oldest is forgotten.
  explicit GraphDelta(size_t max_tokens = 4096) : max_tokens_(max_tokens) {}
  /// Answers one delta request for `mb` (store mutex held by the caller). `link` is the
  /// absolute URL of the delta function, the base of nextLink and deltaLink.
  GraphReply handle(Mailbox& mb, const GraphRequest& request, const std::string& link,
                    const EventRendering& how);

 private:
  struct Snapshot {
    uint32_t mailbox = 0;
    Seconds from{};
    Seconds to{};
    std::map<std::string, uint64_t> versions;  // instance id -> its item's version
  };
  struct Session {
    uint32_t mailbox = 0;
    std::vector<nlohmann::json> entries;
    size_t next = 0;
    size_t page = 10;
    std::string delta_token;
  };
  GraphReply page(const std::string& skip_token, Session& session, const std::string& link);
  std::string remember(Snapshot snapshot);

  std::mutex mutex_;
  size_t max_tokens_;
  std::map<std::string, Snapshot> snapshots_;
  std::deque<std::string> snapshot_order_;
  std::map<std::string, Session> sessions_;
  std::deque<std::string> session_order_;
};

}  // namespace exsim
