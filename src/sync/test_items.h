#pragma once
/// Small builders for readable sync tests (this folder and tests/sync).
#include <chrono>
#include <string>

#include "core/appointment.h"

namespace agendasync::sync::testing {

/// 2026-03-<day> at <hour>:00 UTC.
inline Instant at(int day, int hour, int month = 3) {
  using namespace std::chrono;
  return sys_days{year{2026} / month / day} + hours{hour};
}

/// A one-hour timed appointment.
inline Appointment appointment(std::string subject, Instant start) {
  Appointment item;
  item.subject = std::move(subject);
  item.start = start;
  item.end = start + std::chrono::hours(1);
  item.time_zone = "Europe/Amsterdam";
  return item;
}

/// A daily series of `count` occurrences.
inline Appointment daily_series(std::string subject, Instant start, int count) {
  Appointment item = appointment(std::move(subject), start);
  Recurrence recurrence;
  recurrence.rule.freq = Frequency::kDaily;
  recurrence.rule.count = count;
  item.recurrence = recurrence;
  return item;
}

}  // namespace agendasync::sync::testing
