// Every request the connector builds, for each operation and each header combination,
// validates against Microsoft's EWS schema; and the bytes that matter are pinned.
#include "connectors/ews/requests.h"

#include <gtest/gtest.h>

#include "connectors/ews/calendar_schema.h"
#include "connectors/ews/mapping.h"
#include "connectors/ews/streaming.h"
#include "connectors/ews/testing/xsd_validator.h"
#include "connectors/ews/xml.h"

namespace agendasync::ews {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

const testing::XsdValidator& validator() {
  static const testing::XsdValidator instance(testing::conformance_dir());
  return instance;
}

std::string joined(const std::vector<std::string>& problems) {
  std::string out;
  for (const std::string& p : problems) out += p + "\n";
  return out;
}

/// A calendar item using every writable field, a recurrence and a full zone definition.
CalendarItem rich_item() {
  CalendarItem item;
  item.subject = "Planning <&> review";
  item.sensitivity = Sensitivity::kPrivate;
  item.body = Body{BodyType::kHtml, "<p>Agenda</p>"};
  item.categories = {"Blue", "Project X"};
  item.reminder_is_set = true;
  item.reminder_minutes = 30;
  item.agenda_sync_key = "key-123";
  item.start = sys_days{2024y / 3 / 4} + 8h;
  item.end = sys_days{2024y / 3 / 4} + 9h;
  item.free_busy = ShowAs::kTentative;
  item.location = "Room 1";
  item.recurrence = EwsRecurrence{
      RecurrencePattern{
          PatternKind::kRelativeMonthly, 2, {DayClass::kWeekday}, DayClass::kMonday, -1, 1, 1},
      RecurrenceRange{RangeKind::kEndDate, 2024y / 3 / 29, 2025y / 3 / 31, 0}};
  TimeZoneDefinition zone;
  zone.id = "Customized Time Zone";
  zone.name = "Custom CET";
  zone.periods = {TzPeriod{"Std", "Standard", -60min}, TzPeriod{"Dlt", "Daylight", -120min}};
  TzTransition to_dst{TzTransitionKind::kRecurringDay, false, "Dlt", {}, 120min, 3, 0, -1, 0};
  TzTransition to_std{TzTransitionKind::kRecurringDay, false, "Std", {}, 180min, 10, 0, -1, 0};
  zone.groups = {TzGroup{"0", {to_dst, to_std}}};
  zone.transitions = {TzTransition{TzTransitionKind::kPlain, true, "0", {}, {}, 0, 0, 0, 0}};
  item.start_time_zone = zone;
  item.end_time_zone = zone;
  item.net_show_url = "https://meet.example.com/abc";
  return item;
}

class RequestSchemaTest : public ::testing::TestWithParam<std::tuple<ServerVersion, AccessMode>> {
 protected:
  RequestContext context() const {
    return RequestContext{std::get<0>(GetParam()), std::get<1>(GetParam()), "jdoe@example.com"};
  }
  void expect_valid(const std::string& xml) {
    const auto problems = validator().validate_envelope(xml);
    EXPECT_TRUE(problems.empty()) << joined(problems) << xml;
  }
};

TEST_P(RequestSchemaTest, GetItemIsValid) {
  const std::vector<ItemId> ids{{"AAA=", ""}, {"BBB=", "CK1"}};
  expect_valid(build_get_item(context(), ids));
}

TEST_P(RequestSchemaTest, GetMastersIsValid) {
  const std::vector<std::string> ids{"OCC1=", "OCC2="};
  expect_valid(build_get_masters(context(), ids));
}

TEST_P(RequestSchemaTest, FindItemCalendarViewIsValid) {
  expect_valid(
      build_find_calendar_view(context(), sys_days{2024y / 1 / 1}, sys_days{2024y / 7 / 1}, 500));
}

TEST_P(RequestSchemaTest, FindItemByKeyIsValid) {
  expect_valid(build_find_by_key(context(), "key-123"));
}

TEST_P(RequestSchemaTest, FindItemByKeysIsValidForOneKeyAndForSeveral) {
  const std::vector<std::string> one{"key-1"};
  const std::vector<std::string> several{"key-1", "key-2", "key-3"};
  expect_valid(build_find_by_keys(context(), one));
  const std::string body = build_find_by_keys(context(), several);
  expect_valid(body);
  EXPECT_NE(body.find("<t:Or>"), std::string::npos);
  EXPECT_NE(body.find("Value=\"key-3\""), std::string::npos);
}

TEST_P(RequestSchemaTest, SyncFolderItemsIsValidWithAndWithoutState) {
  expect_valid(build_sync_folder_items(context(), ""));
  expect_valid(build_sync_folder_items(context(), "H4sIAAA=="));
}

TEST_P(RequestSchemaTest, CreateItemIsValidForEveryFieldAndPattern) {
  std::vector<CalendarItem> items{rich_item()};
  for (const PatternKind kind :
       {PatternKind::kDaily, PatternKind::kWeekly, PatternKind::kAbsoluteMonthly,
        PatternKind::kAbsoluteYearly, PatternKind::kRelativeYearly}) {
    CalendarItem item = rich_item();
    item.recurrence->pattern.kind = kind;
    item.recurrence->pattern.days_of_week = {DayClass::kMonday, DayClass::kThursday};
    if (kind == PatternKind::kRelativeYearly)
      item.recurrence->pattern.days_of_week = {DayClass::kDay};
    item.recurrence->range.kind =
        kind == PatternKind::kDaily ? RangeKind::kNumbered : RangeKind::kNoEnd;
    item.recurrence->range.count = 10;
    items.push_back(item);
  }
  CalendarItem plain;
  plain.subject = "Single";
  plain.start = sys_days{2024y / 3 / 4};
  plain.end = sys_days{2024y / 3 / 5};
  plain.is_all_day = true;
  plain.start_time_zone = TimeZoneDefinition{"W. Europe Standard Time", {}, {}, {}, {}};
  items.push_back(plain);
  expect_valid(build_create_item(context(), items));
}

TEST_P(RequestSchemaTest, UpdateItemIsValidWithSetAndDeleteFields) {
  CalendarItem before = rich_item();
  CalendarItem after = before;
  after.subject = "Renamed";
  after.location.clear();         // DeleteItemField
  after.recurrence.reset();       // DeleteItemField calendar:Recurrence
  after.agenda_sync_key.reset();  // DeleteItemField ExtendedFieldURI
  after.start += 1h;
  std::vector<ItemChange> changes{
      ItemChange{ItemId{"AAA=", "CK1"}, before, after},
      ItemChange{ItemId{"BBB=", "CK9"}, CalendarItem{}, rich_item(), true},
      ItemChange{OccurrenceRef{"MASTER=", "CK2", 3}, CalendarItem{}, [] {
                   CalendarItem o;
                   o.subject = "Moved occurrence";
                   o.start = sys_days{2024y / 4 / 1} + 10h;
                   o.end = sys_days{2024y / 4 / 1} + 11h;
                   return o;
                 }()}};
  expect_valid(build_update_item(context(), changes));
}

TEST_P(RequestSchemaTest, DeleteItemIsValidForItemsAndOccurrences) {
  const std::vector<ItemTarget> targets{ItemId{"AAA=", "CK"}, OccurrenceRef{"MASTER=", "", 2}};
  expect_valid(build_delete_item(context(), targets));
}

TEST_P(RequestSchemaTest, StreamingRequestsAreValid) {
  expect_valid(build_subscribe_streaming(context()));
  const std::vector<std::string> ids{"SUB1", "SUB2"};
  expect_valid(build_get_streaming_events(context(), ids, 30));
}

TEST_P(RequestSchemaTest, GetFolderIsValid) { expect_valid(build_get_calendar_folder(context())); }

INSTANTIATE_TEST_SUITE_P(AllHeaderCombinations, RequestSchemaTest,
                         ::testing::Combine(::testing::Values(ServerVersion::kExchange2013,
                                                              ServerVersion::kExchange2013Sp1,
                                                              ServerVersion::kExchange2016),
                                            ::testing::Values(AccessMode::kImpersonation,
                                                              AccessMode::kDelegate)),
                         [](const auto& info) {
                           return std::string(request_server_version(std::get<0>(info.param))) +
                                  (std::get<1>(info.param) == AccessMode::kImpersonation
                                       ? "_Impersonation"
                                       : "_Delegate");
                         });

// GetStreamingEvents' ConnectionTimeout must be 1..30 minutes (exsim's
// `ConnectionTimeout.OneToThirtyMinutes`): whatever a caller asks for, the request stays in it,
// and the connectors' defaults ask for a value inside it.
TEST(RequestSchema, StreamingConnectionTimeoutStaysWithinOneToThirtyMinutes) {
  const std::vector<std::string> ids{"SUB1"};
  const auto timeout_of = [&](int minutes) {
    const std::string xml = build_get_streaming_events(RequestContext{}, ids, minutes);
    const auto open = xml.find("<m:ConnectionTimeout>");
    EXPECT_NE(open, std::string::npos) << xml;
    const auto from = open + std::string("<m:ConnectionTimeout>").size();
    return std::stoi(xml.substr(from, xml.find('<', from) - from));
  };
  EXPECT_EQ(timeout_of(0), 1);
  EXPECT_EQ(timeout_of(-5), 1);
  EXPECT_EQ(timeout_of(1), 1);
  EXPECT_EQ(timeout_of(10), 10);
  EXPECT_EQ(timeout_of(30), 30);
  EXPECT_EQ(timeout_of(31), 30);
  EXPECT_EQ(timeout_of(1440), 30);
}

TEST(RequestSchema, TheValidatorRejectsWhatTheSchemaForbids) {
  // Start before Subject: EWS element order matters and the validator must notice.
  std::string xml = build_create_item(RequestContext{}, std::vector<CalendarItem>{rich_item()});
  const std::string subject = "<t:Subject>Planning &lt;&amp;&gt; review</t:Subject>";
  const auto at = xml.find(subject);
  ASSERT_NE(at, std::string::npos) << xml;
  xml.erase(at, subject.size());
  const auto end = xml.find("</t:End>") + 8;
  xml.insert(end, subject);
  EXPECT_FALSE(validator().validate_envelope(xml).empty());
  EXPECT_FALSE(validator().validate_envelope("<x/>").empty());
}

TEST(RequestBytes, ImpersonationHeaderAndAnchorMailbox) {
  const RequestContext context{ServerVersion::kExchange2013Sp1, AccessMode::kImpersonation,
                               "jdoe@example.com"};
  const std::string xml = build_get_item(context, std::vector<ItemId>{{"AAA=", ""}});
  EXPECT_NE(xml.find(R"(<t:RequestServerVersion Version="Exchange2013_SP1"/>)"), std::string::npos);
  EXPECT_NE(xml.find("<t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>jdoe@example.com"
                     "</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>"),
            std::string::npos);
  const auto headers = request_headers(context);
  EXPECT_NE(std::find(headers.begin(), headers.end(),
                      std::pair<std::string, std::string>{"X-AnchorMailbox", "jdoe@example.com"}),
            headers.end());
}

TEST(RequestBytes, DelegateModeNamesTheMailboxInsteadOfImpersonating) {
  const RequestContext context{ServerVersion::kExchange2016, AccessMode::kDelegate,
                               "jdoe@example.com"};
  const std::string xml = build_sync_folder_items(context, "");
  EXPECT_EQ(xml.find("ExchangeImpersonation"), std::string::npos);
  EXPECT_NE(xml.find(R"(<t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>)"
                     "jdoe@example.com</t:EmailAddress></t:Mailbox>"),
            std::string::npos);
  EXPECT_NE(xml.find("<m:MaxChangesReturned>512</m:MaxChangesReturned>"), std::string::npos);
}

TEST(RequestBytes, WritesNeverSendMail) {
  const RequestContext context{};
  EXPECT_NE(build_create_item(context, std::vector<CalendarItem>{rich_item()})
                .find(R"(SendMeetingInvitations="SendToNone")"),
            std::string::npos);
  const std::vector<ItemChange> changes{ItemChange{ItemId{"A", "CK"}, CalendarItem{}, rich_item()}};
  const std::string update = build_update_item(context, changes);
  EXPECT_NE(update.find(R"(SendMeetingInvitationsOrCancellations="SendToNone")"),
            std::string::npos);
  EXPECT_NE(update.find(R"(ConflictResolution="NeverOverwrite")"), std::string::npos);
  EXPECT_NE(update.find(R"(<t:ItemId Id="A" ChangeKey="CK"/>)"), std::string::npos);
  EXPECT_NE(build_delete_item(context, std::vector<ItemTarget>{ItemId{"A", ""}})
                .find(R"(SendMeetingCancellations="SendToNone")"),
            std::string::npos);
}

TEST(RequestBytes, SubjectOnlyUpdateLeavesStartAndEndAlone) {
  Appointment previous;
  previous.subject = "Old subject";
  previous.start = sys_days{2024y / 3 / 31} + 7h;  // the morning of a DST switch in Europe
  previous.end = previous.start + 90min;
  previous.time_zone = "Europe/Amsterdam";
  previous.recurrence = Recurrence{};
  previous.recurrence->rule.freq = Frequency::kWeekly;
  previous.recurrence->rule.by_day = {WeekdayNum{0, std::chrono::Sunday}};
  Appointment next = previous;
  next.subject = "New subject";
  const auto before = to_ews(previous);
  const auto after = to_ews(next);
  ASSERT_TRUE(before && after) << (before ? after.error().message : before.error().message);
  const std::vector<ItemChange> changes{ItemChange{ItemId{"A", "CK"}, *before, *after}};
  const std::string xml = build_update_item(RequestContext{}, changes);
  EXPECT_NE(xml.find(R"(<t:FieldURI FieldURI="item:Subject"/>)"), std::string::npos);
  for (const char* untouched :
       {"calendar:Start\"", "calendar:End\"", "calendar:StartTimeZone", "calendar:EndTimeZone",
        "calendar:Recurrence", "<t:Start>", "<t:End>", "IsAllDayEvent"}) {
    EXPECT_EQ(xml.find(untouched), std::string::npos) << untouched << " in " << xml;
  }
  std::size_t updates = 0;
  for (std::size_t pos = xml.find("<t:SetItemField>"); pos != std::string::npos;
       pos = xml.find("<t:SetItemField>", pos + 1))
    ++updates;
  EXPECT_EQ(updates, 1u) << xml;
  EXPECT_EQ(xml.find("DeleteItemField"), std::string::npos) << xml;
}

}  // namespace
}  // namespace agendasync::ews
