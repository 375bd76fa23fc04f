#include "connectors/graph/event_json.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "connectors/graph/graph_time.h"
#include "connectors/graph/recurrence_json.h"
#include "core/expand.h"
#include "core/time_zone.h"

namespace agendasync::graph {
namespace {

using nlohmann::json;

/// Marks the attendee note we write into bodies (R39), so reading strips it again.
constexpr std::string_view kAttendeeMarker = "[AgendaSync attendees: ";

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string str(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

const json* object_at(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_object() ? &*it : nullptr;
}

struct EnumName {
  int value;
  const char* name;
};

constexpr EnumName kSensitivity[] = {
    {static_cast<int>(Sensitivity::kNormal), "normal"},
    {static_cast<int>(Sensitivity::kPersonal), "personal"},
    {static_cast<int>(Sensitivity::kPrivate), "private"},
    {static_cast<int>(Sensitivity::kConfidential), "confidential"}};
constexpr EnumName kShowAs[] = {{static_cast<int>(ShowAs::kFree), "free"},
                                {static_cast<int>(ShowAs::kTentative), "tentative"},
                                {static_cast<int>(ShowAs::kBusy), "busy"},
                                {static_cast<int>(ShowAs::kOutOfOffice), "oof"},
                                {static_cast<int>(ShowAs::kWorkingElsewhere), "workingElsewhere"},
                                {static_cast<int>(ShowAs::kUnknown), "unknown"}};
constexpr EnumName kResponse[] = {
    {static_cast<int>(ResponseStatus::kNone), "none"},
    {static_cast<int>(ResponseStatus::kOrganizer), "organizer"},
    {static_cast<int>(ResponseStatus::kTentative), "tentativelyAccepted"},
    {static_cast<int>(ResponseStatus::kAccepted), "accepted"},
    {static_cast<int>(ResponseStatus::kDeclined), "declined"},
    {static_cast<int>(ResponseStatus::kNotResponded), "notResponded"}};
constexpr EnumName kRole[] = {{static_cast<int>(AttendeeRole::kRequired), "required"},
                              {static_cast<int>(AttendeeRole::kOptional), "optional"},
                              {static_cast<int>(AttendeeRole::kResource), "resource"}};

/// Unknown names keep `fallback`: Graph adds enum members over time.
template <class E, std::size_t N>
E enum_from(const EnumName (&table)[N], const std::string& name, E fallback) {
  const std::string wanted = lower(name);
  for (const auto& entry : table) {
    if (lower(entry.name) == wanted) return static_cast<E>(entry.value);
  }
  return fallback;
}

template <class E, std::size_t N>
const char* enum_name(const EnumName (&table)[N], E value) {
  for (const auto& entry : table) {
    if (entry.value == static_cast<int>(value)) return entry.name;
  }
  return table[0].name;
}

Person read_person(const json& recipient) {
  Person person;
  if (const json* address = object_at(recipient, "emailAddress")) {
    person.name = str(*address, "name");
    person.email = str(*address, "address");
  }
  return person;
}

/// The zone an item was planned in: originalStartTimeZone, else the zone of its start.
std::string planning_zone(const json& event, const std::string& start_zone) {
  for (const std::string& candidate : {str(event, "originalStartTimeZone"), start_zone}) {
    if (candidate.empty()) continue;
    if (auto zone = normalize_zone(candidate)) return *zone;
  }
  return "UTC";
}

/// A dateTimeTimeZone as an instant; all-day values as their date at midnight UTC.
Result<Instant> read_time(const json& value, bool all_day) {
  auto local = parse_date_time(str(value, "dateTime"));
  if (!local) return std::unexpected(local.error());
  if (all_day) {
    return Instant{std::chrono::floor<std::chrono::days>(*local).time_since_epoch()};
  }
  const std::string zone_name = str(value, "timeZone");
  auto zone = normalize_zone(zone_name.empty() ? "UTC" : zone_name);
  if (!zone) return std::unexpected(zone.error());
  return to_utc(*local, *zone);
}

/// Removes the attendee note we wrote (R39) so a round trip leaves the body unchanged.
std::string strip_attendee_note(std::string content, BodyType type) {
  const auto at = content.find(kAttendeeMarker);
  if (at == std::string::npos) return content;
  if (type == BodyType::kHtml) {
    const auto open = content.rfind("<p>", at);
    const auto close = content.find("]</p>", at);
    if (open != std::string::npos && close != std::string::npos) {
      content.erase(open, close + 5 - open);
    }
    return content;
  }
  const auto close = content.find(']', at);
  auto begin = at;
  if (begin >= 2 && content.compare(begin - 2, 2, "\n\n") == 0) begin -= 2;
  content.erase(begin, (close == std::string::npos ? content.size() : close + 1) - begin);
  return content;
}

std::string attendee_note(const std::vector<Attendee>& attendees) {
  std::string note(kAttendeeMarker);
  for (std::size_t i = 0; i < attendees.size(); ++i) {
    if (i > 0) note += ", ";
    const Person& person = attendees[i].person;
    note += person.name.empty() ? person.email : fmt::format("{} <{}>", person.name, person.email);
  }
  return note + "]";
}

std::string html_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

json time_json(Instant instant, const Appointment& item, const std::string& graph_zone) {
  if (item.all_day) {
    // All-day: the date itself at midnight, in the item's zone, so Outlook shows that date.
    return json{{"dateTime", format_date_time(LocalTime{instant.time_since_epoch()})},
                {"timeZone", graph_zone}};
  }
  auto local = to_local(instant, item.time_zone);
  if (!local) {
    return json{{"dateTime", format_date_time(LocalTime{instant.time_since_epoch()})},
                {"timeZone", "UTC"}};
  }
  return json{{"dateTime", format_date_time(*local)}, {"timeZone", graph_zone}};
}

/// Graph takes Windows zone names everywhere; IANA only where CLDR has no Windows name.
std::string graph_zone_name(const std::string& iana) {
  auto windows = windows_from_iana(iana);
  return windows ? *windows : iana;
}

}  // namespace

std::string string_at(const json& object, const char* key) {
  return object.is_object() ? str(object, key) : std::string{};
}

std::string key_expand() {
  return fmt::format("singleValueExtendedProperties($filter=id eq '{}')", kKeyPropertyId);
}

Result<GraphEvent> parse_event(const json& event) {
  if (!event.is_object()) return fail(ErrorKind::kInvalidData, "Graph event is not an object");
  GraphEvent out;
  out.id = str(event, "id");
  out.etag = str(event, "@odata.etag");
  out.removed = event.contains("@removed");
  out.series_master_id = str(event, "seriesMasterId");
  const std::string type = lower(str(event, "type"));
  if (type == "occurrence") out.type = EventType::kOccurrence;
  if (type == "exception") out.type = EventType::kException;
  if (type == "seriesmaster") out.type = EventType::kSeriesMaster;
  if (const auto props = event.find("singleValueExtendedProperties");
      props != event.end() && props->is_array()) {
    for (const auto& prop : *props) {
      if (prop.is_object() && lower(str(prop, "id")) == lower(kKeyPropertyId)) {
        out.idempotency_key = str(prop, "value");
      }
    }
  }
  if (out.removed) return out;
  if (const std::string modified = str(event, "lastModifiedDateTime"); !modified.empty()) {
    auto at = parse_date_time(modified);
    if (!at) return std::unexpected(at.error());
    out.last_modified = Instant{at->time_since_epoch()};
  }

  Appointment& item = out.item;
  item.subject = str(event, "subject");
  if (const json* body = object_at(event, "body")) {
    item.body.type = lower(str(*body, "contentType")) == "html" ? BodyType::kHtml : BodyType::kText;
    item.body.content = strip_attendee_note(str(*body, "content"), item.body.type);
  }
  if (const json* location = object_at(event, "location")) {
    item.location = str(*location, "displayName");
  }
  if (const auto all_day = event.find("isAllDay");
      all_day != event.end() && all_day->is_boolean()) {
    item.all_day = all_day->get<bool>();
  }
  const json* start = object_at(event, "start");
  const json* end = object_at(event, "end");
  item.time_zone = planning_zone(event, start ? str(*start, "timeZone") : std::string{});
  if (start) {
    auto value = read_time(*start, item.all_day);
    if (!value) return std::unexpected(value.error());
    item.start = *value;
  }
  if (end) {
    auto value = read_time(*end, item.all_day);
    if (!value) return std::unexpected(value.error());
    item.end = *value;
  }
  if (const auto original = event.find("originalStart");
      original != event.end() && original->is_string()) {
    auto value = parse_date_time(original->get<std::string>());
    if (!value) return std::unexpected(value.error());
    out.original_start = Instant{value->time_since_epoch()};
  }
  if (const json* recurrence = object_at(event, "recurrence")) {
    auto rule = rule_from_graph(*recurrence, item.time_zone, item.all_day);
    if (!rule) return std::unexpected(rule.error());
    item.recurrence = Recurrence{*rule, {}, {}};
    if (out.type == EventType::kSingleInstance && !event.contains("type")) {
      out.type = EventType::kSeriesMaster;
    }
  }
  item.sensitivity = enum_from(kSensitivity, str(event, "sensitivity"), Sensitivity::kNormal);
  item.show_as = enum_from(kShowAs, str(event, "showAs"), ShowAs::kBusy);
  if (const auto categories = event.find("categories");
      categories != event.end() && categories->is_array()) {
    for (const auto& category : *categories) {
      if (category.is_string()) item.categories.push_back(category.get<std::string>());
    }
  }
  const auto reminder_on = event.find("isReminderOn");
  const auto minutes = event.find("reminderMinutesBeforeStart");
  if (reminder_on != event.end() && reminder_on->is_boolean() && reminder_on->get<bool>() &&
      minutes != event.end() && minutes->is_number_integer()) {
    item.reminder = std::chrono::minutes(minutes->get<int>());
  }
  if (const json* organizer = object_at(event, "organizer")) {
    item.organizer = read_person(*organizer);
  }
  if (const auto attendees = event.find("attendees");
      attendees != event.end() && attendees->is_array()) {
    for (const auto& entry : *attendees) {
      if (!entry.is_object()) continue;
      Attendee attendee;
      attendee.person = read_person(entry);
      attendee.role = enum_from(kRole, str(entry, "type"), AttendeeRole::kRequired);
      if (const json* status = object_at(entry, "status")) {
        attendee.response = enum_from(kResponse, str(*status, "response"), ResponseStatus::kNone);
      }
      item.attendees.push_back(std::move(attendee));
    }
  }
  if (const json* meeting = object_at(event, "onlineMeeting")) {
    item.online_meeting_url = str(*meeting, "joinUrl");
  }
  return out;
}

Result<json> event_to_json(const Appointment& item, const std::string& key,
                           const WriteOptions& options) {
  const std::string zone = graph_zone_name(item.time_zone);
  json event = json::object();
  event["subject"] = item.subject;
  std::string content = item.body.content;
  if (!options.real_meetings && !item.attendees.empty()) {
    const std::string note = attendee_note(item.attendees);
    content +=
        item.body.type == BodyType::kHtml ? "<p>" + html_escape(note) + "</p>" : "\n\n" + note;
  }
  event["body"] = json{{"contentType", item.body.type == BodyType::kHtml ? "html" : "text"},
                       {"content", content}};
  event["location"] = json{{"displayName", item.location}};
  event["isAllDay"] = item.all_day;
  event["start"] = time_json(item.start, item, zone);
  event["end"] = time_json(item.end, item, zone);
  event["sensitivity"] = enum_name(kSensitivity, item.sensitivity);
  event["showAs"] = enum_name(kShowAs, item.show_as);
  event["categories"] = item.categories;
  event["isReminderOn"] = item.reminder.has_value();
  if (item.reminder) event["reminderMinutesBeforeStart"] = item.reminder->count();
  if (item.recurrence) {
    LocalTime first{item.start.time_since_epoch()};
    if (!item.all_day) {
      auto local = to_local(item.start, item.time_zone);
      if (!local) return std::unexpected(local.error());
      first = *local;
    }
    auto recurrence =
        rule_to_graph(item.recurrence->rule, first, item.time_zone, zone, item.all_day);
    if (!recurrence) return std::unexpected(recurrence.error());
    event["recurrence"] = *recurrence;
  } else {
    event["recurrence"] = nullptr;
  }
  if (options.real_meetings) {
    json attendees = json::array();
    for (const auto& attendee : item.attendees) {
      attendees.push_back(json{
          {"type", enum_name(kRole, attendee.role)},
          {"emailAddress", {{"name", attendee.person.name}, {"address", attendee.person.email}}}});
    }
    event["attendees"] = attendees;
  }
  if (!key.empty()) {
    event["singleValueExtendedProperties"] =
        json::array({json{{"id", kKeyPropertyId}, {"value", key}}});
  }
  return event;
}

Result<json> event_patch(const Appointment& previous, const Appointment& item,
                         const WriteOptions& options) {
  auto before = event_to_json(previous, {}, options);
  auto after = event_to_json(item, {}, options);
  if (!after) return std::unexpected(after.error());
  if (!before) before = json::object();  // an old shape we cannot write: send everything
  json patch = json::object();
  for (const auto& [name, value] : after->items()) {
    const auto old = before->find(name);
    if (old == before->end() || *old != value) patch[name] = value;
  }
  // Graph wants start and end together, with isAllDay, when the time changes.
  if (patch.contains("start") || patch.contains("end") || patch.contains("isAllDay")) {
    patch["start"] = (*after)["start"];
    patch["end"] = (*after)["end"];
    patch["isAllDay"] = (*after)["isAllDay"];
  }
  if (patch.contains("reminderMinutesBeforeStart") || patch.contains("isReminderOn")) {
    patch["isReminderOn"] = (*after)["isReminderOn"];
  }
  return patch;
}

OccurrenceOverride override_from(const Appointment& occurrence, Instant recurrence_id) {
  return OccurrenceOverride{recurrence_id,      occurrence.start,       occurrence.end,
                            occurrence.subject, occurrence.body,        occurrence.location,
                            occurrence.show_as, occurrence.sensitivity, occurrence.reminder};
}

Appointment with_override(Appointment occurrence, const OccurrenceOverride& change) {
  occurrence.start = change.start;
  occurrence.end = change.end;
  occurrence.subject = change.subject;
  occurrence.body = change.body;
  occurrence.location = change.location;
  occurrence.show_as = change.show_as;
  occurrence.sensitivity = change.sensitivity;
  occurrence.reminder = change.reminder;
  return occurrence;
}

Result<void> merge_instances(Appointment& master, const std::vector<GraphEvent>& instances,
                             Instant from, Instant to) {
  if (!master.recurrence) return {};
  Recurrence& recurrence = master.recurrence.value();
  // All-day originalStart values are local midnights in the planning zone: compare dates.
  const auto key_of = [&](Instant original) -> Instant {
    if (!master.all_day) return original;
    auto local = to_local(original, master.time_zone);
    const auto day = std::chrono::floor<std::chrono::days>(
        local ? *local : LocalTime{original.time_since_epoch()});
    return Instant{day.time_since_epoch()};
  };
  std::set<Instant> seen;
  recurrence.overrides.clear();
  recurrence.exdates.clear();
  for (const auto& instance : instances) {
    if (!instance.original_start) continue;
    const Instant original = key_of(*instance.original_start);
    seen.insert(original);
    if (instance.type != EventType::kException) continue;
    recurrence.overrides.push_back(override_from(instance.item, original));
  }
  Appointment plain = master;
  plain.recurrence->overrides.clear();
  auto expected = expand(plain, from, to);
  if (!expected) return std::unexpected(expected.error());
  for (const auto& occurrence : *expected) {
    if (!seen.contains(occurrence.recurrence_id)) {
      recurrence.exdates.push_back(occurrence.recurrence_id);
    }
  }
  std::ranges::sort(recurrence.overrides, {}, &OccurrenceOverride::recurrence_id);
  return {};
}

}  // namespace agendasync::graph
