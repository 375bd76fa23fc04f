// The pain points other sync tools are known for, end to end: the app layer with a real
// SQLite agenda and sync state, the EWS connector over HTTPS, the real exsim. "Outlook" acts
// through exsim's admin endpoint or raw EWS, the way a mail client would. Every test ends by
// checking exsim's outbox is empty (R39).
#include <gtest/gtest.h>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "connectors/ews/calendar_schema.h"
#include "connectors/ews/ews_side.h"
#include "tests/e2e/world.h"

namespace agendasync::e2e {
namespace {

using namespace std::chrono_literals;
using Subjects = std::vector<std::string>;

constexpr const char* kMailbox = "jdoe@example.com";

std::string utc(Instant at) { return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", at); }

/// A SOAP envelope impersonating `mailbox` around `body`.
std::string envelope(const std::string& mailbox, const std::string& body) {
  return fmt::format(
      R"(<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"
  xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
<soap:Header><t:RequestServerVersion Version="Exchange2016"/>
<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></soap:Header>
<soap:Body>{}</soap:Body></soap:Envelope>)",
      mailbox, body);
}

std::vector<std::string> sorted_subjects(const std::vector<nlohmann::json>& items) {
  std::vector<std::string> subjects;
  for (const auto& item : items) subjects.push_back(item["subject"]);
  std::sort(subjects.begin(), subjects.end());
  return subjects;
}

/// A series owned by jdoe in Amsterdam time: `count` occurrences of `length`, every day or
/// week from future().
Appointment series_of(const std::string& subject, std::chrono::minutes length, Frequency freq,
                      int count) {
  Appointment series;
  series.subject = subject;
  series.start = future();
  series.end = future() + length;
  series.time_zone = "Europe/Amsterdam";
  series.owner = "jdoe";
  series.recurrence = Recurrence{};
  series.recurrence->rule.freq = freq;
  series.recurrence->rule.count = count;
  return series;
}

class PainPoint : public ::testing::Test {
 protected:
  void SetUp() override { world.add_user("jdoe"); }
  void TearDown() override { EXPECT_EQ(world.outbox_size(), 0u) << "R39: exsim's outbox"; }

  Subjects host_subjects() {
    Subjects subjects;
    for (const auto& stored : world.host_items("jdoe")) subjects.push_back(stored.item.subject);
    std::sort(subjects.begin(), subjects.end());
    return subjects;
  }
  Subjects exchange_subjects() { return sorted_subjects(world.exchange_items(kMailbox)); }

  /// The mailbox as the EWS connector reads it (what the next sync would see).
  std::vector<SideItem> exchange_as_read() {
    ews::EwsSideOptions options;
    options.endpoint = world.exsim().ews_url();
    options.context = ews::RequestContext{ews::ServerVersion::kExchange2016,
                                          ews::AccessMode::kImpersonation, kMailbox};
    options.credentials.method = net::AuthMethod::kBasic;
    options.credentials.user = "svc@example.com";
    options.credentials.password = Secret("s3cret");
    auto http = net::make_curl_client([&] {
      net::ClientOptions client;
      client.tls.ca_bundle_path = world.exsim().ca_path();
      return client;
    }());
    ews::EwsCalendarSide side(*http, options);
    const Instant now =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    auto listed = side.list({now - std::chrono::days{60}, now + std::chrono::days{800}});
    EXPECT_TRUE(listed) << listed.error().message;
    return listed ? listed->first : std::vector<SideItem>{};
  }

  /// A run that must go through without any failed write.
  sync::RunReport clean_sync() {
    auto run = world.sync("jdoe");
    EXPECT_EQ(run.outcome, app::UserRun::Outcome::kSynced);
    return run.report.value_or(sync::RunReport{});
  }

  /// Twelve host items ("Item 00" ...) over six days, synced to Exchange.
  void add_twelve_synced_items() {
    for (int i = 0; i < 12; ++i)
      world.add_appointment("jdoe", fmt::format("Item {:02}", i), future(i % 6, i / 6));
    clean_sync();
    ASSERT_EQ(world.exchange_items(kMailbox).size(), 12u);
  }

  World world;
};

// ---- echoes of our own writes -----------------------------------------------------------

TEST_F(PainPoint, OurOwnWritesAreNotReadBackAsChanges) {
  for (int i = 0; i < 5; ++i) world.add_appointment("jdoe", fmt::format("Host {}", i), future(i));
  world.outlook_create(kMailbox, "Outlook item", future(0, 3));
  const auto first = clean_sync();
  // SyncFolderItems right after the writes reported only them: both cursors lie past them.
  EXPECT_TRUE(first.cursor_past_writes[sync::Side::kRemote]);
  EXPECT_TRUE(first.cursor_past_writes[sync::Side::kHost]);
  const auto quiet = clean_sync();
  EXPECT_FALSE(quiet.full_listing);
  EXPECT_TRUE(quiet.plan.operations.empty()) << sync::format_plan(quiet.plan);
  EXPECT_EQ(quiet.echoes[sync::Side::kRemote] + quiet.echoes[sync::Side::kHost], 0u);
}

// ---- a copied item ----------------------------------------------------------------------

TEST_F(PainPoint, AnItemCopiedInOutlookIsANewItemNotADuplicateNorLost) {
  auto original = world.add_appointment("jdoe", "Board meeting", future(), 90);
  clean_sync();
  const auto items = world.exchange_items(kMailbox);
  ASSERT_EQ(items.size(), 1u);
  const auto& properties = items[0]["extended_properties"];
  ASSERT_EQ(properties.size(), 1u) << properties.dump();
  const std::string key = properties.begin().value();
  ASSERT_FALSE(key.empty());
  // Outlook's copy carries every property of the original, our idempotency key included.
  const std::string copy = fmt::format(
      R"(<m:CreateItem SendMeetingInvitations="SendToNone">
<m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar"/></m:SavedItemFolderId>
<m:Items><t:CalendarItem><t:Subject>Board meeting</t:Subject>
<t:ExtendedProperty><t:ExtendedFieldURI PropertySetId="{}" PropertyName="{}" PropertyType="String"/><t:Value>{}</t:Value></t:ExtendedProperty>
<t:Start>{}</t:Start><t:End>{}</t:End></t:CalendarItem></m:Items></m:CreateItem>)",
      ews::kKeyPropertySetId, ews::kKeyPropertyName, key, utc(future(2)), utc(future(2) + 90min));
  const std::string reply = world.ews_call(kMailbox, envelope(kMailbox, copy));
  ASSERT_NE(reply.find("NoError"), std::string::npos) << reply;

  const auto run = clean_sync();
  EXPECT_EQ(run.summary.sides[sync::Side::kHost].created, 1u) << sync::format_plan(run.plan);
  EXPECT_EQ(host_subjects(), (Subjects{"Board meeting", "Board meeting"}));
  EXPECT_EQ(exchange_subjects(), (Subjects{"Board meeting", "Board meeting"}));
  // The copy is its own item: it stays put while the original moves, and a further run
  // finds nothing to do.
  world.edit_appointment(original.id, [](Appointment& item) { item.location = "Room 1"; });
  clean_sync();
  const auto quiet = clean_sync();
  EXPECT_TRUE(quiet.plan.operations.empty()) << sync::format_plan(quiet.plan);
  std::size_t in_room_1 = 0;
  for (const auto& item : world.exchange_items(kMailbox)) in_room_1 += item["location"] == "Room 1";
  EXPECT_EQ(in_room_1, 1u);
  EXPECT_EQ(world.host_items("jdoe").size(), 2u);
}

// ---- a renamed series -------------------------------------------------------------------

TEST_F(PainPoint, ARenamedSeriesIsRenamedNotDuplicatedAlsoAfterAFullResync) {
  world.add_appointment(series_of("Weekly planning", 1h, Frequency::kWeekly, 6));
  clean_sync();
  ASSERT_EQ(exchange_subjects(), Subjects{"Weekly planning"});

  const long id = world.exchange_items(kMailbox).at(0)["id"];
  world.outlook_update(kMailbox, id, {{"subject", "Weekly planning (renamed)"}});
  clean_sync();
  EXPECT_EQ(host_subjects(), Subjects{"Weekly planning (renamed)"});
  EXPECT_EQ(exchange_subjects(), Subjects{"Weekly planning (renamed)"});

  // Forget both cursors (an expired sync state): the full resync matches by our key, not by
  // the subject the series no longer has.
  ASSERT_GE(world.rewrite_cursors("UPDATE sync_cursor SET cursor = 'expired'"), 0);
  world.edit_appointment(world.host_items("jdoe").at(0).id,
                         [](Appointment& item) { item.subject = "Weekly planning (host name)"; });
  const auto resync = clean_sync();
  EXPECT_TRUE(resync.full_listing);
  EXPECT_EQ(host_subjects(), Subjects{"Weekly planning (host name)"});
  EXPECT_EQ(exchange_subjects(), Subjects{"Weekly planning (host name)"});
}

// ---- a moved occurrence -----------------------------------------------------------------

TEST_F(PainPoint, AnOccurrenceMovedInOutlookArrivesAsThatOccurrenceAndBack) {
  const auto stored =
      world.add_appointment(series_of("Daily stand-up", 15min, Frequency::kDaily, 5));
  clean_sync();
  const auto master = world.exchange_items(kMailbox).at(0);

  // Outlook drags the third occurrence two hours later.
  const Instant third = future(2);
  const std::string move = fmt::format(
      R"(<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone">
<m:ItemChanges><t:ItemChange><t:OccurrenceItemId RecurringMasterId="{}" InstanceIndex="3"/>
<t:Updates>
<t:SetItemField><t:FieldURI FieldURI="calendar:Start"/><t:CalendarItem><t:Start>{}</t:Start></t:CalendarItem></t:SetItemField>
<t:SetItemField><t:FieldURI FieldURI="calendar:End"/><t:CalendarItem><t:End>{}</t:End></t:CalendarItem></t:SetItemField>
</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>)",
      master["item_id"].get<std::string>(), utc(third + 2h), utc(third + 2h + 15min));
  const std::string reply = world.ews_call(kMailbox, envelope(kMailbox, move));
  ASSERT_NE(reply.find("NoError"), std::string::npos) << reply;

  clean_sync();
  auto host = world.host_items("jdoe");
  ASSERT_EQ(host.size(), 1u);
  ASSERT_TRUE(host[0].item.recurrence);
  ASSERT_EQ(host[0].item.recurrence->overrides.size(), 1u);
  EXPECT_EQ(host[0].item.recurrence->overrides[0].recurrence_id, third);
  EXPECT_EQ(host[0].item.recurrence->overrides[0].start, third + 2h);
  EXPECT_TRUE(host[0].item.recurrence->exdates.empty()) << "a moved occurrence is not deleted";
  EXPECT_EQ(host[0].item.start, future()) << "the series itself did not move";

  // The host moves another occurrence: Exchange gets exactly that one, the first stays.
  const Instant fifth = future(4);
  world.edit_appointment(stored.id, [&](Appointment& item) {
    OccurrenceOverride later;
    later.recurrence_id = fifth;
    later.start = fifth + 1h;
    later.end = fifth + 1h + 15min;
    later.subject = "Daily stand-up";
    item.recurrence->overrides.push_back(later);
  });
  clean_sync();
  const auto after = world.exchange_items(kMailbox);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0]["modified_occurrences"], nlohmann::json::array({utc(third), utc(fifth)}));
  EXPECT_TRUE(after[0]["deleted_occurrences"].empty());
}

// ---- all-day items far from UTC ---------------------------------------------------------

TEST_F(PainPoint, AllDayItemsInFarZonesAndOnADstChangeKeepTheirDate) {
  using std::chrono::sys_days;
  using std::chrono::year;
  struct Case {
    const char* zone;
    sys_days day;
  };
  const std::vector<Case> cases{
      {"Pacific/Kiritimati", sys_days{year{2027} / 1 / 12}},  // UTC+14
      {"Pacific/Pago_Pago", sys_days{year{2027} / 1 / 13}},   // UTC-11
      {"Europe/Amsterdam", sys_days{year{2027} / 3 / 28}},    // the spring DST change
  };
  for (const auto& c : cases) {
    Appointment item;
    item.subject = std::string("All day in ") + c.zone;
    item.all_day = true;
    item.start = Instant(c.day);
    item.end = Instant(c.day + std::chrono::days{1});
    item.time_zone = c.zone;
    item.owner = "jdoe";
    world.add_appointment(item);
  }
  clean_sync();
  // What the next read of Exchange sees: the same dates, nothing to write back.
  const auto read = exchange_as_read();
  ASSERT_EQ(read.size(), cases.size());
  for (const auto& c : cases) {
    const std::string subject = std::string("All day in ") + c.zone;
    auto found = std::find_if(read.begin(), read.end(),
                              [&](const SideItem& item) { return item.item.subject == subject; });
    ASSERT_NE(found, read.end()) << subject;
    EXPECT_TRUE(found->item.all_day) << subject;
    EXPECT_EQ(found->item.start, Instant(c.day)) << subject;
    EXPECT_EQ(found->item.end, Instant(c.day + std::chrono::days{1})) << subject;
  }
  const auto quiet = clean_sync();
  EXPECT_TRUE(quiet.plan.operations.empty()) << sync::format_plan(quiet.plan);
  for (const auto& stored : world.host_items("jdoe")) {
    for (const auto& c : cases) {
      if (stored.item.subject != std::string("All day in ") + c.zone) continue;
      EXPECT_EQ(stored.item.start, Instant(c.day)) << c.zone;
    }
  }
}

// ---- a stale ChangeKey ------------------------------------------------------------------

TEST_F(PainPoint, AStaleChangeKeyEndsInAMergeNotALostEdit) {
  auto stored = world.add_appointment("jdoe", "Budget review", future());
  clean_sync();
  const long id = world.exchange_items(kMailbox).at(0)["id"];
  world.edit_appointment(stored.id,
                         [](Appointment& item) { item.subject = "Budget review (host)"; });
  // Outlook edits the item after our read and before our write: the write carries a
  // ChangeKey Exchange no longer has (ErrorIrresolvableConflict).
  app::AppOptions options;
  bool edited = false;
  options.on_step = [&](sync::CycleStep step) {
    if (step == sync::CycleStep::kJournaled && !edited) {
      edited = true;
      world.outlook_update(kMailbox, id, {{"location", "Room 7 (outlook)"}});
    }
  };
  auto raced = world.app(options)->sync_user("jdoe");
  ASSERT_TRUE(raced) << raced.error().message;
  ASSERT_TRUE(edited);
  EXPECT_EQ(raced->outcome, app::UserRun::Outcome::kPartial);
  ASSERT_TRUE(raced->report);
  ASSERT_FALSE(raced->report->errors.empty());
  EXPECT_NE(raced->report->errors.front().find("conflict"), std::string::npos)
      << raced->report->errors.front();

  // The next run reads the item again and merges: both edits survive on both sides.
  clean_sync();
  const auto items = world.exchange_items(kMailbox);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["subject"], "Budget review (host)");
  EXPECT_EQ(items[0]["location"], "Room 7 (outlook)");
  const auto host = world.host_items("jdoe");
  ASSERT_EQ(host.size(), 1u);
  EXPECT_EQ(host[0].item.subject, "Budget review (host)");
  EXPECT_EQ(host[0].item.location, "Room 7 (outlook)");
}

// ---- an empty or failed read ------------------------------------------------------------

TEST_F(PainPoint, AFailedReadDeletesNothing) {
  add_twelve_synced_items();
  // Every EWS answer arrives cut short (a proxy dropping the connection): the run fails
  // and nothing is taken as a deletion. (A 503 would be retried with back-off first.)
  world.set_faults({{"truncate_rate", 1.0}});
  auto failed = world.app()->sync_user("jdoe");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->outcome, app::UserRun::Outcome::kFailed);
  world.set_faults({{"truncate_rate", 0.0}});
  EXPECT_EQ(world.host_items("jdoe").size(), 12u);
  const auto recovered = clean_sync();
  EXPECT_TRUE(recovered.plan.operations.empty()) << sync::format_plan(recovered.plan);
  EXPECT_EQ(world.host_items("jdoe").size(), 12u);
  EXPECT_EQ(world.exchange_items(kMailbox).size(), 12u);
}

TEST_F(PainPoint, AnEmptyMailboxBehindTheSameUserDeletesNothing) {
  add_twelve_synced_items();
  // The user's address now points at an empty mailbox (a wrong address, a re-created
  // mailbox): its sync state is invalid there and its full listing is empty.
  world.update_user("jdoe", [](User& user) { user.exchange_address = "ckent@example.com"; });
  auto refused = world.app()->sync_user("jdoe");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->outcome, app::UserRun::Outcome::kFailed);
  ASSERT_TRUE(refused->error);
  EXPECT_NE(refused->error->message.find("listed no items"), std::string::npos)
      << refused->error->message;
  EXPECT_EQ(world.host_items("jdoe").size(), 12u);
  EXPECT_TRUE(world.exchange_items("ckent@example.com").empty());
  EXPECT_EQ(world.exchange_items(kMailbox).size(), 12u);
}

}  // namespace
}  // namespace agendasync::e2e
