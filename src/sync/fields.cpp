#include "sync/fields.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "core/recurrence.h"

namespace agendasync::sync {
namespace {

std::string quote(const std::string& text) {
  constexpr std::size_t kMax = 80;  // audit records stay readable for long bodies
  if (text.size() <= kMax) return "'" + text + "'";
  return "'" + text.substr(0, kMax) + "...'";
}

std::string render_minutes(const std::optional<std::chrono::minutes>& value) {
  return value ? fmt::format("{}min", value->count()) : "none";
}

std::vector<std::string> sorted(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  return values;
}

/// Exdates and overrides in recurrence-id order: sides may list them in any order.
std::optional<Recurrence> normalized(std::optional<Recurrence> rec) {
  if (!rec) return rec;
  std::sort(rec->exdates.begin(), rec->exdates.end());
  std::sort(rec->overrides.begin(), rec->overrides.end(),
            [](const auto& a, const auto& b) { return a.recurrence_id < b.recurrence_id; });
  return rec;
}

std::string render_recurrence(const Appointment& item) {
  if (!item.recurrence) return "none";
  const Recurrence& rec = *item.recurrence;
  std::string text = format_rrule(rec.rule);
  for (Instant exdate : rec.exdates) text += " EXDATE=" + render_instant(exdate);
  for (const auto& over : rec.overrides) {
    text += fmt::format(" OVERRIDE {}->{} {}", render_instant(over.recurrence_id),
                        render_instant(over.start), quote(over.subject));
  }
  return text;
}

#define AGENDASYNC_FIELD(NAME, MEMBER, RENDER, HOST_ONLY)                                  \
  FieldSpec {                                                                              \
    NAME, [](const Appointment& a, const Appointment& b) { return a.MEMBER == b.MEMBER; }, \
        [](Appointment& to, const Appointment& from) { to.MEMBER = from.MEMBER; },         \
        [](const Appointment& item) -> std::string { return RENDER; }, HOST_ONLY           \
  }

const std::array<FieldSpec, 16> kFields{
    AGENDASYNC_FIELD("subject", subject, quote(item.subject), false),
    AGENDASYNC_FIELD("body", body,
                     fmt::format("{} {}", to_string(item.body.type), quote(item.body.content)),
                     false),
    AGENDASYNC_FIELD("location", location, quote(item.location), false),
    FieldSpec{"time",
              [](const Appointment& a, const Appointment& b) {
                return a.all_day == b.all_day && a.start == b.start && a.end == b.end &&
                       a.time_zone == b.time_zone;
              },
              [](Appointment& to, const Appointment& from) {
                to.all_day = from.all_day;
                to.start = from.start;
                to.end = from.end;
                to.time_zone = from.time_zone;
              },
              [](const Appointment& item) -> std::string {
                return fmt::format("{}{}..{} {}", item.all_day ? "all-day " : "",
                                   render_instant(item.start), render_instant(item.end),
                                   item.time_zone);
              },
              false},
    FieldSpec{"recurrence",
              [](const Appointment& a, const Appointment& b) {
                return normalized(a.recurrence) == normalized(b.recurrence);
              },
              [](Appointment& to, const Appointment& from) { to.recurrence = from.recurrence; },
              [](const Appointment& item) -> std::string { return render_recurrence(item); },
              false},
    AGENDASYNC_FIELD("sensitivity", sensitivity, to_string(item.sensitivity), false),
    AGENDASYNC_FIELD("show_as", show_as, to_string(item.show_as), false),
    FieldSpec{"categories",
              [](const Appointment& a, const Appointment& b) {
                return sorted(a.categories) == sorted(b.categories);
              },
              [](Appointment& to, const Appointment& from) { to.categories = from.categories; },
              [](const Appointment& item) -> std::string {
                return fmt::format("[{}]", fmt::join(sorted(item.categories), ", "));
              },
              false},
    AGENDASYNC_FIELD("reminder", reminder, render_minutes(item.reminder), false),
    AGENDASYNC_FIELD("organizer", organizer,
                     item.organizer ? quote(item.organizer->email) : std::string("none"), false),
    AGENDASYNC_FIELD("attendees", attendees, fmt::format("{} attendee(s)", item.attendees.size()),
                     false),
    AGENDASYNC_FIELD("online_meeting_url", online_meeting_url, quote(item.online_meeting_url),
                     false),
    AGENDASYNC_FIELD("activity_type", activity_type, quote(item.activity_type), true),
    AGENDASYNC_FIELD("project_task", project_task, item.project_task ? "yes" : "no", true),
    AGENDASYNC_FIELD("owner", owner, quote(item.owner), true),
    AGENDASYNC_FIELD("participants", participants,
                     fmt::format("[{}]", fmt::join(item.participants, ", ")), true),
};

#undef AGENDASYNC_FIELD

}  // namespace

std::span<const FieldSpec> appointment_fields() { return kFields; }

std::vector<FieldChange> diff(const Appointment& before, const Appointment& after,
                              bool include_host_only) {
  std::vector<FieldChange> changes;
  for (const auto& field : kFields) {
    if (field.host_only && !include_host_only) continue;
    if (!field.equal(before, after)) {
      changes.push_back({field.name, field.render(before), field.render(after)});
    }
  }
  return changes;
}

std::string render_instant(Instant instant) {
  const auto day = std::chrono::floor<std::chrono::days>(instant);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss time{instant - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     time.hours().count(), time.minutes().count(), time.seconds().count());
}

}  // namespace agendasync::sync
