#include "store/appointment_document.h"

#include <nlohmann/json.hpp>

#include <array>
#include <utility>

#include "store/appointment_names.h"
#include "store/appointment_scan.h"
#include "store/json_text.h"

namespace agendasync::store {

namespace {

using nlohmann::json;

std::int64_t seconds(Instant instant) { return instant.time_since_epoch().count(); }
Instant instant(std::int64_t value) { return Instant{std::chrono::seconds{value}}; }

// Members in the order nlohmann::json::dump() writes them (sorted by name), so the text is
// the one the document tree wrote before (appointment_document_test holds such documents).

void write_body(JsonText& out, const Body& body) {
  out.begin_object();
  out.key("content");
  out.string(body.content);
  out.key("type");
  out.string(kBodyTypes.name(body.type));
  out.end_object();
}

void write_minutes(JsonText& out, const std::optional<std::chrono::minutes>& value) {
  if (value) {
    out.number(value->count());
  } else {
    out.null();
  }
}

void write_numbers(JsonText& out, const std::vector<int>& values) {
  out.begin_array();
  for (int value : values) out.number(value);
  out.end_array();
}

void write_strings(JsonText& out, const std::vector<std::string>& values) {
  out.begin_array();
  for (const auto& value : values) out.string(value);
  out.end_array();
}

void write_person(JsonText& out, const Person& person) {
  out.begin_object();
  out.key("email");
  out.string(person.email);
  out.key("name");
  out.string(person.name);
  out.end_object();
}

void write_rule(JsonText& out, const RecurrenceRule& rule) {
  out.begin_object();
  out.key("by_day");
  out.begin_array();
  for (const auto& entry : rule.by_day) {
    out.begin_object();
    out.key("day");
    out.number(entry.day.c_encoding());
    out.key("ordinal");
    out.number(entry.ordinal);
    out.end_object();
  }
  out.end_array();
  out.key("by_month");
  write_numbers(out, rule.by_month);
  out.key("by_month_day");
  write_numbers(out, rule.by_month_day);
  out.key("by_set_pos");
  write_numbers(out, rule.by_set_pos);
  out.key("count");
  if (rule.count) {
    out.number(*rule.count);
  } else {
    out.null();
  }
  out.key("freq");
  out.string(kFrequencies.name(rule.freq));
  out.key("interval");
  out.number(rule.interval);
  out.key("until");
  if (rule.until) {
    out.number(seconds(*rule.until));
  } else {
    out.null();
  }
  out.key("week_start");
  out.number(rule.week_start.c_encoding());
  out.end_object();
}

void write_override(JsonText& out, const OccurrenceOverride& o) {
  out.begin_object();
  out.key("body");
  write_body(out, o.body);
  out.key("end");
  out.number(seconds(o.end));
  out.key("location");
  out.string(o.location);
  out.key("recurrence_id");
  out.number(seconds(o.recurrence_id));
  out.key("reminder");
  write_minutes(out, o.reminder);
  out.key("sensitivity");
  out.string(kSensitivities.name(o.sensitivity));
  out.key("show_as");
  out.string(kShowAs.name(o.show_as));
  out.key("start");
  out.number(seconds(o.start));
  out.key("subject");
  out.string(o.subject);
  out.end_object();
}

void write_recurrence(JsonText& out, const Recurrence& recurrence) {
  out.begin_object();
  out.key("exdates");
  out.begin_array();
  for (auto exdate : recurrence.exdates) out.number(seconds(exdate));
  out.end_array();
  out.key("overrides");
  out.begin_array();
  for (const auto& o : recurrence.overrides) write_override(out, o);
  out.end_array();
  out.key("rule");
  write_rule(out, recurrence.rule);
  out.end_object();
}

/// Reading with a path for messages ("attendees[2].role"), built only when a member is bad:
/// a reader names its parent, so reading a document allocates no paths.
class Reader {
 public:
  Reader() = default;

  /// The member `key` of `object`, by reference (no copy of a subtree).
  const json& member(const json& object, const char* key) const {
    if (object.is_object()) {
      if (auto found = object.find(key); found != object.end()) return *found;
    }
    throw_bad(key, "is missing");
  }

  template <class T>
  T get(const json& object, const char* key) const {
    const json& value = member(object, key);
    try {
      return value.get<T>();
    } catch (const json::exception&) {
      throw_bad(key, "has the wrong type");
    }
  }

  template <class Enum, std::size_t N>
  Enum get_enum(const json& object, const char* key, const NameTable<Enum, N>& table) const {
    const json& value = member(object, key);
    if (!value.is_string()) throw_bad(key, "has the wrong type");
    const auto& text = value.get_ref<const std::string&>();
    auto parsed = table.parse(text);
    if (!parsed) throw_bad(key, "has the unknown value \"" + text + "\"");
    return *parsed;
  }

  std::optional<std::chrono::minutes> get_minutes(const json& object, const char* key) const {
    if (member(object, key).is_null()) return std::nullopt;
    return std::chrono::minutes{get<std::int64_t>(object, key)};
  }

  std::chrono::weekday weekday(const json& object, const char* key) const {
    auto value = get<unsigned>(object, key);
    if (value > 6) throw_bad(key, "is not a weekday number 0..6");
    return std::chrono::weekday{value};
  }

  /// The reader of member `child` (element `index` of it when an array's).
  Reader at(const char* child, std::optional<std::size_t> index = std::nullopt) const {
    return Reader(this, child, index);
  }

  [[noreturn]] void throw_bad(const std::string& key, const std::string& what) const {
    const std::string path = this->path();
    throw std::runtime_error("member " + (path.empty() ? key : path + "." + key) + " " + what);
  }

 private:
  Reader(const Reader* parent, const char* name, std::optional<std::size_t> index)
      : parent_(parent), name_(name), index_(index) {}

  std::string path() const {
    if (!parent_) return {};
    std::string path = parent_->path();
    if (!path.empty()) path += ".";
    path += name_;
    if (index_) path += "[" + std::to_string(*index_) + "]";
    return path;
  }

  const Reader* parent_ = nullptr;
  const char* name_ = "";
  std::optional<std::size_t> index_;
};

Body read_body(const Reader& r, const json& j) {
  return Body{r.get_enum(j, "type", kBodyTypes), r.get<std::string>(j, "content")};
}

Person read_person(const Reader& r, const json& j) {
  return Person{r.get<std::string>(j, "name"), r.get<std::string>(j, "email")};
}

RecurrenceRule read_rule(const Reader& r, const json& j) {
  RecurrenceRule rule;
  rule.freq = r.get_enum(j, "freq", kFrequencies);
  rule.interval = r.get<int>(j, "interval");
  const json& by_day = r.member(j, "by_day");
  for (std::size_t i = 0; i < by_day.size(); ++i) {
    const Reader entry_reader = r.at("by_day", i);
    rule.by_day.push_back(WeekdayNum{entry_reader.get<int>(by_day[i], "ordinal"),
                                     entry_reader.weekday(by_day[i], "day")});
  }
  rule.by_month_day = r.get<std::vector<int>>(j, "by_month_day");
  rule.by_month = r.get<std::vector<int>>(j, "by_month");
  rule.by_set_pos = r.get<std::vector<int>>(j, "by_set_pos");
  rule.week_start = r.weekday(j, "week_start");
  if (!r.member(j, "count").is_null()) rule.count = r.get<int>(j, "count");
  if (!r.member(j, "until").is_null()) rule.until = instant(r.get<std::int64_t>(j, "until"));
  return rule;
}

Recurrence read_recurrence(const Reader& r, const json& j) {
  Recurrence recurrence;
  recurrence.rule = read_rule(r.at("rule"), r.member(j, "rule"));
  for (auto value : r.get<std::vector<std::int64_t>>(j, "exdates")) {
    recurrence.exdates.push_back(instant(value));
  }
  const json& overrides = r.member(j, "overrides");
  for (std::size_t i = 0; i < overrides.size(); ++i) {
    const Reader o = r.at("overrides", i);
    const auto& oj = overrides[i];
    OccurrenceOverride value;
    value.recurrence_id = instant(o.get<std::int64_t>(oj, "recurrence_id"));
    value.start = instant(o.get<std::int64_t>(oj, "start"));
    value.end = instant(o.get<std::int64_t>(oj, "end"));
    value.subject = o.get<std::string>(oj, "subject");
    value.body = read_body(o.at("body"), o.member(oj, "body"));
    value.location = o.get<std::string>(oj, "location");
    value.show_as = o.get_enum(oj, "show_as", kShowAs);
    value.sensitivity = o.get_enum(oj, "sensitivity", kSensitivities);
    value.reminder = o.get_minutes(oj, "reminder");
    recurrence.overrides.push_back(std::move(value));
  }
  return recurrence;
}

}  // namespace

std::string to_document(const Appointment& item) {
  JsonText out;
  out.begin_object();
  out.key("activity_type");
  out.string(item.activity_type);
  out.key("all_day");
  out.boolean(item.all_day);
  out.key("attendees");
  out.begin_array();
  for (const auto& a : item.attendees) {
    out.begin_object();
    out.key("person");
    write_person(out, a.person);
    out.key("response");
    out.string(kResponses.name(a.response));
    out.key("role");
    out.string(kRoles.name(a.role));
    out.end_object();
  }
  out.end_array();
  out.key("body");
  write_body(out, item.body);
  out.key("categories");
  write_strings(out, item.categories);
  out.key("end");
  out.number(seconds(item.end));
  out.key("location");
  out.string(item.location);
  out.key("online_meeting_url");
  out.string(item.online_meeting_url);
  out.key("organizer");
  if (item.organizer) {
    write_person(out, *item.organizer);
  } else {
    out.null();
  }
  out.key("owner");
  out.string(item.owner);
  out.key("participants");
  write_strings(out, item.participants);
  out.key("project_task");
  out.boolean(item.project_task);
  out.key("recurrence");
  if (item.recurrence) {
    write_recurrence(out, *item.recurrence);
  } else {
    out.null();
  }
  out.key("reminder");
  write_minutes(out, item.reminder);
  out.key("sensitivity");
  out.string(kSensitivities.name(item.sensitivity));
  out.key("show_as");
  out.string(kShowAs.name(item.show_as));
  out.key("start");
  out.number(seconds(item.start));
  out.key("subject");
  out.string(item.subject);
  out.key("time_zone");
  out.string(item.time_zone);
  out.key("version");
  out.number(1);
  out.end_object();
  return out.take();
}

Result<Appointment> from_document(std::string_view document) {
  // Documents as this writer writes them are read without a tree (a first sync reads two per
  // item); anything else, a damaged one included, goes through nlohmann's parser below.
  if (auto scanned = scan_document(document)) return std::move(*scanned);
  json j = json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return fail(ErrorKind::kInvalidData, "stored appointment document is not a JSON object");
  }
  try {
    const Reader r;
    Appointment item;
    item.subject = r.get<std::string>(j, "subject");
    item.body = read_body(r.at("body"), r.member(j, "body"));
    item.location = r.get<std::string>(j, "location");
    item.all_day = r.get<bool>(j, "all_day");
    item.start = instant(r.get<std::int64_t>(j, "start"));
    item.end = instant(r.get<std::int64_t>(j, "end"));
    item.time_zone = r.get<std::string>(j, "time_zone");
    if (const json& recurrence = r.member(j, "recurrence"); !recurrence.is_null()) {
      item.recurrence = read_recurrence(r.at("recurrence"), recurrence);
    }
    item.sensitivity = r.get_enum(j, "sensitivity", kSensitivities);
    item.show_as = r.get_enum(j, "show_as", kShowAs);
    item.categories = r.get<std::vector<std::string>>(j, "categories");
    item.reminder = r.get_minutes(j, "reminder");
    if (const json& organizer = r.member(j, "organizer"); !organizer.is_null()) {
      item.organizer = read_person(r.at("organizer"), organizer);
    }
    const json& attendees = r.member(j, "attendees");
    for (std::size_t i = 0; i < attendees.size(); ++i) {
      const Reader a = r.at("attendees", i);
      item.attendees.push_back(
          Attendee{read_person(a.at("person"), a.member(attendees[i], "person")),
                   a.get_enum(attendees[i], "role", kRoles),
                   a.get_enum(attendees[i], "response", kResponses)});
    }
    item.online_meeting_url = r.get<std::string>(j, "online_meeting_url");
    item.activity_type = r.get<std::string>(j, "activity_type");
    item.project_task = r.get<bool>(j, "project_task");
    item.owner = r.get<std::string>(j, "owner");
    item.participants = r.get<std::vector<std::string>>(j, "participants");
    return item;
  } catch (const std::exception& e) {
    return fail(ErrorKind::kInvalidData, std::string("stored appointment document: ") + e.what());
  }
}

}  // namespace agendasync::store
