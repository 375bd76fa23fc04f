// A full appointment (every field) survives the store unchanged.
#include "store/appointment_document.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "store/sqlite_agenda_store.h"
#include "store/test_support.h"

namespace agendasync::store {
namespace {

using namespace std::chrono_literals;
using testing::at;
using testing::TempDir;

/// Every field set to something other than its default.
Appointment full_appointment() {
  Appointment item;
  item.subject = "Quarterly review — Q1 \"draft\"";
  item.body = Body{BodyType::kHtml, "<p>Agenda:\r\n<b>figures</b> ✓</p>"};
  item.location = "Room 4.12, Leusden";
  item.all_day = false;
  item.start = at(2026, 3, 27, 8, 30);
  item.end = at(2026, 3, 27, 10);
  item.time_zone = "Europe/Amsterdam";
  Recurrence recurrence;
  recurrence.rule.freq = Frequency::kMonthly;
  recurrence.rule.interval = 2;
  recurrence.rule.by_day = {WeekdayNum{-1, std::chrono::Friday},
                            WeekdayNum{2, std::chrono::Monday}};
  recurrence.rule.by_month_day = {1, -1};
  recurrence.rule.by_month = {3, 6, 9, 12};
  recurrence.rule.by_set_pos = {-1};
  recurrence.rule.week_start = std::chrono::Sunday;
  recurrence.rule.until = at(2027, 3, 26, 8, 30);
  recurrence.exdates = {at(2026, 5, 29, 7, 30)};
  OccurrenceOverride moved;
  moved.recurrence_id = at(2026, 7, 31, 7, 30);
  moved.start = at(2026, 7, 30, 12);
  moved.end = at(2026, 7, 30, 13);
  moved.subject = "Quarterly review (moved)";
  moved.body = Body{BodyType::kText, "moved because of holidays"};
  moved.location = "Online";
  moved.show_as = ShowAs::kTentative;
  moved.sensitivity = Sensitivity::kConfidential;
  moved.reminder = 5min;
  recurrence.overrides = {moved};
  item.recurrence = recurrence;
  item.sensitivity = Sensitivity::kPrivate;
  item.show_as = ShowAs::kWorkingElsewhere;
  item.categories = {"Finance", "Red category"};
  item.reminder = 15min;
  item.organizer = Person{"Anna van Dijk", "anna@example.com"};
  item.attendees = {Attendee{Person{"Bob", "bob@example.com"}, AttendeeRole::kOptional,
                             ResponseStatus::kDeclined},
                    Attendee{Person{"Room 4.12", "room412@example.com"}, AttendeeRole::kResource,
                             ResponseStatus::kAccepted}};
  item.online_meeting_url = "https://meet.example.com/j/123?pwd=x";
  item.activity_type = "Meeting";
  item.project_task = true;
  item.owner = "ANNA";
  item.participants = {"BOB", "CAROL"};
  return item;
}

TEST(AppointmentDocument, EveryFieldRoundTripsThroughTheDocument) {
  auto item = full_appointment();
  auto back = from_document(to_document(item));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, item);
  EXPECT_EQ(to_document(*back), to_document(item));
}

TEST(AppointmentDocument, DefaultsRoundTripToo) {
  Appointment item;
  auto back = from_document(to_document(item));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, item);
}

TEST(AppointmentDocument, ABrokenDocumentNamesTheMember) {
  auto text = to_document(full_appointment());
  auto broken = text;
  broken.replace(broken.find("\"working-elsewhere\""), 19, "\"sometimes\"");
  auto result = from_document(broken);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("show_as"), std::string::npos) << result.error().message;
  EXPECT_FALSE(from_document("not json"));
  EXPECT_FALSE(from_document("{}"));
}

/// full_appointment() with what the escaping and the number writing must get right: control
/// characters, a backslash, a slash, a count, two overrides, an instant before 1970 and a
/// negative reminder.
Appointment awkward_appointment() {
  Appointment item = full_appointment();
  item.recurrence->rule.count = 7;
  auto& moved = item.recurrence->overrides.front();
  moved.subject = "Quarterly review (moved)\x01\b\f\t/";
  moved.body = Body{BodyType::kText, "moved because of holidays \\ \x1f"};
  item.recurrence->overrides.push_back(moved);
  return item;
}

// The text the document tree (nlohmann::json) wrote before documents were written directly:
// stored documents and journal entries keep their exact form, byte for byte.
constexpr std::string_view kTreeWritten =
    R"json({"activity_type":"Meeting","all_day":false,"attendees":[{"person":{"email":"bob@example.com","name":"Bob"},"response":"declined","role":"optional"},{"person":{"email":"room412@example.com","name":"Room 4.12"},"response":"accepted","role":"resource"}],"body":{"content":"<p>Agenda:\r\n<b>figures</b> ✓</p>","type":"html"},"categories":["Finance","Red category"],"end":1774605600,"location":"Room 4.12, Leusden","online_meeting_url":"https://meet.example.com/j/123?pwd=x","organizer":{"email":"anna@example.com","name":"Anna van Dijk"},"owner":"ANNA","participants":["BOB","CAROL"],"project_task":true,"recurrence":{"exdates":[1780039800],"overrides":[{"body":{"content":"moved because of holidays \\ \u001f","type":"text"},"end":1785416400,"location":"Online","recurrence_id":1785483000,"reminder":5,"sensitivity":"confidential","show_as":"tentative","start":1785412800,"subject":"Quarterly review (moved)\u0001\b\f\t/"},{"body":{"content":"moved because of holidays \\ \u001f","type":"text"},"end":1785416400,"location":"Online","recurrence_id":1785483000,"reminder":5,"sensitivity":"confidential","show_as":"tentative","start":1785412800,"subject":"Quarterly review (moved)\u0001\b\f\t/"}],"rule":{"by_day":[{"day":5,"ordinal":-1},{"day":1,"ordinal":2}],"by_month":[3,6,9,12],"by_month_day":[1,-1],"by_set_pos":[-1],"count":7,"freq":"monthly","interval":2,"until":1806049800,"week_start":0}},"reminder":15,"sensitivity":"private","show_as":"working-elsewhere","start":1774600200,"subject":"Quarterly review — Q1 \"draft\"","time_zone":"Europe/Amsterdam","version":1})json";
constexpr std::string_view kTreeWrittenDefault =
    R"json({"activity_type":"","all_day":false,"attendees":[],"body":{"content":"","type":"text"},"categories":[],"end":0,"location":"","online_meeting_url":"","organizer":null,"owner":"","participants":[],"project_task":false,"recurrence":null,"reminder":null,"sensitivity":"normal","show_as":"busy","start":0,"subject":"","time_zone":"UTC","version":1})json";
constexpr std::string_view kTreeWrittenBefore1970 =
    R"json({"activity_type":"Meeting","all_day":false,"attendees":[{"person":{"email":"bob@example.com","name":"Bob"},"response":"declined","role":"optional"},{"person":{"email":"room412@example.com","name":"Room 4.12"},"response":"accepted","role":"resource"}],"body":{"content":"<p>Agenda:\r\n<b>figures</b> ✓</p>","type":"html"},"categories":["Finance","Red category"],"end":1774605600,"location":"Room 4.12, Leusden","online_meeting_url":"https://meet.example.com/j/123?pwd=x","organizer":{"email":"anna@example.com","name":"Anna van Dijk"},"owner":"ANNA","participants":["BOB","CAROL"],"project_task":true,"recurrence":{"exdates":[1780039800],"overrides":[{"body":{"content":"moved because of holidays \\ \u001f","type":"text"},"end":1785416400,"location":"Online","recurrence_id":1785483000,"reminder":5,"sensitivity":"confidential","show_as":"tentative","start":1785412800,"subject":"Quarterly review (moved)\u0001\b\f\t/"},{"body":{"content":"moved because of holidays \\ \u001f","type":"text"},"end":1785416400,"location":"Online","recurrence_id":1785483000,"reminder":5,"sensitivity":"confidential","show_as":"tentative","start":1785412800,"subject":"Quarterly review (moved)\u0001\b\f\t/"}],"rule":{"by_day":[{"day":5,"ordinal":-1},{"day":1,"ordinal":2}],"by_month":[3,6,9,12],"by_month_day":[1,-1],"by_set_pos":[-1],"count":7,"freq":"monthly","interval":2,"until":1806049800,"week_start":0}},"reminder":-3,"sensitivity":"private","show_as":"working-elsewhere","start":-62135596800,"subject":"Quarterly review — Q1 \"draft\"","time_zone":"Europe/Amsterdam","version":1})json";

TEST(AppointmentDocument, TheTextIsTheOneTheDocumentTreeWrote) {
  EXPECT_EQ(to_document(awkward_appointment()), kTreeWritten);
  EXPECT_EQ(to_document(Appointment{}), kTreeWrittenDefault);
  auto early = awkward_appointment();
  early.start = Instant{std::chrono::seconds{-62135596800}};
  early.reminder = std::chrono::minutes{-3};
  EXPECT_EQ(to_document(early), kTreeWrittenBefore1970);
  // And what the tree wrote reads back as the item.
  auto back = from_document(kTreeWritten);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, awkward_appointment());
}

TEST(AppointmentDocument, TheTextIsWhatTheTreeWouldWriteForTheSameValues) {
  for (const auto& item : {full_appointment(), awkward_appointment(), Appointment{}}) {
    const std::string text = to_document(item);
    EXPECT_EQ(nlohmann::json::parse(text).dump(), text);
  }
}

TEST(AppointmentDocument, ABadMemberDeepInsideIsNamedWithItsPath) {
  auto text = to_document(awkward_appointment());
  text.replace(text.find("\"day\":1"), 7, "\"day\":9");
  auto result = from_document(text);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("recurrence.rule.by_day[1].day"), std::string::npos)
      << result.error().message;
  auto attendee = to_document(awkward_appointment());
  attendee.replace(attendee.find("\"optional\""), 10, "\"whoever\"");
  result = from_document(attendee);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("attendees[0].role"), std::string::npos)
      << result.error().message;
}

TEST(AppointmentDocument, AFullAppointmentRoundTripsThroughTheStore) {
  TempDir dir;
  auto path = dir / "agenda.db";
  auto item = full_appointment();
  AppointmentId id = 0;
  {
    auto store = open_sqlite_agenda_store(path, testing::creating()).value();
    for (const char* name : {"ANNA", "BOB", "CAROL"}) {
      ASSERT_TRUE(store->add_user(testing::sample_user(name)));
    }
    ASSERT_TRUE(store->put_activity_type({"Meeting", true, true, false}));
    auto created = store->create_appointment(item, IdempotencyKey("as-key-1"));
    ASSERT_TRUE(created) << created.error().message;
    id = created->id;
    EXPECT_EQ(created->item, item);
  }
  // A fresh connection reads it from disk.
  auto store = open_sqlite_agenda_store(path).value();
  auto loaded = store->appointment(id);
  ASSERT_TRUE(loaded);
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->item, item);
  EXPECT_EQ((*loaded)->idempotency_key, IdempotencyKey("as-key-1"));
  auto by_key = store->appointment_by_key(IdempotencyKey("as-key-1")).value();
  ASSERT_TRUE(by_key);
  EXPECT_EQ(by_key->id, id);
}

}  // namespace
}  // namespace agendasync::store
