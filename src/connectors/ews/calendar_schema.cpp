#include "connectors/ews/calendar_schema.h"

#include <array>
#include <string>

#include <fmt/format.h>

#include "connectors/ews/recurrence_xml.h"
#include "connectors/ews/timezone_xml.h"
#include "connectors/ews/xml.h"

namespace agendasync::ews {

namespace {

std::string prefixed(std::string_view element) { return fmt::format("t:{}", element); }

// ---- codecs, one per value shape, parameterised by the CalendarItem member they serve ----

template <auto Member, const char* Element>
struct StringCodec {
  static bool read(const pugi::xml_node& e, CalendarItem& item) {
    item.*Member = e.text().as_string();
    return true;
  }
  static void write(pugi::xml_node& parent, const CalendarItem& item) {
    parent.append_child(prefixed(Element).c_str()).text().set((item.*Member).c_str());
  }
  static bool has_value(const CalendarItem& item) { return !(item.*Member).empty(); }
};

template <auto Member, const char* Element>
struct BoolCodec {
  static bool read(const pugi::xml_node& e, CalendarItem& item) {
    const auto value = parse_bool(e.text().as_string());
    if (value) item.*Member = *value;
    return value.has_value();
  }
  static void write(pugi::xml_node& parent, const CalendarItem& item) {
    parent.append_child(prefixed(Element).c_str()).text().set((item.*Member) ? "true" : "false");
  }
  static bool has_value(const CalendarItem&) { return true; }
};

template <auto Member, const char* Element>
struct IntCodec {
  static bool read(const pugi::xml_node& e, CalendarItem& item) {
    const auto value = parse_int(e.text().as_string());
    if (value) item.*Member = *value;
    return value.has_value();
  }
  static void write(pugi::xml_node& parent, const CalendarItem& item) {
    parent.append_child(prefixed(Element).c_str()).text().set(item.*Member);
  }
  static bool has_value(const CalendarItem&) { return true; }
};

template <auto Member, const char* Element>
struct InstantCodec {
  static bool read(const pugi::xml_node& e, CalendarItem& item) {
    const auto value = parse_date_time(e.text().as_string());
    if (value) item.*Member = *value;
    return value.has_value();
  }
  static void write(pugi::xml_node& parent, const CalendarItem& item) {
    parent.append_child(prefixed(Element).c_str())
        .text()
        .set(format_date_time(item.*Member).c_str());
  }
  static bool has_value(const CalendarItem&) { return true; }
};

/// An enum spelled as one of a fixed list of tokens.
template <class Enum, std::size_t N>
struct TokenTable {
  std::array<std::pair<Enum, const char*>, N> entries;
  std::optional<Enum> parse(std::string_view token) const {
    for (const auto& [value, text] : entries) {
      if (token == text) return value;
    }
    return std::nullopt;
  }
  const char* format(Enum value) const {
    for (const auto& [candidate, text] : entries) {
      if (candidate == value) return text;
    }
    return entries[0].second;
  }
};

constexpr TokenTable<Sensitivity, 4> kSensitivityTokens{
    {{{Sensitivity::kNormal, "Normal"},
      {Sensitivity::kPersonal, "Personal"},
      {Sensitivity::kPrivate, "Private"},
      {Sensitivity::kConfidential, "Confidential"}}}};
// LegacyFreeBusyType: "NoData" reads as unknown and is never written.
constexpr TokenTable<ShowAs, 6> kFreeBusyTokens{{{{ShowAs::kFree, "Free"},
                                                  {ShowAs::kTentative, "Tentative"},
                                                  {ShowAs::kBusy, "Busy"},
                                                  {ShowAs::kOutOfOffice, "OOF"},
                                                  {ShowAs::kWorkingElsewhere, "WorkingElsewhere"},
                                                  {ShowAs::kUnknown, "NoData"}}}};

template <auto Member, const char* Element, const auto& Tokens>
struct EnumCodec {
  static bool read(const pugi::xml_node& e, CalendarItem& item) {
    const auto value = Tokens.parse(e.text().as_string());
    if (value) item.*Member = *value;
    return value.has_value();
  }
  static void write(pugi::xml_node& parent, const CalendarItem& item) {
    parent.append_child(prefixed(Element).c_str()).text().set(Tokens.format(item.*Member));
  }
  static bool has_value(const CalendarItem&) { return true; }
};

struct BodyCodec {
  static bool read(const pugi::xml_node& e, CalendarItem& item) {
    const std::string_view type = e.attribute("BodyType").as_string();
    item.body.type = type == "HTML" ? BodyType::kHtml : BodyType::kText;
    item.body.content = e.text().as_string();
    return type.empty() || type == "HTML" || type == "Text";
  }
  static void write(pugi::xml_node& parent, const CalendarItem& item) {
    pugi::xml_node body = parent.append_child("t:Body");
    body.append_attribute("BodyType")
        .set_value(item.body.type == BodyType::kHtml ? "HTML" : "Text");
    body.text().set(item.body.content.c_str());
  }
  static bool has_value(const CalendarItem& item) { return !item.body.content.empty(); }
};

struct CategoriesCodec {
  static bool read(const pugi::xml_node& e, CalendarItem& item) {
    item.categories.clear();
    for (const pugi::xml_node s : e.children()) {
      if (s.type() == pugi::node_element && local_name(s) == "String")
        item.categories.emplace_back(s.text().as_string());
    }
    return true;
  }
  static void write(pugi::xml_node& parent, const CalendarItem& item) {
    pugi::xml_node list = parent.append_child("t:Categories");
    for (const std::string& category : item.categories)
      list.append_child("t:String").text().set(category.c_str());
  }
  static bool has_value(const CalendarItem& item) { return !item.categories.empty(); }
};

struct KeyCodec {
  static bool read(const pugi::xml_node& e, CalendarItem& item) {
    const pugi::xml_node uri = child(e, "ExtendedFieldURI");
    // Other extended properties may come along; only ours is kept.
    if (std::string_view(uri.attribute("PropertyName").as_string()) == kKeyPropertyName) {
      item.agenda_sync_key = child_text(e, "Value");
    }
    return true;
  }
  static void write(pugi::xml_node& parent, const CalendarItem& item) {
    pugi::xml_node property = parent.append_child("t:ExtendedProperty");
    append_key_field_uri(property);
    property.append_child("t:Value").text().set(item.agenda_sync_key.value_or("").c_str());
  }
  static bool has_value(const CalendarItem& item) {
    return item.agenda_sync_key.has_value() && !item.agenda_sync_key->empty();
  }
};

struct ItemIdCodec {
  static bool read(const pugi::xml_node& e, CalendarItem& item) {
    item.item_id.id = e.attribute("Id").as_string();
    item.item_id.change_key = e.attribute("ChangeKey").as_string();
    return !item.item_id.id.empty();
  }
  static void write(pugi::xml_node&, const CalendarItem&) {}
  static bool has_value(const CalendarItem&) { return false; }
};

struct LastModifiedCodec {
  static bool read(const pugi::xml_node& e, CalendarItem& item) {
    item.last_modified = parse_date_time(e.text().as_string());
    return item.last_modified.has_value();
  }
  static void write(pugi::xml_node&, const CalendarItem&) {}
  static bool has_value(const CalendarItem&) { return false; }
};

struct OriginalStartCodec {
  static bool read(const pugi::xml_node& e, CalendarItem& item) {
    item.original_start = parse_date_time(e.text().as_string());
    return item.original_start.has_value();
  }
  static void write(pugi::xml_node&, const CalendarItem&) {}
  static bool has_value(const CalendarItem&) { return false; }
};

Recipient read_mailbox(const pugi::xml_node& mailbox) {
  return Recipient{child_text(mailbox, "Name"), child_text(mailbox, "EmailAddress"), {}};
}

struct OrganizerCodec {
  static bool read(const pugi::xml_node& e, CalendarItem& item) {
    item.organizer = read_mailbox(child(e, "Mailbox"));
    return true;
  }
  static void write(pugi::xml_node&, const CalendarItem&) {}
  static bool has_value(const CalendarItem&) { return false; }
};

template <auto Member>
struct AttendeesCodec {
  static bool read(const pugi::xml_node& e, CalendarItem& item) {
    (item.*Member).clear();
    for (const pugi::xml_node attendee : e.children()) {
      if (attendee.type() != pugi::node_element || local_name(attendee) != "Attendee") continue;
      Recipient recipient = read_mailbox(child(attendee, "Mailbox"));
      recipient.response_type = child_text(attendee, "ResponseType");
      (item.*Member).push_back(std::move(recipient));
    }
    return true;
  }
  static void write(pugi::xml_node&, const CalendarItem&) {}
  static bool has_value(const CalendarItem&) { return false; }
};

struct RecurrenceCodec {
  static bool read(const pugi::xml_node& e, CalendarItem& item) {
    item.recurrence = read_recurrence(e);
    return item.recurrence.has_value();
  }
  static void write(pugi::xml_node& parent, const CalendarItem& item) {
    pugi::xml_node element = parent.append_child("t:Recurrence");
    if (item.recurrence) write_recurrence(element, *item.recurrence);
  }
  static bool has_value(const CalendarItem& item) { return item.recurrence.has_value(); }
};

struct ModifiedOccurrencesCodec {
  static bool read(const pugi::xml_node& e, CalendarItem& item) {
    item.modified_occurrences.clear();
    for (const pugi::xml_node occurrence : e.children()) {
      if (occurrence.type() != pugi::node_element) continue;
      OccurrenceInfo info;
      const pugi::xml_node id = child(occurrence, "ItemId");
      info.item_id = ItemId{id.attribute("Id").as_string(), id.attribute("ChangeKey").as_string()};
      const auto start = parse_date_time(child_text(occurrence, "Start"));
      const auto end = parse_date_time(child_text(occurrence, "End"));
      const auto original = parse_date_time(child_text(occurrence, "OriginalStart"));
      if (!start || !end || !original) return false;
      info.start = *start;
      info.end = *end;
      info.original_start = *original;
      item.modified_occurrences.push_back(std::move(info));
    }
    return true;
  }
  static void write(pugi::xml_node&, const CalendarItem&) {}
  static bool has_value(const CalendarItem&) { return false; }
};

struct DeletedOccurrencesCodec {
  static bool read(const pugi::xml_node& e, CalendarItem& item) {
    item.deleted_occurrences.clear();
    for (const pugi::xml_node occurrence : e.children()) {
      if (occurrence.type() != pugi::node_element) continue;
      const auto start = parse_date_time(child_text(occurrence, "Start"));
      if (!start) return false;
      item.deleted_occurrences.push_back(*start);
    }
    return true;
  }
  static void write(pugi::xml_node&, const CalendarItem&) {}
  static bool has_value(const CalendarItem&) { return false; }
};

template <auto Member, const char* Element>
struct TimeZoneCodec {
  static bool read(const pugi::xml_node& e, CalendarItem& item) {
    item.*Member = read_time_zone(e);
    return (item.*Member).has_value();
  }
  static void write(pugi::xml_node& parent, const CalendarItem& item) {
    pugi::xml_node element = parent.append_child(prefixed(Element).c_str());
    if (item.*Member) write_time_zone(element, *(item.*Member));
  }
  static bool has_value(const CalendarItem& item) { return (item.*Member).has_value(); }
};

template <auto Member>
bool same_member(const CalendarItem& a, const CalendarItem& b) {
  return a.*Member == b.*Member;
}

bool same_reminder_minutes(const CalendarItem& a, const CalendarItem& b) {
  // Minutes only matter while a reminder is set.
  return a.reminder_minutes == b.reminder_minutes || !b.reminder_is_set;
}

template <class Codec>
constexpr FieldSpec field(std::string_view uri, std::string_view element, FieldAccess access,
                          bool (*same)(const CalendarItem&, const CalendarItem&),
                          ServerVersion min_version = ServerVersion::kExchange2013) {
  return FieldSpec{uri,          element,       min_version,       access,
                   &Codec::read, &Codec::write, &Codec::has_value, same};
}

// Element names with static storage, usable as template arguments.
constexpr char kSubject[] = "Subject";
constexpr char kSensitivity[] = "Sensitivity";
constexpr char kReminderIsSet[] = "ReminderIsSet";
constexpr char kReminderMinutes[] = "ReminderMinutesBeforeStart";
constexpr char kStart[] = "Start";
constexpr char kEnd[] = "End";
constexpr char kIsAllDay[] = "IsAllDayEvent";
constexpr char kFreeBusy[] = "LegacyFreeBusyStatus";
constexpr char kLocation[] = "Location";
constexpr char kItemType[] = "CalendarItemType";
constexpr char kStartTimeZone[] = "StartTimeZone";
constexpr char kEndTimeZone[] = "EndTimeZone";
constexpr char kNetShowUrl[] = "NetShowUrl";
constexpr char kJoinUrl[] = "JoinOnlineMeetingUrl";

using C = CalendarItem;
constexpr auto RW = FieldAccess::kReadWrite;
constexpr auto RO = FieldAccess::kReadOnly;

// clang-format off
const std::array kFields{
  field<ItemIdCodec>("item:ItemId", "ItemId", RO, same_member<&C::item_id>),
  field<StringCodec<&C::subject, kSubject>>("item:Subject", kSubject, RW, same_member<&C::subject>),
  field<EnumCodec<&C::sensitivity, kSensitivity, kSensitivityTokens>>(
      "item:Sensitivity", kSensitivity, RW, same_member<&C::sensitivity>),
  field<BodyCodec>("item:Body", "Body", RW, same_member<&C::body>),
  field<CategoriesCodec>("item:Categories", "Categories", RW, same_member<&C::categories>),
  field<BoolCodec<&C::reminder_is_set, kReminderIsSet>>(
      "item:ReminderIsSet", kReminderIsSet, RW, same_member<&C::reminder_is_set>),
  field<IntCodec<&C::reminder_minutes, kReminderMinutes>>(
      "item:ReminderMinutesBeforeStart", kReminderMinutes, RW, same_reminder_minutes),
  field<KeyCodec>("", "ExtendedProperty", RW, same_member<&C::agenda_sync_key>),
  field<LastModifiedCodec>("item:LastModifiedTime", "LastModifiedTime", RO,
                           same_member<&C::last_modified>),
  field<InstantCodec<&C::start, kStart>>("calendar:Start", kStart, RW, same_member<&C::start>),
  field<InstantCodec<&C::end, kEnd>>("calendar:End", kEnd, RW, same_member<&C::end>),
  field<OriginalStartCodec>("calendar:OriginalStart", "OriginalStart", RO,
                            same_member<&C::original_start>),
  field<BoolCodec<&C::is_all_day, kIsAllDay>>("calendar:IsAllDayEvent", kIsAllDay, RW,
                                              same_member<&C::is_all_day>),
  field<EnumCodec<&C::free_busy, kFreeBusy, kFreeBusyTokens>>(
      "calendar:LegacyFreeBusyStatus", kFreeBusy, RW, same_member<&C::free_busy>),
  field<StringCodec<&C::location, kLocation>>("calendar:Location", kLocation, RW,
                                              same_member<&C::location>),
  field<StringCodec<&C::calendar_item_type, kItemType>>(
      "calendar:CalendarItemType", kItemType, RO, same_member<&C::calendar_item_type>),
  field<OrganizerCodec>("calendar:Organizer", "Organizer", RO, same_member<&C::organizer>),
  field<AttendeesCodec<&C::required_attendees>>("calendar:RequiredAttendees", "RequiredAttendees",
                                                RO, same_member<&C::required_attendees>),
  field<AttendeesCodec<&C::optional_attendees>>("calendar:OptionalAttendees", "OptionalAttendees",
                                                RO, same_member<&C::optional_attendees>),
  field<AttendeesCodec<&C::resources>>("calendar:Resources", "Resources", RO,
                                       same_member<&C::resources>),
  field<RecurrenceCodec>("calendar:Recurrence", "Recurrence", RW, same_member<&C::recurrence>),
  field<ModifiedOccurrencesCodec>("calendar:ModifiedOccurrences", "ModifiedOccurrences", RO,
                                  same_member<&C::modified_occurrences>),
  field<DeletedOccurrencesCodec>("calendar:DeletedOccurrences", "DeletedOccurrences", RO,
                                 same_member<&C::deleted_occurrences>),
  field<TimeZoneCodec<&C::start_time_zone, kStartTimeZone>>(
      "calendar:StartTimeZone", kStartTimeZone, RW, same_member<&C::start_time_zone>),
  field<TimeZoneCodec<&C::end_time_zone, kEndTimeZone>>(
      "calendar:EndTimeZone", kEndTimeZone, RW, same_member<&C::end_time_zone>),
  field<StringCodec<&C::net_show_url, kNetShowUrl>>("calendar:NetShowUrl", kNetShowUrl, RW,
                                                    same_member<&C::net_show_url>),
  field<StringCodec<&C::join_online_meeting_url, kJoinUrl>>(
      "calendar:JoinOnlineMeetingUrl", kJoinUrl, RO, same_member<&C::join_online_meeting_url>),
};
// clang-format on

bool available(const FieldSpec& spec, ServerVersion version) {
  return !(version < spec.min_version);
}

}  // namespace

std::span<const FieldSpec> calendar_fields() { return kFields; }

Result<CalendarItem> read_calendar_item(const pugi::xml_node& element) {
  CalendarItem item;
  for (const pugi::xml_node e : element.children()) {
    if (e.type() != pugi::node_element) continue;
    const std::string_view name = local_name(e);
    for (const FieldSpec& spec : kFields) {
      if (spec.element != name) continue;
      if (!spec.read(e, item)) {
        return fail(ErrorKind::kInvalidData,
                    fmt::format("Exchange sent a calendar item with a malformed {} ('{}').", name,
                                std::string(e.text().as_string()).substr(0, 80)));
      }
      break;
    }
  }
  return item;
}

void write_calendar_item(pugi::xml_node& parent, const CalendarItem& item, ServerVersion version) {
  pugi::xml_node element = parent.append_child("t:CalendarItem");
  for (const FieldSpec& spec : kFields) {
    if (spec.access == FieldAccess::kReadOnly || !available(spec, version)) continue;
    if (!spec.has_value(item)) continue;
    spec.write(element, item);
  }
}

void append_key_field_uri(pugi::xml_node parent) {
  pugi::xml_node uri = parent.append_child("t:ExtendedFieldURI");
  uri.append_attribute("PropertySetId").set_value(kKeyPropertySetId);
  uri.append_attribute("PropertyName").set_value(kKeyPropertyName);
  uri.append_attribute("PropertyType").set_value("String");
}

void write_field_path(pugi::xml_node& parent, const FieldSpec& spec) {
  if (spec.field_uri.empty()) {
    append_key_field_uri(parent);
    return;
  }
  parent.append_child("t:FieldURI")
      .append_attribute("FieldURI")
      .set_value(std::string(spec.field_uri).c_str());
}

void write_additional_properties(pugi::xml_node& parent, ServerVersion version) {
  for (const FieldSpec& spec : kFields) {
    // ItemId comes with every shape; asking for it again is an error on some servers.
    if (spec.element == "ItemId" || !available(spec, version)) continue;
    write_field_path(parent, spec);
  }
}

int write_all_fields(pugi::xml_node& updates, const CalendarItem& item, ServerVersion version) {
  int written = 0;
  for (const FieldSpec& spec : kFields) {
    if (spec.access == FieldAccess::kReadOnly || !available(spec, version)) continue;
    if (!spec.has_value(item)) continue;
    pugi::xml_node set = updates.append_child("t:SetItemField");
    write_field_path(set, spec);
    pugi::xml_node element = set.append_child("t:CalendarItem");
    spec.write(element, item);
    ++written;
  }
  return written;
}

bool has_field_changes(const CalendarItem& before, const CalendarItem& after,
                       ServerVersion version) {
  for (const FieldSpec& spec : kFields) {
    if (spec.access == FieldAccess::kReadOnly || !available(spec, version)) continue;
    if (!spec.same(before, after)) return true;
  }
  return false;
}

int write_field_updates(pugi::xml_node& updates, const CalendarItem& before,
                        const CalendarItem& after, ServerVersion version) {
  int written = 0;
  for (const FieldSpec& spec : kFields) {
    if (spec.access == FieldAccess::kReadOnly || !available(spec, version)) continue;
    if (spec.same(before, after)) continue;
    if (spec.has_value(after)) {
      pugi::xml_node set = updates.append_child("t:SetItemField");
      write_field_path(set, spec);
      pugi::xml_node item = set.append_child("t:CalendarItem");
      spec.write(item, after);
    } else {
      pugi::xml_node remove = updates.append_child("t:DeleteItemField");
      write_field_path(remove, spec);
    }
    ++written;
  }
  return written;
}

}  // namespace agendasync::ews
