#include "store/appointment_document.h"

#include <nlohmann/json.hpp>

#include <array>
#include <utility>

namespace agendasync::store {

namespace {

using nlohmann::json;

/// Stable storage names. Appending is fine; renaming breaks existing databases.
template <class Enum, std::size_t N>
struct NameTable {
  std::array<std::pair<Enum, const char*>, N> entries;

  const char* name(Enum value) const {
    for (const auto& [e, text] : entries) {
      if (e == value) return text;
    }
    return entries[0].second;
  }
  std::optional<Enum> parse(std::string_view text) const {
    for (const auto& [e, name] : entries) {
      if (text == name) return e;
    }
    return std::nullopt;
  }
};

constexpr NameTable<BodyType, 2> kBodyTypes{
    {{{BodyType::kText, "text"}, {BodyType::kHtml, "html"}}}};
constexpr NameTable<Sensitivity, 4> kSensitivities{
    {{{Sensitivity::kNormal, "normal"},
      {Sensitivity::kPersonal, "personal"},
      {Sensitivity::kPrivate, "private"},
      {Sensitivity::kConfidential, "confidential"}}}};
constexpr NameTable<ShowAs, 6> kShowAs{{{{ShowAs::kFree, "free"},
                                         {ShowAs::kTentative, "tentative"},
                                         {ShowAs::kBusy, "busy"},
                                         {ShowAs::kOutOfOffice, "oof"},
                                         {ShowAs::kWorkingElsewhere, "working-elsewhere"},
                                         {ShowAs::kUnknown, "unknown"}}}};
constexpr NameTable<ResponseStatus, 6> kResponses{
    {{{ResponseStatus::kNone, "none"},
      {ResponseStatus::kOrganizer, "organizer"},
      {ResponseStatus::kTentative, "tentative"},
      {ResponseStatus::kAccepted, "accepted"},
      {ResponseStatus::kDeclined, "declined"},
      {ResponseStatus::kNotResponded, "not-responded"}}}};
constexpr NameTable<AttendeeRole, 3> kRoles{{{{AttendeeRole::kRequired, "required"},
                                              {AttendeeRole::kOptional, "optional"},
                                              {AttendeeRole::kResource, "resource"}}}};
constexpr NameTable<Frequency, 4> kFrequencies{{{{Frequency::kDaily, "daily"},
                                                 {Frequency::kWeekly, "weekly"},
                                                 {Frequency::kMonthly, "monthly"},
                                                 {Frequency::kYearly, "yearly"}}}};

std::int64_t seconds(Instant instant) { return instant.time_since_epoch().count(); }
Instant instant(std::int64_t value) { return Instant{std::chrono::seconds{value}}; }

json body_json(const Body& body) {
  return json{{"type", kBodyTypes.name(body.type)}, {"content", body.content}};
}

json optional_minutes(const std::optional<std::chrono::minutes>& value) {
  return value ? json(value->count()) : json(nullptr);
}

json rule_json(const RecurrenceRule& rule) {
  json by_day = json::array();
  for (const auto& entry : rule.by_day) {
    by_day.push_back({{"ordinal", entry.ordinal}, {"day", entry.day.c_encoding()}});
  }
  return json{{"freq", kFrequencies.name(rule.freq)},
              {"interval", rule.interval},
              {"by_day", by_day},
              {"by_month_day", rule.by_month_day},
              {"by_month", rule.by_month},
              {"by_set_pos", rule.by_set_pos},
              {"week_start", rule.week_start.c_encoding()},
              {"count", rule.count ? json(*rule.count) : json(nullptr)},
              {"until", rule.until ? json(seconds(*rule.until)) : json(nullptr)}};
}

json recurrence_json(const Recurrence& recurrence) {
  json exdates = json::array();
  for (auto exdate : recurrence.exdates) exdates.push_back(seconds(exdate));
  json overrides = json::array();
  for (const auto& o : recurrence.overrides) {
    overrides.push_back({{"recurrence_id", seconds(o.recurrence_id)},
                         {"start", seconds(o.start)},
                         {"end", seconds(o.end)},
                         {"subject", o.subject},
                         {"body", body_json(o.body)},
                         {"location", o.location},
                         {"show_as", kShowAs.name(o.show_as)},
                         {"sensitivity", kSensitivities.name(o.sensitivity)},
                         {"reminder", optional_minutes(o.reminder)}});
  }
  return json{{"rule", rule_json(recurrence.rule)}, {"exdates", exdates}, {"overrides", overrides}};
}

json person_json(const Person& person) {
  return json{{"name", person.name}, {"email", person.email}};
}

/// Reading with a path for messages: "attendees[2].role".
class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  template <class T>
  T get(const json& object, const char* key) const {
    if (!object.is_object() || !object.contains(key)) {
      throw_bad(std::string(key), "is missing");
    }
    try {
      return object.at(key).get<T>();
    } catch (const json::exception&) {
      throw_bad(std::string(key), "has the wrong type");
    }
  }

  template <class Enum, std::size_t N>
  Enum get_enum(const json& object, const char* key, const NameTable<Enum, N>& table) const {
    auto text = get<std::string>(object, key);
    auto value = table.parse(text);
    if (!value) throw_bad(key, "has the unknown value \"" + text + "\"");
    return *value;
  }

  std::optional<std::chrono::minutes> get_minutes(const json& object, const char* key) const {
    if (object.contains(key) && object.at(key).is_null()) return std::nullopt;
    return std::chrono::minutes{get<std::int64_t>(object, key)};
  }

  std::chrono::weekday weekday(const json& object, const char* key) const {
    auto value = get<unsigned>(object, key);
    if (value > 6) throw_bad(key, "is not a weekday number 0..6");
    return std::chrono::weekday{value};
  }

  Reader at(const std::string& child) const {
    return Reader(path_.empty() ? child : path_ + "." + child);
  }

  [[noreturn]] void throw_bad(const std::string& key, const std::string& what) const {
    throw std::runtime_error("member " + (path_.empty() ? key : path_ + "." + key) + " " + what);
  }

 private:
  std::string path_;
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
  auto by_day = r.get<json>(j, "by_day");
  for (std::size_t i = 0; i < by_day.size(); ++i) {
    auto entry_reader = r.at("by_day[" + std::to_string(i) + "]");
    rule.by_day.push_back(WeekdayNum{entry_reader.get<int>(by_day[i], "ordinal"),
                                     entry_reader.weekday(by_day[i], "day")});
  }
  rule.by_month_day = r.get<std::vector<int>>(j, "by_month_day");
  rule.by_month = r.get<std::vector<int>>(j, "by_month");
  rule.by_set_pos = r.get<std::vector<int>>(j, "by_set_pos");
  rule.week_start = r.weekday(j, "week_start");
  if (!r.get<json>(j, "count").is_null()) rule.count = r.get<int>(j, "count");
  if (!r.get<json>(j, "until").is_null()) rule.until = instant(r.get<std::int64_t>(j, "until"));
  return rule;
}

Recurrence read_recurrence(const Reader& r, const json& j) {
  Recurrence recurrence;
  recurrence.rule = read_rule(r.at("rule"), r.get<json>(j, "rule"));
  for (auto value : r.get<std::vector<std::int64_t>>(j, "exdates")) {
    recurrence.exdates.push_back(instant(value));
  }
  auto overrides = r.get<json>(j, "overrides");
  for (std::size_t i = 0; i < overrides.size(); ++i) {
    auto o = r.at("overrides[" + std::to_string(i) + "]");
    const auto& oj = overrides[i];
    OccurrenceOverride value;
    value.recurrence_id = instant(o.get<std::int64_t>(oj, "recurrence_id"));
    value.start = instant(o.get<std::int64_t>(oj, "start"));
    value.end = instant(o.get<std::int64_t>(oj, "end"));
    value.subject = o.get<std::string>(oj, "subject");
    value.body = read_body(o.at("body"), o.get<json>(oj, "body"));
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
  json attendees = json::array();
  for (const auto& a : item.attendees) {
    attendees.push_back({{"person", person_json(a.person)},
                         {"role", kRoles.name(a.role)},
                         {"response", kResponses.name(a.response)}});
  }
  json document{
      {"version", 1},
      {"subject", item.subject},
      {"body", body_json(item.body)},
      {"location", item.location},
      {"all_day", item.all_day},
      {"start", seconds(item.start)},
      {"end", seconds(item.end)},
      {"time_zone", item.time_zone},
      {"recurrence", item.recurrence ? recurrence_json(*item.recurrence) : json(nullptr)},
      {"sensitivity", kSensitivities.name(item.sensitivity)},
      {"show_as", kShowAs.name(item.show_as)},
      {"categories", item.categories},
      {"reminder", optional_minutes(item.reminder)},
      {"organizer", item.organizer ? person_json(*item.organizer) : json(nullptr)},
      {"attendees", attendees},
      {"online_meeting_url", item.online_meeting_url},
      {"activity_type", item.activity_type},
      {"project_task", item.project_task},
      {"owner", item.owner},
      {"participants", item.participants},
  };
  return document.dump();
}

Result<Appointment> from_document(std::string_view document) {
  json j = json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return fail(ErrorKind::kInvalidData, "stored appointment document is not a JSON object");
  }
  try {
    Reader r("");
    Appointment item;
    item.subject = r.get<std::string>(j, "subject");
    item.body = read_body(r.at("body"), r.get<json>(j, "body"));
    item.location = r.get<std::string>(j, "location");
    item.all_day = r.get<bool>(j, "all_day");
    item.start = instant(r.get<std::int64_t>(j, "start"));
    item.end = instant(r.get<std::int64_t>(j, "end"));
    item.time_zone = r.get<std::string>(j, "time_zone");
    if (auto recurrence = r.get<json>(j, "recurrence"); !recurrence.is_null()) {
      item.recurrence = read_recurrence(r.at("recurrence"), recurrence);
    }
    item.sensitivity = r.get_enum(j, "sensitivity", kSensitivities);
    item.show_as = r.get_enum(j, "show_as", kShowAs);
    item.categories = r.get<std::vector<std::string>>(j, "categories");
    item.reminder = r.get_minutes(j, "reminder");
    if (auto organizer = r.get<json>(j, "organizer"); !organizer.is_null()) {
      item.organizer = read_person(r.at("organizer"), organizer);
    }
    auto attendees = r.get<json>(j, "attendees");
    for (std::size_t i = 0; i < attendees.size(); ++i) {
      auto a = r.at("attendees[" + std::to_string(i) + "]");
      item.attendees.push_back(
          Attendee{read_person(a.at("person"), a.get<json>(attendees[i], "person")),
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
