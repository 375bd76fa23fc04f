#pragma once
/// The calendar model every layer speaks (R17, R18). Plain values: no protocol, no storage.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/recurrence.h"

namespace agendasync {

enum class BodyType { kText, kHtml };
enum class Sensitivity { kNormal, kPersonal, kPrivate, kConfidential };
enum class ShowAs { kFree, kTentative, kBusy, kOutOfOffice, kWorkingElsewhere, kUnknown };
enum class ResponseStatus { kNone, kOrganizer, kTentative, kAccepted, kDeclined, kNotResponded };
enum class AttendeeRole { kRequired, kOptional, kResource };

struct Body {
  BodyType type = BodyType::kText;
  std::string content;
  bool operator==(const Body&) const = default;
};

struct Person {
  std::string name;
  std::string email;
  bool operator==(const Person&) const = default;
};

struct Attendee {
  Person person;
  AttendeeRole role = AttendeeRole::kRequired;
  ResponseStatus response = ResponseStatus::kNone;
  bool operator==(const Attendee&) const = default;
};

/// Times. Timed items: `start`/`end` are UTC instants and `time_zone` is the IANA id of the
/// zone the item was planned in (it drives recurrence expansion across DST). All-day items:
/// `start`/`end` are dates encoded as midnight UTC (end exclusive), never converted through a
/// zone, so they cannot shift by a day; `time_zone` is kept only for the round trip.
using Instant = std::chrono::sys_seconds;

/// One modified occurrence of a series, keyed by the start it would have had (RECURRENCE-ID,
/// EWS OriginalStart, Graph originalStart).
struct OccurrenceOverride {
  Instant recurrence_id{};
  Instant start{};
  Instant end{};
  std::string subject;
  Body body;
  std::string location;
  ShowAs show_as = ShowAs::kBusy;
  Sensitivity sensitivity = Sensitivity::kNormal;
  std::optional<std::chrono::minutes> reminder;
  bool operator==(const OccurrenceOverride&) const = default;
};

struct Recurrence {
  RecurrenceRule rule;
  /// Deleted occurrences (EXDATE; EWS DeletedOccurrences), by original start.
  std::vector<Instant> exdates;
  /// Modified occurrences (EWS ModifiedOccurrences; Graph exception instances).
  std::vector<OccurrenceOverride> overrides;
  bool operator==(const Recurrence&) const = default;
};

struct Appointment {
  std::string subject;
  Body body;
  std::string location;
  bool all_day = false;
  Instant start{};
  Instant end{};
  std::string time_zone = "UTC";  ///< IANA id
  std::optional<Recurrence> recurrence;
  Sensitivity sensitivity = Sensitivity::kNormal;
  ShowAs show_as = ShowAs::kBusy;
  std::vector<std::string> categories;
  std::optional<std::chrono::minutes> reminder;  ///< before start; nullopt = no reminder
  std::optional<Person> organizer;
  std::vector<Attendee> attendees;
  std::string online_meeting_url;
  // Host-application fields (R14, R16): meaningful on the host side only.
  std::string activity_type;
  bool project_task = false;
  std::string owner;                      ///< host user name
  std::vector<std::string> participants;  ///< host user names, owner excluded
  bool operator==(const Appointment&) const = default;
};

const char* to_string(Sensitivity value);
const char* to_string(ShowAs value);
const char* to_string(BodyType value);
const char* to_string(ResponseStatus value);
const char* to_string(AttendeeRole value);

}  // namespace agendasync
