#include "exsim/graph/graph_event_json.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "exsim/graph/graph_recurrence.h"
#include "exsim/graph/graph_view.h"
#include "exsim/store/calendar_fields.h"
#include "exsim/store/ids.h"
#include "exsim/store/xml_util.h"

namespace exsim {
namespace {

using nlohmann::json;

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string first_upper(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  return text;
}

// The CalendarItem fields a Graph event is made of (zones are read from the bag directly, so
// that rendering does not build full zone definitions).
const ItemShape& event_shape() {
  static const ItemShape shape = [] {
    ItemShape s;
    s.base = ItemShape::Base::kIdOnly;
    for (const char* uri : {"item:Subject",
                            "item:Sensitivity",
                            "item:Body",
                            "item:Categories",
                            "item:Importance",
                            "item:DateTimeCreated",
                            "item:ReminderIsSet",
                            "item:ReminderMinutesBeforeStart",
                            "item:LastModifiedTime",
                            "calendar:UID",
                            "calendar:Start",
                            "calendar:End",
                            "calendar:IsAllDayEvent",
                            "calendar:LegacyFreeBusyStatus",
                            "calendar:Location",
                            "calendar:IsCancelled",
                            "calendar:IsResponseRequested",
                            "calendar:CalendarItemType",
                            "calendar:Organizer",
                            "calendar:RequiredAttendees",
                            "calendar:OptionalAttendees",
                            "calendar:Resources",
                            "calendar:AllowNewTimeProposal",
                            "calendar:IsOnlineMeeting",
                            "calendar:MeetingWorkspaceUrl"}) {
      s.uris.insert(uri);
    }
    return s;
  }();
  return shape;
}

json email_address(pugi::xml_node mailbox) {
  return {{"name", child_text(mailbox, "Name")}, {"address", child_text(mailbox, "EmailAddress")}};
}

std::string graph_response(std::string_view ews) {
  if (ews == "Accept") return "accepted";
  if (ews == "Tentative") return "tentativelyAccepted";
  if (ews == "Decline") return "declined";
  if (ews == "Organizer") return "organizer";
  if (ews == "NoResponseReceived") return "notResponded";
  return "none";
}

std::string ews_response(const std::string& graph) {
  if (graph == "accepted") return "Accept";
  if (graph == "tentativelyaccepted") return "Tentative";
  if (graph == "declined") return "Decline";
  if (graph == "organizer") return "Organizer";
  if (graph == "notresponded") return "NoResponseReceived";
  return "Unknown";
}

std::string show_as_of(std::string_view status) {
  if (status == "Free") return "free";
  if (status == "Tentative") return "tentative";
  if (status == "OOF") return "oof";
  if (status == "WorkingElsewhere") return "workingElsewhere";
  if (status == "NoData") return "unknown";
  return "busy";
}

std::optional<std::string> free_busy_of(const std::string& show_as) {
  const std::string v = lower(show_as);
  if (v == "free") return "Free";
  if (v == "tentative") return "Tentative";
  if (v == "busy") return "Busy";
  if (v == "oof") return "OOF";
  if (v == "workingelsewhere") return "WorkingElsewhere";
  if (v == "unknown") return "NoData";
  return std::nullopt;
}

std::string type_of(std::string_view calendar_item_type) {
  if (calendar_item_type == "Occurrence") return "occurrence";
  if (calendar_item_type == "Exception") return "exception";
  if (calendar_item_type == "RecurringMaster") return "seriesMaster";
  return "singleInstance";
}

// "String {guid} Name X" for an EWS ExtendedFieldURI.
std::string graph_property_id(pugi::xml_node uri) {
  std::string type = uri.attribute("PropertyType").as_string("String");
  std::string set = uri.attribute("PropertySetId")
                        .as_string(uri.attribute("DistinguishedPropertySetId").as_string());
  if (auto tag = uri.attribute("PropertyTag")) return fmt::format("{} {}", type, tag.value());
  if (auto id = uri.attribute("PropertyId")) {
    return fmt::format("{} {{{}}} Id 0x{:x}", type, set, id.as_llong());
  }
  return fmt::format("{} {{{}}} Name {}", type, set, uri.attribute("PropertyName").value());
}

// Builds <t:ExtendedFieldURI> from a Graph property id; false when it has no known form.
bool ews_field_uri(const std::string& id, pugi::xml_node uri) {
  const size_t sp = id.find(' ');
  if (sp == std::string::npos) return false;
  const std::string type = id.substr(0, sp);
  std::string rest = id.substr(sp + 1);
  uri.append_attribute("PropertyType") = type.c_str();
  if (rest.starts_with("0x") || rest.starts_with("0X")) {
    uri.append_attribute("PropertyTag") = rest.c_str();
    return true;
  }
  if (!rest.starts_with("{")) return false;
  const size_t close = rest.find('}');
  if (close == std::string::npos || close + 2 > rest.size()) return false;
  const std::string set = rest.substr(1, close - 1);
  rest = rest.substr(close + 2);
  uri.append_attribute("PropertySetId") = set.c_str();
  if (rest.starts_with("Name ")) {
    uri.append_attribute("PropertyName") = rest.substr(5).c_str();
    return true;
  }
  if (rest.starts_with("Id ")) {
    uri.append_attribute("PropertyId") =
        static_cast<long long>(std::stoll(rest.substr(3), nullptr, 0));
    return true;
  }
  return false;
}

json time_json(Seconds t, bool all_day, const Zone& item_zone, const GraphZone& out) {
  // All-day events read midnight-to-midnight in whatever zone is asked for: the dates as the
  // organiser sees them, never shifted.
  LocalSeconds local =
      all_day ? std::chrono::floor<std::chrono::days>(item_zone.to_local(t)) : out.zone.to_local(t);
  return {{"dateTime", format_graph_local(local)}, {"timeZone", out.name}};
}

std::string zone_id(pugi::xml_node tz) {
  if (!tz) return "UTC";
  std::string id = tz.attribute("Id").as_string(tz.attribute("Name").as_string());
  return id.empty() ? "tzone://Microsoft/Custom" : id;
}

json attendees_of(pugi::xml_node item) {
  json out = json::array();
  for (const auto& [list, type] :
       {std::pair{"RequiredAttendees", "required"}, std::pair{"OptionalAttendees", "optional"},
        std::pair{"Resources", "resource"}}) {
    for (pugi::xml_node a : children(child(item, list), "Attendee")) {
      out.push_back({{"type", type},
                     {"status",
                      {{"response", graph_response(child_text(a, "ResponseType"))},
                       {"time", "0001-01-01T00:00:00Z"}}},
                     {"emailAddress", email_address(child(a, "Mailbox"))}});
    }
  }
  return out;
}

json extended_properties_of(const StoredItem& item, const EventRendering& how) {
  json out = json::array();
  std::vector<std::string> wanted;
  for (const std::string& id : how.extended_ids) {
    if (auto key = extended_key_of_graph_id(id)) wanted.push_back(*key);
  }
  for (pugi::xml_node p : children(bag_root(item.props), "ExtendedProperty")) {
    pugi::xml_node uri = child(p, "ExtendedFieldURI");
    if (!how.extended_ids.empty() &&
        std::find(wanted.begin(), wanted.end(), extended_key(uri)) == wanted.end()) {
      continue;
    }
    pugi::xml_node value = child(p, "Value");
    if (!value) continue;  // multi-valued: Graph lists those under multiValueExtendedProperties
    out.push_back({{"id", graph_property_id(uri)}, {"value", value.text().as_string()}});
  }
  return out;
}

pugi::xml_node add_prop(pugi::xml_document& doc, const char* name, std::string_view text) {
  return add_text(doc.document_element(), name, text);
}

std::optional<GraphError> bad_request(std::string message) {
  return GraphError{400, "ErrorInvalidRequest", std::move(message)};
}

std::string text_of(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string event_etag(const StoredItem& item) {
  return fmt::format("W/\"{}\"", encode_change_key(item.id, item.version));
}

std::optional<std::string> extended_key_of_graph_id(const std::string& id) {
  pugi::xml_document doc;
  pugi::xml_node uri = doc.append_child("t:ExtendedFieldURI");
  try {
    if (!ews_field_uri(id, uri)) return std::nullopt;
  } catch (const std::exception&) {  // std::stoll on a malformed Id
    return std::nullopt;
  }
  return extended_key(uri);
}

json render_event(const Mailbox& mb, const StoredItem& item, std::optional<Seconds> occurrence,
                  const EventRendering& how) {
  pugi::xml_document doc;
  write_calendar_item(doc, {mb, item, occurrence}, event_shape());
  pugi::xml_node x = doc.document_element();
  pugi::xml_node props = bag_root(item.props);
  const bool all_day = child_text(x, "IsAllDayEvent") == "true";
  const std::string type = type_of(child_text(x, "CalendarItemType"));
  const std::string id = graph_event_id(mb, item, occurrence);
  const std::string change_key = encode_change_key(item.id, item.version);
  const std::string start_zone = zone_id(child(props, "StartTimeZone"));
  std::string end_zone = zone_id(child(props, "EndTimeZone"));
  if (!child(props, "EndTimeZone")) end_zone = start_zone;

  json e = json::object();
  e["@odata.etag"] = event_etag(item);
  e["id"] = id;
  e["createdDateTime"] = format_graph_stamp(item.created);
  e["lastModifiedDateTime"] = format_graph_stamp(item.modified);
  e["changeKey"] = change_key;
  json categories = json::array();
  for (pugi::xml_node s : children(child(x, "Categories"), "String")) {
    categories.push_back(s.text().as_string());
  }
  e["categories"] = categories;
  e["transactionId"] = nullptr;
  e["originalStartTimeZone"] = start_zone;
  e["originalEndTimeZone"] = end_zone;
  e["iCalUId"] = child_text(x, "UID");
  e["reminderMinutesBeforeStart"] = child(x, "ReminderMinutesBeforeStart").text().as_int(15);
  e["isReminderOn"] = child_text(x, "ReminderIsSet") != "false";
  e["hasAttachments"] = false;
  e["subject"] = child_text(x, "Subject");
  pugi::xml_node body = child(x, "Body");
  const std::string content = body.text().as_string();
  e["bodyPreview"] = content.substr(0, 255);
  e["importance"] =
      lower(child_text(x, "Importance").empty() ? "normal" : child_text(x, "Importance"));
  e["sensitivity"] =
      lower(child_text(x, "Sensitivity").empty() ? "normal" : child_text(x, "Sensitivity"));
  e["isAllDay"] = all_day;
  e["isCancelled"] = child_text(x, "IsCancelled") == "true";
  e["isOrganizer"] = true;
  e["responseRequested"] = child_text(x, "IsResponseRequested") != "false";
  e["seriesMasterId"] = occurrence ? json(graph_event_id(mb, item, std::nullopt)) : json(nullptr);
  e["showAs"] = show_as_of(child_text(x, "LegacyFreeBusyStatus"));
  e["type"] = type;
  e["webLink"] =
      fmt::format("https://outlook.office365.com/owa/?itemid={}&exvsurl=1&path=/calendar/item", id);
  e["onlineMeetingUrl"] = nullptr;
  const bool online = child_text(x, "IsOnlineMeeting") == "true";
  e["isOnlineMeeting"] = online;
  e["onlineMeetingProvider"] = online ? "teamsForBusiness" : "unknown";
  e["allowNewTimeProposals"] = child_text(x, "AllowNewTimeProposal") != "false";
  e["isDraft"] = false;
  e["hideAttendees"] = false;
  if (online) {
    std::string url = child_text(x, "MeetingWorkspaceUrl");
    if (url.empty()) {
      url = fmt::format("https://teams.microsoft.com/l/meetup-join/exsim/{}", child_text(x, "UID"));
    }
    // Teams meetings carry a dial-in conference id and toll number next to the join URL.
    e["onlineMeeting"] = {{"joinUrl", url},
                          {"conferenceId", std::to_string(100000000 + item.id % 900000000)},
                          {"tollNumber", "+1 555-0100"}};
  } else {
    e["onlineMeeting"] = nullptr;
  }
  e["recurrence"] =
      (item.rule && !occurrence) ? recurrence_to_graph(*item.rule, start_zone) : json(nullptr);
  e["responseStatus"] = {{"response", "organizer"}, {"time", "0001-01-01T00:00:00Z"}};
  e["body"] = {{"contentType",
                lower(body.attribute("BodyType").as_string("Text")) == "html" ? "html" : "text"},
               {"content", content}};
  auto start = parse_date_time(child_text(x, "Start"));
  auto end = parse_date_time(child_text(x, "End"));
  e["start"] = time_json(start ? start->utc() : item.start, all_day, item.zone, how.zone);
  e["end"] = time_json(end ? end->utc() : item.end, all_day, item.zone, how.zone);
  if (occurrence) e["originalStart"] = format_graph_utc(*occurrence);
  const std::string location = child_text(x, "Location");
  json place = {{"displayName", location},
                {"locationType", "default"},
                {"uniqueIdType", location.empty() ? "unknown" : "private"},
                {"address", json::object()},
                {"coordinates", json::object()}};
  if (!location.empty()) place["uniqueId"] = location;
  e["location"] = place;
  e["locations"] = location.empty() ? json::array() : json::array({place});
  e["attendees"] = attendees_of(x);
  e["organizer"] = {{"emailAddress", email_address(child(child(x, "Organizer"), "Mailbox"))}};
  if (how.expand_extended) e["singleValueExtendedProperties"] = extended_properties_of(item, how);

  if (how.select.empty()) return e;
  json selected = json::object();
  selected["@odata.etag"] = e["@odata.etag"];
  selected["id"] = e["id"];
  for (const std::string& name : how.select) {
    if (auto it = e.find(name); it != e.end()) selected[name] = *it;
  }
  // Graph answers a selected location with the locations list too (documented examples).
  if (how.select.count("location")) selected["locations"] = e["locations"];
  if (how.expand_extended)
    selected["singleValueExtendedProperties"] = e["singleValueExtendedProperties"];
  return selected;
}

std::optional<GraphError> apply_event_json(StoredItem& item, std::optional<Seconds> occurrence,
                                           const json& body) {
  if (!body.is_object()) return bad_request("The request body must be a JSON event object.");
  pugi::xml_document doc;
  doc.append_child("t:CalendarItem");
  pugi::xml_node root = doc.document_element();
  TimeContext start_tc;
  TimeContext end_tc;
  std::vector<const char*> to_delete;  // FieldURIs a null or empty value clears

  auto zone_of = [&](const json& value, TimeContext& tc,
                     const char* element) -> std::optional<GraphError> {
    const std::string name = text_of(value, "timeZone");
    auto zone = resolve_graph_zone(name);
    if (!zone) {
      return GraphError{400, "TimeZoneNotSupportedException",
                        fmt::format("A valid TimeZone value must be specified. The following "
                                    "TimeZone value is not supported: '{}'.",
                                    name)};
    }
    tc.zone = zone->zone;
    // An exception keeps its series' zones; only a master or single item stores them.
    if (!occurrence) root.append_child(element).append_attribute("Id") = zone->windows_id.c_str();
    return std::nullopt;
  };

  for (const auto& [name, value] : body.items()) {
    if (name == "subject") {
      add_prop(doc, "t:Subject", value.is_string() ? value.get<std::string>() : "");
    } else if (name == "body" && value.is_object()) {
      pugi::xml_node b = add_prop(doc, "t:Body", text_of(value, "content"));
      b.append_attribute("BodyType") =
          lower(text_of(value, "contentType")) == "html" ? "HTML" : "Text";
    } else if (name == "importance" && value.is_string()) {
      add_prop(doc, "t:Importance", first_upper(lower(value.get<std::string>())));
    } else if (name == "sensitivity" && value.is_string()) {
      add_prop(doc, "t:Sensitivity", first_upper(lower(value.get<std::string>())));
    } else if (name == "categories" && value.is_array()) {
      pugi::xml_node list = root.append_child("t:Categories");
      for (const auto& c : value) {
        if (c.is_string()) add_text(list, "t:String", c.get<std::string>());
      }
      if (value.empty()) {
        root.remove_child(list);
        to_delete.push_back("item:Categories");
      }
    } else if (name == "reminderMinutesBeforeStart" && value.is_number_integer()) {
      add_prop(doc, "t:ReminderMinutesBeforeStart", std::to_string(value.get<int>()));
    } else if (name == "isReminderOn" && value.is_boolean()) {
      add_prop(doc, "t:ReminderIsSet", value.get<bool>() ? "true" : "false");
    } else if (name == "isAllDay" && value.is_boolean()) {
      add_prop(doc, "t:IsAllDayEvent", value.get<bool>() ? "true" : "false");
    } else if (name == "showAs" && value.is_string()) {
      auto status = free_busy_of(value.get<std::string>());
      if (!status)
        return bad_request(
            fmt::format("showAs '{}' is not a freeBusyStatus.", value.get<std::string>()));
      add_prop(doc, "t:LegacyFreeBusyStatus", *status);
    } else if (name == "location" && value.is_object()) {
      add_prop(doc, "t:Location", text_of(value, "displayName"));
    } else if (name == "isOnlineMeeting" && value.is_boolean()) {
      add_prop(doc, "t:IsOnlineMeeting", value.get<bool>() ? "true" : "false");
    } else if (name == "responseRequested" && value.is_boolean()) {
      add_prop(doc, "t:IsResponseRequested", value.get<bool>() ? "true" : "false");
    } else if (name == "allowNewTimeProposals" && value.is_boolean()) {
      add_prop(doc, "t:AllowNewTimeProposal", value.get<bool>() ? "true" : "false");
    } else if (name == "start" || name == "end") {
      if (!value.is_object()) return bad_request(name + " must be a dateTimeTimeZone.");
      TimeContext& tc = name == "start" ? start_tc : end_tc;
      if (auto e = zone_of(value, tc, name == "start" ? "t:StartTimeZone" : "t:EndTimeZone"))
        return e;
      auto parsed = parse_date_time(text_of(value, "dateTime"));
      if (!parsed)
        return bad_request(fmt::format("{}.dateTime '{}' is not a date and time.", name,
                                       text_of(value, "dateTime")));
      // dateTime is wall-clock time in timeZone; an offset in the text is ignored as on Graph.
      add_prop(doc, name == "start" ? "t:Start" : "t:End", format_graph_local(parsed->wall));
    } else if (name == "attendees" && value.is_array()) {
      pugi::xml_node lists[3] = {root.append_child("t:RequiredAttendees"),
                                 root.append_child("t:OptionalAttendees"),
                                 root.append_child("t:Resources")};
      for (const auto& a : value) {
        if (!a.is_object()) continue;
        const std::string kind = lower(text_of(a, "type"));
        pugi::xml_node list = lists[kind == "optional" ? 1 : kind == "resource" ? 2 : 0];
        pugi::xml_node attendee = list.append_child("t:Attendee");
        pugi::xml_node m = attendee.append_child("t:Mailbox");
        const json address = a.value("emailAddress", json::object());
        add_text(m, "t:Name", text_of(address, "name"));
        add_text(m, "t:EmailAddress", text_of(address, "address"));
        add_text(m, "t:RoutingType", "SMTP");
        const json status = a.value("status", json::object());
        add_text(attendee, "t:ResponseType", ews_response(lower(text_of(status, "response"))));
      }
      const char* uris[3] = {"calendar:RequiredAttendees", "calendar:OptionalAttendees",
                             "calendar:Resources"};
      for (int i = 0; i < 3; ++i) {
        if (!lists[i].first_child()) {
          root.remove_child(lists[i]);
          to_delete.push_back(uris[i]);
        }
      }
    } else if (name == "recurrence") {
      if (occurrence && !value.is_null()) {
        return bad_request("An occurrence cannot carry a recurrence; update the series master.");
      }
      if (value.is_null()) {
        if (!occurrence && item.rule) to_delete.push_back("calendar:Recurrence");
        continue;
      }
      std::string error;
      if (!recurrence_to_ews(value, root, error)) {
        return GraphError{400, "ErrorInvalidRecurrence", error};
      }
    } else if (name == "singleValueExtendedProperties" && value.is_array()) {
      for (const auto& p : value) {
        const std::string id = text_of(p, "id");
        pugi::xml_node prop = root.append_child("t:ExtendedProperty");
        bool ok = false;
        try {
          ok = ews_field_uri(id, prop.append_child("t:ExtendedFieldURI"));
        } catch (const std::exception&) {
        }
        if (!ok) {
          return bad_request(
              fmt::format("singleValueExtendedProperties id '{}' is not in a valid format: use "
                          "'{{type}} {{guid}} Name {{name}}', '{{type}} {{guid}} Id {{id}}' or "
                          "'{{type}} {{tag}}'.",
                          id));
        }
        add_text(prop, "t:Value", text_of(p, "value"));
      }
    }
    // Other members (read-only or not modelled: organizer, webLink, ...) are ignored.
  }
  // Exchange does not allow a series to move to another pattern while keeping exceptions:
  // set_field clears them when the Recurrence changes, as on EWS.
  if (occurrence && !item.overrides.count(*occurrence)) {
    OccurrenceOverride o;
    o.props = new_property_bag();
    o.start = *occurrence;
    o.end = *occurrence + (item.end - item.start);
    item.overrides.emplace(*occurrence, std::move(o));
  }
  OccurrenceOverride* ov = occurrence ? &item.overrides.at(*occurrence) : nullptr;
  for (pugi::xml_node prop : element_children(root)) {
    std::string_view n = local_name(prop);
    const TimeContext& tc = n == "End" ? end_tc : start_tc;
    if (auto e = set_field(item, ov ? &ov->props : nullptr, ov, prop, false, tc)) {
      return GraphError{400, e->code, e->message};
    }
  }
  for (const char* uri : to_delete) {
    pugi::xml_document path_doc;
    pugi::xml_node path = path_doc.append_child("t:FieldURI");
    path.append_attribute("FieldURI") = uri;
    // On an occurrence: that occurrence alone loses the value (an exception), as on EWS.
    if (auto e = delete_field(item, path, ov)) return GraphError{400, e->code, e->message};
  }
  if (auto e = finish_item(item)) return GraphError{400, e->code, e->message};
  if (ov && ov->end < ov->start) {
    return GraphError{400, "ErrorCalendarEndDateIsEarlierThanStartDate",
                      "The end of the occurrence is before its start."};
  }
  return std::nullopt;
}

}  // namespace exsim
