#include "store/appointment_scan.h"

#include <cstdint>
#include <limits>

#include "store/appointment_names.h"
#include "store/json_scan.h"

namespace agendasync::store {
namespace {

/// Reads one document; `bad()` once anything is not as the current writer writes it.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : in_(text) {}

  std::optional<Appointment> appointment() {
    Appointment item;
    std::uint32_t seen = 0;
    // Each member once: a second one (the tree keeps the last) goes to the full parser.
    auto first = [&](int bit) {
      const std::uint32_t mask = std::uint32_t{1} << bit;
      if (seen & mask) bad_ = true;
      seen |= mask;
    };
    std::string_view key;
    in_.begin_object();
    while (!bad() && in_.next_member(key)) {
      if (key == "activity_type") {
        first(0);
        in_.string(item.activity_type);
      } else if (key == "all_day") {
        first(1);
        item.all_day = in_.boolean();
      } else if (key == "attendees") {
        first(2);
        in_.begin_array();
        while (!bad() && in_.next_element()) item.attendees.push_back(attendee());
      } else if (key == "body") {
        first(3);
        item.body = body();
      } else if (key == "categories") {
        first(4);
        strings(item.categories);
      } else if (key == "end") {
        first(5);
        item.end = instant();
      } else if (key == "location") {
        first(6);
        in_.string(item.location);
      } else if (key == "online_meeting_url") {
        first(7);
        in_.string(item.online_meeting_url);
      } else if (key == "organizer") {
        first(8);
        if (!in_.null()) item.organizer = person();
      } else if (key == "owner") {
        first(9);
        in_.string(item.owner);
      } else if (key == "participants") {
        first(10);
        strings(item.participants);
      } else if (key == "project_task") {
        first(11);
        item.project_task = in_.boolean();
      } else if (key == "recurrence") {
        first(12);
        if (!in_.null()) item.recurrence = recurrence();
      } else if (key == "reminder") {
        first(13);
        item.reminder = minutes();
      } else if (key == "sensitivity") {
        first(14);
        item.sensitivity = name(kSensitivities);
      } else if (key == "show_as") {
        first(15);
        item.show_as = name(kShowAs);
      } else if (key == "start") {
        first(16);
        item.start = instant();
      } else if (key == "subject") {
        first(17);
        in_.string(item.subject);
      } else if (key == "time_zone") {
        first(18);
        in_.string(item.time_zone);
      } else if (key == "version") {
        first(19);
        if (in_.integer() != 1) bad_ = true;
      } else {
        bad_ = true;
      }
    }
    in_.end();
    if (bad() || seen != (std::uint32_t{1} << 20) - 1) return std::nullopt;
    return item;
  }

 private:
  bool bad() const { return bad_ || in_.bad(); }

  Instant instant() { return Instant{std::chrono::seconds{in_.integer()}}; }

  int small() {
    const std::int64_t value = in_.integer();
    if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) {
      bad_ = true;
    }
    return static_cast<int>(value);
  }

  std::optional<std::chrono::minutes> minutes() {
    if (in_.null()) return std::nullopt;
    return std::chrono::minutes{in_.integer()};
  }

  template <class Enum, std::size_t N>
  Enum name(const NameTable<Enum, N>& table) {
    in_.string(text_);
    auto value = table.parse(text_);
    if (!value) bad_ = true;
    return value.value_or(table.entries[0].first);
  }

  std::chrono::weekday weekday() {
    const std::int64_t value = in_.integer();
    if (value < 0 || value > 6) bad_ = true;
    return std::chrono::weekday{static_cast<unsigned>(value)};
  }

  void strings(std::vector<std::string>& out) {
    in_.begin_array();
    while (!bad() && in_.next_element()) in_.string(out.emplace_back());
  }

  void numbers(std::vector<int>& out) {
    in_.begin_array();
    while (!bad() && in_.next_element()) out.push_back(small());
  }

  /// Reads an object whose members are exactly `count` known names: `member(key)` reads the
  /// value of one and returns its bit (-1: unknown).
  template <class Member>
  void object(int count, Member&& member) {
    std::uint32_t seen = 0;
    std::string_view key;
    in_.begin_object();
    while (!bad() && in_.next_member(key)) {
      const int bit = member(key);
      if (bit < 0 || (seen & (std::uint32_t{1} << bit))) bad_ = true;
      seen |= std::uint32_t{1} << (bit < 0 ? 0 : bit);
    }
    if (seen != (std::uint32_t{1} << count) - 1) bad_ = true;
  }

  Body body() {
    Body value;
    object(2, [&](std::string_view key) {
      if (key == "content") return in_.string(value.content), 0;
      if (key == "type") return value.type = name(kBodyTypes), 1;
      return -1;
    });
    return value;
  }

  Person person() {
    Person value;
    object(2, [&](std::string_view key) {
      if (key == "email") return in_.string(value.email), 0;
      if (key == "name") return in_.string(value.name), 1;
      return -1;
    });
    return value;
  }

  Attendee attendee() {
    Attendee value;
    object(3, [&](std::string_view key) {
      if (key == "person") return value.person = person(), 0;
      if (key == "response") return value.response = name(kResponses), 1;
      if (key == "role") return value.role = name(kRoles), 2;
      return -1;
    });
    return value;
  }

  WeekdayNum weekday_num() {
    WeekdayNum value{};
    object(2, [&](std::string_view key) {
      if (key == "day") return value.day = weekday(), 0;
      if (key == "ordinal") return value.ordinal = small(), 1;
      return -1;
    });
    return value;
  }

  RecurrenceRule rule() {
    RecurrenceRule value;
    object(9, [&](std::string_view key) {
      if (key == "by_day") {
        in_.begin_array();
        while (!bad() && in_.next_element()) value.by_day.push_back(weekday_num());
        return 0;
      }
      if (key == "by_month") return numbers(value.by_month), 1;
      if (key == "by_month_day") return numbers(value.by_month_day), 2;
      if (key == "by_set_pos") return numbers(value.by_set_pos), 3;
      if (key == "count") {
        if (!in_.null()) value.count = small();
        return 4;
      }
      if (key == "freq") return value.freq = name(kFrequencies), 5;
      if (key == "interval") return value.interval = small(), 6;
      if (key == "until") {
        if (!in_.null()) value.until = instant();
        return 7;
      }
      if (key == "week_start") return value.week_start = weekday(), 8;
      return -1;
    });
    return value;
  }

  OccurrenceOverride occurrence() {
    OccurrenceOverride value;
    object(9, [&](std::string_view key) {
      if (key == "body") return value.body = body(), 0;
      if (key == "end") return value.end = instant(), 1;
      if (key == "location") return in_.string(value.location), 2;
      if (key == "recurrence_id") return value.recurrence_id = instant(), 3;
      if (key == "reminder") return value.reminder = minutes(), 4;
      if (key == "sensitivity") return value.sensitivity = name(kSensitivities), 5;
      if (key == "show_as") return value.show_as = name(kShowAs), 6;
      if (key == "start") return value.start = instant(), 7;
      if (key == "subject") return in_.string(value.subject), 8;
      return -1;
    });
    return value;
  }

  Recurrence recurrence() {
    Recurrence value;
    object(3, [&](std::string_view key) {
      if (key == "exdates") {
        in_.begin_array();
        while (!bad() && in_.next_element()) value.exdates.push_back(instant());
        return 0;
      }
      if (key == "overrides") {
        in_.begin_array();
        while (!bad() && in_.next_element()) value.overrides.push_back(occurrence());
        return 1;
      }
      if (key == "rule") return value.rule = rule(), 2;
      return -1;
    });
    return value;
  }

  JsonScan in_;
  std::string text_;  ///< scratch for enum names
  bool bad_ = false;
};

}  // namespace

std::optional<Appointment> scan_document(std::string_view document) {
  return Scanner(document).appointment();
}

}  // namespace agendasync::store
