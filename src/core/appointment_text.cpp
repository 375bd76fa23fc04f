#include "core/appointment_text.h"

#include <cstdio>
#include <optional>

#include "core/utf8.h"

namespace agendasync {

namespace {

std::string occurrence_label(Instant at) {
  using namespace std::chrono;
  auto day_start = floor<days>(at);
  year_month_day date{day_start};
  hh_mm_ss time{at - day_start};
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "occurrence %04d-%02u-%02uT%02d:%02d:%02dZ ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(time.hours().count()),
                static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()));
  return buffer;
}

/// The one walk over the fields; `visit` may change the value (repair) or only read it.
template <class Item, class Visit>
void walk(Item& item, Visit&& visit) {
  visit(std::string("subject"), item.subject);
  visit(std::string("body"), item.body.content);
  visit(std::string("location"), item.location);
  visit(std::string("time_zone"), item.time_zone);
  for (std::size_t i = 0; i < item.categories.size(); ++i) {
    visit("categories[" + std::to_string(i) + "]", item.categories[i]);
  }
  if (item.organizer) {
    visit(std::string("organizer.name"), item.organizer->name);
    visit(std::string("organizer.email"), item.organizer->email);
  }
  for (std::size_t i = 0; i < item.attendees.size(); ++i) {
    const std::string prefix = "attendees[" + std::to_string(i) + "].";
    visit(prefix + "name", item.attendees[i].person.name);
    visit(prefix + "email", item.attendees[i].person.email);
  }
  visit(std::string("online_meeting_url"), item.online_meeting_url);
  visit(std::string("activity_type"), item.activity_type);
  visit(std::string("owner"), item.owner);
  for (std::size_t i = 0; i < item.participants.size(); ++i) {
    visit("participants[" + std::to_string(i) + "]", item.participants[i]);
  }
  if (item.recurrence) {
    for (auto& change : item.recurrence->overrides) {
      const std::string prefix = occurrence_label(change.recurrence_id);
      visit(prefix + "subject", change.subject);
      visit(prefix + "body", change.body.content);
      visit(prefix + "location", change.location);
    }
  }
}

}  // namespace

void for_each_text_field(const Appointment& item,
                         const std::function<void(const std::string&, const std::string&)>& visit) {
  walk(item, [&](const std::string& name, const std::string& text) { visit(name, text); });
}

Result<void> check_text_utf8(const Appointment& item) {
  std::optional<Error> first;
  walk(item, [&](const std::string& name, const std::string& text) {
    if (first) return;
    if (auto at = first_invalid_utf8(text)) {
      first = Error::make(ErrorKind::kInvalidData,
                          name + " is not valid UTF-8 (ill-formed byte at offset " +
                              std::to_string(*at) +
                              "); send the text encoded as UTF-8 (e.g. convert it from "
                              "Latin-1 / Windows-1252)");
    }
  });
  if (first) return std::unexpected(*first);
  return {};
}

std::vector<std::string> repair_text_utf8(Appointment& item) {
  std::vector<std::string> repaired;
  walk(item, [&](const std::string& name, std::string& text) {
    if (repair_utf8_in_place(text)) repaired.push_back(name);
  });
  return repaired;
}

}  // namespace agendasync
