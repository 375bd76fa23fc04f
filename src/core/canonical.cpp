// Canonical text of an appointment, its SHA-256, and the R20 match key.
//
// The canonical form is one "name: value" line per field, in this fixed order. It covers
// exactly the fields that sync between sides (R17):
//   subject, body.type, body (line endings -> LF, trailing whitespace dropped), location,
//   all-day, start, end (all-day: dates; timed: UTC instants), zone (timed items only, as
//   its Windows zone id when it has one: Exchange keeps only that; an all-day item's zone
//   is kept for the round trip but does not change the item),
//   rrule (format_rrule), exdate (sorted), override (sorted by recurrence id; each with
//   start, end, subject, body, location, show-as, sensitivity, reminder), sensitivity,
//   show-as, category (sorted, duplicates dropped), reminder, organizer, attendee (sorted;
//   e-mail addresses lowercased: they are case-insensitive and servers change their case),
//   online-meeting.
// Host-only fields (activity type, project-task flag, owner, participants) are excluded:
// no remote calendar holds them, so they must not make an item look changed.
// Any change to this list or format changes every hash: bump kCanonicalVersion.
#include "core/canonical.h"

#include <openssl/evp.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "core/time_zone.h"

namespace agendasync {
namespace {

constexpr std::string_view kCanonicalVersion = "agendasync-canonical-1";

/// One value per line: backslashes and line breaks escaped so a value cannot fake a field.
std::string escape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  return out;
}

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

/// CRLF and lone CR become LF; trailing whitespace is dropped (servers add or strip it).
std::string normalise_body(std::string_view content) {
  std::string out;
  out.reserve(content.size());
  for (std::size_t i = 0; i < content.size(); ++i) {
    if (content[i] == '\r') {
      out += '\n';
      if (i + 1 < content.size() && content[i + 1] == '\n') ++i;
    } else {
      out += content[i];
    }
  }
  while (!out.empty() && is_space(out.back())) out.pop_back();
  return out;
}

std::string format_instant(Instant at) {
  using namespace std::chrono;
  auto day_start = floor<days>(at);
  year_month_day date{day_start};
  hh_mm_ss time{at - day_start};
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02dZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(time.hours().count()),
                static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()));
  return buffer;
}

std::string format_date(Instant at) {
  using namespace std::chrono;
  year_month_day date{floor<days>(at)};
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return buffer;
}

std::string format_time(Instant at, bool all_day) {
  return all_day ? format_date(at) : format_instant(at);
}

std::string format_reminder(const std::optional<std::chrono::minutes>& reminder) {
  return reminder ? std::to_string(reminder->count()) : "none";
}

std::string format_person(const Person& person) {
  return lower_ascii(trim(person.email)) + " " + escape(person.name);
}

void line(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\n");
}

void append_overrides(std::string& out, const Appointment& item) {
  std::vector<const OccurrenceOverride*> sorted;
  for (const auto& change : item.recurrence->overrides) sorted.push_back(&change);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->recurrence_id < b->recurrence_id; });
  for (const auto* o : sorted) {
    const std::string prefix = "override " + format_time(o->recurrence_id, item.all_day) + " ";
    line(out, prefix + "start", format_time(o->start, item.all_day));
    line(out, prefix + "end", format_time(o->end, item.all_day));
    line(out, prefix + "subject", escape(o->subject));
    line(out, prefix + "body.type", to_string(o->body.type));
    line(out, prefix + "body", escape(normalise_body(o->body.content)));
    line(out, prefix + "location", escape(o->location));
    line(out, prefix + "show-as", to_string(o->show_as));
    line(out, prefix + "sensitivity", to_string(o->sensitivity));
    line(out, prefix + "reminder", format_reminder(o->reminder));
  }
}

void append_recurrence(std::string& out, const Appointment& item) {
  if (!item.recurrence) {
    line(out, "rrule", "none");
    return;
  }
  line(out, "rrule", format_rrule(item.recurrence->rule));
  std::vector<Instant> exdates = item.recurrence->exdates;
  std::sort(exdates.begin(), exdates.end());
  exdates.erase(std::unique(exdates.begin(), exdates.end()), exdates.end());
  for (Instant at : exdates) line(out, "exdate", format_time(at, item.all_day));
  append_overrides(out, item);
}

/// Zones compared by their Windows id: Exchange and Graph only know those, so an item that
/// went through Exchange may come back as Europe/Berlin where it left as Europe/Amsterdam.
/// Zones without a Windows id are compared as given.
std::string zone_class(const std::string& zone) {
  auto windows = windows_from_iana(zone);
  return windows ? *windows : zone;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    // Only an OpenSSL without SHA-256 gets here: a broken installation, not bad input.
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

/// Unicode case folding (ICU), so "Überleg" and "ÜBERLEG" match.
std::string case_fold(std::string_view text) {
  auto folded =
      icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())))
          .foldCase();
  std::string out;
  folded.toUTF8String(out);
  return out;
}

/// Trimmed, inner whitespace runs collapsed to one space, case-folded.
std::string match_subject(std::string_view subject) {
  std::string collapsed;
  bool in_space = false;
  for (char c : trim(subject)) {
    if (is_space(c)) {
      in_space = true;
      continue;
    }
    if (in_space) collapsed += ' ';
    in_space = false;
    collapsed += c;
  }
  return case_fold(collapsed);
}

}  // namespace

std::string canonical_form(const Appointment& item) {
  std::string out;
  line(out, "format", kCanonicalVersion);
  line(out, "subject", escape(item.subject));
  line(out, "body.type", to_string(item.body.type));
  line(out, "body", escape(normalise_body(item.body.content)));
  line(out, "location", escape(item.location));
  line(out, "all-day", item.all_day ? "yes" : "no");
  line(out, "start", format_time(item.start, item.all_day));
  line(out, "end", format_time(item.end, item.all_day));
  if (!item.all_day) line(out, "zone", escape(zone_class(item.time_zone)));
  append_recurrence(out, item);
  line(out, "sensitivity", to_string(item.sensitivity));
  line(out, "show-as", to_string(item.show_as));
  std::vector<std::string> categories;
  for (const auto& category : item.categories) categories.push_back(escape(category));
  std::sort(categories.begin(), categories.end());
  categories.erase(std::unique(categories.begin(), categories.end()), categories.end());
  for (const auto& category : categories) line(out, "category", category);
  line(out, "reminder", format_reminder(item.reminder));
  line(out, "organizer", item.organizer ? format_person(*item.organizer) : "none");
  std::vector<std::string> attendees;
  for (const auto& attendee : item.attendees) {
    attendees.push_back(format_person(attendee.person) + " " + to_string(attendee.role) + " " +
                        to_string(attendee.response));
  }
  std::sort(attendees.begin(), attendees.end());
  for (const auto& attendee : attendees) line(out, "attendee", attendee);
  line(out, "online-meeting", escape(item.online_meeting_url));
  return out;
}

std::string content_hash(const Appointment& item) { return sha256_hex(canonical_form(item)); }

std::string match_key(const Appointment& item) {
  // UNTIL as a date: Exchange keeps a series' end as a date (EndDate), other sides as an
  // instant, and the same series must match across them.
  const std::string pattern =
      item.recurrence ? format_rrule(item.recurrence->rule, UntilForm::kDate) : "none";
  return format_time(item.start, item.all_day) + "|" + format_time(item.end, item.all_day) + "|" +
         pattern + "|" + match_subject(item.subject);
}

}  // namespace agendasync
