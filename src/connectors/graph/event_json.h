#pragma once
/// Graph's event resource <-> core::Appointment (R17, R18, R39).
///
/// Reads ask for times in UTC (Prefer: outlook.timezone="UTC") and take the planning zone
/// from originalStartTimeZone (Windows or IANA name). All-day events come back as
/// midnight-to-midnight whatever zone is preferred: their dates are taken as written, never
/// converted (R18). Writes send wall-clock times in the item's zone under its Windows name.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/appointment.h"
#include "core/calendar_side.h"

namespace agendasync::graph {

/// Where our idempotency key lives: a named string property in our own property set (the
/// same set the EWS connector uses, so a mailbox can move between EWS and Graph).
inline constexpr const char* kKeyPropertyId =
    "String {6f1c3a52-8d0e-4b7a-9e21-4a5c0d7b9e13} Name AgendaSyncKey";

/// Exactly the event properties the model needs ($select).
inline constexpr const char* kEventSelect =
    "subject,body,start,end,isAllDay,originalStartTimeZone,location,sensitivity,showAs,"
    "categories,isReminderOn,reminderMinutesBeforeStart,organizer,attendees,onlineMeeting,"
    "recurrence,type,seriesMasterId,originalStart,lastModifiedDateTime";

/// The string at `key` of a JSON object; empty when absent, null (Graph writes
/// "seriesMasterId": null on single events) or not a string. Never throws.
std::string string_at(const nlohmann::json& object, const char* key);

/// The $expand that brings the idempotency key along.
std::string key_expand();

/// Graph's event types.
enum class EventType { kSingleInstance, kOccurrence, kException, kSeriesMaster };

/// One event as Graph sent it.
struct GraphEvent {
  std::string id;
  std::string etag;  ///< @odata.etag (W/"...")
  EventType type = EventType::kSingleInstance;
  std::string series_master_id;
  std::optional<Instant> original_start;  ///< occurrences and exceptions
  bool removed = false;                   ///< delta "@removed" entry
  std::optional<std::string> idempotency_key;
  /// lastModifiedDateTime: newest-wins conflicts (R24) compare it.
  std::optional<Instant> last_modified;
  Appointment item;
};

/// Reads one event object. Missing properties keep the model's defaults (a delta page may
/// carry only some); present but unreadable values fail with kInvalidData.
Result<GraphEvent> parse_event(const nlohmann::json& event);

/// How writes treat attendees (R39).
struct WriteOptions {
  /// false (default): attendees are written into the body as text, never as attendees, so
  /// Exchange sends no invitation. true: real meeting requests (a deliberate setting).
  bool real_meetings = false;
};

/// The JSON body creating `item` (with the idempotency key when not empty).
Result<nlohmann::json> event_to_json(const Appointment& item, const std::string& key,
                                     const WriteOptions& options);

/// The PATCH body for `item` given the event as it was: only the properties that changed.
/// An empty object means nothing to send.
Result<nlohmann::json> event_patch(const Appointment& previous, const Appointment& item,
                                   const WriteOptions& options);

/// The parts of an occurrence an exception can change, as `occurrence` has them.
OccurrenceOverride override_from(const Appointment& occurrence, Instant recurrence_id);

/// `occurrence` with the parts an exception can change taken from `change`.
Appointment with_override(Appointment occurrence, const OccurrenceOverride& change);

/// Turns a series master plus its instances (occurrences and exceptions in a window) into
/// exdates and overrides: exceptions become overrides, expected occurrences missing from
/// `instances` inside [from, to) become exdates.
Result<void> merge_instances(Appointment& master, const std::vector<GraphEvent>& instances,
                             Instant from, Instant to);

}  // namespace agendasync::graph
