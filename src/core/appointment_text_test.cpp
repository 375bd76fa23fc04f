#include "core/appointment_text.h"

#include <gtest/gtest.h>

#include "core/validate.h"

namespace agendasync {
namespace {

Appointment clean_item() {
  Appointment item;
  item.subject = "Caf\xC3\xA9 review";
  item.start = Instant{std::chrono::seconds{1'800'000'000}};
  item.end = item.start + std::chrono::hours{1};
  item.categories = {"Blue", "Green"};
  item.organizer = Person{"Ann", "ann@example.com"};
  item.attendees = {
      Attendee{Person{"Bob", "bob@example.com"}, AttendeeRole::kRequired, ResponseStatus::kNone}};
  item.owner = "ANN";
  return item;
}

TEST(AppointmentText, CleanItemPassesAndRepairsNothing) {
  auto item = clean_item();
  EXPECT_TRUE(check_text_utf8(item));
  EXPECT_TRUE(repair_text_utf8(item).empty());
  EXPECT_EQ(item, clean_item());
}

TEST(AppointmentText, CheckNamesTheFieldAndOffsetWithoutEchoingTheText) {
  auto item = clean_item();
  item.categories[1] = "Gr\xFCn";
  auto checked = check_text_utf8(item);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().kind, ErrorKind::kInvalidData);
  EXPECT_NE(checked.error().message.find("categories[1] is not valid UTF-8"), std::string::npos)
      << checked.error().message;
  EXPECT_NE(checked.error().message.find("offset 2"), std::string::npos);
  EXPECT_EQ(checked.error().message.find("Gr"), std::string::npos);
}

TEST(AppointmentText, ValidateRefusesInvalidUtf8) {
  auto item = clean_item();
  item.attendees[0].person.name = "B\xC3";
  auto valid = validate(item);
  ASSERT_FALSE(valid);
  EXPECT_NE(valid.error().message.find("attendees[0].name"), std::string::npos);
}

TEST(AppointmentText, RepairReplacesEveryBrokenFieldAndNamesIt) {
  auto item = clean_item();
  item.subject = "Caf\xE9";
  item.location = "Room \xFF";
  item.organizer->name = "J\xF6rg";
  item.body.content = "ok";
  auto repaired = repair_text_utf8(item);
  EXPECT_EQ(repaired, (std::vector<std::string>{"subject", "location", "organizer.name"}));
  EXPECT_EQ(item.subject, "Caf\xEF\xBF\xBD");
  EXPECT_TRUE(check_text_utf8(item));
}

}  // namespace
}  // namespace agendasync
