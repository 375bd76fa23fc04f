#pragma once
/// core::Appointment <-> EWS CalendarItem (R17, R18): recurrence patterns and ranges <->
/// RFC 5545 rules, Windows <-> IANA zones (custom definitions by their rules), all-day
/// dates that never shift, sensitivity, free/busy, categories, reminder, body, people.
#include <span>

#include "connectors/ews/calendar_item.h"
#include "core/appointment.h"
#include "core/error.h"

namespace agendasync::ews {

/// The series or single item as EWS should store it. Overrides and exdates are not part of
/// a CalendarItem: they are written as occurrence updates and deletes after the master.
/// kUnsupported for a rule EWS cannot express (names the rule part), kInvalidData for an
/// unknown zone.
Result<CalendarItem> to_ews(const Appointment& item);

/// The appointment for a master or single item. `occurrence_details` are the modified
/// occurrences fetched by their own ids (GetItem); an occurrence without details keeps the
/// master's fields with its own times, it is never dropped (R38).
Result<Appointment> from_ews(const CalendarItem& item,
                             std::span<const CalendarItem> occurrence_details = {});

/// An instant as the model keeps it: all-day items store the local date as midnight UTC.
Result<Instant> model_instant(Instant ews_instant, bool all_day, const std::string& iana_zone);
/// The inverse: the instant EWS uses for a model time (all-day: local midnight in the zone).
Result<Instant> ews_instant(Instant model, bool all_day, const std::string& iana_zone);

/// The IANA zone an EWS item was planned in ("UTC" when it names none).
Result<std::string> item_zone(const CalendarItem& item);

}  // namespace agendasync::ews
