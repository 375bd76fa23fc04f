#include "exsim/graph/graph_api.h"

#include <algorithm>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "exsim/graph/graph_events.h"
#include "exsim/graph/graph_mailbox_rate.h"
#include "exsim/graph/graph_subscriptions.h"
#include "exsim/graph/graph_view.h"
#include "exsim/store/ids.h"

namespace exsim {
namespace {

using nlohmann::json;

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= path.size()) {
    size_t slash = path.find('/', at);
    if (slash == std::string::npos) slash = path.size();
    if (slash > at) out.push_back(path.substr(at, slash - at));
    at = slash + 1;
  }
  return out;
}

GraphReply access_denied() {
  return GraphReply::error(
      {403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."});
}

GraphReply not_found_segment(const std::string& what) {
  return GraphReply::error(
      {400, "BadRequest", fmt::format("Resource not found for the segment '{}'.", what)});
}

GraphReply method_not_allowed() {
  return GraphReply::error({405, "ErrorInvalidRequest", "The OData request is not supported."});
}

bool is_read(const std::string& method) { return method == "GET"; }

// "xyz.ReadWrite" grants "xyz.Read"; ".All" variants grant the plain ones.
bool role_grants(const std::string& held, const std::string& wanted) {
  if (held == wanted) return true;
  auto strip_all = [](std::string r) {
    if (r.ends_with(".All")) r.resize(r.size() - 4);
    return r;
  };
  std::string h = strip_all(held), w = strip_all(wanted);
  if (h == w) return true;
  if (w.ends_with(".Read") && h == w.substr(0, w.size() - 5) + ".ReadWrite") return true;
  return false;
}

}  // namespace

bool has_role(const json& claims, const std::string& role) {
  auto roles = claims.find("roles");
  if (roles == claims.end() || !roles->is_array()) return false;
  return std::any_of(roles->begin(), roles->end(), [&](const json& r) {
    return r.is_string() && role_grants(r.get<std::string>(), role);
  });
}

GraphApi::GraphApi(Store& store, std::function<std::string()> base_url, int mailbox_concurrency)
    : store_(store), base_url_(std::move(base_url)), mailbox_concurrency_(mailbox_concurrency) {}

GraphApi::~GraphApi() = default;

void GraphApi::set_limits(const GraphLimits& limits) {
  request_rate_ = std::make_unique<MailboxRequestRate>(limits);
  upload_volume_ = std::make_unique<MailboxUploadVolume>(limits);
}

std::size_t GraphApi::refused_upload_volume() const {
  return upload_volume_ ? upload_volume_->refused() : 0;
}

std::size_t GraphApi::refused_mailbox_rate() const {
  return request_rate_ ? request_rate_->refused() : 0;
}

bool GraphApi::enter(uint32_t mailbox) {
  std::lock_guard lock(in_flight_mutex_);
  int& n = in_flight_[mailbox];
  if (mailbox_concurrency_ > 0 && n >= mailbox_concurrency_) return false;
  ++n;
  return true;
}

void GraphApi::leave(uint32_t mailbox) {
  std::lock_guard lock(in_flight_mutex_);
  --in_flight_[mailbox];
}

GraphReply GraphApi::handle(const GraphRequest& request) {
  std::vector<std::string> seg = split_path(request.path);
  if (seg.empty()) return not_found_segment("v1.0");
  if (seg[0] == "me") {
    return GraphReply::error(
        {400, "BadRequest", "/me request is only valid with delegated authentication flow."});
  }
  if (seg[0] == "subscriptions") {
    if (!subscriptions_) return not_found_segment("subscriptions");
    return subscriptions_->handle(request, std::vector<std::string>(seg.begin() + 1, seg.end()));
  }
  if (seg[0] != "users" || seg.size() < 2) return not_found_segment(seg[0]);
  Mailbox* mb = nullptr;
  {
    std::lock_guard lock(store_.mutex());
    mb = find_graph_user(store_, seg[1]);
  }
  if (!mb) {
    return GraphReply::error(
        {404, "ErrorInvalidUser", fmt::format("The requested user '{}' is invalid.", seg[1])});
  }
  // A mailbox on premises only: Exchange Online has no mailbox to serve (calendar, events,
  // mailbox settings), while the user object itself is in the directory.
  if (seg.size() > 2) {
    std::optional<GraphError> refused;
    {
      std::lock_guard lock(store_.mutex());
      refused = mailbox_not_online(*mb);
    }
    if (refused) return GraphReply::error(*refused);
  }
  // Outlook's request rate per app and mailbox (throttling-limits#outlook-service-limits);
  // each $batch member arrives here on its own, so each counts.
  if (seg.size() > 2 && request_rate_) {
    if (auto wait = request_rate_->admit(request.claims.value("appid", ""), mb->index)) {
      GraphReply reply = GraphReply::error(
          {429, "ApplicationThrottled", "Application is over its resource limit."});
      reply.headers.emplace_back("Retry-After", std::to_string(wait->count()));
      return reply;
    }
  }
  // Upload volume per app and mailbox (same page): the bodies of POST, PATCH and PUT.
  const bool upload =
      request.method == "POST" || request.method == "PATCH" || request.method == "PUT";
  if (seg.size() > 2 && upload && upload_volume_) {
    if (auto wait = upload_volume_->admit(request.claims.value("appid", ""), mb->index,
                                          request.body.size())) {
      GraphReply reply = GraphReply::error(
          {429, "ApplicationThrottled", "Application is over its resource limit."});
      reply.headers.emplace_back("Retry-After", std::to_string(wait->count()));
      return reply;
    }
  }
  if (!enter(mb->index)) {
    GraphReply reply = GraphReply::error(
        {429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit."});
    reply.headers.emplace_back("Retry-After", "1");
    return reply;
  }
  if (request.latency_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(request.latency_ms));
  GraphReply reply =
      user_request(*mb, request, std::vector<std::string>(seg.begin() + 2, seg.end()));
  leave(mb->index);
  return reply;
}

GraphReply GraphApi::user_request(Mailbox& mb, const GraphRequest& request,
                                  const std::vector<std::string>& rest) {
  const std::string user_link = fmt::format("{}/users/{}", link_base(), graph_user_id(mb));
  if (rest.empty()) {
    if (!has_role(request.claims, "User.Read.All") &&
        !has_role(request.claims, "User.ReadBasic.All") &&
        !has_role(request.claims, "Directory.Read.All")) {
      return GraphReply::error({403, "Authorization_RequestDenied",
                                "Insufficient privileges to complete the operation."});
    }
    if (request.method != "GET") return method_not_allowed();
    std::lock_guard lock(store_.mutex());
    return GraphReply::json(
        200, {{"@odata.context", "https://graph.microsoft.com/v1.0/$metadata#users/$entity"},
              {"id", graph_user_id(mb)},
              {"displayName", mb.display_name},
              {"mail", mb.address},
              {"userPrincipalName", mb.address}});
  }
  if (rest[0] == "mailboxSettings") {
    if (!has_role(request.claims, "MailboxSettings.Read")) return access_denied();
    json settings = {
        {"timeZone", "UTC"},
        {"language", {{"locale", "en-US"}, {"displayName", "English (United States)"}}}};
    if (rest.size() == 2 && rest[1] == "timeZone") {
      return GraphReply::json(
          200, {{"@odata.context", "https://graph.microsoft.com/v1.0/$metadata#users('" +
                                       graph_user_id(mb) + "')/mailboxSettings/timeZone"},
                {"value", "UTC"}});
    }
    return GraphReply::json(200, settings);
  }
  const bool write = !is_read(request.method);
  if (!has_role(request.claims, write ? "Calendars.ReadWrite" : "Calendars.Read"))
    return access_denied();
  // /calendar/..., /calendars/{id}/... and /events/... all name the one calendar exsim keeps.
  std::vector<std::string> tail = rest;
  std::string collection = user_link;
  std::string calendar_id = encode_folder_id(mb.index, FolderKind::kCalendar);
  std::replace(calendar_id.begin(), calendar_id.end(), '+', '-');
  std::replace(calendar_id.begin(), calendar_id.end(), '/', '_');
  if (tail[0] == "calendars") {
    if (tail.size() == 1) {
      if (request.method != "GET") return method_not_allowed();
      return GraphReply::json(
          200,
          {{"value",
            json::array({{{"id", calendar_id},
                          {"name", "Calendar"},
                          {"isDefaultCalendar", true},
                          {"canEdit", true},
                          {"owner", {{"name", mb.display_name}, {"address", mb.address}}}}})}});
    }
    if (tail[1] != calendar_id) {
      return GraphReply::error(
          {404, "ErrorItemNotFound", "The specified object was not found in the store."});
    }
    collection += "/calendars/" + tail[1];
    tail.erase(tail.begin(), tail.begin() + 2);
  } else if (tail[0] == "calendar") {
    collection += "/calendar";
    tail.erase(tail.begin());
  }
  if (tail.empty()) {
    if (request.method != "GET") return method_not_allowed();
    return GraphReply::json(
        200, {{"@odata.context", "https://graph.microsoft.com/v1.0/$metadata#users('" +
                                     graph_user_id(mb) + "')/calendar/$entity"},
              {"id", calendar_id},
              {"name", "Calendar"},
              {"color", "auto"},
              {"isDefaultCalendar", true},
              {"changeKey", "AgAAAA=="},
              {"canShare", true},
              {"canViewPrivateItems", true},
              {"canEdit", true},
              {"allowedOnlineMeetingProviders", {"teamsForBusiness"}},
              {"defaultOnlineMeetingProvider", "teamsForBusiness"},
              {"isTallyingResponses", true},
              {"isRemovable", false},
              {"owner", {{"name", mb.display_name}, {"address", mb.address}}}});
  }
  return events_request(mb, request, tail, collection);
}

GraphReply GraphApi::events_request(Mailbox& mb, const GraphRequest& request,
                                    const std::vector<std::string>& rest,
                                    const std::string& collection) {
  std::lock_guard lock(store_.mutex());
  EventsContext ctx{store_, mb, request, collection + "/" + rest[0], delta_};
  const std::string& m = request.method;
  if (rest[0] == "calendarView" || rest[0] == "calendarview") {
    if (m != "GET") return method_not_allowed();
    if (rest.size() == 1) return calendar_view(ctx);
    if (rest.size() == 2 && (rest[1] == "delta" || rest[1] == "microsoft.graph.delta")) {
      ctx.link += "/delta";
      return calendar_view_delta(ctx);
    }
    return not_found_segment(rest[1]);
  }
  if (rest[0] != "events") return not_found_segment(rest[0]);
  if (rest.size() == 1) {
    if (m == "GET") return list_events(ctx);
    if (m == "POST") return create_event(ctx);
    return method_not_allowed();
  }
  if (rest.size() == 2) {
    if (m == "GET") return get_event(ctx, rest[1]);
    if (m == "PATCH") return update_event(ctx, rest[1]);
    if (m == "DELETE") return delete_event(ctx, rest[1]);
    return method_not_allowed();
  }
  if (rest.size() == 3 && rest[2] == "instances" && m == "GET") {
    ctx.link += "/" + rest[1] + "/instances";
    return list_instances(ctx, rest[1]);
  }
  return not_found_segment(rest.back());
}

}  // namespace exsim
