#include "service/json_codec.h"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cstdio>

namespace agendasync::service {

using nlohmann::json;

namespace {

using std::chrono::days;
using std::chrono::sys_days;

/// Parses a stable enum name by comparing with core's to_string over every value.
template <class E, std::size_t N>
Result<E> parse_enum(const std::array<E, N>& values, const json& value, std::string_view member) {
  if (value.is_string()) {
    for (E candidate : values) {
      if (value.get<std::string>() == to_string(candidate)) return candidate;
    }
  }
  std::string known;
  for (E candidate : values) known += std::string(known.empty() ? "" : ", ") + to_string(candidate);
  return fail(ErrorKind::kInvalidData,
              std::string(member) + ": expected one of " + known + ", got " + value.dump());
}

constexpr std::array kSensitivities{Sensitivity::kNormal, Sensitivity::kPersonal,
                                    Sensitivity::kPrivate, Sensitivity::kConfidential};
constexpr std::array kShowAs{ShowAs::kFree,        ShowAs::kTentative,        ShowAs::kBusy,
                             ShowAs::kOutOfOffice, ShowAs::kWorkingElsewhere, ShowAs::kUnknown};
constexpr std::array kBodyTypes{BodyType::kText, BodyType::kHtml};
constexpr std::array kResponses{ResponseStatus::kNone,      ResponseStatus::kOrganizer,
                                ResponseStatus::kTentative, ResponseStatus::kAccepted,
                                ResponseStatus::kDeclined,  ResponseStatus::kNotResponded};
constexpr std::array kRoles{AttendeeRole::kRequired, AttendeeRole::kOptional,
                            AttendeeRole::kResource};
constexpr std::array kDirections{SyncDirection::kToExchange, SyncDirection::kFromExchange,
                                 SyncDirection::kTwoWay};
constexpr std::array kPolicies{ConflictPolicy::kNewestWins, ConflictPolicy::kHostWins,
                               ConflictPolicy::kExchangeWins};

Result<void> type_error(std::string_view member, std::string_view expected) {
  return fail(ErrorKind::kInvalidData, std::string(member) + ": expected " + std::string(expected));
}

Result<void> read_string(const json& body, const char* member, std::string& out) {
  auto found = body.find(member);
  if (found == body.end() || found->is_null()) return {};
  if (!found->is_string()) return type_error(member, "a string");
  out = found->get<std::string>();
  return {};
}

Result<void> read_bool(const json& body, const char* member, bool& out) {
  auto found = body.find(member);
  if (found == body.end() || found->is_null()) return {};
  if (!found->is_boolean()) return type_error(member, "true or false");
  out = found->get<bool>();
  return {};
}

Result<void> read_strings(const json& body, const char* member, std::vector<std::string>& out) {
  auto found = body.find(member);
  if (found == body.end() || found->is_null()) return {};
  if (!found->is_array()) return type_error(member, "an array of strings");
  out.clear();
  for (const auto& value : *found) {
    if (!value.is_string()) return type_error(member, "an array of strings");
    out.push_back(value.get<std::string>());
  }
  return {};
}

Result<void> read_instant(const json& body, const char* member, Instant& out) {
  auto found = body.find(member);
  if (found == body.end() || found->is_null()) return {};
  if (!found->is_string()) return type_error(member, "an RFC 3339 date-time string");
  auto parsed = parse_instant(found->get<std::string>());
  if (!parsed) {
    return fail(ErrorKind::kInvalidData, std::string(member) + ": " + parsed.error().message);
  }
  out = *parsed;
  return {};
}

Result<void> read_minutes(const json& body, const char* member,
                          std::optional<std::chrono::minutes>& out) {
  auto found = body.find(member);
  if (found == body.end()) return {};
  if (found->is_null()) {
    out.reset();
    return {};
  }
  if (!found->is_number_integer() || found->get<long long>() < 0) {
    return type_error(member, "a whole number of minutes >= 0, or null");
  }
  out = std::chrono::minutes(found->get<long long>());
  return {};
}

#define AS_TRY(expression)                              \
  do {                                                  \
    if (auto _done = (expression); !_done) {            \
      return std::unexpected(std::move(_done).error()); \
    }                                                   \
  } while (false)

Result<Body> body_from(const json& value) {
  Body body;
  if (value.is_string()) {
    body.content = value.get<std::string>();
    return body;
  }
  if (!value.is_object()) {
    return fail(ErrorKind::kInvalidData, "body: expected a string or {type, content}");
  }
  AS_TRY(read_string(value, "content", body.content));
  if (auto type = value.find("type"); type != value.end()) {
    auto parsed = parse_enum(kBodyTypes, *type, "body.type");
    if (!parsed) return std::unexpected(parsed.error());
    body.type = *parsed;
  }
  return body;
}

json person_json(const Person& person) { return {{"name", person.name}, {"email", person.email}}; }

Result<Person> person_from(const json& value, std::string_view member) {
  if (!value.is_object())
    return fail(ErrorKind::kInvalidData, std::string(member) + ": expected {name, email}");
  Person person;
  AS_TRY(read_string(value, "name", person.name));
  AS_TRY(read_string(value, "email", person.email));
  return person;
}

json override_json(const OccurrenceOverride& o, bool all_day) {
  auto when = [&](Instant t) { return all_day ? format_date(t) : format_instant(t); };
  json out = {{"recurrence_id", when(o.recurrence_id)},
              {"start", when(o.start)},
              {"end", when(o.end)},
              {"subject", o.subject},
              {"body", {{"type", to_string(o.body.type)}, {"content", o.body.content}}},
              {"location", o.location},
              {"show_as", to_string(o.show_as)},
              {"sensitivity", to_string(o.sensitivity)}};
  out["reminder_minutes"] = o.reminder ? json(o.reminder->count()) : json(nullptr);
  return out;
}

Result<OccurrenceOverride> override_from(const json& value) {
  if (!value.is_object()) {
    return fail(ErrorKind::kInvalidData, "recurrence.overrides: expected objects");
  }
  OccurrenceOverride o;
  AS_TRY(read_instant(value, "recurrence_id", o.recurrence_id));
  AS_TRY(read_instant(value, "start", o.start));
  AS_TRY(read_instant(value, "end", o.end));
  AS_TRY(read_string(value, "subject", o.subject));
  AS_TRY(read_string(value, "location", o.location));
  if (auto body = value.find("body"); body != value.end()) {
    auto parsed = body_from(*body);
    if (!parsed) return std::unexpected(parsed.error());
    o.body = *parsed;
  }
  if (auto show = value.find("show_as"); show != value.end()) {
    auto parsed = parse_enum(kShowAs, *show, "show_as");
    if (!parsed) return std::unexpected(parsed.error());
    o.show_as = *parsed;
  }
  if (auto s = value.find("sensitivity"); s != value.end()) {
    auto parsed = parse_enum(kSensitivities, *s, "sensitivity");
    if (!parsed) return std::unexpected(parsed.error());
    o.sensitivity = *parsed;
  }
  AS_TRY(read_minutes(value, "reminder_minutes", o.reminder));
  return o;
}

}  // namespace

std::string format_instant(Instant instant) {
  auto day = std::chrono::floor<days>(instant);
  std::chrono::year_month_day date{day};
  std::chrono::hh_mm_ss time{instant - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     time.hours().count(), time.minutes().count(), time.seconds().count());
}

std::string format_date(Instant midnight) {
  std::chrono::year_month_day date{std::chrono::floor<days>(midnight)};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
}

Result<Instant> parse_instant(std::string_view text) {
  auto bad = [&] {
    return fail(ErrorKind::kInvalidData, "\"" + std::string(text) +
                                             "\" is not an RFC 3339 date-time "
                                             "(2024-03-01T09:00:00Z) or a date (2024-03-01)");
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::string copy(text);
  int consumed = 0;
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2d%n", &year, &month, &day, &consumed) != 3 ||
      consumed != 10) {
    return bad();
  }
  std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month),
                                   std::chrono::day(day)};
  if (!date.ok()) return bad();
  Instant result = Instant(sys_days(date).time_since_epoch());
  if (copy.size() == 10) return result;
  int time_consumed = 0;
  if ((copy[10] != 'T' && copy[10] != 't') ||
      std::sscanf(copy.c_str() + 11, "%2d:%2d:%2d%n", &hour, &minute, &second, &time_consumed) !=
          3 ||
      time_consumed != 8 || hour > 23 || minute > 59 || second > 60) {
    return bad();
  }
  std::string_view rest = std::string_view(copy).substr(19);
  if (!rest.empty() && rest.front() == '.') {  // fractional seconds: dropped
    rest.remove_prefix(1);
    while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front()))) {
      rest.remove_prefix(1);
    }
  }
  result += std::chrono::hours(hour) + std::chrono::minutes(minute) + std::chrono::seconds(second);
  if (rest == "Z" || rest == "z") return result;
  int offset_hours = 0, offset_minutes = 0;
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') &&
      std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &offset_hours, &offset_minutes) ==
          2) {
    auto offset = std::chrono::hours(offset_hours) + std::chrono::minutes(offset_minutes);
    return rest[0] == '+' ? result - offset : result + offset;
  }
  return bad();
}

json to_json(const Appointment& item) {
  auto when = [&](Instant t) { return item.all_day ? format_date(t) : format_instant(t); };
  json out = {{"subject", item.subject},
              {"body", {{"type", to_string(item.body.type)}, {"content", item.body.content}}},
              {"location", item.location},
              {"all_day", item.all_day},
              {"start", when(item.start)},
              {"end", when(item.end)},
              {"time_zone", item.time_zone},
              {"sensitivity", to_string(item.sensitivity)},
              {"show_as", to_string(item.show_as)},
              {"categories", item.categories},
              {"online_meeting_url", item.online_meeting_url},
              {"activity_type", item.activity_type},
              {"project_task", item.project_task},
              {"owner", item.owner},
              {"participants", item.participants}};
  out["reminder_minutes"] = item.reminder ? json(item.reminder->count()) : json(nullptr);
  out["organizer"] = item.organizer ? person_json(*item.organizer) : json(nullptr);
  out["attendees"] = json::array();
  for (const auto& attendee : item.attendees) {
    json entry = person_json(attendee.person);
    entry["role"] = to_string(attendee.role);
    entry["response"] = to_string(attendee.response);
    out["attendees"].push_back(entry);
  }
  if (item.recurrence) {
    json recurrence = {
        {"rrule", format_rrule(item.recurrence->rule,
                               item.all_day ? UntilForm::kDate : UntilForm::kUtcDateTime)},
        {"exdates", json::array()},
        {"overrides", json::array()}};
    for (Instant exdate : item.recurrence->exdates) recurrence["exdates"].push_back(when(exdate));
    for (const auto& o : item.recurrence->overrides) {
      recurrence["overrides"].push_back(override_json(o, item.all_day));
    }
    out["recurrence"] = recurrence;
  } else {
    out["recurrence"] = nullptr;
  }
  return out;
}

json to_json(const store::StoredAppointment& stored) {
  json out = to_json(stored.item);
  out["id"] = stored.id;
  out["revision"] = stored.revision;
  out["created_by_sync"] = stored.idempotency_key.has_value();
  return out;
}

Result<Appointment> appointment_from_json(const json& body) {
  return merge_patch(Appointment{}, body);
}

Result<Appointment> merge_patch(const Appointment& original, const json& body) {
  if (!body.is_object()) return fail(ErrorKind::kInvalidData, "expected a JSON object");
  Appointment item = original;
  AS_TRY(read_string(body, "subject", item.subject));
  AS_TRY(read_string(body, "location", item.location));
  AS_TRY(read_bool(body, "all_day", item.all_day));
  AS_TRY(read_instant(body, "start", item.start));
  AS_TRY(read_instant(body, "end", item.end));
  AS_TRY(read_string(body, "time_zone", item.time_zone));
  AS_TRY(read_strings(body, "categories", item.categories));
  AS_TRY(read_minutes(body, "reminder_minutes", item.reminder));
  AS_TRY(read_string(body, "online_meeting_url", item.online_meeting_url));
  AS_TRY(read_string(body, "activity_type", item.activity_type));
  AS_TRY(read_bool(body, "project_task", item.project_task));
  AS_TRY(read_string(body, "owner", item.owner));
  AS_TRY(read_strings(body, "participants", item.participants));
  if (auto value = body.find("body"); value != body.end() && !value->is_null()) {
    auto parsed = body_from(*value);
    if (!parsed) return std::unexpected(parsed.error());
    item.body = *parsed;
  }
  if (auto value = body.find("sensitivity"); value != body.end()) {
    auto parsed = parse_enum(kSensitivities, *value, "sensitivity");
    if (!parsed) return std::unexpected(parsed.error());
    item.sensitivity = *parsed;
  }
  if (auto value = body.find("show_as"); value != body.end()) {
    auto parsed = parse_enum(kShowAs, *value, "show_as");
    if (!parsed) return std::unexpected(parsed.error());
    item.show_as = *parsed;
  }
  if (auto value = body.find("organizer"); value != body.end()) {
    if (value->is_null()) {
      item.organizer.reset();
    } else {
      auto parsed = person_from(*value, "organizer");
      if (!parsed) return std::unexpected(parsed.error());
      item.organizer = *parsed;
    }
  }
  if (auto value = body.find("attendees"); value != body.end() && !value->is_null()) {
    if (!value->is_array()) return fail(ErrorKind::kInvalidData, "attendees: expected an array");
    item.attendees.clear();
    for (const auto& entry : *value) {
      auto person = person_from(entry, "attendees[]");
      if (!person) return std::unexpected(person.error());
      Attendee attendee{*person, AttendeeRole::kRequired, ResponseStatus::kNone};
      if (auto role = entry.find("role"); role != entry.end()) {
        auto parsed = parse_enum(kRoles, *role, "attendees[].role");
        if (!parsed) return std::unexpected(parsed.error());
        attendee.role = *parsed;
      }
      if (auto response = entry.find("response"); response != entry.end()) {
        auto parsed = parse_enum(kResponses, *response, "attendees[].response");
        if (!parsed) return std::unexpected(parsed.error());
        attendee.response = *parsed;
      }
      item.attendees.push_back(attendee);
    }
  }
  if (auto value = body.find("recurrence"); value != body.end()) {
    if (value->is_null()) {
      item.recurrence.reset();
    } else {
      if (!value->is_object()) {
        return fail(ErrorKind::kInvalidData, "recurrence: expected {rrule, exdates, overrides}");
      }
      Recurrence recurrence = item.recurrence.value_or(Recurrence{});
      if (auto rrule = value->find("rrule"); rrule != value->end()) {
        if (!rrule->is_string())
          return fail(ErrorKind::kInvalidData, "recurrence.rrule: expected a string");
        auto parsed = parse_rrule(rrule->get<std::string>());
        if (!parsed) {
          return fail(ErrorKind::kInvalidData, "recurrence.rrule: " + parsed.error().message);
        }
        recurrence.rule = *parsed;
      }
      if (auto exdates = value->find("exdates"); exdates != value->end()) {
        std::vector<std::string> texts;
        AS_TRY(read_strings(*value, "exdates", texts));
        recurrence.exdates.clear();
        for (const auto& text : texts) {
          auto parsed = parse_instant(text);
          if (!parsed) {
            return fail(ErrorKind::kInvalidData, "recurrence.exdates: " + parsed.error().message);
          }
          recurrence.exdates.push_back(*parsed);
        }
      }
      if (auto overrides = value->find("overrides"); overrides != value->end()) {
        if (!overrides->is_array()) {
          return fail(ErrorKind::kInvalidData, "recurrence.overrides: expected an array");
        }
        recurrence.overrides.clear();
        for (const auto& entry : *overrides) {
          auto parsed = override_from(entry);
          if (!parsed) return std::unexpected(parsed.error());
          recurrence.overrides.push_back(*parsed);
        }
      }
      item.recurrence = recurrence;
    }
  }
  return item;
}

json to_json(const User& user, bool admin_managed, const std::optional<std::string>& mailbox) {
  json out = {{"user_name", user.user_name},
              {"display_name", user.display_name},
              {"exchange_address", user.exchange_address},
              {"blocked", user.blocked},
              {"sync_enabled", user.sync_enabled},
              {"admin_managed", admin_managed},
              {"backend", to_string(user.backend)}};
  out["mailbox"] = mailbox ? json(*mailbox) : json(nullptr);
  out["direction"] =
      user.overrides.direction ? json(to_string(*user.overrides.direction)) : json(nullptr);
  out["conflict_policy"] = user.overrides.conflict_policy
                               ? json(to_string(*user.overrides.conflict_policy))
                               : json(nullptr);
  return out;
}

Result<void> apply_user_json(User& user, const json& body) {
  if (!body.is_object()) return fail(ErrorKind::kInvalidData, "expected a JSON object");
  AS_TRY(read_string(body, "display_name", user.display_name));
  AS_TRY(read_string(body, "exchange_address", user.exchange_address));
  AS_TRY(read_bool(body, "blocked", user.blocked));
  if (!user.exchange_address.empty() && !is_valid_address(user.exchange_address)) {
    return fail(ErrorKind::kInvalidData,
                "exchange_address: \"" + user.exchange_address +
                    "\" is not a valid mailbox address (local@domain.tld); leave it empty to use "
                    "user_name@mail_domain");
  }
  // R41: which connection of a hybrid organisation serves the mailbox.
  if (auto value = body.find("backend"); value != body.end()) {
    auto parsed = value->is_string() ? parse_mailbox_backend(value->get<std::string>())
                                     : Result<MailboxBackend>(std::unexpected(
                                           Error::make(ErrorKind::kInvalidData, "not a string")));
    if (!parsed) {
      return fail(ErrorKind::kInvalidData,
                  "backend: expected \"auto\", \"ews\" or \"graph\" (which connection of a "
                  "hybrid organisation serves the mailbox)");
    }
    user.backend = *parsed;
  }
  if (auto value = body.find("direction"); value != body.end()) {
    if (value->is_null()) {
      user.overrides.direction.reset();
    } else {
      auto parsed = parse_enum(kDirections, *value, "direction");
      if (!parsed) return std::unexpected(parsed.error());
      user.overrides.direction = *parsed;
    }
  }
  if (auto value = body.find("conflict_policy"); value != body.end()) {
    if (value->is_null()) {
      user.overrides.conflict_policy.reset();
    } else {
      auto parsed = parse_enum(kPolicies, *value, "conflict_policy");
      if (!parsed) return std::unexpected(parsed.error());
      user.overrides.conflict_policy = *parsed;
    }
  }
  return {};
}

json to_json(const store::ActivityType& type) {
  return {{"name", type.name},
          {"synced", type.synced},
          {"is_default", type.is_default},
          {"is_personal", type.is_personal}};
}

Result<store::ActivityType> activity_type_from_json(const json& body, std::string_view name) {
  store::ActivityType type;
  type.name = std::string(name);
  AS_TRY(read_bool(body, "synced", type.synced));
  AS_TRY(read_bool(body, "is_default", type.is_default));
  AS_TRY(read_bool(body, "is_personal", type.is_personal));
  return type;
}

Result<store::ActivityType> patch_activity_type(store::ActivityType type, const json& body) {
  if (!body.is_object()) {
    return fail(ErrorKind::kInvalidData,
                "the body must be a JSON object such as {\"name\": \"Visit\"}");
  }
  for (const auto& [member, value] : body.items()) {
    if (member != "name" && member != "synced" && member != "is_default" &&
        member != "is_personal") {
      return fail(ErrorKind::kInvalidData,
                  member + ": unknown member (known: name, synced, is_default, is_personal)");
    }
  }
  AS_TRY(read_string(body, "name", type.name));
  AS_TRY(read_bool(body, "synced", type.synced));
  AS_TRY(read_bool(body, "is_default", type.is_default));
  AS_TRY(read_bool(body, "is_personal", type.is_personal));
  return type;
}

namespace {

/// The API names the direction "default_direction"; the other sync keys keep their names.
std::string api_name(std::string_view sync_key) {
  return sync_key == "direction" ? "default_direction" : std::string(sync_key);
}

}  // namespace

json to_json(const store::OrganisationSettings& settings) {
  // Every sync key, null when the organisation leaves it to the configuration file (R12).
  json body = {{"mail_domain", settings.mail_domain}};
  for (const auto& key : sync_setting_keys()) body[api_name(key.name)] = nullptr;
  for (const auto& [key, text] : sync_setting_texts(settings.sync)) {
    json& value = body[api_name(key)];
    const auto kind = std::find_if(sync_setting_keys().begin(), sync_setting_keys().end(),
                                   [&](const SyncSettingKey& k) { return k.name == key; })
                          ->kind;
    if (kind == SettingKind::kWholeNumber) {
      value = std::stoi(text);
    } else if (kind == SettingKind::kFlag) {
      value = text == "true";
    } else {
      value = text;
    }
  }
  return body;
}

Result<void> apply_settings_json(store::OrganisationSettings& settings, const json& body) {
  AS_TRY(read_string(body, "mail_domain", settings.mail_domain));
  for (const auto& key : sync_setting_keys()) {
    const std::string member = api_name(key.name);
    auto value = body.find(member);
    if (value == body.end()) continue;
    std::optional<std::string> text;  // null: the organisation stops setting it
    if (key.kind == SettingKind::kWholeNumber && value->is_number_integer()) {
      text = std::to_string(value->get<long long>());
    } else if (key.kind == SettingKind::kFlag && value->is_boolean()) {
      text = value->get<bool>() ? "true" : "false";
    } else if (key.kind == SettingKind::kName && value->is_string()) {
      text = value->get<std::string>();
    } else if (!value->is_null()) {
      return type_error(member, key.kind == SettingKind::kWholeNumber ? "a whole number or null"
                                : key.kind == SettingKind::kFlag      ? "true, false or null"
                                                                      : "a name or null");
    }
    AS_TRY(set_sync_setting(settings.sync, key.name, text));
  }
  return {};
}

json to_json(const store::Change& change) {
  return {{"revision", change.revision},
          {"entity", store::to_string(change.entity)},
          {"id", change.entity_id},
          {"op", store::to_string(change.op)},
          {"users", change.users}};
}

}  // namespace agendasync::service
