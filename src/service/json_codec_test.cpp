// The API's JSON shapes: round trips, merge patches, errors naming the member.
#include "service/json_codec.h"

#include <gtest/gtest.h>

namespace agendasync::service {
namespace {

using nlohmann::json;

TEST(JsonCodec, InstantsAreRfc3339Utc) {
  auto parsed = parse_instant("2024-03-01T09:30:00Z");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(format_instant(*parsed), "2024-03-01T09:30:00Z");
  EXPECT_EQ(format_instant(*parse_instant("2024-03-01T10:30:00+01:00")), "2024-03-01T09:30:00Z");
  EXPECT_EQ(format_instant(*parse_instant("2024-03-01T09:30:00.123Z")), "2024-03-01T09:30:00Z");
  EXPECT_EQ(format_date(*parse_instant("2024-02-29")), "2024-02-29");
  EXPECT_FALSE(parse_instant("2023-02-29"));
  EXPECT_FALSE(parse_instant("01/03/2024"));
  EXPECT_FALSE(parse_instant("2024-03-01T25:00:00Z"));
}

TEST(JsonCodec, AppointmentRoundTrips) {
  json body = {
      {"subject", "Review"},
      {"start", "2024-03-04T09:00:00Z"},
      {"end", "2024-03-04T10:00:00Z"},
      {"time_zone", "Europe/Amsterdam"},
      {"show_as", "out-of-office"},
      {"sensitivity", "private"},
      {"reminder_minutes", 15},
      {"owner", "alice"},
      {"participants", {"bob"}},
      {"attendees", {{{"name", "Bob"}, {"email", "bob@example.com"}, {"role", "optional"}}}},
      {"recurrence",
       {{"rrule", "FREQ=WEEKLY;BYDAY=MO;COUNT=5"}, {"exdates", {"2024-03-11T09:00:00Z"}}}}};
  auto item = appointment_from_json(body);
  ASSERT_TRUE(item) << item.error().message;
  EXPECT_EQ(item->show_as, ShowAs::kOutOfOffice);
  EXPECT_EQ(item->attendees.at(0).role, AttendeeRole::kOptional);
  ASSERT_TRUE(item->recurrence);
  EXPECT_EQ(item->recurrence->rule.count, 5);
  auto again = appointment_from_json(to_json(*item));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, *item);
}

TEST(JsonCodec, MergePatchChangesOnlyGivenMembers) {
  auto item = appointment_from_json({{"subject", "A"}, {"location", "Room 1"}, {"owner", "x"}});
  ASSERT_TRUE(item);
  auto patched = merge_patch(*item, {{"location", "Room 2"}, {"reminder_minutes", nullptr}});
  ASSERT_TRUE(patched);
  EXPECT_EQ(patched->subject, "A");
  EXPECT_EQ(patched->location, "Room 2");
  EXPECT_FALSE(patched->reminder);
}

TEST(JsonCodec, ErrorsNameTheMember) {
  auto bad = appointment_from_json({{"show_as", "sleeping"}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("show_as"), std::string::npos);
  auto rule = appointment_from_json({{"recurrence", {{"rrule", "FREQ=SOMETIMES"}}}});
  ASSERT_FALSE(rule);
  EXPECT_NE(rule.error().message.find("recurrence.rrule"), std::string::npos);
  auto type = appointment_from_json({{"subject", 42}});
  ASSERT_FALSE(type);
  EXPECT_NE(type.error().message.find("subject"), std::string::npos);
}

TEST(JsonCodec, UserAddressIsValidated) {
  User user{"DMARTINA", "", "", false, false, {}};
  EXPECT_TRUE(apply_user_json(user, {{"exchange_address", "d.martina@afas.nl"}}));
  EXPECT_EQ(user.exchange_address, "d.martina@afas.nl");
  auto bad = apply_user_json(user, {{"exchange_address", "not an address"}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("exchange_address"), std::string::npos);
}

}  // namespace
}  // namespace agendasync::service
