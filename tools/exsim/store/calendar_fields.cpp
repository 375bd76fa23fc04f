#include "exsim/store/calendar_fields.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "exsim/store/xml_util.h"

namespace exsim {
namespace {

using S = FieldSource;

// ItemType then CalendarItemType, in types.xsd sequence order: writing in table order keeps
// responses schema-valid.
const std::vector<FieldSpec> kFields = {
    {"item:ItemId", "ItemId", S::kComputed, true, ""},
    {"item:ParentFolderId", "ParentFolderId", S::kComputed, false, ""},
    {"item:ItemClass", "ItemClass", S::kComputed, false, ""},
    {"item:Subject", "Subject", S::kStored, true, ""},
    {"item:Sensitivity", "Sensitivity", S::kStored, false, "Normal"},
    {"item:Body", "Body", S::kStored, false, ""},
    {"item:DateTimeReceived", "DateTimeReceived", S::kComputed, false, ""},
    {"item:Size", "Size", S::kComputed, false, ""},
    {"item:Categories", "Categories", S::kStored, false, ""},
    {"item:Importance", "Importance", S::kStored, false, "Normal"},
    {"item:InReplyTo", "InReplyTo", S::kStored, false, ""},
    {"item:IsSubmitted", "IsSubmitted", S::kComputed, false, ""},
    {"item:IsDraft", "IsDraft", S::kComputed, false, ""},
    {"item:IsFromMe", "IsFromMe", S::kComputed, false, ""},
    {"item:IsResend", "IsResend", S::kComputed, false, ""},
    {"item:IsUnmodified", "IsUnmodified", S::kComputed, false, ""},
    {"item:DateTimeSent", "DateTimeSent", S::kComputed, false, ""},
    {"item:DateTimeCreated", "DateTimeCreated", S::kComputed, false, ""},
    {"item:ReminderDueBy", "ReminderDueBy", S::kStored, false, ""},
    {"item:ReminderIsSet", "ReminderIsSet", S::kStored, false, "true"},
    {"item:ReminderMinutesBeforeStart", "ReminderMinutesBeforeStart", S::kStored, false, "15"},
    {"item:DisplayCc", "DisplayCc", S::kComputed, false, ""},
    {"item:DisplayTo", "DisplayTo", S::kComputed, false, ""},
    {"item:HasAttachments", "HasAttachments", S::kComputed, true, ""},
    {"", "ExtendedProperty", S::kExtended, false, ""},
    {"item:Culture", "Culture", S::kStored, false, "en-US"},
    {"item:LastModifiedName", "LastModifiedName", S::kComputed, false, ""},
    {"item:LastModifiedTime", "LastModifiedTime", S::kComputed, false, ""},
    {"item:IsAssociated", "IsAssociated", S::kComputed, true, ""},
    {"calendar:UID", "UID", S::kStored, false, ""},
    {"calendar:RecurrenceId", "RecurrenceId", S::kComputed, false, ""},
    {"calendar:DateTimeStamp", "DateTimeStamp", S::kComputed, false, ""},
    {"calendar:Start", "Start", S::kComputed, true, ""},
    {"calendar:End", "End", S::kComputed, true, ""},
    {"calendar:OriginalStart", "OriginalStart", S::kComputed, false, ""},
    {"calendar:IsAllDayEvent", "IsAllDayEvent", S::kStored, false, "false"},
    {"calendar:LegacyFreeBusyStatus", "LegacyFreeBusyStatus", S::kStored, true, "Busy"},
    {"calendar:Location", "Location", S::kStored, true, ""},
    {"calendar:When", "When", S::kStored, false, ""},
    {"calendar:IsMeeting", "IsMeeting", S::kComputed, false, ""},
    {"calendar:IsCancelled", "IsCancelled", S::kComputed, false, ""},
    {"calendar:IsRecurring", "IsRecurring", S::kComputed, false, ""},
    {"calendar:MeetingRequestWasSent", "MeetingRequestWasSent", S::kComputed, false, ""},
    {"calendar:IsResponseRequested", "IsResponseRequested", S::kStored, false, "true"},
    {"calendar:CalendarItemType", "CalendarItemType", S::kComputed, true, ""},
    {"calendar:MyResponseType", "MyResponseType", S::kComputed, false, ""},
    {"calendar:Organizer", "Organizer", S::kStored, true, ""},
    {"calendar:RequiredAttendees", "RequiredAttendees", S::kStored, true, ""},
    {"calendar:OptionalAttendees", "OptionalAttendees", S::kStored, true, ""},
    {"calendar:Resources", "Resources", S::kStored, false, ""},
    {"calendar:ConflictingMeetingCount", "ConflictingMeetingCount", S::kComputed, false, ""},
    {"calendar:AdjacentMeetingCount", "AdjacentMeetingCount", S::kComputed, false, ""},
    {"calendar:Duration", "Duration", S::kComputed, false, ""},
    {"calendar:TimeZone", "TimeZone", S::kComputed, false, ""},
    {"calendar:AppointmentSequenceNumber", "AppointmentSequenceNumber", S::kComputed, false, ""},
    {"calendar:AppointmentState", "AppointmentState", S::kComputed, false, ""},
    {"calendar:Recurrence", "Recurrence", S::kStored, false, ""},
    {"calendar:FirstOccurrence", "FirstOccurrence", S::kComputed, false, ""},
    {"calendar:LastOccurrence", "LastOccurrence", S::kComputed, false, ""},
    {"calendar:ModifiedOccurrences", "ModifiedOccurrences", S::kComputed, false, ""},
    {"calendar:DeletedOccurrences", "DeletedOccurrences", S::kComputed, false, ""},
    {"calendar:MeetingTimeZone", "MeetingTimeZone", S::kStored, false, ""},
    {"calendar:StartTimeZone", "StartTimeZone", S::kStored, false, ""},
    {"calendar:EndTimeZone", "EndTimeZone", S::kStored, false, ""},
    {"calendar:ConferenceType", "ConferenceType", S::kStored, false, "0"},
    {"calendar:AllowNewTimeProposal", "AllowNewTimeProposal", S::kStored, false, "true"},
    {"calendar:IsOnlineMeeting", "IsOnlineMeeting", S::kStored, false, "false"},
    {"calendar:MeetingWorkspaceUrl", "MeetingWorkspaceUrl", S::kStored, false, ""},
    {"calendar:NetShowUrl", "NetShowUrl", S::kStored, false, ""},
    {"calendar:EnhancedLocation", "EnhancedLocation", S::kStored, false, ""},
    {"calendar:IsOrganizer", "IsOrganizer", S::kComputed, false, ""},
};

size_t field_index(std::string_view element) {
  for (size_t i = 0; i < kFields.size(); ++i) {
    if (kFields[i].element == element) return i;
  }
  return kFields.size();
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Inserts `src` (copied, t: prefixed) into `root` at its schema position, replacing any
// existing element of the same name.
pugi::xml_node put_in_order(pugi::xml_node root, pugi::xml_node src) {
  std::string_view name = local_name(src);
  size_t order = field_index(name);
  for (pugi::xml_node c : children(root, name)) root.remove_child(c);
  pugi::xml_node before;
  for (pugi::xml_node c : element_children(root)) {
    if (field_index(local_name(c)) > order) {
      before = c;
      break;
    }
  }
  pugi::xml_document tmp;
  pugi::xml_node copy = copy_as_types(src, tmp);
  return before ? root.insert_copy_before(copy, before) : root.append_copy(copy);
}

pugi::xml_node add(pugi::xml_node parent, const char* name, std::string_view text) {
  return add_text(parent, name, text);
}

void write_occurrence_info(pugi::xml_node parent, const char* name, const Mailbox& mb,
                           const StoredItem& master, Seconds original) {
  pugi::xml_node o = parent.append_child(name);
  pugi::xml_node id = o.append_child("t:ItemId");
  id.append_attribute("Id") = encode_item_id({mb.index, master.id, original}).c_str();
  id.append_attribute("ChangeKey") = encode_change_key(master.id, master.version).c_str();
  Seconds start = original;
  Seconds end = original + (master.end - master.start);
  if (auto it = master.overrides.find(original); it != master.overrides.end()) {
    start = it->second.start;
    end = it->second.end;
  }
  add(o, "t:Start", format_utc(start));
  add(o, "t:End", format_utc(end));
  add(o, "t:OriginalStart", format_utc(original));
}

std::string calendar_item_type(const ItemView& v) {
  if (v.original_start) {
    return v.item.overrides.count(*v.original_start) ? "Exception" : "Occurrence";
  }
  return v.item.rule ? "RecurringMaster" : "Single";
}

const OccurrenceOverride* override_of(const ItemView& v) {
  if (!v.original_start) return nullptr;
  auto it = v.item.overrides.find(*v.original_start);
  return it == v.item.overrides.end() ? nullptr : &it->second;
}

// Start and end of the view (an occurrence's own times, or the item's).
std::pair<Seconds, Seconds> times_of(const ItemView& v) {
  if (!v.original_start) return {v.item.start, v.item.end};
  if (const OccurrenceOverride* o = override_of(v)) return {o->start, o->end};
  return {*v.original_start, *v.original_start + (v.item.end - v.item.start)};
}

// An occurrence's override marks a field deleted on that occurrence alone with an empty
// element carrying this attribute (the master's value must not show through).
constexpr const char* kDeletedMarker = "exsim-deleted";

// The stored property for the view: the occurrence's override first, then the master.
pugi::xml_node stored_property(const ItemView& v, std::string_view element) {
  if (const OccurrenceOverride* o = override_of(v)) {
    if (pugi::xml_node n = child(bag_root(o->props), element)) {
      // Deleted on this occurrence: absent, whatever the master holds.
      return n.attribute(kDeletedMarker) ? pugi::xml_node() : n;
    }
  }
  return child(bag_root(v.item.props), element);
}

bool is_boolean(std::string_view element) {
  return element == "ReminderIsSet" || element == "IsAllDayEvent" ||
         element == "IsResponseRequested" || element == "AllowNewTimeProposal" ||
         element == "IsOnlineMeeting";
}

bool is_series_only(std::string_view element) {
  return element == "Recurrence" || element == "FirstOccurrence" || element == "LastOccurrence" ||
         element == "ModifiedOccurrences" || element == "DeletedOccurrences";
}

void write_computed(pugi::xml_node out, const ItemView& v, const FieldSpec& f) {
  const StoredItem& item = v.item;
  const Mailbox& mb = v.mailbox;
  std::string_view e = f.element;
  auto [start, end] = times_of(v);
  if (e == "ItemId") {
    pugi::xml_node id = out.append_child("t:ItemId");
    id.append_attribute("Id") = encode_item_id({mb.index, item.id, v.original_start}).c_str();
    id.append_attribute("ChangeKey") = encode_change_key(item.id, item.version).c_str();
  } else if (e == "ParentFolderId") {
    pugi::xml_node id = out.append_child("t:ParentFolderId");
    id.append_attribute("Id") = encode_folder_id(mb.index, item.folder).c_str();
    id.append_attribute("ChangeKey") = "AgAAAA==";
  } else if (e == "ItemClass") {
    add(out, "t:ItemClass", "IPM.Appointment");
  } else if (e == "DateTimeReceived" || e == "DateTimeSent" || e == "DateTimeCreated") {
    add(out, fmt::format("t:{}", e).c_str(), format_utc(item.created));
  } else if (e == "Size") {
    add(out, "t:Size", std::to_string(512 + to_string(bag_root(item.props)).size()));
  } else if (e == "IsSubmitted" || e == "IsDraft" || e == "IsResend" || e == "IsUnmodified" ||
             e == "HasAttachments" || e == "IsAssociated" || e == "IsCancelled") {
    add(out, fmt::format("t:{}", e).c_str(), "false");
  } else if (e == "IsFromMe" || e == "IsOrganizer") {
    add(out, fmt::format("t:{}", e).c_str(), "true");
  } else if (e == "DisplayTo" || e == "DisplayCc") {
    std::string names;
    pugi::xml_node list =
        stored_property(v, e == "DisplayTo" ? "RequiredAttendees" : "OptionalAttendees");
    for (pugi::xml_node a : children(list, "Attendee")) {
      pugi::xml_node m = child(a, "Mailbox");
      std::string n = child_text(m, "Name");
      if (n.empty()) n = child_text(m, "EmailAddress");
      if (!names.empty()) names += "; ";
      names += n;
    }
    if (!names.empty()) add(out, fmt::format("t:{}", e).c_str(), names);
  } else if (e == "LastModifiedName") {
    add(out, "t:LastModifiedName", mb.display_name);
  } else if (e == "LastModifiedTime" || e == "DateTimeStamp") {
    add(out, fmt::format("t:{}", e).c_str(), format_utc(item.modified));
  } else if (e == "RecurrenceId" || e == "OriginalStart") {
    if (v.original_start) add(out, fmt::format("t:{}", e).c_str(), format_utc(*v.original_start));
  } else if (e == "Start") {
    add(out, "t:Start", format_utc(start));
  } else if (e == "End") {
    add(out, "t:End", format_utc(end));
  } else if (e == "IsMeeting") {
    add(out, "t:IsMeeting", has_attendees(item) ? "true" : "false");
  } else if (e == "IsRecurring") {
    add(out, "t:IsRecurring", (item.rule || v.original_start) ? "true" : "false");
  } else if (e == "MeetingRequestWasSent") {
    add(out, "t:MeetingRequestWasSent", item.meeting_request_sent ? "true" : "false");
  } else if (e == "CalendarItemType") {
    add(out, "t:CalendarItemType", calendar_item_type(v));
  } else if (e == "MyResponseType") {
    add(out, "t:MyResponseType", "Organizer");
  } else if (e == "ConflictingMeetingCount" || e == "AdjacentMeetingCount") {
    add(out, fmt::format("t:{}", e).c_str(), "0");
  } else if (e == "Duration") {
    add(out, "t:Duration", format_duration(end - start));
  } else if (e == "TimeZone") {
    pugi::xml_node tz = stored_property(v, "StartTimeZone");
    std::string name = tz.attribute("Name").as_string(tz.attribute("Id").as_string());
    if (!name.empty()) add(out, "t:TimeZone", name);
  } else if (e == "AppointmentSequenceNumber") {
    add(out, "t:AppointmentSequenceNumber", std::to_string(item.sequence_number));
  } else if (e == "AppointmentState") {
    add(out, "t:AppointmentState", has_attendees(item) ? "1" : "0");
  } else if (e == "FirstOccurrence" || e == "LastOccurrence") {
    if (!item.rule || v.original_start) return;
    // A NoEnd series has no last occurrence.
    if (e == "LastOccurrence" && item.rule->range == RecurrenceRule::Range::kNoEnd) return;
    auto starts = occurrence_starts(item, far_future(), 1000);
    std::erase_if(starts, [&](Seconds s) { return item.deleted_occurrences.count(s) > 0; });
    if (starts.empty()) return;
    write_occurrence_info(out, fmt::format("t:{}", e).c_str(), mb, item,
                          e == "FirstOccurrence" ? starts.front() : starts.back());
  } else if (e == "ModifiedOccurrences") {
    if (item.overrides.empty() || v.original_start) return;
    pugi::xml_node list = out.append_child("t:ModifiedOccurrences");
    for (const auto& [original, o] : item.overrides) {
      write_occurrence_info(list, "t:Occurrence", mb, item, original);
    }
  } else if (e == "DeletedOccurrences") {
    if (item.deleted_occurrences.empty() || v.original_start) return;
    pugi::xml_node list = out.append_child("t:DeletedOccurrences");
    for (Seconds s : item.deleted_occurrences) {
      add(list.append_child("t:DeletedOccurrence"), "t:Start", format_utc(s));
    }
  }
}

void write_default_organizer(pugi::xml_node out, const Mailbox& mb) {
  pugi::xml_node m = out.append_child("t:Organizer").append_child("t:Mailbox");
  add(m, "t:Name", mb.display_name);
  add(m, "t:EmailAddress", mb.address);
  add(m, "t:RoutingType", "SMTP");
  add(m, "t:MailboxType", "Mailbox");
}

bool included(const ItemShape& shape, const FieldSpec& f) {
  if (shape.uris.count(std::string(f.uri))) return true;
  switch (shape.base) {
    case ItemShape::Base::kIdOnly:
      return f.element == "ItemId";
    case ItemShape::Base::kDefault:
      return f.in_default_shape;
    case ItemShape::Base::kAllProperties:
      return true;
  }
  return false;
}

}  // namespace

const std::vector<FieldSpec>& calendar_fields() { return kFields; }

const FieldSpec* field_by_uri(std::string_view uri) {
  for (const auto& f : kFields) {
    if (f.uri == uri) return &f;
  }
  return nullptr;
}

const FieldSpec* field_by_element(std::string_view element) {
  size_t i = field_index(element);
  return i < kFields.size() ? &kFields[i] : nullptr;
}

std::string extended_key(pugi::xml_node uri) {
  std::string set = lower(uri.attribute("DistinguishedPropertySetId")
                              .as_string(uri.attribute("PropertySetId").as_string()));
  std::string name;
  if (auto a = uri.attribute("PropertyName"))
    name = "n:" + std::string(a.value());
  else if (auto id = uri.attribute("PropertyId"))
    name = "i:" + std::to_string(id.as_llong());
  else if (auto tag = uri.attribute("PropertyTag"))
    name = "t:" + std::to_string(std::stoll(tag.value(), nullptr, 0));
  return set + "|" + name + "|" + uri.attribute("PropertyType").as_string();
}

ItemShape ItemShape::parse(pugi::xml_node node) {
  ItemShape s;
  std::string base = child_text(node, "BaseShape");
  if (base == "Default")
    s.base = Base::kDefault;
  else if (base == "AllProperties")
    s.base = Base::kAllProperties;
  for (pugi::xml_node p : element_children(child(node, "AdditionalProperties"))) {
    if (local_name(p) == "FieldURI")
      s.uris.insert(p.attribute("FieldURI").as_string());
    else if (local_name(p) == "ExtendedFieldURI")
      s.extended_keys.push_back(extended_key(p));
  }
  return s;
}

std::optional<std::string> extended_value(const StoredItem& item, std::string_view key) {
  for (pugi::xml_node p : children(bag_root(item.props), "ExtendedProperty")) {
    if (extended_key(child(p, "ExtendedFieldURI")) == key) {
      if (pugi::xml_node v = child(p, "Value")) return std::string(v.text().as_string());
      if (pugi::xml_node vs = child(p, "Values")) return std::string(child_text(vs, "Value"));
    }
  }
  return std::nullopt;
}

void write_item_id_only(pugi::xml_node parent, const ItemView& view) {
  pugi::xml_node out = parent.append_child("t:CalendarItem");
  write_computed(out, view, *field_by_element("ItemId"));
}

void write_calendar_item(pugi::xml_node parent, const ItemView& v, const ItemShape& shape) {
  pugi::xml_node out = parent.append_child("t:CalendarItem");
  for (const FieldSpec& f : kFields) {
    if (f.source == FieldSource::kExtended) {
      for (const std::string& key : shape.extended_keys) {
        for (pugi::xml_node p : children(bag_root(v.item.props), "ExtendedProperty")) {
          if (extended_key(child(p, "ExtendedFieldURI")) == key) out.append_copy(p);
        }
      }
      continue;
    }
    if (!included(shape, f)) continue;
    if (v.original_start && is_series_only(f.element)) continue;
    if (f.source == FieldSource::kComputed) {
      write_computed(out, v, f);
      continue;
    }
    if (pugi::xml_node stored = stored_property(v, f.element)) {
      // Exchange answers a zone given by Id alone with its full definition.
      bool id_only = (f.element == "StartTimeZone" || f.element == "EndTimeZone") &&
                     !child(stored, "Periods") && stored.attribute("Id");
      if (id_only && write_full_time_zone(out, fmt::format("t:{}", f.element).c_str(),
                                          stored.attribute("Id").value())) {
        continue;
      }
      out.append_copy(stored);
    } else if (f.element == "Organizer") {
      write_default_organizer(out, v.mailbox);
    } else if (!f.default_text.empty()) {
      add(out, fmt::format("t:{}", f.element).c_str(), f.default_text);
    }
  }
}

std::string field_text(const ItemView& v, std::string_view uri) {
  const FieldSpec* f = field_by_uri(uri);
  if (!f) return {};
  auto [start, end] = times_of(v);
  if (f->element == "Start") return format_utc(start);
  if (f->element == "End") return format_utc(end);
  if (f->element == "CalendarItemType") return calendar_item_type(v);
  if (f->source == FieldSource::kStored) {
    pugi::xml_node n = stored_property(v, f->element);
    if (!n) return std::string(f->default_text);
    if (f->element == "Categories") {
      std::string all;
      for (pugi::xml_node s : children(n, "String"))
        all += std::string(s.text().as_string()) + "\n";
      return all;
    }
    if (f->element == "Organizer") return child_text(child(n, "Mailbox"), "EmailAddress");
    return n.text().as_string();
  }
  pugi::xml_document tmp;
  write_computed(tmp, v, *f);
  return tmp.first_child().text().as_string();
}

std::optional<FieldError> set_field(StoredItem& item, PropertyBag* override_props,
                                    OccurrenceOverride* occurrence, pugi::xml_node property,
                                    bool append, const TimeContext& tc) {
  std::string_view name = local_name(property);
  pugi::xml_node root = bag_root(override_props ? *override_props : item.props);
  if (name == "ExtendedProperty") {
    if (occurrence) root = bag_root(item.props);  // extended properties live on the series
    std::string key = extended_key(child(property, "ExtendedFieldURI"));
    for (pugi::xml_node p : children(root, "ExtendedProperty")) {
      if (extended_key(child(p, "ExtendedFieldURI")) == key) root.remove_child(p);
    }
    // Extended properties sit after HasAttachments and before Culture.
    pugi::xml_node before = child(root, "Culture");
    for (pugi::xml_node c : element_children(root)) {
      if (!before && field_index(local_name(c)) > field_index("ExtendedProperty")) before = c;
    }
    pugi::xml_document tmp;
    pugi::xml_node copy = copy_as_types(property, tmp);
    if (before)
      root.insert_copy_before(copy, before);
    else
      root.append_copy(copy);
    item.field_versions[key] = item.version + 1;
    return std::nullopt;
  }
  const FieldSpec* f = field_by_element(name);
  if (!f) {
    return FieldError{"ErrorInvalidPropertySet",
                      fmt::format("{} is not a CalendarItem property.", name)};
  }
  item.field_versions[std::string(f->uri)] = item.version + 1;
  if (name == "Start" || name == "End") {
    auto parsed = parse_date_time(property.text().as_string());
    if (!parsed) {
      return FieldError{"ErrorInvalidRequest", fmt::format("{} is not a valid dateTime.", name)};
    }
    Seconds t = parsed->offset ? parsed->utc() : tc.zone.to_utc(parsed->wall);
    if (occurrence)
      (name == "Start" ? occurrence->start : occurrence->end) = t;
    else
      (name == "Start" ? item.start : item.end) = t;
    return std::nullopt;
  }
  if (f->source == FieldSource::kComputed) {
    if (name == "ItemClass") return std::nullopt;  // clients may echo IPM.Appointment
    return FieldError{"ErrorInvalidPropertySet",
                      fmt::format("{} is read-only; Exchange computes it.", f->uri)};
  }
  if (name == "Recurrence") {
    if (occurrence) {
      return FieldError{"ErrorInvalidPropertySet",
                        "An occurrence cannot carry a Recurrence; update the master."};
    }
    std::string error;
    auto rule = parse_recurrence(property, error);
    if (!rule) return FieldError{"ErrorCalendarInvalidRecurrence", error};
    item.rule = rule;
    // Occurrence edits of the old pattern no longer apply.
    item.overrides.clear();
    item.deleted_occurrences.clear();
  }
  pugi::xml_node existing = child(root, name);
  if (is_boolean(name)) {
    // Exchange writes xs:boolean values as true/false whatever spelling the client used.
    std::string_view v = property.text().as_string();
    if (v != "true" && v != "false" && v != "1" && v != "0") {
      return FieldError{"ErrorInvalidRequest", fmt::format("{} must be a boolean.", name)};
    }
    pugi::xml_document tmp;
    pugi::xml_node n = tmp.append_child(fmt::format("t:{}", name).c_str());
    n.text().set(v == "true" || v == "1" ? "true" : "false");
    put_in_order(root, n);
    return std::nullopt;
  }
  if (append && existing &&
      (name == "RequiredAttendees" || name == "OptionalAttendees" || name == "Resources" ||
       name == "Categories")) {
    for (pugi::xml_node c : element_children(property)) copy_as_types(c, existing);
  } else if (append && existing && name == "Body") {
    existing.text().set(
        (std::string(existing.text().as_string()) + property.text().as_string()).c_str());
  } else {
    put_in_order(root, property);
  }
  if (name == "StartTimeZone" || name == "MeetingTimeZone") {
    item.zone = Zone::from_element(child(root, name));
  }
  return std::nullopt;
}

std::optional<FieldError> delete_field(StoredItem& item, pugi::xml_node path,
                                       OccurrenceOverride* occurrence) {
  pugi::xml_node root = bag_root(item.props);
  if (local_name(path) == "ExtendedFieldURI") {
    // Extended properties live on the series (set_field keeps them there too): an occurrence
    // has none of its own to delete.
    if (occurrence) return std::nullopt;
    std::string key = extended_key(path);
    for (pugi::xml_node p : children(root, "ExtendedProperty")) {
      if (extended_key(child(p, "ExtendedFieldURI")) == key) root.remove_child(p);
    }
    return std::nullopt;
  }
  std::string uri = path.attribute("FieldURI").as_string();
  const FieldSpec* f = field_by_uri(uri);
  if (!f) return FieldError{"ErrorInvalidPropertyDelete", uri + " is not a CalendarItem property."};
  if (f->source != FieldSource::kStored || f->element == "UID") {
    return FieldError{"ErrorInvalidPropertyDelete", uri + " cannot be deleted."};
  }
  if (occurrence) {
    if (is_series_only(f->element)) {
      return FieldError{"ErrorInvalidPropertyDelete",
                        uri + " belongs to the recurring master; delete it there."};
    }
    pugi::xml_node own = bag_root(occurrence->props);
    for (pugi::xml_node c : children(own, f->element)) own.remove_child(c);
    own.append_child(fmt::format("t:{}", f->element).c_str()).append_attribute(kDeletedMarker) =
        "true";
    item.field_versions[uri] = item.version + 1;
    return std::nullopt;
  }
  for (pugi::xml_node c : children(root, f->element)) root.remove_child(c);
  if (f->element == "Recurrence") {
    item.rule.reset();
    item.overrides.clear();
    item.deleted_occurrences.clear();
  }
  item.field_versions[uri] = item.version + 1;
  return std::nullopt;
}

std::optional<FieldError> finish_item(StoredItem& item) {
  if (item.end < item.start) {
    return FieldError{"ErrorCalendarEndDateIsEarlierThanStartDate",
                      "The End of the calendar item is before its Start."};
  }
  pugi::xml_node root = bag_root(item.props);
  if (!child(root, "UID")) {
    pugi::xml_document tmp;
    pugi::xml_node uid = tmp.append_child("t:UID");
    std::string raw = random_bytes(16);
    std::string hex;
    for (unsigned char c : raw) hex += fmt::format("{:02X}", c);
    uid.text().set(("040000008200E00074C5B7101A82E00800000000" + hex).c_str());
    put_in_order(root, uid);
  }
  if (!item.zone.iana().empty() || child(root, "StartTimeZone") || child(root, "MeetingTimeZone")) {
    pugi::xml_node tz = child(root, "StartTimeZone");
    if (!tz) tz = child(root, "MeetingTimeZone");
    item.zone = Zone::from_element(tz);
  }
  return std::nullopt;
}

}  // namespace exsim
