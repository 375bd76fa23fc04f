#include "exsim/graph/graph_delta.h"

#include <fmt/format.h>

#include "exsim/graph/graph_view.h"
#include "exsim/store/ids.h"

namespace exsim {
namespace {

using nlohmann::json;

std::string new_token() {
  std::string token = base64_encode(random_bytes(24));
  for (char& c : token) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return token;
}

GraphReply gone() {
  return GraphReply::error({410, "syncStateNotFound",
                            "The sync state generation is not found. The delta token is expired "
                            "and data must be synchronized again."});
}

}  // namespace

std::string GraphDelta::remember(Snapshot snapshot) {
  std::string token = new_token();
  snapshots_.emplace(token, std::move(snapshot));
  snapshot_order_.push_back(token);
  while (snapshot_order_.size() > max_tokens_) {
    snapshots_.erase(snapshot_order_.front());
    snapshot_order_.pop_front();
  }
  return token;
}

GraphReply GraphDelta::page(const std::string& skip_token, Session& session,
                            const std::string& link) {
  json value = json::array();
  size_t end = std::min(session.entries.size(), session.next + session.page);
  for (size_t i = session.next; i < end; ++i) value.push_back(std::move(session.entries[i]));
  session.next = end;
  json body = {{"@odata.context", "https://graph.microsoft.com/v1.0/$metadata#Collection(event)"}};
  if (session.next < session.entries.size()) {
    body["@odata.nextLink"] = fmt::format("{}?$skiptoken={}", link, skip_token);
  } else {
    body["@odata.deltaLink"] = fmt::format("{}?$deltatoken={}", link, session.delta_token);
    sessions_.erase(skip_token);
  }
  body["value"] = std::move(value);
  return GraphReply::json(200, std::move(body));
}

GraphReply GraphDelta::handle(Mailbox& mb, const GraphRequest& request, const std::string& link,
                              const EventRendering& how) {
  std::lock_guard lock(mutex_);
  if (std::string skip = request.param("$skiptoken"); !skip.empty()) {
    auto it = sessions_.find(skip);
    if (it == sessions_.end() || it->second.mailbox != mb.index) return gone();
    return page(skip, it->second, link);
  }
  Snapshot next;
  next.mailbox = mb.index;
  const Snapshot* previous = nullptr;
  if (std::string token = request.param("$deltatoken"); !token.empty()) {
    auto it = snapshots_.find(token);
    if (it == snapshots_.end() || it->second.mailbox != mb.index) return gone();
    previous = &it->second;
    next.from = previous->from;
    next.to = previous->to;
  } else {
    auto from = parse_date_time(request.param("startDateTime"));
    auto to = parse_date_time(request.param("endDateTime"));
    if (!from || !to) {
      return GraphReply::error({400, "ErrorInvalidParameter",
                                "This request requires a time window specified by the query "
                                "string parameters StartDateTime and EndDateTime."});
    }
    next.from = from->utc();
    next.to = to->utc();
  }
  Session session;
  session.mailbox = mb.index;
  session.page = page_size(request, 10, 1000);
  for (const ViewRow& row : calendar_view_rows(mb, FolderKind::kCalendar, next.from, next.to)) {
    std::string id = graph_event_id(mb, *row.item, row.occurrence);
    next.versions[id] = row.item->version;
    if (previous) {
      auto seen = previous->versions.find(id);
      if (seen != previous->versions.end() && seen->second == row.item->version) continue;
    }
    session.entries.push_back(render_event(mb, *row.item, row.occurrence, how));
  }
  if (previous) {
    for (const auto& [id, version] : previous->versions) {
      if (next.versions.count(id)) continue;
      session.entries.push_back({{"@odata.type", "#microsoft.graph.event"},
                                 {"id", id},
                                 {"@removed", {{"reason", "deleted"}}}});
    }
  }
  session.delta_token = remember(std::move(next));
  std::string skip = new_token();
  Session& stored = sessions_.emplace(skip, std::move(session)).first->second;
  session_order_.push_back(skip);
  while (session_order_.size() > max_tokens_) {
    sessions_.erase(session_order_.front());
    session_order_.pop_front();
  }
  return page(skip, stored, link);
}

}  // namespace exsim
