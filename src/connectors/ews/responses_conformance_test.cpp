// Every calendar-relevant response documented by Microsoft (shared/conformance/ews-examples,
// schema_check valid) parses; the error-named ones map to the right ErrorKind.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "connectors/ews/errors.h"
#include "connectors/ews/responses.h"
#include "connectors/ews/testing/xsd_validator.h"
#include "connectors/ews/xml.h"

namespace agendasync::ews {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

const std::set<std::string> kCalendarRoots{"CreateItemResponse",  "GetItemResponse",
                                           "UpdateItemResponse",  "DeleteItemResponse",
                                           "FindItemResponse",    "SyncFolderItemsResponse",
                                           "SubscribeResponse",   "GetStreamingEventsResponse",
                                           "UnsubscribeResponse", "GetFolderResponse"};

struct Example {
  std::string file;
  std::string root;
  std::vector<std::string> codes;
};

std::vector<Example> documented_responses() {
  const std::string dir = testing::conformance_dir() + "/ews-examples/";
  const auto index = nlohmann::json::parse(testing::read_file(dir + "index.json"));
  std::vector<Example> out;
  for (const auto& entry : index) {
    const std::string root = entry.value("root", "");
    if (!kCalendarRoots.contains(root) || !entry["schema_check"].is_array()) continue;
    bool valid = !entry["schema_check"].empty();
    for (const auto& check : entry["schema_check"]) {
      valid = valid && check.get<std::string>().ends_with(":valid");
    }
    if (!valid) continue;
    Example example{entry["file"], root, {}};
    for (const auto& code : entry["response_codes"]) example.codes.push_back(code);
    out.push_back(std::move(example));
  }
  return out;
}

TEST(DocumentedResponses, EveryCalendarResponseParses) {
  const auto examples = documented_responses();
  ASSERT_GE(examples.size(), 30u) << "the conformance index lost calendar responses";
  const std::string dir = testing::conformance_dir() + "/ews-examples/";
  for (const Example& example : examples) {
    SCOPED_TRACE(example.file);
    const auto parsed = parse_response(testing::read_file(dir + example.file));
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->operation, example.root);
    ASSERT_FALSE(parsed->messages.empty());
    for (const ResponseMessage& message : parsed->messages) {
      EXPECT_FALSE(message.response_class.empty());
      EXPECT_NE(std::find(example.codes.begin(), example.codes.end(), message.response_code),
                example.codes.end())
          << message.response_code;
      if (message.response_code != "NoError") continue;
      // Successful item operations name the items they touched.
      // (CreateItem of a sent meeting request may legitimately return an empty Items.)
      if (example.root == "GetItemResponse") {
        EXPECT_FALSE(message.items.empty() && message.other_item_ids.empty());
        for (const CalendarItem& item : message.items) EXPECT_FALSE(item.item_id.id.empty());
      }
      if (example.root == "SyncFolderItemsResponse") {
        EXPECT_FALSE(message.sync_state.empty());
        EXPECT_TRUE(message.includes_last_item_in_range.has_value());
      }
      if (example.root == "SubscribeResponse") {
        EXPECT_FALSE(message.subscription_id.empty());
      }
    }
  }
}

Error first_error(const std::string& file) {
  const auto parsed =
      parse_response(testing::read_file(testing::conformance_dir() + "/ews-examples/" + file));
  if (!parsed) {
    ADD_FAILURE() << file << ": " << parsed.error().message;
    return {};
  }
  for (const ResponseMessage& message : parsed->messages) {
    if (!message.ok())
      return error_from_response_code(message.response_code, message.message_text,
                                      ErrorContext{"svc", "jdoe@example.com", "NTLM"});
  }
  ADD_FAILURE() << file << " has no error message";
  return {};
}

TEST(DocumentedResponses, ErrorNamedFilesMapToTheirKind) {
  const std::map<std::string, ErrorKind> expected{
      {"ErrorItemNotFound", ErrorKind::kNotFound},
      {"ErrorInvalidSyncStateData", ErrorKind::kCursorInvalid},
      {"ErrorInvalidIdMalformed", ErrorKind::kInvalidData},
      {"ErrorSubscriptionNotFound", ErrorKind::kNotFound},
      {"ErrorSubscriptionAccessDenied", ErrorKind::kPermission},
  };
  int checked = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(testing::conformance_dir() + "/ews-examples")) {
    const std::string name = entry.path().filename().string();
    for (const auto& [code, kind] : expected) {
      if (name.find("-" + code + ".xml") == std::string::npos) continue;
      SCOPED_TRACE(name);
      const Error error = first_error(name);
      EXPECT_EQ(error.protocol_code, code);
      EXPECT_EQ(error.kind, kind);
      EXPECT_FALSE(error.message.empty());
      ++checked;
    }
  }
  EXPECT_GE(checked, 8);
}

TEST(DocumentedResponses, GetItemCalendarFields) {
  const auto parsed = parse_response(
      testing::read_file(testing::conformance_dir() +
                         "/ews-examples/getitem-operation-calendar-item__04__GetItemResponse.xml"));
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->messages.size(), 1u);
  ASSERT_EQ(parsed->messages[0].items.size(), 1u);  // ConflictingMeetings are not items
  const CalendarItem& item = parsed->messages[0].items[0];
  EXPECT_EQ(item.item_id.id, "ASUAdT");
  EXPECT_EQ(item.item_id.change_key, "otlIqB==");
  EXPECT_EQ(item.start, sys_days{2006y / 6 / 16} + 30min);
  EXPECT_EQ(item.end, sys_days{2006y / 6 / 16} + 1h);
  EXPECT_TRUE(item.reminder_is_set);
  EXPECT_EQ(item.reminder_minutes, 15);
  EXPECT_EQ(item.free_busy, ShowAs::kBusy);
  EXPECT_EQ(item.calendar_item_type, "Single");
  ASSERT_TRUE(item.organizer);
  EXPECT_EQ(item.organizer->email, "someone@example.com");
  EXPECT_EQ(parsed->server_version->major, 8);
}

TEST(DocumentedResponses, RecurringMasterWithOffsetStartDate) {
  const auto parsed = parse_response(
      testing::read_file(testing::conformance_dir() +
                         "/ews-examples/create-a-recurring-series__04__GetItemResponse.xml"));
  ASSERT_TRUE(parsed);
  const CalendarItem& item = parsed->messages.at(0).items.at(0);
  EXPECT_EQ(item.calendar_item_type, "RecurringMaster");
  ASSERT_TRUE(item.recurrence);
  EXPECT_EQ(item.recurrence->pattern.kind, PatternKind::kWeekly);
  EXPECT_EQ(item.recurrence->pattern.days_of_week, std::vector<DayClass>{DayClass::kSaturday});
  EXPECT_EQ(item.recurrence->range.kind, RangeKind::kNumbered);
  EXPECT_EQ(item.recurrence->range.count, 10);
  EXPECT_EQ(item.recurrence->range.start_date, 2014y / 3 / 8);
}

TEST(DocumentedResponses, SyncFolderItemsChangesAndState) {
  const auto parsed = parse_response(
      testing::read_file(testing::conformance_dir() +
                         "/ews-examples/synchronize-items__02__SyncFolderItemsResponse.xml"));
  ASSERT_TRUE(parsed);
  const ResponseMessage& message = parsed->messages.at(0);
  EXPECT_EQ(message.sync_state, "H4sIAAA==");
  EXPECT_EQ(message.includes_last_item_in_range, true);
  ASSERT_EQ(message.changes.size(), 5u);
  EXPECT_EQ(message.changes[0].kind, ChangeKind::kCreate);
  EXPECT_EQ(message.changes[0].item_id.id, "q04QAAAA==");
}

TEST(CapturedResponses, ServerBusyFaultCarriesTheCode) {
  const auto parsed = parse_response(testing::read_file(
      testing::conformance_dir() + "/captured/kdepim-runtime-ews/errorserverbusy.xml"));
  ASSERT_TRUE(parsed);
  ASSERT_TRUE(parsed->fault);
  EXPECT_EQ(parsed->fault->response_code, "ErrorServerBusy");
  const Error error = error_from_response_code(parsed->fault->response_code, "", {});
  EXPECT_EQ(error.kind, ErrorKind::kThrottled);
}

TEST(UntrustedXml, DoctypeIsRefused) {
  const auto parsed = parse_response(
      R"(<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><s:Envelope xmlns:s="x"><s:Body/></s:Envelope>)");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().kind, ErrorKind::kInvalidData);
  EXPECT_NE(parsed.error().message.find("DOCTYPE"), std::string::npos);
}

TEST(UntrustedXml, GarbageIsInvalidDataNotACrash) {
  for (const char* text :
       {"", "<", "not xml", "<html><body>Login</body></html>", "<s:Envelope xmlns:s='x'/>"}) {
    const auto parsed = parse_response(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().kind, ErrorKind::kInvalidData);
  }
}

}  // namespace
}  // namespace agendasync::ews
