// EwsCalendarSide against a fake HttpClient with recorded-style responses: paging, cursor
// errors, throttling (exact back-off, bounded), per-item batch results, admin messages.
#include "connectors/ews/ews_side.h"

#include <gtest/gtest.h>

#include "connectors/ews/testing/soap_envelope.h"
#include "core/time_zone.h"

namespace agendasync::ews {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;
using testing::FakeHttp;
using testing::soap_envelope;

std::string sync_page(const std::string& state, bool last, const std::string& changes) {
  return soap_envelope(
      "<m:SyncFolderItemsResponse><m:ResponseMessages><m:SyncFolderItemsResponseMessage "
      "ResponseClass=\"Success\"><m:ResponseCode>NoError</m:ResponseCode><m:SyncState>" +
      state + "</m:SyncState><m:IncludesLastItemInRange>" + (last ? "true" : "false") +
      "</m:IncludesLastItemInRange><m:Changes>" + changes +
      "</m:Changes></m:SyncFolderItemsResponseMessage></m:ResponseMessages></"
      "m:SyncFolderItemsResponse>");
}

std::string created(const std::string& id) {
  return "<t:Create><t:CalendarItem><t:ItemId Id=\"" + id +
         "\" ChangeKey=\"CK\"/></t:CalendarItem></t:Create>";
}
std::string updated(const std::string& id) {
  return "<t:Update><t:CalendarItem><t:ItemId Id=\"" + id +
         "\" ChangeKey=\"CK2\"/></t:CalendarItem></t:Update>";
}
std::string deleted(const std::string& id) {
  return "<t:Delete><t:ItemId Id=\"" + id + "\"/></t:Delete>";
}

std::string error_message(const std::string& operation, const std::string& code) {
  return "<m:" + operation + "ResponseMessage ResponseClass=\"Error\"><m:MessageText>text " + code +
         "</m:MessageText><m:ResponseCode>" + code + "</m:ResponseCode></m:" + operation +
         "ResponseMessage>";
}

std::string messages(const std::string& operation, const std::string& inner) {
  return soap_envelope("<m:" + operation + "Response><m:ResponseMessages>" + inner +
                       "</m:ResponseMessages></m:" + operation + "Response>");
}

std::string calendar_item(const std::string& id, const std::string& subject) {
  return "<t:CalendarItem><t:ItemId Id=\"" + id + "\" ChangeKey=\"CK-" + id + "\"/><t:Subject>" +
         subject +
         "</t:Subject><t:ExtendedProperty><t:ExtendedFieldURI PropertySetId=\"x\" "
         "PropertyName=\"AgendaSyncKey\" PropertyType=\"String\"/><t:Value>key-" +
         id +
         "</t:Value></t:ExtendedProperty><t:Start>2024-03-05T08:00:00Z</t:Start><t:End>2024-03-"
         "05T09:00:00Z</t:End><t:IsAllDayEvent>false</t:IsAllDayEvent><t:LegacyFreeBusyStatus>"
         "Busy</t:LegacyFreeBusyStatus><t:CalendarItemType>Single</t:CalendarItemType><t:"
         "StartTimeZone Id=\"W. Europe Standard Time\"/></t:CalendarItem>";
}

std::string ok_items(const std::string& operation, const std::string& items) {
  return "<m:" + operation +
         "ResponseMessage ResponseClass=\"Success\"><m:ResponseCode>NoError</"
         "m:ResponseCode><m:Items>" +
         items + "</m:Items></m:" + operation + "ResponseMessage>";
}

std::string server_busy_fault(int back_off_ms) {
  return soap_envelope(
      "<s:Fault><faultcode xmlns:a=\"x\">a:ErrorServerBusy</faultcode><faultstring>The server "
      "cannot service this request right now. Try again later.</faultstring><detail><e:"
      "ResponseCode xmlns:e=\"http://schemas.microsoft.com/exchange/services/2006/errors\">"
      "ErrorServerBusy</e:ResponseCode><t:MessageXml><t:Value Name=\"BackOffMilliseconds\">" +
      std::to_string(back_off_ms) + "</t:Value></t:MessageXml></detail></s:Fault>");
}

struct Fixture : ::testing::Test {
  FakeHttp http;
  std::vector<std::chrono::milliseconds> slept;
  std::unique_ptr<EwsCalendarSide> side;

  void SetUp() override {
    EwsSideOptions options;
    options.endpoint = "https://mail.example.com/EWS/Exchange.asmx";
    options.context = RequestContext{ServerVersion::kExchange2016, AccessMode::kImpersonation,
                                     "jdoe@example.com"};
    options.credentials.method = net::AuthMethod::kNtlm;
    options.credentials.user = "svc-agendasync";
    options.sleep = [this](std::chrono::milliseconds ms) { slept.push_back(ms); };
    options.budget = std::make_shared<ConcurrencyBudget>(8);
    side = std::make_unique<EwsCalendarSide>(http, options);
  }
};

TEST_F(Fixture, ChangesPageUntilTheLastItemInRange) {
  http.push(sync_page("S1", false, created("A") + created("B")));
  http.push(sync_page("S2", true, updated("A") + deleted("B") + deleted("C")));
  const auto batch = side->changes_since(Cursor("S0"));
  ASSERT_TRUE(batch) << batch.error().message;
  EXPECT_TRUE(batch->complete);
  EXPECT_EQ(batch->next.str(), "S2");
  EXPECT_EQ(batch->changed, std::vector<ItemRef>{ItemRef("A")});
  EXPECT_EQ(batch->deleted, (std::vector<ItemRef>{ItemRef("B"), ItemRef("C")}));
  ASSERT_EQ(http.requests.size(), 2u);
  EXPECT_NE(http.requests[0].body.find("<m:SyncState>S0</m:SyncState>"), std::string::npos);
  EXPECT_NE(http.requests[1].body.find("<m:SyncState>S1</m:SyncState>"), std::string::npos);
  EXPECT_NE(http.requests[0].body.find("<m:MaxChangesReturned>512</m:MaxChangesReturned>"),
            std::string::npos);
}

TEST_F(Fixture, EmptyCursorMeansNowWithoutChanges) {
  http.push(sync_page("S1", false, created("A")));
  http.push(sync_page("S2", true, created("B")));
  const auto batch = side->changes_since(Cursor());
  ASSERT_TRUE(batch);
  EXPECT_TRUE(batch->changed.empty());
  EXPECT_EQ(batch->next.str(), "S2");
  EXPECT_EQ(http.requests[0].body.find("SyncState>"), std::string::npos);
}

TEST_F(Fixture, InvalidSyncStateIsCursorInvalid) {
  http.push(
      messages("SyncFolderItems", error_message("SyncFolderItems", "ErrorInvalidSyncStateData")));
  const auto batch = side->changes_since(Cursor("stale"));
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.error().kind, ErrorKind::kCursorInvalid);
  EXPECT_EQ(batch.error().protocol_code, "ErrorInvalidSyncStateData");
}

TEST_F(Fixture, ServerBusyWaitsExactlyTheBackOffThenSucceeds) {
  http.push(server_busy_fault(1234), 500);
  http.push(sync_page("S1", true, ""));
  const auto batch = side->changes_since(Cursor("S0"));
  ASSERT_TRUE(batch) << batch.error().message;
  EXPECT_EQ(slept, std::vector<std::chrono::milliseconds>{1234ms});
}

TEST_F(Fixture, ServerBusyIsNotRetriedForever) {
  http.handler = [](const net::Request&) -> Result<net::Response> {
    net::Response r;
    r.status = 500;
    r.body = server_busy_fault(700);
    return r;
  };
  const auto batch = side->changes_since(Cursor("S0"));
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.error().kind, ErrorKind::kThrottled);
  EXPECT_EQ(batch.error().retry_after, 700ms);
  EXPECT_EQ(http.requests.size(), 4u);  // first try + 3 waits
  EXPECT_EQ(slept.size(), 3u);
}

TEST_F(Fixture, ExceededConnectionCountLowersConcurrency) {
  EwsSideOptions options;
  auto budget = std::make_shared<ConcurrencyBudget>(8);
  options.budget = budget;
  options.max_throttle_waits = 0;
  options.context.mailbox = "jdoe@example.com";
  options.sleep = [](std::chrono::milliseconds) {};
  EwsCalendarSide local(http, options);
  http.push(messages("SyncFolderItems",
                     error_message("SyncFolderItems", "ErrorExceededConnectionCount")));
  const auto batch = local.changes_since(Cursor("S0"));
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.error().kind, ErrorKind::kThrottled);
  EXPECT_EQ(budget->limit(), 4);
  // The client's cap of the account's budget drops too, for every user of the client.
  ASSERT_EQ(http.budget_caps.size(), 1u);
  EXPECT_EQ(http.budget_caps[0].first,
            budget_key(options.endpoint, options.credentials, options.context.mailbox));
  EXPECT_EQ(http.budget_caps[0].second, 4);
  EXPECT_EQ(http.requests.at(0).budget_key, http.budget_caps[0].first);
}

TEST(EwsBudgetKey, OneBudgetPerServiceAccountAndServer) {
  // EWSMaxConcurrency counts per account: every mailbox an account reaches on a server shares
  // one budget; another account (another organisation) on the same host has its own.
  net::Credentials svc;
  svc.method = net::AuthMethod::kNtlm;
  svc.user = "svc";
  svc.domain = "CONTOSO";
  net::Credentials same = svc;
  same.user = "SVC";
  same.domain = "contoso";
  net::Credentials other = svc;
  other.domain = "FABRIKAM";
  const std::string url = "https://outlook.office365.com/EWS/Exchange.asmx";
  const std::string key = budget_key(url, svc, "a@contoso.com");
  EXPECT_EQ(key, budget_key(url, svc, "b@contoso.com"));
  EXPECT_EQ(key, budget_key("https://OUTLOOK.office365.com:443/ews/exchange.asmx", same, "c"));
  EXPECT_NE(key, budget_key(url, other, "a@contoso.com"));
  EXPECT_NE(key, budget_key("https://mail.contoso.com/EWS/Exchange.asmx", svc, "a@contoso.com"));
  // An app token without an account name: per mailbox.
  net::Credentials app;
  app.method = net::AuthMethod::kBearer;
  EXPECT_NE(budget_key(url, app, "a@contoso.com"), budget_key(url, app, "b@contoso.com"));
}

TEST_F(Fixture, ImpersonationDeniedTellsTheAdminWhatToRun) {
  http.push(messages("GetItem", error_message("GetItem", "ErrorImpersonateUserDenied")));
  const auto items = side->fetch(std::vector<ItemRef>{ItemRef("A")});
  ASSERT_FALSE(items);
  EXPECT_EQ(items.error().kind, ErrorKind::kPermission);
  EXPECT_NE(
      items.error().message.find("New-ManagementRoleAssignment -Name AgendaSyncImpersonation -Role "
                                 "ApplicationImpersonation -User svc-agendasync"),
      std::string::npos)
      << items.error().message;
  EXPECT_NE(items.error().message.find("jdoe@example.com"), std::string::npos);
}

TEST_F(Fixture, NonExistentMailboxNamesTheAddressAndTheSettings) {
  http.push(messages("GetItem", error_message("GetItem", "ErrorNonExistentMailbox")));
  const auto items = side->fetch(std::vector<ItemRef>{ItemRef("A")});
  ASSERT_FALSE(items);
  EXPECT_EQ(items.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(items.error().message.find("jdoe@example.com"), std::string::npos);
  EXPECT_NE(items.error().message.find("deviating Exchange address"), std::string::npos);
  EXPECT_NE(items.error().message.find("[exchange] mail_domain"), std::string::npos);
}

TEST_F(Fixture, HttpThrottlingWithRetryAfter) {
  net::Response busy;
  busy.status = 503;
  busy.headers = {{"retry-after", "2"}};
  busy.body = "Service Unavailable";
  http.queue.push_back(busy);
  http.push(sync_page("S1", true, ""));
  ASSERT_TRUE(side->changes_since(Cursor("S0")));
  EXPECT_EQ(slept, std::vector<std::chrono::milliseconds>{2000ms});
}

TEST_F(Fixture, FetchSkipsVanishedItemsButFailsOnOtherErrors) {
  http.push(messages("GetItem", ok_items("GetItem", calendar_item("A", "First")) +
                                    error_message("GetItem", "ErrorItemNotFound")));
  const auto items = side->fetch(std::vector<ItemRef>{ItemRef("A"), ItemRef("gone")});
  ASSERT_TRUE(items) << items.error().message;
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].ref.str(), "A");
  EXPECT_EQ((*items)[0].version.str(), "CK-A");
  EXPECT_EQ((*items)[0].idempotency_key->str(), "key-A");
  EXPECT_EQ((*items)[0].item.subject, "First");
  EXPECT_EQ((*items)[0].item.time_zone, "Europe/Berlin");

  http.push(messages("GetItem", error_message("GetItem", "ErrorMailboxStoreUnavailable")));
  const auto failed = side->fetch(std::vector<ItemRef>{ItemRef("A")});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, ErrorKind::kTransient);
}

TEST_F(Fixture, FetchBatchesOfAtMostOneHundred) {
  std::vector<ItemRef> refs;
  for (int i = 0; i < 250; ++i) refs.emplace_back("id" + std::to_string(i));
  http.handler = [](const net::Request&) -> Result<net::Response> {
    net::Response r;
    r.status = 200;
    r.body = messages("GetItem", "");
    return r;
  };
  ASSERT_TRUE(side->fetch(refs));
  ASSERT_EQ(http.requests.size(), 3u);
  for (const net::Request& request : http.requests) {
    std::size_t ids = 0;
    for (auto p = request.body.find("<t:ItemId "); p != std::string::npos;
         p = request.body.find("<t:ItemId ", p + 1))
      ++ids;
    EXPECT_LE(ids, 100u);
  }
}

Appointment appointment(const std::string& subject) {
  Appointment a;
  a.subject = subject;
  a.time_zone = "Europe/Berlin";
  a.start = sys_days{2024y / 3 / 5} + 8h;
  a.end = a.start + 1h;
  return a;
}

TEST_F(Fixture, CreatesGoInOneCallAndOneFailureDoesNotFailTheOthers) {
  http.push(
      messages("CreateItem", ok_items("CreateItem",
                                      "<t:CalendarItem><t:ItemId Id=\"N1\" ChangeKey=\"c\"/>"
                                      "</t:CalendarItem>") +
                                 error_message("CreateItem", "ErrorQuotaExceeded") +
                                 ok_items("CreateItem",
                                          "<t:CalendarItem><t:ItemId Id=\"N3\" ChangeKey=\"c\"/>"
                                          "</t:CalendarItem>")));
  std::vector<Write> writes(3);
  for (int i = 0; i < 3; ++i) {
    writes[i].op = WriteOp::kCreate;
    writes[i].key = IdempotencyKey("key-" + std::to_string(i));
    writes[i].item = appointment("item " + std::to_string(i));
  }
  const auto results = side->apply(writes);
  ASSERT_EQ(results.size(), 3u);
  ASSERT_TRUE(results[0].outcome);
  EXPECT_EQ(results[0].outcome->ref.str(), "N1");
  EXPECT_EQ(results[0].outcome->version.str(), "c") << "CreateItem's ChangeKey, no read-back";
  EXPECT_EQ(results[0].outcome->item, writes[0].item);
  ASSERT_FALSE(results[1].outcome);
  EXPECT_NE(results[1].outcome.error().message.find("quota"), std::string::npos);
  ASSERT_TRUE(results[2].outcome);
  EXPECT_EQ(results[2].outcome->ref.str(), "N3");
  ASSERT_EQ(http.requests.size(), 1u);
  const std::string& create = http.requests[0].body;
  EXPECT_NE(create.find(R"(SendMeetingInvitations="SendToNone")"), std::string::npos);
  EXPECT_NE(create.find("<t:Value>key-0</t:Value>"), std::string::npos);
  EXPECT_NE(create.find("<t:Value>key-2</t:Value>"), std::string::npos);
  EXPECT_FALSE(http.requests[0].retry_allowed) << "a create must not be resent blindly";
}

TEST_F(Fixture, SubjectOnlyUpdateSendsOnlyTheSubjectWithTheChangeKey) {
  http.push(messages("UpdateItem", ok_items("UpdateItem",
                                            "<t:CalendarItem><t:ItemId Id=\"A\" "
                                            "ChangeKey=\"new\"/></t:CalendarItem>")));
  http.push(messages("GetItem", ok_items("GetItem", calendar_item("A", "New"))));
  Write w;
  w.op = WriteOp::kUpdate;
  w.ref = ItemRef("A");
  w.expected = VersionTag("CK-old");
  w.previous = appointment("Old");
  w.item = appointment("New");
  const auto results = side->apply(std::vector<Write>{w});
  ASSERT_TRUE(results.at(0).outcome) << results[0].outcome.error().message;
  const std::string& update = http.requests.at(0).body;
  EXPECT_NE(update.find(R"(<t:ItemId Id="A" ChangeKey="CK-old"/>)"), std::string::npos);
  EXPECT_NE(update.find("item:Subject"), std::string::npos);
  EXPECT_EQ(update.find("calendar:Start"), std::string::npos);
  EXPECT_EQ(update.find("calendar:End"), std::string::npos);
}

TEST_F(Fixture, UpdateWithoutPreviousStateSetsEveryField) {
  http.push(messages("UpdateItem", ok_items("UpdateItem",
                                            "<t:CalendarItem><t:ItemId Id=\"A\" "
                                            "ChangeKey=\"new\"/></t:CalendarItem>")));
  http.push(messages("GetItem", ok_items("GetItem", calendar_item("A", "New"))));
  Write w;
  w.op = WriteOp::kUpdate;
  w.ref = ItemRef("A");
  w.expected = VersionTag("CK");
  w.item = appointment("New");
  const auto results = side->apply(std::vector<Write>{w});
  ASSERT_TRUE(results.at(0).outcome) << results[0].outcome.error().message;
  const std::string& update = http.requests.at(0).body;
  for (const char* field : {"item:Subject", "calendar:Start", "calendar:End",
                            "calendar:StartTimeZone", "calendar:IsAllDayEvent"}) {
    EXPECT_NE(update.find(field), std::string::npos) << field;
  }
  EXPECT_EQ(update.find("DeleteItemField"), std::string::npos);
  EXPECT_EQ(update.find("AgendaSyncKey"), std::string::npos) << "the key is never rewritten";
}

TEST_F(Fixture, R41_AStampWritesOnlyTheKeyUnderTheItemsChangeKey) {
  http.push(messages("UpdateItem", ok_items("UpdateItem",
                                            "<t:CalendarItem><t:ItemId Id=\"A\" "
                                            "ChangeKey=\"CK-stamped\"/></t:CalendarItem>")));
  Write w;
  w.op = WriteOp::kStampKey;
  w.ref = ItemRef("A");
  w.expected = VersionTag("CK-A");
  w.key = IdempotencyKey("as1-stamp");
  w.item = appointment("Made in Outlook");
  w.previous = w.item;
  const auto results = side->apply(std::vector<Write>{w});
  ASSERT_TRUE(results.at(0).outcome) << results[0].outcome.error().message;
  ASSERT_EQ(http.requests.size(), 1u);
  const std::string& update = http.requests[0].body;
  EXPECT_NE(update.find(R"(<t:ItemId Id="A" ChangeKey="CK-A"/>)"), std::string::npos) << update;
  EXPECT_NE(update.find("AgendaSyncKey"), std::string::npos) << update;
  EXPECT_NE(update.find("as1-stamp"), std::string::npos) << update;
  // Nothing the user sees is written.
  for (const char* field : {"item:Subject", "calendar:Start", "calendar:End", "item:Body",
                            "calendar:Location", "DeleteItemField"}) {
    EXPECT_EQ(update.find(field), std::string::npos) << field;
  }
  EXPECT_EQ(results[0].outcome->version.str(), "CK-stamped");
  EXPECT_EQ(results[0].outcome->idempotency_key, IdempotencyKey("as1-stamp"));
}

TEST_F(Fixture, R41_AStampedSeriesKeepsItsOccurrencesAsTheyAre) {
  http.handler = [](const net::Request& request) -> Result<net::Response> {
    net::Response r;
    r.status = 200;
    r.body = request.body.find("<m:UpdateItem") != std::string::npos
                 ? messages("UpdateItem", ok_items("UpdateItem",
                                                   "<t:CalendarItem><t:ItemId Id=\"S\" "
                                                   "ChangeKey=\"CK-2\"/></t:CalendarItem>"))
                 : messages("GetItem", ok_items("GetItem", calendar_item("S", "Series")));
    return r;
  };
  Appointment series = appointment("Series");
  series.recurrence = Recurrence{};
  series.recurrence->rule.freq = Frequency::kDaily;
  series.recurrence->rule.count = 5;
  series.recurrence->exdates = {series.start + std::chrono::days{1}};
  OccurrenceOverride moved;
  moved.recurrence_id = series.start + std::chrono::days{2};
  moved.start = moved.recurrence_id + std::chrono::hours{2};
  moved.end = moved.start + std::chrono::hours{1};
  moved.subject = "Moved";
  series.recurrence->overrides = {moved};
  Write w;
  w.op = WriteOp::kStampKey;
  w.ref = ItemRef("S");
  w.expected = VersionTag("CK-S");
  w.key = IdempotencyKey("as1-series");
  w.item = series;
  w.previous = series;
  const auto results = side->apply(std::vector<Write>{w});
  ASSERT_TRUE(results.at(0).outcome) << results[0].outcome.error().message;
  int updates = 0;
  for (const auto& request : http.requests) {
    EXPECT_EQ(request.body.find("<m:DeleteItem"), std::string::npos) << "no exdate re-deleted";
    EXPECT_EQ(request.body.find("OccurrenceItemId"), std::string::npos) << request.body;
    updates += request.body.find("<m:UpdateItem") != std::string::npos;
  }
  EXPECT_EQ(updates, 1);
}

TEST_F(Fixture, R41_AnUpdateCarryingTheKeyWritesItWithTheChange) {
  http.push(messages("UpdateItem", ok_items("UpdateItem",
                                            "<t:CalendarItem><t:ItemId Id=\"A\" "
                                            "ChangeKey=\"new\"/></t:CalendarItem>")));
  Write w;
  w.op = WriteOp::kUpdate;
  w.ref = ItemRef("A");
  w.expected = VersionTag("CK-A");
  w.key = IdempotencyKey("as1-carried");
  w.previous = appointment("Old");
  w.item = appointment("New");
  const auto results = side->apply(std::vector<Write>{w});
  ASSERT_TRUE(results.at(0).outcome) << results[0].outcome.error().message;
  const std::string& update = http.requests.at(0).body;
  EXPECT_NE(update.find("item:Subject"), std::string::npos);
  EXPECT_NE(update.find("as1-carried"), std::string::npos);
  EXPECT_EQ(update.find("calendar:Start"), std::string::npos);
}

TEST_F(Fixture, StaleChangeKeyIsAConflict) {
  http.push(messages("UpdateItem", error_message("UpdateItem", "ErrorIrresolvableConflict")));
  Write w;
  w.op = WriteOp::kUpdate;
  w.ref = ItemRef("A");
  w.expected = VersionTag("stale");
  w.previous = appointment("Old");
  w.item = appointment("New");
  const auto results = side->apply(std::vector<Write>{w});
  ASSERT_FALSE(results.at(0).outcome);
  EXPECT_EQ(results[0].outcome.error().kind, ErrorKind::kConflict);
}

TEST_F(Fixture, UnchangedUpdateSendsNoUpdateItem) {
  http.push(messages("GetItem", ok_items("GetItem", calendar_item("A", "Same"))));
  Write w;
  w.op = WriteOp::kUpdate;
  w.ref = ItemRef("A");
  w.expected = VersionTag("CK-A");
  w.previous = appointment("Same");
  w.item = appointment("Same");
  const auto results = side->apply(std::vector<Write>{w});
  ASSERT_TRUE(results.at(0).outcome);
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_NE(http.requests[0].body.find("<m:GetItem>"), std::string::npos);
}

TEST_F(Fixture, DeletesAndOccurrenceDeletesUseTheRightIds) {
  http.handler = [](const net::Request& request) -> Result<net::Response> {
    net::Response r;
    r.status = 200;
    if (request.body.find("<m:DeleteItem") != std::string::npos) {
      r.body = messages("DeleteItem",
                        "<m:DeleteItemResponseMessage ResponseClass=\"Success\"><m:"
                        "ResponseCode>NoError</m:ResponseCode></"
                        "m:DeleteItemResponseMessage>");
    } else {
      r.body = messages("GetItem", ok_items("GetItem", calendar_item("S", "Series")));
    }
    return r;
  };
  Appointment series = appointment("Series");
  series.recurrence = Recurrence{};
  series.recurrence->rule.freq = Frequency::kDaily;
  series.recurrence->rule.count = 5;
  Write occurrence;
  occurrence.op = WriteOp::kDelete;
  occurrence.ref = ItemRef("S");
  occurrence.item = series;
  occurrence.occurrence = series.start + std::chrono::days{2};
  Write whole;
  whole.op = WriteOp::kDelete;
  whole.ref = ItemRef("X");
  whole.expected = VersionTag("ck");
  const auto results = side->apply(std::vector<Write>{whole, occurrence});
  ASSERT_TRUE(results.at(0).outcome);
  ASSERT_TRUE(results.at(1).outcome) << results[1].outcome.error().message;
  bool saw_item = false, saw_occurrence = false;
  for (const net::Request& request : http.requests) {
    saw_item |= request.body.find(R"(<t:ItemId Id="X" ChangeKey="ck"/>)") != std::string::npos;
    saw_occurrence |=
        request.body.find(R"(<t:OccurrenceItemId RecurringMasterId="S" InstanceIndex="3"/>)") !=
        std::string::npos;
    EXPECT_EQ(request.body.find("HardDelete"), std::string::npos);
  }
  EXPECT_TRUE(saw_item);
  EXPECT_TRUE(saw_occurrence);
  if (!saw_occurrence) {
    for (const net::Request& request : http.requests) ADD_FAILURE() << request.body;
  }
}

// core/calendar_side.h: an occurrence update carries the whole series, the change being the
// override for `occurrence` in it.
TEST_F(Fixture, OccurrenceUpdateWritesTheOverrideTakenFromTheSeries) {
  http.push(messages("UpdateItem", ok_items("UpdateItem",
                                            "<t:CalendarItem><t:ItemId Id=\"O3\" "
                                            "ChangeKey=\"new\"/></t:CalendarItem>")));
  http.push(messages("GetItem", ok_items("GetItem", calendar_item("S", "Series"))));
  Appointment series = appointment("Series");
  series.recurrence = Recurrence{};
  series.recurrence->rule.freq = Frequency::kDaily;
  series.recurrence->rule.count = 5;
  Write w;
  w.op = WriteOp::kUpdate;
  w.ref = ItemRef("S");
  w.previous = series;
  OccurrenceOverride moved;
  moved.recurrence_id = series.start + std::chrono::days{2};
  moved.start = moved.recurrence_id + 3h;
  moved.end = moved.start + 1h;
  moved.subject = "Moved third";
  series.recurrence->overrides = {moved};
  w.item = series;
  w.occurrence = moved.recurrence_id;
  const auto results = side->apply(std::vector<Write>{w});
  ASSERT_TRUE(results.at(0).outcome) << results[0].outcome.error().message;
  const std::string& update = http.requests.at(0).body;
  EXPECT_NE(update.find(R"(<t:OccurrenceItemId RecurringMasterId="S" InstanceIndex="3"/>)"),
            std::string::npos)
      << update;
  EXPECT_NE(update.find("Moved third"), std::string::npos) << update;
  EXPECT_EQ(update.find("<t:Recurrence>"), std::string::npos) << "only the occurrence is written";
}

TEST_F(Fixture, OccurrenceUpdateWithoutItsOverrideIsRefused) {
  Appointment series = appointment("Series");
  series.recurrence = Recurrence{};
  series.recurrence->rule.freq = Frequency::kDaily;
  series.recurrence->rule.count = 5;
  Write w;
  w.op = WriteOp::kUpdate;
  w.ref = ItemRef("S");
  w.item = series;  // no override for the occurrence: nothing says what to change
  w.occurrence = series.start + std::chrono::days{2};
  const auto results = side->apply(std::vector<Write>{w});
  ASSERT_FALSE(results.at(0).outcome);
  EXPECT_EQ(results[0].outcome.error().kind, ErrorKind::kInvalidData);
  EXPECT_NE(results[0].outcome.error().message.find("override"), std::string::npos);
  for (const net::Request& request : http.requests)
    EXPECT_EQ(request.body.find("<m:UpdateItem"), std::string::npos) << request.body;
}

TEST_F(Fixture, RequestsCarryImpersonationAndAnchorMailbox) {
  http.push(sync_page("S1", true, ""));
  ASSERT_TRUE(side->changes_since(Cursor("S0")));
  const net::Request& request = http.requests.at(0);
  EXPECT_EQ(request.url, "https://mail.example.com/EWS/Exchange.asmx");
  bool anchor = false;
  for (const auto& [name, value] : request.headers)
    anchor |= name == "X-AnchorMailbox" && value == "jdoe@example.com";
  EXPECT_TRUE(anchor);
  EXPECT_NE(request.body.find("<t:SmtpAddress>jdoe@example.com</t:SmtpAddress>"),
            std::string::npos);
}

TEST(InstanceIndex, CountsFromTheFirstOccurrenceIncludingDeletedOnes) {
  Appointment series = appointment("Series");
  series.recurrence = Recurrence{};
  series.recurrence->rule.freq = Frequency::kWeekly;
  series.recurrence->rule.by_day = {WeekdayNum{0, std::chrono::Tuesday}};
  series.recurrence->exdates = {series.start + std::chrono::days{7}};
  EXPECT_EQ(instance_index(series, series.start).value(), 1);
  EXPECT_EQ(instance_index(series, series.start + std::chrono::days{14}).value(), 3);
  EXPECT_EQ(instance_index(series, series.start + std::chrono::days{15}).error().kind,
            ErrorKind::kNotFound);
}

}  // namespace
}  // namespace agendasync::ews
