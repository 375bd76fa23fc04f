#pragma once
/// The EWS CalendarItem as typed values: what the schema table reads and writes. Mapping to
/// and from the core model lives in mapping.h; nothing here knows about XML.
/// Reference:
/// https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendaritem
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/appointment.h"

namespace agendasync::ews {

struct ItemId {
  std::string id;
  std::string change_key;
  bool operator==(const ItemId&) const = default;
};

/// EWS recurrence patterns (RecurrencePatternTypes group).
enum class PatternKind {
  kDaily,
  kWeekly,
  kAbsoluteMonthly,
  kRelativeMonthly,
  kAbsoluteYearly,
  kRelativeYearly
};
/// EWS DayOfWeekType: a single weekday, or one of the three day classes.
enum class DayClass {
  kSunday,
  kMonday,
  kTuesday,
  kWednesday,
  kThursday,
  kFriday,
  kSaturday,
  kDay,
  kWeekday,
  kWeekendDay
};
enum class RangeKind { kNoEnd, kEndDate, kNumbered };

struct RecurrencePattern {
  PatternKind kind = PatternKind::kDaily;
  int interval = 1;                                ///< not on the yearly patterns
  std::vector<DayClass> days_of_week;              ///< Weekly: a list; Relative*: exactly one
  DayClass first_day_of_week = DayClass::kMonday;  ///< Weekly
  int day_of_week_index = 1;                       ///< Relative*: 1..4, -1 = Last
  int day_of_month = 1;                            ///< Absolute*
  int month = 1;                                   ///< *Yearly: 1..12
  bool operator==(const RecurrencePattern&) const = default;
};

struct RecurrenceRange {
  RangeKind kind = RangeKind::kNoEnd;
  std::chrono::year_month_day start_date{};
  std::chrono::year_month_day end_date{};  ///< kEndDate
  int count = 0;                           ///< kNumbered
  bool operator==(const RecurrenceRange&) const = default;
};

struct EwsRecurrence {
  RecurrencePattern pattern;
  RecurrenceRange range;
  bool operator==(const EwsRecurrence&) const = default;
};

/// A TimeZoneDefinition (Exchange 2010+). `periods`/`groups`/`transitions` are empty when
/// the server (or we) named the zone by Id only.
struct TzPeriod {
  std::string id;  ///< "Std", "Dlt/2007"
  std::string name;
  std::chrono::minutes bias{0};  ///< UTC = local + bias (west of UTC is positive)
  bool operator==(const TzPeriod&) const = default;
};
enum class TzTransitionKind { kPlain, kAbsoluteDate, kRecurringDay, kRecurringDate };
struct TzTransition {
  TzTransitionKind kind = TzTransitionKind::kPlain;
  bool to_group = false;  ///< To Kind="Group" (else Kind="Period")
  std::string to;
  std::chrono::sys_seconds date_time{};  ///< kAbsoluteDate
  std::chrono::minutes time_offset{0};   ///< recurring: local time of day of the switch
  int month = 0;
  int day_of_week = 0;  ///< 0 = Sunday
  int occurrence = 0;   ///< 1..4, -1 = last
  int day = 0;          ///< kRecurringDate
  bool operator==(const TzTransition&) const = default;
};
struct TzGroup {
  std::string id;
  std::vector<TzTransition> transitions;
  bool operator==(const TzGroup&) const = default;
};
struct TimeZoneDefinition {
  std::string id;
  std::string name;
  std::vector<TzPeriod> periods;
  std::vector<TzGroup> groups;
  std::vector<TzTransition> transitions;
  bool operator==(const TimeZoneDefinition&) const = default;
};

struct OccurrenceInfo {
  ItemId item_id;
  Instant start{};
  Instant end{};
  Instant original_start{};
  bool operator==(const OccurrenceInfo&) const = default;
};

struct Recipient {
  std::string name;
  std::string email;
  std::string response_type;  ///< Attendee ResponseType; empty for the organizer
  bool operator==(const Recipient&) const = default;
};

/// The calendar item fields AgendaSync reads or writes, in EWS terms.
struct CalendarItem {
  ItemId item_id;
  std::string subject;
  Sensitivity sensitivity = Sensitivity::kNormal;
  Body body;
  std::vector<std::string> categories;
  bool reminder_is_set = false;
  int reminder_minutes = 15;
  /// Our idempotency key extended property (R28); nullopt when absent.
  std::optional<std::string> agenda_sync_key;
  /// item:LastModifiedTime (read only): newest-wins conflicts compare it (R24).
  std::optional<Instant> last_modified;
  Instant start{};
  Instant end{};
  /// Occurrences and exceptions carry the start the series would have given them.
  std::optional<Instant> original_start;
  bool is_all_day = false;
  ShowAs free_busy = ShowAs::kBusy;
  std::string location;
  std::string calendar_item_type;  ///< Single, Occurrence, Exception, RecurringMaster (read)
  std::optional<Recipient> organizer;
  std::vector<Recipient> required_attendees;
  std::vector<Recipient> optional_attendees;
  std::vector<Recipient> resources;
  std::optional<EwsRecurrence> recurrence;
  std::vector<OccurrenceInfo> modified_occurrences;
  std::vector<Instant> deleted_occurrences;
  std::optional<TimeZoneDefinition> start_time_zone;
  std::optional<TimeZoneDefinition> end_time_zone;
  std::string join_online_meeting_url;  ///< read only (Exchange 2013+)
  std::string net_show_url;             ///< the online-meeting link Exchange lets us write
  bool operator==(const CalendarItem&) const = default;
};

}  // namespace agendasync::ews
