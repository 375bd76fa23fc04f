#include "bench/e2e/realistic_mix.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <stdexcept>

#include "core/expand.h"

namespace agendasync::bench {
namespace {

using namespace std::chrono;

constexpr int kSeriesLength = 10;
constexpr int kMovedOccurrence = 3;    // 1-based
constexpr int kDeletedOccurrence = 5;  // 1-based
constexpr auto kMovedBy = hours{1};

std::string utc(Instant at) { return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", at); }
std::string date(Instant midnight) { return fmt::format("{:%Y-%m-%d}", midnight); }

/// A weekly series of 10 on the start's weekday with occurrence 3 moved an hour later and
/// renamed, and occurrence 5 deleted. Occurrence starts come from core's expansion, so they
/// are right across DST in the series' zone.
void make_series(Appointment& item) {
  Recurrence recurrence;
  recurrence.rule.freq = Frequency::kWeekly;
  recurrence.rule.count = kSeriesLength;
  recurrence.rule.by_day = {WeekdayNum{0, weekday{floor<days>(item.start)}}};
  item.recurrence = recurrence;
  auto occurrences = expand(item, item.start, item.start + days{7 * kSeriesLength + 7});
  if (!occurrences || occurrences->size() != kSeriesLength)
    throw std::runtime_error("realistic_mix: the weekly series did not expand to 10");
  const Occurrence& moved = (*occurrences)[kMovedOccurrence - 1];
  OccurrenceOverride change;
  change.recurrence_id = moved.recurrence_id;
  change.start = moved.start + kMovedBy;
  change.end = moved.end + kMovedBy;
  change.subject = item.subject + " (moved)";
  change.body = item.body;
  change.location = item.location;
  change.reminder = item.reminder;
  item.recurrence->overrides.push_back(change);
  item.recurrence->exdates.push_back((*occurrences)[kDeletedOccurrence - 1].recurrence_id);
}

}  // namespace

std::vector<Appointment> realistic_mix(int count, const std::string& owner, Instant today,
                                       int first) {
  std::vector<Appointment> items;
  items.reserve(static_cast<std::size_t>(count));
  const auto first_day = floor<days>(today) + days{1};
  for (int i = first; i < first + count; ++i) {
    Appointment item;
    item.owner = owner;
    item.subject = fmt::format("Customer visit {}", i);
    item.body.content = fmt::format(
        "Agenda for visit {}: review the open orders, agree on the delivery plan and the next "
        "steps. Bring the signed contract and the price list of this quarter.",
        i);
    item.location = fmt::format("Room {}.{:02}", 1 + i % 5, i % 40);
    item.time_zone = "Europe/Amsterdam";
    item.reminder = minutes{15};
    const sys_days day = first_day + days{i % 365};
    if (i % 10 == 1) {
      item.all_day = true;
      item.start = day;
      item.end = day + days{1 + i % 2};
    } else {
      // Working hours in Amsterdam (07:00-15:00 UTC covers both offsets).
      item.start = day + hours{7 + i % 8} + minutes{i % 2 * 30};
      item.end = item.start + minutes{30 + 30 * (i % 3)};
    }
    if (i % 10 == 2) item.sensitivity = Sensitivity::kPrivate;
    if (i % 4 == 3) item.participants = kColleagues;
    if (i % 5 == 0) make_series(item);
    items.push_back(std::move(item));
  }
  return items;
}

nlohmann::json to_peer_json(const std::vector<Appointment>& items, const std::string& domain) {
  nlohmann::json out = nlohmann::json::array();
  for (const Appointment& item : items) {
    nlohmann::json entry = {
        {"subject", item.subject},
        {"body", item.body.content},
        {"location", item.location},
        {"all_day", item.all_day},
        {"start", item.all_day ? date(item.start) : utc(item.start)},
        {"end", item.all_day ? date(item.end) : utc(item.end)},
        {"time_zone", item.time_zone},
        {"sensitivity", item.sensitivity == Sensitivity::kPrivate ? "Private" : "Normal"},
        {"reminder_minutes", item.reminder ? item.reminder->count() : 0},
        {"attendees", nlohmann::json::array()}};
    for (const auto& participant : item.participants)
      entry["attendees"].push_back(participant + "@" + domain);
    if (item.recurrence) {
      entry["weekly_count"] = kSeriesLength;
      entry["moved_occurrence"] = kMovedOccurrence;
      entry["moved_subject"] = item.recurrence->overrides.front().subject;
      entry["moved_minutes"] = duration_cast<minutes>(kMovedBy).count();
      entry["deleted_occurrence"] = kDeletedOccurrence;
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace agendasync::bench
