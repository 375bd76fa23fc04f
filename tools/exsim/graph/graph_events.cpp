#include "exsim/graph/graph_events.h"

#include <algorithm>
#include <variant>

#include <fmt/format.h>

#include "exsim/graph/graph_event_json.h"
#include "exsim/graph/graph_order.h"
#include "exsim/graph/graph_view.h"
#include "exsim/store/calendar_fields.h"
#include "exsim/store/ids.h"
#include "exsim/store/xml_util.h"
#include "web/query.h"

namespace exsim {
namespace {

using nlohmann::json;

constexpr size_t kDefaultPage = 10;  // Graph's default page size for events
constexpr size_t kMaxPage = 1000;

GraphError not_found() {
  return {404, "ErrorItemNotFound", "The specified object was not found in the store."};
}

std::vector<std::string> quoted_after(const std::string& text, const std::string& marker) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = text.find(marker, at)) != std::string::npos) {
    size_t open = text.find('\'', at + marker.size());
    if (open == std::string::npos) break;
    std::string value;
    size_t i = open + 1;
    for (; i < text.size(); ++i) {
      if (text[i] == '\'') {
        if (i + 1 < text.size() && text[i + 1] == '\'') {  // OData doubles a quote
          value.push_back('\'');
          ++i;
          continue;
        }
        break;
      }
      value.push_back(text[i]);
    }
    out.push_back(value);
    at = i;
  }
  return out;
}

std::variant<EventRendering, GraphError> rendering_for(const GraphRequest& request) {
  EventRendering how;
  auto zone = preferred_zone(request);
  if (!zone) {
    return GraphError{400, "TimeZoneNotSupportedException",
                      "A valid TimeZone value must be specified in Prefer: outlook.timezone."};
  }
  how.zone = *zone;
  std::string select = request.param("$select");
  size_t at = 0;
  while (at < select.size()) {
    size_t comma = select.find(',', at);
    std::string name =
        select.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    name.erase(0, name.find_first_not_of(' '));
    while (!name.empty() && name.back() == ' ') name.pop_back();
    if (!name.empty()) how.select.insert(name);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  std::string expand = request.param("$expand");
  if (expand.find("singleValueExtendedProperties") != std::string::npos) {
    how.expand_extended = true;
    how.extended_ids = quoted_after(expand, "id eq");
  }
  return how;
}

void record_mail(EventsContext& ctx, const StoredItem& item, const char* kind) {
  if (!has_attendees(item)) return;
  OutboxMessage m;
  m.kind = kind;
  m.from = ctx.mailbox.address;
  m.to = attendee_addresses(item);
  m.subject = child_text(bag_root(item.props), "Subject");
  m.uid = child_text(bag_root(item.props), "UID");
  m.when = ctx.store.now();
  ctx.store.record_mail(std::move(m));
}

// A failing write leaves the item as it was.
StoredItem backup_of(const StoredItem& item) {
  StoredItem copy = item;
  copy.props = clone_property_bag(item.props);
  for (auto& [k, o] : copy.overrides) o.props = clone_property_bag(o.props);
  return copy;
}

std::string context_url(const EventsContext& ctx, const char* tail) {
  return fmt::format("https://graph.microsoft.com/v1.0/$metadata#users('{}'){}",
                     graph_user_id(ctx.mailbox), tail);
}

// One page of rows in $orderby's order, with @odata.nextLink carrying $skip when more remain.
GraphReply page_of(EventsContext& ctx, std::vector<ViewRow> rows, const EventRendering& how,
                   const char* context_tail) {
  if (auto e = order_rows(ctx.mailbox, rows, ctx.request.param("$orderby"))) {
    return GraphReply::error(*e);
  }
  size_t size = page_size(ctx.request, kDefaultPage, kMaxPage);
  size_t skip = static_cast<size_t>(
      std::max(0L, std::strtol(ctx.request.param("$skip").c_str(), nullptr, 10)));
  json value = json::array();
  for (size_t i = skip; i < rows.size() && i < skip + size; ++i) {
    value.push_back(render_event(ctx.mailbox, *rows[i].item, rows[i].occurrence, how));
  }
  json body = {{"@odata.context", context_url(ctx, context_tail)}};
  if (skip + size < rows.size()) {
    std::string query;
    for (const auto& [key, v] : ctx.request.query) {
      if (key == "$skip" || key == "$top") continue;
      query += fmt::format("{}={}&", agendasync::web::percent_encode(key),
                           agendasync::web::percent_encode(v));
    }
    body["@odata.nextLink"] = fmt::format("{}?{}$skip={}", ctx.link, query, skip + size);
  }
  body["value"] = std::move(value);
  GraphReply reply = GraphReply::json(200, std::move(body));
  reply.headers.emplace_back("Preference-Applied",
                             fmt::format("outlook.timezone=\"{}\"", how.zone.name));
  return reply;
}

std::optional<std::pair<Seconds, Seconds>> window_of(const GraphRequest& request) {
  auto from = parse_date_time(request.param("startDateTime"));
  auto to = parse_date_time(request.param("endDateTime"));
  if (!from || !to) return std::nullopt;
  return std::pair{from->utc(), to->utc()};
}

GraphError window_missing() {
  return {400, "ErrorInvalidParameter",
          "This request requires a time window specified by the query string parameters "
          "StartDateTime and EndDateTime."};
}

// $filter forms clients use on events: an extended property value, iCalUId, subject.
std::variant<std::function<bool(const StoredItem&)>, GraphError> filter_of(
    const std::string& filter) {
  if (filter.empty()) return [](const StoredItem&) { return true; };
  if (filter.find("singleValueExtendedProperties") != std::string::npos) {
    auto ids = quoted_after(filter, "ep/id eq");
    auto values = quoted_after(filter, "ep/value eq");
    if (ids.size() != 1) {
      return GraphError{400, "BadRequest", "Invalid filter clause: name one property id."};
    }
    auto key = extended_key_of_graph_id(ids[0]);
    if (!key)
      return GraphError{400, "BadRequest", "Invalid filter clause: unknown property id format."};
    std::optional<std::string> wanted;
    if (!values.empty()) wanted = values[0];
    return [key = *key, wanted](const StoredItem& item) {
      auto v = extended_value(item, key);
      return v && (!wanted || *v == *wanted);
    };
  }
  for (const char* field : {"iCalUId", "subject"}) {
    if (filter.starts_with(std::string(field) + " eq ")) {
      auto values = quoted_after(filter, " eq");
      if (values.size() != 1) break;
      std::string element = std::string_view(field) == "iCalUId" ? "UID" : "Subject";
      return [element, value = values[0]](const StoredItem& item) {
        return child_text(bag_root(item.props), element) == value;
      };
    }
  }
  return GraphError{
      400, "BadRequest",
      fmt::format("Invalid filter clause: exsim supports singleValueExtendedProperties/"
                  "Any(ep: ep/id eq '...' and ep/value eq '...'), iCalUId eq and "
                  "subject eq, not '{}'.",
                  filter)};
}

bool etag_matches(const std::string& if_match, const StoredItem& item) {
  if (if_match.empty() || if_match == "*") return true;
  std::string want = if_match;
  if (want.starts_with("W/")) want = want.substr(2);
  if (want.size() >= 2 && want.front() == '"' && want.back() == '"')
    want = want.substr(1, want.size() - 2);
  return decode_change_key(want, item.id) == item.version;
}

GraphReply precondition_failed() {
  return GraphReply::error({412, "ErrorIrresolvableConflict",
                            "The send or update operation could not be performed because the "
                            "change key passed in the request does not match the current change "
                            "key for the item."});
}

}  // namespace

GraphReply list_events(EventsContext& ctx) {
  auto how = rendering_for(ctx.request);
  if (auto* e = std::get_if<GraphError>(&how)) return GraphReply::error(*e);
  auto filter = filter_of(ctx.request.param("$filter"));
  if (auto* e = std::get_if<GraphError>(&filter)) return GraphReply::error(*e);
  auto& keep = std::get<std::function<bool(const StoredItem&)>>(filter);
  std::vector<ViewRow> rows;
  for (auto& [id, item] : ctx.mailbox.items) {
    if (item.folder == FolderKind::kCalendar && keep(item))
      rows.push_back({&item, std::nullopt, item.start});
  }
  return page_of(ctx, rows, std::get<EventRendering>(how), "/events");
}

GraphReply get_event(EventsContext& ctx, const std::string& id) {
  auto how = rendering_for(ctx.request);
  if (auto* e = std::get_if<GraphError>(&how)) return GraphReply::error(*e);
  auto ref = resolve_graph_event(ctx.mailbox, id);
  if (!ref) return GraphReply::error(not_found());
  json body = render_event(ctx.mailbox, *ref->item, ref->occurrence, std::get<EventRendering>(how));
  body["@odata.context"] = context_url(ctx, "/events/$entity");
  return GraphReply::json(200, std::move(body));
}

GraphReply create_event(EventsContext& ctx) {
  auto how = rendering_for(ctx.request);
  if (auto* e = std::get_if<GraphError>(&how)) return GraphReply::error(*e);
  auto body = json::parse(ctx.request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return GraphReply::error({400, "BadRequest",
                              "Unable to read JSON request payload. Please ensure Content-Type "
                              "header is set and payload is of valid JSON format."});
  }
  if (!body.contains("start") || !body.contains("end")) {
    return GraphReply::error(
        {400, "ErrorInvalidRequest", "An event needs start and end (dateTimeTimeZone)."});
  }
  StoredItem& item = ctx.store.new_item(ctx.mailbox, FolderKind::kCalendar);
  if (auto e = apply_event_json(item, std::nullopt, body)) {
    ctx.mailbox.items.erase(item.id);
    return GraphReply::error(*e);
  }
  item.field_versions.clear();
  ctx.store.record_create(ctx.mailbox, item);
  // Graph sends the invitation for an event with attendees: Exchange would have mailed it.
  if (has_attendees(item)) {
    item.meeting_request_sent = true;
    record_mail(ctx, item, "MeetingRequest");
  }
  json out = render_event(ctx.mailbox, item, std::nullopt, std::get<EventRendering>(how));
  out["@odata.context"] = context_url(ctx, "/events/$entity");
  GraphReply reply = GraphReply::json(201, std::move(out));
  reply.headers.emplace_back(
      "Location", fmt::format("{}/{}", ctx.link, graph_event_id(ctx.mailbox, item, std::nullopt)));
  return reply;
}

GraphReply update_event(EventsContext& ctx, const std::string& id) {
  auto how = rendering_for(ctx.request);
  if (auto* e = std::get_if<GraphError>(&how)) return GraphReply::error(*e);
  auto ref = resolve_graph_event(ctx.mailbox, id);
  if (!ref) return GraphReply::error(not_found());
  if (!etag_matches(ctx.request.header("if-match"), *ref->item)) return precondition_failed();
  auto body = json::parse(ctx.request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return GraphReply::error({400, "BadRequest",
                              "Unable to read JSON request payload. Please ensure Content-Type "
                              "header is set and payload is of valid JSON format."});
  }
  StoredItem backup = backup_of(*ref->item);
  if (auto e = apply_event_json(*ref->item, ref->occurrence, body)) {
    *ref->item = std::move(backup);
    return GraphReply::error(*e);
  }
  ctx.store.record_update(ctx.mailbox, *ref->item);
  if (has_attendees(*ref->item)) {
    ++ref->item->sequence_number;
    record_mail(ctx, *ref->item, "MeetingUpdate");
  }
  json out = render_event(ctx.mailbox, *ref->item, ref->occurrence, std::get<EventRendering>(how));
  out["@odata.context"] = context_url(ctx, "/events/$entity");
  return GraphReply::json(200, std::move(out));
}

GraphReply delete_event(EventsContext& ctx, const std::string& id) {
  auto ref = resolve_graph_event(ctx.mailbox, id);
  if (!ref) return GraphReply::error(not_found());
  if (!etag_matches(ctx.request.header("if-match"), *ref->item)) return precondition_failed();
  StoredItem& item = *ref->item;
  // Deleting a meeting on the organiser's calendar sends the cancellation.
  record_mail(ctx, item, "MeetingCancellation");
  if (ref->occurrence) {
    item.overrides.erase(*ref->occurrence);
    item.deleted_occurrences.insert(*ref->occurrence);
    ctx.store.record_update(ctx.mailbox, item);
  } else {
    // Graph's DELETE moves the event to Deleted Items, as EWS MoveToDeletedItems does.
    StoredItem& moved = ctx.store.new_item(ctx.mailbox, FolderKind::kDeletedItems);
    uint64_t new_id = moved.id;
    moved = backup_of(item);
    moved.id = new_id;
    moved.folder = FolderKind::kDeletedItems;
    ctx.store.record_create(ctx.mailbox, moved);
    ctx.store.remove_item(ctx.mailbox, item.id);
  }
  GraphReply reply;
  reply.status = 204;
  return reply;
}

GraphReply list_instances(EventsContext& ctx, const std::string& id) {
  auto how = rendering_for(ctx.request);
  if (auto* e = std::get_if<GraphError>(&how)) return GraphReply::error(*e);
  auto window = window_of(ctx.request);
  if (!window) return GraphReply::error(window_missing());
  auto ref = resolve_graph_event(ctx.mailbox, id);
  if (!ref) return GraphReply::error(not_found());
  std::vector<ViewRow> rows;
  if (!ref->occurrence) rows = instance_rows(*ref->item, window->first, window->second);
  return page_of(ctx, rows, std::get<EventRendering>(how), "/events");
}

GraphReply calendar_view(EventsContext& ctx) {
  auto how = rendering_for(ctx.request);
  if (auto* e = std::get_if<GraphError>(&how)) return GraphReply::error(*e);
  auto window = window_of(ctx.request);
  if (!window) return GraphReply::error(window_missing());
  return page_of(
      ctx, calendar_view_rows(ctx.mailbox, FolderKind::kCalendar, window->first, window->second),
      std::get<EventRendering>(how), "/calendarView");
}

GraphReply calendar_view_delta(EventsContext& ctx) {
  auto how = rendering_for(ctx.request);
  if (auto* e = std::get_if<GraphError>(&how)) return GraphReply::error(*e);
  return ctx.delta.handle(ctx.mailbox, ctx.request, ctx.link, std::get<EventRendering>(how));
}

}  // namespace exsim
