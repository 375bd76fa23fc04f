// The connector against exsim over real HTTPS on loopback (TLS on, exsim's generated CA
// configured in the client): every operation, the impersonation errors, SyncFolderItems
// paging, a round trip of every recurrence pattern with exceptions, a subject-only update
// that leaves start and end byte-identical, and an outbox that stays empty (R39).
#include <atomic>
#include <stop_token>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "connectors/ews/autodiscover.h"
#include "connectors/ews/doctor.h"
#include "connectors/ews/ews_side.h"
#include "connectors/ews/mapping.h"
#include "connectors/ews/requests.h"
#include "connectors/ews/responses.h"
#include "connectors/ews/streaming.h"
#include "connectors/ews/testing/recurrence_cases.h"
#include "connectors/ews/testing/xsd_validator.h"
#include "core/canonical.h"
#include "core/expand.h"
#include "core/time_zone.h"
#include "tools/exsim/launcher/exsim_process.h"

namespace agendasync::ews {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

/// Forwards to the real client and validates every EWS request it carries against the
/// schema, so "every request the connector sends validates" holds for the whole suite.
class ValidatingHttp final : public net::HttpClient {
 public:
  explicit ValidatingHttp(std::unique_ptr<net::HttpClient> inner)
      : inner_(std::move(inner)), validator_(testing::conformance_dir()) {}
  Result<net::Response> send(const net::Request& request,
                             const net::Credentials& credentials) override {
    if (request.url.ends_with("/EWS/Exchange.asmx") && request.method == "POST") {
      const auto problems = validator_.validate_envelope(request.body);
      ++validated;
      for (const std::string& problem : problems) ADD_FAILURE() << problem << "\n" << request.body;
      largest = std::max(largest, request.body.size());
    }
    return inner_->send(request, credentials);
  }
  void send_async(net::Request request, net::Credentials credentials,
                  std::function<void(Result<net::Response>)> done) override {
    // Forwarded as it is, so streamed bodies reach the caller piece by piece.
    if (request.url.ends_with("/EWS/Exchange.asmx") && request.method == "POST") {
      const auto problems = validator_.validate_envelope(request.body);
      ++validated;
      for (const std::string& problem : problems) ADD_FAILURE() << problem << "\n" << request.body;
    }
    inner_->send_async(std::move(request), std::move(credentials), std::move(done));
  }
  int validated = 0;
  std::size_t largest = 0;  ///< the largest EWS request body sent

 private:
  std::unique_ptr<net::HttpClient> inner_;
  testing::XsdValidator validator_;
};

class ExsimTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    exsim_ = new exsimtest::ExsimProcess(
        {"--version", "Exchange2016", "--mailbox", "jdoe@example.com", "--mailbox",
         "other@example.com", "--account", "svc@example.com:s3cret:impersonation", "--account",
         "plain@example.com:s3cret", "--auth", "basic,ntlm"});
    net::ClientOptions options;
    options.tls.ca_bundle_path = exsim_->ca_path();
    http_ = new ValidatingHttp(net::make_curl_client(options));
  }
  static void TearDownTestSuite() {
    delete http_;
    delete exsim_;
  }

  static EwsSideOptions options(const std::string& mailbox,
                                const std::string& account = "svc@example.com",
                                net::AuthMethod method = net::AuthMethod::kBasic) {
    EwsSideOptions o;
    o.endpoint = exsim_->ews_url();
    o.context = RequestContext{ServerVersion::kExchange2016, AccessMode::kImpersonation, mailbox};
    o.credentials.method = method;
    o.credentials.user = account;
    o.credentials.password = Secret("s3cret");
    o.sleep = [](std::chrono::milliseconds) {};
    return o;
  }

  static nlohmann::json admin(const std::string& method, const std::string& path,
                              const std::string& body = "") {
    net::Request request;
    request.method = method;
    request.url = exsim_->base_url() + path;
    request.headers = {{"X-Exsim-Admin-Token", exsim_->admin_token()},
                       {"Content-Type", "application/json"}};
    request.body = body;
    const auto response = http_->send(request, net::Credentials{});
    EXPECT_TRUE(response) << (response ? "" : response.error().message);
    if (!response) return {};
    EXPECT_LT(response->status, 300) << response->body;
    return nlohmann::json::parse(response->body, nullptr, false);
  }

  static nlohmann::json admin_item(const std::string& mailbox, const std::string& item_id) {
    for (const auto& item : admin("GET", "/exsim/admin/mailboxes/" + mailbox + "/items")) {
      if (item.value("item_id", "") == item_id) return item;
    }
    return {};
  }

  static Write create(const Appointment& item, const std::string& key) {
    Write w;
    w.op = WriteOp::kCreate;
    w.item = item;
    w.key = IdempotencyKey(key);
    return w;
  }

  static exsimtest::ExsimProcess* exsim_;
  static ValidatingHttp* http_;
};

exsimtest::ExsimProcess* ExsimTest::exsim_ = nullptr;
ValidatingHttp* ExsimTest::http_ = nullptr;

TEST_F(ExsimTest, CreateGetUpdateDeleteInBatches) {
  EwsCalendarSide side(*http_, options("jdoe@example.com"));
  std::vector<Write> creates;
  for (int i = 0; i < 5; ++i) {
    Appointment a = testing::timed_base();
    a.subject = "Batch " + std::to_string(i);
    a.start += std::chrono::days{i};
    a.end += std::chrono::days{i};
    creates.push_back(create(a, "batch-key-" + std::to_string(i)));
  }
  const int before = side.requests_sent();
  const int validated_before = http_->validated;
  const auto created = side.apply(creates);
  EXPECT_EQ(http_->validated - validated_before, 1) << "every request checked against the schema";
  EXPECT_EQ(side.requests_sent() - before, 1) << "one CreateItem for 5 items, no read-back";
  ASSERT_EQ(created.size(), 5u);
  std::vector<ItemRef> refs;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(created[i].outcome) << created[i].outcome.error().message;
    EXPECT_EQ(created[i].outcome->item, creates[i].item)
        << testing::differences(created[i].outcome->item, creates[i].item);
    EXPECT_EQ(created[i].outcome->idempotency_key->str(), "batch-key-" + std::to_string(i));
    EXPECT_FALSE(created[i].outcome->version.empty());
    refs.push_back(created[i].outcome->ref);
  }
  const auto fetched = side.fetch(refs);
  ASSERT_TRUE(fetched) << fetched.error().message;
  ASSERT_EQ(fetched->size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ((*fetched)[i].version, created[i].outcome->version)
        << "the ChangeKey CreateItem gave";
  }

  const auto found = side.find_by_key(IdempotencyKey("batch-key-3"));
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->ref, refs[3]);

  std::vector<Write> changes(2);
  for (int i = 0; i < 2; ++i) {
    changes[i].op = WriteOp::kUpdate;
    changes[i].ref = refs[i];
    changes[i].expected = created[i].outcome->version;
    changes[i].previous = created[i].outcome->item;
    changes[i].item = created[i].outcome->item;
    changes[i].item.location = "New room " + std::to_string(i);
  }
  const auto updated = side.apply(changes);
  for (const auto& result : updated) {
    ASSERT_TRUE(result.outcome) << result.outcome.error().message;
    EXPECT_EQ(result.outcome->item.location.substr(0, 8), "New room");
  }
  // The ChangeKey we held is stale now: NeverOverwrite makes that a conflict.
  const auto stale = side.apply(changes);
  ASSERT_FALSE(stale[0].outcome);
  EXPECT_EQ(stale[0].outcome.error().kind, ErrorKind::kConflict);

  std::vector<Write> deletes(2);
  deletes[0].op = deletes[1].op = WriteOp::kDelete;
  deletes[0].ref = refs[3];
  deletes[1].ref = ItemRef(refs[4]);
  const auto removed = side.apply(deletes);
  EXPECT_TRUE(removed[0].outcome && removed[1].outcome);
  const auto after = side.fetch(refs);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->size(), 3u);
  EXPECT_TRUE(admin("GET", "/exsim/admin/outbox").empty()) << "R39: no mail, ever";
}

// Request size (exsim's `max_request_bytes`, 4 MiB by default, then HTTP 413): a write batch
// is split by size as well as by count. Three items with 1.5 MiB descriptions (4.5 MiB in one
// CreateItem) are created in smaller requests, each within the limit, and updated the same
// way; an item too large for any request fails alone, clearly, without being sent.
TEST_F(ExsimTest, WriteBatchesStayWithinTheRequestSizeLimit) {
  EwsCalendarSide side(*http_, options("jdoe@example.com"));
  const std::size_t limit = EwsSideOptions{}.max_request_bytes;
  ASSERT_EQ(limit, 4u * 1024 * 1024) << "exsim's default max_request_bytes";
  std::vector<Write> creates;
  for (int i = 0; i < 4; ++i) {
    Appointment a = testing::timed_base();
    a.subject = "Long description " + std::to_string(i);
    a.start += std::chrono::days{40 + i};
    a.end += std::chrono::days{40 + i};
    a.body.content = std::string(i == 3 ? 5 * 1024 * 1024 : 1536 * 1024, 'a' + i);
    creates.push_back(create(a, "size-key-" + std::to_string(i)));
  }
  http_->largest = 0;
  const int before = side.requests_sent();
  const auto created = side.apply(creates);
  ASSERT_EQ(created.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(created[i].outcome) << created[i].outcome.error().message;
  }
  ASSERT_FALSE(created[3].outcome);
  EXPECT_EQ(created[3].outcome.error().kind, ErrorKind::kInvalidData);
  EXPECT_NE(created[3].outcome.error().message.find("shorten its description"), std::string::npos)
      << created[3].outcome.error().message;
  EXPECT_LE(http_->largest, limit);
  EXPECT_GE(side.requests_sent() - before, 2) << "4.5 MiB cannot go in one request";
  int stored = 0;
  for (const auto& item : admin("GET", "/exsim/admin/mailboxes/jdoe@example.com/items")) {
    stored += item.value("subject", "").starts_with("Long description ");
  }
  EXPECT_EQ(stored, 3) << "each once; the one too large never sent";

  std::vector<Write> updates(3);
  for (int i = 0; i < 3; ++i) {
    updates[i].op = WriteOp::kUpdate;
    updates[i].ref = created[i].outcome->ref;
    updates[i].expected = created[i].outcome->version;
    updates[i].previous = created[i].outcome->item;
    updates[i].item = created[i].outcome->item;
    updates[i].item.body.content = std::string(1536 * 1024, 'z');
  }
  http_->largest = 0;
  for (const auto& result : side.apply(updates)) {
    EXPECT_TRUE(result.outcome) << result.outcome.error().message;
  }
  EXPECT_LE(http_->largest, limit);
}

// The engine records what apply() reports as the item's version and content: without a
// read-back that must still be exactly what a later read sees, or the next cycle would take
// our own write for someone's edit. Singles report CreateItem's / UpdateItem's ChangeKey;
// series whose occurrences were then modified or deleted are read back (batched).
TEST_F(ExsimTest, WritesReportWhatALaterReadSeesWithFewRequests) {
  EwsSideOptions o = options("other@example.com");
  o.write_batch_size = 2;
  EwsCalendarSide side(*http_, o);
  std::vector<Write> writes;
  Appointment all_day = testing::timed_base();
  all_day.subject = "All day, private";
  all_day.all_day = true;
  all_day.start = std::chrono::floor<std::chrono::days>(all_day.start);
  all_day.end = all_day.start + std::chrono::days{2};
  all_day.sensitivity = Sensitivity::kPrivate;
  writes.push_back(create(all_day, "readback-all-day"));
  Appointment meeting = testing::timed_base("America/New_York");
  meeting.subject = "With colleagues";
  meeting.body.content = "Agenda: orders, delivery plan.";
  meeting.location = "Room 2.07";
  meeting.reminder = std::chrono::minutes{15};
  meeting.attendees = {Attendee{Person{"Ann Lee", "alee@example.com"}, AttendeeRole::kRequired,
                                ResponseStatus::kNone}};
  writes.push_back(create(meeting, "readback-meeting"));
  Appointment series = testing::timed_base();
  series.subject = "Weekly with exceptions";
  const auto cases = testing::pattern_cases();
  const auto with_exceptions = std::find_if(cases.begin(), cases.end(), [](const auto& c) {
    Appointment probe = testing::timed_base();
    return testing::apply_case(c, probe) && !probe.recurrence->overrides.empty() &&
           !probe.recurrence->exdates.empty();
  });
  ASSERT_NE(with_exceptions, cases.end());
  ASSERT_TRUE(testing::apply_case(*with_exceptions, series));
  writes.push_back(create(series, "readback-series"));

  const int before = side.requests_sent();
  const auto results = side.apply(writes);
  // 2 CreateItem (2 per request) + the series' occurrence UpdateItem and DeleteItem + one
  // GetItem of the series and one of its modified occurrence's details.
  EXPECT_EQ(side.requests_sent() - before, 6);
  ASSERT_EQ(results.size(), writes.size());
  for (std::size_t i = 0; i < writes.size(); ++i) {
    SCOPED_TRACE(writes[i].item.subject);
    ASSERT_TRUE(results[i].outcome) << results[i].outcome.error().message;
    const auto fetched = side.fetch(std::vector<ItemRef>{results[i].outcome->ref});
    ASSERT_TRUE(fetched) << fetched.error().message;
    ASSERT_EQ(fetched->size(), 1u);
    EXPECT_EQ(fetched->front().version, results[i].outcome->version);
    EXPECT_EQ(content_hash(fetched->front().item), content_hash(results[i].outcome->item))
        << testing::differences(fetched->front().item, results[i].outcome->item);
    EXPECT_EQ(results[i].outcome->idempotency_key, writes[i].key);
  }

  // An update reports UpdateItem's ChangeKey, again without a read-back.
  Write update;
  update.op = WriteOp::kUpdate;
  update.ref = results[1].outcome->ref;
  update.expected = results[1].outcome->version;
  update.previous = results[1].outcome->item;
  update.item = results[1].outcome->item;
  update.item.location = "Room 3.01";
  const int before_update = side.requests_sent();
  const auto updated = side.apply(std::vector<Write>{update});
  EXPECT_EQ(side.requests_sent() - before_update, 1);
  ASSERT_TRUE(updated[0].outcome) << updated[0].outcome.error().message;
  const auto after = side.fetch(std::vector<ItemRef>{update.ref});
  ASSERT_TRUE(after && after->size() == 1u);
  EXPECT_EQ(after->front().version, updated[0].outcome->version);
  EXPECT_NE(updated[0].outcome->version, update.expected);
  EXPECT_EQ(content_hash(after->front().item), content_hash(updated[0].outcome->item));
  EXPECT_TRUE(admin("GET", "/exsim/admin/outbox").empty());
}

TEST_F(ExsimTest, SubjectOnlyUpdateLeavesStartAndEndByteIdentical) {
  EwsCalendarSide side(*http_, options("jdoe@example.com"));
  Appointment a = testing::timed_base("America/New_York");
  a.subject = "Before";
  const auto created = side.apply(std::vector<Write>{create(a, "subject-only")});
  ASSERT_TRUE(created[0].outcome) << created[0].outcome.error().message;
  const std::string id = created[0].outcome->ref.str();
  const auto server_before = admin_item("jdoe@example.com", id);
  ASSERT_FALSE(server_before.is_null());

  Write w;
  w.op = WriteOp::kUpdate;
  w.ref = created[0].outcome->ref;
  w.expected = created[0].outcome->version;
  w.previous = created[0].outcome->item;
  w.item = created[0].outcome->item;
  w.item.subject = "After";
  const auto updated = side.apply(std::vector<Write>{w});
  ASSERT_TRUE(updated[0].outcome) << updated[0].outcome.error().message;
  const auto server_after = admin_item("jdoe@example.com", id);
  EXPECT_EQ(server_after["subject"], "After");
  EXPECT_EQ(server_after["start"], server_before["start"]);
  EXPECT_EQ(server_after["end"], server_before["end"]);
  EXPECT_EQ(updated[0].outcome->item.start, a.start);
  EXPECT_TRUE(admin("GET", "/exsim/admin/outbox").empty());
}

TEST_F(ExsimTest, EveryRecurrencePatternWithExceptionsRoundTrips) {
  EwsCalendarSide side(*http_, options("jdoe@example.com"));
  std::vector<Write> writes;
  const auto cases = testing::pattern_cases();
  for (const auto& c : cases) {
    Appointment a = testing::timed_base();
    a.subject = c.name;
    ASSERT_TRUE(testing::apply_case(c, a)) << c.name;
    writes.push_back(create(a, std::string("pattern-") + c.name));
  }
  const auto results = side.apply(writes);
  ASSERT_EQ(results.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    ASSERT_TRUE(results[i].outcome) << results[i].outcome.error().message;
    const auto fetched = side.fetch(std::vector<ItemRef>{results[i].outcome->ref});
    ASSERT_TRUE(fetched) << fetched.error().message;
    ASSERT_EQ(fetched->size(), 1u);
    const Appointment& back = fetched->front().item;
    ASSERT_TRUE(back.recurrence);
    EXPECT_EQ(back.recurrence->rule, writes[i].item.recurrence->rule)
        << format_rrule(back.recurrence->rule);
    EXPECT_EQ(back.recurrence->exdates, writes[i].item.recurrence->exdates);
    EXPECT_EQ(back.recurrence->overrides, writes[i].item.recurrence->overrides);
    // What the engine compares: the canonical form (zones by their Windows id).
    EXPECT_EQ(content_hash(back), content_hash(writes[i].item))
        << testing::differences(back, writes[i].item);
  }
  EXPECT_TRUE(admin("GET", "/exsim/admin/outbox").empty());
}

TEST_F(ExsimTest, SeriesOnThe31stShowsOnThe30thOfApril) {
  EwsCalendarSide side(*http_, options("jdoe@example.com"));
  Appointment a = testing::timed_base();
  a.subject = "Month end";
  a.start = *to_utc(std::chrono::local_days{2029y / 1 / 31} + 7h + 15min, a.time_zone);
  a.end = a.start + 1h;
  a.recurrence = Recurrence{};
  a.recurrence->rule.freq = Frequency::kMonthly;
  a.recurrence->rule.by_month_day = {-1};
  a.recurrence->rule.count = 6;
  const auto created = side.apply(std::vector<Write>{create(a, "month-end")});
  ASSERT_EQ(created.size(), 1u);
  ASSERT_TRUE(created[0].outcome) << created[0].outcome.error().message;

  // The occurrences as Exchange shows them: a CalendarView over April.
  const auto context =
      RequestContext{ServerVersion::kExchange2016, AccessMode::kImpersonation, "jdoe@example.com"};
  net::Request request;
  request.method = "POST";
  request.url = exsim_->ews_url();
  request.headers = request_headers(context);
  request.body =
      build_find_calendar_view(context, sys_days{2029y / 4 / 1}, sys_days{2029y / 5 / 2}, 100);
  const auto response = http_->send(request, options("jdoe@example.com").credentials);
  ASSERT_TRUE(response) << response.error().message;
  const auto parsed = parse_response(response->body);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_FALSE(parsed->messages.empty());
  std::vector<Instant> starts;
  // Only this series starts at 07:15 (the open-ended pattern series reach 2029 at 09:00).
  // Through 1 May: an RFC 5545 reading of "the 31st" would show nothing at all.
  for (const CalendarItem& item : parsed->messages.front().items) {
    const auto local = to_local(item.start, a.time_zone);
    ASSERT_TRUE(local);
    if (*local - std::chrono::floor<std::chrono::days>(*local) == 7h + 15min)
      starts.push_back(item.start);
  }
  EXPECT_EQ(starts, std::vector<Instant>{*to_utc(
                        std::chrono::local_days{2029y / 4 / 30} + 7h + 15min, a.time_zone)});
  const auto fetched = side.fetch(std::vector<ItemRef>{created[0].outcome->ref});
  ASSERT_TRUE(fetched) << fetched.error().message;
  ASSERT_EQ(fetched->size(), 1u);
  EXPECT_EQ(fetched->front().item.recurrence->rule, a.recurrence->rule);
}

// A series in a "Customized Time Zone" (a definition with its own periods and transitions and
// no known id, as some clients send for W. Europe time): exsim places the occurrences by the
// definition's own daylight-saving rules, and the connector maps the definition to an IANA zone
// by those rules (R18), so the core item expands to the same instants.
TEST_F(ExsimTest, CustomizedTimeZoneSeriesIsPlacedByItsOwnDaylightRules) {
  const auto context =
      RequestContext{ServerVersion::kExchange2016, AccessMode::kImpersonation, "jdoe@example.com"};
  const std::string zone =
      R"(<t:StartTimeZone Id="Customized Time Zone" Name="Customized Time Zone"><t:Periods>)"
      R"(<t:Period Bias="-PT1H" Name="Standard" Id="Std"/><t:Period Bias="-PT2H" Name="Daylight" Id="Dlt"/>)"
      R"(</t:Periods><t:TransitionsGroups><t:TransitionsGroup Id="0"><t:RecurringDayTransition>)"
      R"(<t:To Kind="Period">Dlt</t:To><t:TimeOffset>PT2H</t:TimeOffset><t:Month>3</t:Month>)"
      R"(<t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>-1</t:Occurrence></t:RecurringDayTransition>)"
      R"(<t:RecurringDayTransition><t:To Kind="Period">Std</t:To><t:TimeOffset>PT3H</t:TimeOffset>)"
      R"(<t:Month>10</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>-1</t:Occurrence>)"
      R"(</t:RecurringDayTransition></t:TransitionsGroup></t:TransitionsGroups><t:Transitions>)"
      R"(<t:Transition><t:To Kind="Group">0</t:To></t:Transition></t:Transitions></t:StartTimeZone>)";
  net::Request request;
  request.method = "POST";
  request.url = exsim_->ews_url();
  request.headers = request_headers(context);
  // Mondays 10:25 local from 18 March 2030 (a time no other case uses); the definition's daylight
  // time starts on the last Sunday of March (31 March 2030).
  request.body =
      R"(<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header><t:RequestServerVersion Version="Exchange2016"/><t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>jdoe@example.com</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></s:Header><s:Body><m:CreateItem SendMeetingInvitations="SendToNone"><m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar"/></m:SavedItemFolderId><m:Items><t:CalendarItem><t:Subject>Customized zone series</t:Subject><t:Start>2030-03-18T10:25:00</t:Start><t:End>2030-03-18T11:25:00</t:End><t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence><t:NumberedRecurrence><t:StartDate>2030-03-18</t:StartDate><t:NumberOfOccurrences>4</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>)" +
      zone + R"(</t:CalendarItem></m:Items></m:CreateItem></s:Body></s:Envelope>)";
  const auto created = http_->send(request, options("jdoe@example.com").credentials);
  ASSERT_TRUE(created) << created.error().message;
  const auto parsed = parse_response(created->body);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->messages.size(), 1u);
  ASSERT_TRUE(parsed->messages.front().ok()) << created->body;
  ASSERT_EQ(parsed->messages.front().items.size(), 1u);
  const std::string id = parsed->messages.front().items.front().item_id.id;

  const std::vector<Instant> expected = {
      sys_days{2030y / 3 / 18} + 9h + 25min, sys_days{2030y / 3 / 25} + 9h + 25min,
      sys_days{2030y / 4 / 1} + 8h + 25min, sys_days{2030y / 4 / 8} + 8h + 25min};
  // As Exchange shows them: a CalendarView (IdOnly + times: this series is the one at :25).
  request.body =
      build_find_calendar_view(context, sys_days{2030y / 3 / 17}, sys_days{2030y / 4 / 10}, 100);
  const auto view = http_->send(request, options("jdoe@example.com").credentials);
  ASSERT_TRUE(view) << view.error().message;
  const auto listed = parse_response(view->body);
  ASSERT_TRUE(listed) << listed.error().message;
  std::vector<Instant> shown;
  for (const CalendarItem& item : listed->messages.front().items) {
    if (item.start - std::chrono::floor<std::chrono::hours>(item.start) == 25min) {
      shown.push_back(item.start);
    }
  }
  EXPECT_EQ(shown, expected);

  // As the connector reads it: a core item in a zone with the same rules, expanding the same.
  EwsCalendarSide side(*http_, options("jdoe@example.com"));
  const auto fetched = side.fetch(std::vector<ItemRef>{ItemRef(id)});
  ASSERT_TRUE(fetched) << fetched.error().message;
  ASSERT_EQ(fetched->size(), 1u);
  const Appointment& series = fetched->front().item;
  EXPECT_EQ(*utc_offset(sys_days{2030y / 1 / 15}, series.time_zone), 1h) << series.time_zone;
  EXPECT_EQ(*utc_offset(sys_days{2030y / 7 / 15}, series.time_zone), 2h) << series.time_zone;
  const auto occurrences = expand(series, sys_days{2030y / 3 / 1}, sys_days{2030y / 5 / 1});
  ASSERT_TRUE(occurrences) << occurrences.error().message;
  std::vector<Instant> expanded;
  for (const auto& o : *occurrences) expanded.push_back(o.start);
  EXPECT_EQ(expanded, expected);
}

TEST_F(ExsimTest, SyncFolderItemsPagesThroughMoreThan512Changes) {
  EwsCalendarSide side(*http_, options("other@example.com"));
  const auto start = side.changes_since(Cursor());
  ASSERT_TRUE(start) << start.error().message;
  admin("POST", "/exsim/admin/mailboxes/other@example.com/seed",
        R"({"count": 1100, "start": "2031-01-06T09:00:00Z"})");
  const int before = side.requests_sent();
  const auto batch = side.changes_since(start->next);
  ASSERT_TRUE(batch) << batch.error().message;
  EXPECT_TRUE(batch->complete);
  EXPECT_EQ(batch->changed.size(), 1100u);
  EXPECT_GE(side.requests_sent() - before, 3) << "512 changes per page";
  const auto again = side.changes_since(batch->next);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->changed.empty());
  const auto invalid = side.changes_since(Cursor("bm90IGEgc3luYyBzdGF0ZQ=="));
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().kind, ErrorKind::kCursorInvalid);
}

TEST_F(ExsimTest, ListAWindowFindsSinglesAndSeriesMasters) {
  EwsCalendarSide side(*http_, options("jdoe@example.com"));
  Appointment single = testing::timed_base();
  single.subject = "List single";
  single.start = sys_days{2027y / 5 / 3} + 9h;
  single.end = single.start + 1h;
  Appointment series = single;
  series.subject = "List series";
  series.start = sys_days{2027y / 4 / 1} + 9h;  // master starts before the window
  series.end = series.start + 1h;
  series.recurrence = Recurrence{};
  series.recurrence->rule.freq = Frequency::kWeekly;
  series.recurrence->rule.by_day = {WeekdayNum{0, std::chrono::Thursday}};
  series.recurrence->rule.count = 20;
  const auto created =
      side.apply(std::vector<Write>{create(single, "list-1"), create(series, "list-2")});
  ASSERT_TRUE(created[0].outcome && created[1].outcome);
  const auto listed = side.list(TimeWindow{sys_days{2027y / 5 / 1}, sys_days{2027y / 6 / 1}});
  ASSERT_TRUE(listed) << listed.error().message;
  std::set<std::string> subjects;
  for (const SideItem& item : listed->first) subjects.insert(item.item.subject);
  EXPECT_TRUE(subjects.contains("List single"));
  EXPECT_TRUE(subjects.contains("List series"));
  EXPECT_FALSE(listed->second.empty());
}

// exsim enforces EWSFindCountLimit by default (1,000 rows held per charged account; a
// CalendarView over it is ErrorServerBusy, learn.microsoft.com/exchange/client-developer/
// exchange-web-services/ews-throttling-in-exchange): listing more items than that in one
// window works because each CalendarView page asks for at most 500 rows.
TEST_F(ExsimTest, ListingMoreThanAThousandItemsStaysWithinEwsFindCountLimit) {
  admin("POST", "/exsim/admin/mailboxes/other@example.com/seed",
        R"({"count": 1200, "start": "2033-01-03T09:00:00Z", "subject_prefix": "Find count"})");
  EwsCalendarSide side(*http_, options("other@example.com"));
  const auto listed = side.list(TimeWindow{sys_days{2033y / 1 / 1}, sys_days{2033y / 7 / 1}});
  ASSERT_TRUE(listed) << listed.error().message;
  std::set<std::string> subjects;
  for (const SideItem& item : listed->first) subjects.insert(item.item.subject);
  EXPECT_EQ(subjects.size(), 1200u);
  EXPECT_TRUE(subjects.contains("Find count 1200"));
  const auto budgets = admin("GET", "/exsim/admin/ews/budgets");
  EXPECT_EQ(budgets["find_count_limit"], 1000);
  EXPECT_EQ(budgets["find_count_refused"], 0);
}

TEST_F(ExsimTest, TextThatIsNotUtf8IsRepairedNamedAndNeverFailsTheRead) {
  // What a client with a Latin-1 bug sends: CreateItem with raw 0xE9 / 0xFF bytes in the
  // subject, location and a category. It goes through a client without the schema check
  // (libxml2 would refuse the request before exsim sees it); exsim, like Exchange, keeps it.
  net::ClientOptions client_options;
  client_options.tls.ca_bundle_path = exsim_->ca_path();
  auto plain = net::make_curl_client(client_options);
  EwsCalendarSide writer(*plain, options("other@example.com"));
  Appointment item = testing::timed_base();
  item.subject = "SUBJECT-PLACEHOLDER";
  item.location = "LOCATION-PLACEHOLDER";
  item.categories = {"Blue", "CATEGORY-PLACEHOLDER"};
  item.start = sys_days{2027y / 6 / 7} + 9h;
  item.end = item.start + 1h;
  auto ews_item = to_ews(item);
  ASSERT_TRUE(ews_item) << ews_item.error().message;
  std::string body = build_create_item(writer.context(), std::span(&*ews_item, 1));
  for (const auto& [placeholder, bytes] :
       {std::pair{std::string("SUBJECT-PLACEHOLDER"), std::string("Caf\xE9 review")},
        std::pair{std::string("LOCATION-PLACEHOLDER"), std::string("Room \xFF")},
        std::pair{std::string("CATEGORY-PLACEHOLDER"), std::string("Gr\xFCn")}}) {
    ASSERT_NE(body.find(placeholder), std::string::npos) << placeholder;
    body.replace(body.find(placeholder), placeholder.size(), bytes);
  }
  auto created = writer.call(body, false);
  ASSERT_TRUE(created) << created.error().message;

  EwsCalendarSide side(*http_, options("other@example.com"));
  auto listed = side.list(TimeWindow{sys_days{2027y / 6 / 1}, sys_days{2027y / 7 / 1}});
  ASSERT_TRUE(listed) << listed.error().message;
  const SideItem* found = nullptr;
  for (const SideItem& candidate : listed->first) {
    if (candidate.item.subject.starts_with("Caf")) found = &candidate;
  }
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->item.subject, "Caf\xEF\xBF\xBD review");
  EXPECT_EQ(found->item.location, "Room \xEF\xBF\xBD");
  EXPECT_EQ(found->item.categories, (std::vector<std::string>{"Blue", "Gr\xEF\xBF\xBDn"}));
  auto repairs = side.take_text_repairs();
  ASSERT_EQ(repairs.size(), 1u);
  EXPECT_EQ(repairs[0].ref, found->ref);
  EXPECT_EQ(repairs[0].fields, (std::vector<std::string>{"subject", "location", "categories[1]"}));
  EXPECT_TRUE(side.take_text_repairs().empty()) << "taken once";
  // Fetching it again repairs it the same way: the content hash is stable across reads.
  auto fetched = side.fetch(std::span(&found->ref, 1));
  ASSERT_TRUE(fetched && fetched->size() == 1u);
  EXPECT_EQ(content_hash(fetched->front().item), content_hash(found->item));
}

TEST_F(ExsimTest, MissingImpersonationRightNamesTheCommand) {
  EwsCalendarSide side(*http_, options("jdoe@example.com", "plain@example.com"));
  const auto batch = side.changes_since(Cursor());
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.error().kind, ErrorKind::kPermission);
  EXPECT_EQ(batch.error().protocol_code, "ErrorImpersonateUserDenied");
  EXPECT_NE(batch.error().message.find("New-ManagementRoleAssignment -Name "
                                       "AgendaSyncImpersonation -Role ApplicationImpersonation "
                                       "-User plain@example.com"),
            std::string::npos)
      << batch.error().message;
}

TEST_F(ExsimTest, UnknownMailboxNamesTheAddress) {
  EwsCalendarSide side(*http_, options("nobody@example.com"));
  const auto batch = side.changes_since(Cursor());
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(batch.error().message.find("nobody@example.com"), std::string::npos);
}

TEST_F(ExsimTest, WrongPasswordIsAnAuthErrorNamingTheMethod) {
  EwsSideOptions o = options("jdoe@example.com");
  o.credentials.password = Secret("wrong");
  EwsCalendarSide side(*http_, o);
  const auto batch = side.changes_since(Cursor());
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.error().kind, ErrorKind::kAuth);
  EXPECT_NE(batch.error().message.find("Basic"), std::string::npos) << batch.error().message;
  EXPECT_EQ(batch.error().message.find("wrong"), std::string::npos) << "never the password";
}

TEST_F(ExsimTest, NtlmWorksToo) {
  EwsCalendarSide side(*http_,
                       options("jdoe@example.com", "svc@example.com", net::AuthMethod::kNtlm));
  const auto batch = side.changes_since(Cursor());
  ASSERT_TRUE(batch) << batch.error().message;
}

TEST_F(ExsimTest, ServerBusyWaitsExactlyTheServersBackOff) {
  EwsSideOptions o = options("jdoe@example.com");
  std::vector<std::chrono::milliseconds> waits;
  o.sleep = [&](std::chrono::milliseconds ms) { waits.push_back(ms); };
  EwsCalendarSide side(*http_, o);
  admin("POST", "/exsim/admin/faults", R"({"server_busy_next": 2, "back_off_ms": 1500})");
  const auto batch = side.changes_since(Cursor());
  admin("POST", "/exsim/admin/faults", R"({"server_busy_next": 0})");
  ASSERT_TRUE(batch) << batch.error().message;
  EXPECT_EQ(waits, (std::vector<std::chrono::milliseconds>{1500ms, 1500ms}));
}

TEST_F(ExsimTest, ServerBusyIsNotRetriedForever) {
  EwsSideOptions o = options("jdoe@example.com");
  int waits = 0;
  o.sleep = [&](std::chrono::milliseconds) { ++waits; };
  EwsCalendarSide side(*http_, o);
  admin("POST", "/exsim/admin/faults", R"({"server_busy_next": 50, "back_off_ms": 900})");
  const auto batch = side.changes_since(Cursor());
  admin("POST", "/exsim/admin/faults", R"({"server_busy_next": 0})");
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.error().kind, ErrorKind::kThrottled);
  EXPECT_EQ(batch.error().retry_after, 900ms);
  EXPECT_EQ(waits, 3);
}

TEST_F(ExsimTest, UntrustedCertificateIsRefusedWithoutTheCa) {
  const auto plain_client = net::make_curl_client(net::ClientOptions{});
  EwsCalendarSide side(*plain_client, options("jdoe@example.com"));
  const auto batch = side.changes_since(Cursor());
  ASSERT_FALSE(batch);
  EXPECT_NE(batch.error().kind, ErrorKind::kAuth);
  EXPECT_NE(batch.error().message.find("CA"), std::string::npos) << batch.error().message;
}

TEST_F(ExsimTest, DoctorPassesForAWellConfiguredServer) {
  DoctorInput input;
  input.endpoint = exsim_->ews_url();
  input.connection.tls.ca_bundle_path = exsim_->ca_path();
  input.credentials = options("jdoe@example.com").credentials;
  input.mailboxes = {"jdoe@example.com", "other@example.com"};
  const auto checks = run_ews_doctor(*http_, input);
  const std::string report = format_doctor_report(checks);
  ASSERT_EQ(checks.size(), 10u) << report;
  for (const DoctorCheck& check : checks) EXPECT_TRUE(check.pass && !check.warning) << report;
  EXPECT_NE(report.find("PASS server-version: Exchange 2016"), std::string::npos) << report;
  // Real time at scale: Autodiscover's GroupingInformation for every mailbox (issue 14).
  EXPECT_EQ(checks.back().check, "streaming groups");
  EXPECT_NE(checks.back().detail.find("places 2 mailboxes"), std::string::npos) << report;
}

// The transport checks use the TLS settings given in DoctorInput (net::check_connection), not
// the HTTP client's: without exsim's CA the certificate check fails and says which setting adds
// a CA, and nothing after it runs.
TEST_F(ExsimTest, DoctorWithoutTheCaFailsTlsAndNamesTheCaSetting) {
  DoctorInput input;
  input.endpoint = exsim_->ews_url();
  input.credentials = options("jdoe@example.com").credentials;
  input.mailboxes = {"jdoe@example.com"};
  const auto checks = run_ews_doctor(*http_, input);
  const std::string report = format_doctor_report(checks);
  ASSERT_EQ(checks.size(), 7u) << report;
  EXPECT_TRUE(checks[0].pass && checks[1].pass) << report;
  EXPECT_EQ(checks[2].check, "tls");
  EXPECT_FALSE(checks[2].pass) << report;
  EXPECT_NE(checks[2].detail.find("ca_bundle"), std::string::npos) << report;
  EXPECT_NE(checks[2].remedy.find("TLS 1.2"), std::string::npos) << report;
  EXPECT_NE(checks[3].detail.find("not run"), std::string::npos) << report;
}

TEST_F(ExsimTest, DoctorNamesTheMissingImpersonationRightAndBadPassword) {
  DoctorInput input;
  input.endpoint = exsim_->ews_url();
  input.connection.tls.ca_bundle_path = exsim_->ca_path();
  input.credentials = options("jdoe@example.com", "plain@example.com").credentials;
  input.mailboxes = {"jdoe@example.com"};
  auto checks = run_ews_doctor(*http_, input);
  std::string report = format_doctor_report(checks);
  ASSERT_EQ(checks.size(), 8u) << report;
  EXPECT_TRUE(checks[3].pass) << report;  // auth
  EXPECT_FALSE(checks[5].pass);
  EXPECT_NE(checks[5].remedy.find("New-ManagementRoleAssignment"), std::string::npos) << report;

  input.credentials.password = Secret("wrong");
  checks = run_ews_doctor(*http_, input);
  report = format_doctor_report(checks);
  EXPECT_EQ(checks[3].check, "auth");
  EXPECT_FALSE(checks[3].pass) << report;
  EXPECT_EQ(report.find("wrong"), std::string::npos) << "never the password";
}

TEST_F(ExsimTest, AutodiscoverFindsTheEwsUrl) {
  const auto found = autodiscover(*http_, options("jdoe@example.com").credentials,
                                  "jdoe@example.com", {exsim_->base_url()});
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_NE(found->ews_url.find("/EWS/Exchange.asmx"), std::string::npos) << found->ews_url;
  EXPECT_NE(found->tried.at(0).find("POX"), std::string::npos);
}

}  // namespace
}  // namespace agendasync::ews
