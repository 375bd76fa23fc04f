// The tree-less reader of appointment documents: it reads what the writer writes, reads it as
// nlohmann's parser does, and leaves everything else to that parser (from_document).
#include "store/appointment_scan.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "store/appointment_document.h"
#include "store/test_support.h"

namespace agendasync::store {
namespace {

using namespace std::chrono_literals;
using testing::at;

Appointment series_with_everything() {
  Appointment item;
  item.subject = "Review \"Q1\" — ✓ \x01\x1f\t\\/ 😀";
  item.body = Body{BodyType::kHtml, "<p>a\r\nb</p>"};
  item.location = "Room 4";
  item.all_day = true;
  item.start = Instant{std::chrono::seconds{-86400}};
  item.end = at(2026, 3, 28, 0);
  item.time_zone = "Europe/Amsterdam";
  Recurrence recurrence;
  recurrence.rule.freq = Frequency::kYearly;
  recurrence.rule.interval = 3;
  recurrence.rule.by_day = {WeekdayNum{-1, std::chrono::Saturday}};
  recurrence.rule.by_month_day = {-1, 31};
  recurrence.rule.by_month = {2};
  recurrence.rule.by_set_pos = {1, -2};
  recurrence.rule.week_start = std::chrono::Monday;
  recurrence.rule.count = 12;
  recurrence.exdates = {at(2027, 2, 27, 0), at(2030, 2, 23, 0)};
  OccurrenceOverride moved;
  moved.recurrence_id = at(2028, 2, 26, 0);
  moved.start = at(2028, 2, 25, 0);
  moved.end = at(2028, 2, 26, 0);
  moved.subject = "moved";
  moved.reminder = -5min;
  recurrence.overrides = {moved};
  item.recurrence = recurrence;
  item.sensitivity = Sensitivity::kConfidential;
  item.show_as = ShowAs::kOutOfOffice;
  item.categories = {"A", "", "C"};
  item.reminder = 0min;
  item.organizer = Person{"", "x@example.com"};
  item.attendees = {Attendee{Person{"B", "b@example.com"}, AttendeeRole::kResource,
                             ResponseStatus::kNotResponded}};
  item.online_meeting_url = "https://example.com/?a=1&b=2";
  item.activity_type = "Meeting";
  item.project_task = true;
  item.owner = "ANNA";
  item.participants = {"BOB"};
  return item;
}

TEST(AppointmentScan, ReadsWhatTheWriterWrites) {
  Appointment until = series_with_everything();
  until.recurrence->rule.count.reset();
  until.recurrence->rule.until = at(2040, 1, 1, 0);
  for (const Appointment& item : {Appointment{}, series_with_everything(), until}) {
    const auto scanned = scan_document(to_document(item));
    ASSERT_TRUE(scanned) << to_document(item);
    EXPECT_EQ(*scanned, item);
  }
}

TEST(AppointmentScan, ReadsWhiteSpaceAndAnyMemberOrderAsTheParserDoes) {
  const Appointment item = series_with_everything();
  const std::string spaced = nlohmann::json::parse(to_document(item)).dump(2);
  auto scanned = scan_document(spaced);
  ASSERT_TRUE(scanned);
  EXPECT_EQ(*scanned, item);
  // Members in another order (the body's two swapped, the version first).
  std::string reordered = to_document(Appointment{});
  reordered.replace(reordered.find(R"("body":{"content":"","type":"text"})"), 35,
                    R"("body":{"type":"html" , "content":"x"})");
  reordered.replace(reordered.find(R"(,"version":1)"), 12, "");
  reordered.insert(1, R"("version":1,)");
  scanned = scan_document(reordered);
  ASSERT_TRUE(scanned) << reordered;
  EXPECT_EQ(scanned->body, (Body{BodyType::kHtml, "x"}));
}

TEST(AppointmentScan, DecodesEscapesAsTheParserDoes) {
  const std::string subject = R"("\u00e9\u20AC\ud83d\ude00\/\"\\\b\f\n\r\t\u0000 plain")";
  std::string text = to_document(Appointment{});
  text.replace(text.find(R"("subject":"")"), 12, R"("subject":)" + subject);
  const auto scanned = scan_document(text);
  ASSERT_TRUE(scanned) << text;
  EXPECT_EQ(scanned->subject, nlohmann::json::parse(subject).get<std::string>());
}

TEST(AppointmentScan, LeavesEverythingElseToTheParser) {
  const std::string good = to_document(Appointment{});
  auto variant = [&](std::string_view from, std::string_view to) {
    std::string text = good;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  // What the parser reads in its own way: a fraction, an extra member, a member twice.
  for (const std::string& text :
       {variant(R"("start":0)", R"("start":0.0)"), variant(R"("start":0)", R"("start":1e3)"),
        variant(R"("owner":"")", R"("owner":"","extra":[1,{"a":null}])"),
        variant(R"("owner":"")", R"("owner":"a","owner":"b")")}) {
    EXPECT_FALSE(scan_document(text)) << text;
    auto read = from_document(text);
    ASSERT_TRUE(read) << text << ": " << read.error().message;
  }
  EXPECT_EQ(from_document(variant(R"("start":0)", R"("start":1e3)"))->start,
            Instant{std::chrono::seconds{1000}});
  // What the parser refuses, naming the member: refused here too.
  for (const std::string& text :
       {variant(R"("show_as":"busy")", R"("show_as":"sometimes")"), variant(R"("start":0,)", ""),
        variant(R"("all_day":false)", R"("all_day":0)"),
        variant(R"("subject":"")", R"("subject":"\ud800")"),
        variant(R"("subject":"")", "\"subject\":\"\xc0\xaf\""), good.substr(0, good.size() - 1),
        good + "x", variant(R"("start":0)", R"("start":99999999999999999999)"),
        variant(R"("start":0)", R"("start":01)")}) {
    EXPECT_FALSE(scan_document(text)) << text;
  }
  EXPECT_FALSE(from_document(variant(R"("show_as":"busy")", R"("show_as":"sometimes")")));
  EXPECT_FALSE(from_document(variant(R"("subject":"")", R"("subject":"\ud800")")));
}

// Damaged documents (bytes changed, removed or repeated anywhere): whatever the reader takes
// must be what nlohmann's parser sees in the same text, value for value.
TEST(AppointmentScan, WhatItTakesFromDamagedTextIsWhatTheParserSees) {
  const std::string good = to_document(series_with_everything());
  std::uint64_t seed = 0x9E3779B97F4A7C15u;
  auto next = [&] {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
  };
  const std::string alphabet = "{}[]:,\"\\ 0123456789-.eEtrufalsn\x01\x80\xc3\xa9";
  int taken = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = good;
    for (int edits = 1 + static_cast<int>(next() % 3); edits > 0; --edits) {
      const std::size_t at = next() % text.size();
      switch (next() % 3) {
        case 0:
          text[at] = alphabet[next() % alphabet.size()];
          break;
        case 1:
          text.erase(at, 1 + next() % 4);
          break;
        default:
          text.insert(at, text.substr(next() % text.size(), 1 + next() % 8));
      }
      if (text.empty()) text = "{";
    }
    const auto scanned = scan_document(text);
    if (!scanned) continue;
    ++taken;
    const auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(parsed.is_discarded()) << "taken, but not JSON: " << text;
    EXPECT_EQ(parsed, nlohmann::json::parse(to_document(*scanned))) << text;
  }
  EXPECT_GT(taken, 0) << "some edits keep a valid document (digits, spaces)";
}

}  // namespace
}  // namespace agendasync::store
