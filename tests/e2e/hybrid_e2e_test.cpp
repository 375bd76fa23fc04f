// R41, the hybrid move, end to end: one exsim playing Exchange Server on premises (EWS,
// Autodiscover) and Exchange Online (Graph) over one mailbox store, a hybrid connection
// ([exchange] backend = "hybrid"), the app layer with a real SQLite agenda and sync state.
// 200 items are synced over EWS; the mailbox is moved to Exchange Online (exsim's admin
// call); the next syncs run over Graph without duplicating or losing anything, host ids kept,
// and later changes on both sides still sync.
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <map>

#include "net/http.h"
#include "tests/e2e/world.h"

namespace agendasync::e2e {
namespace {

using namespace std::chrono_literals;

constexpr const char* kMailbox = "jdoe@example.com";

std::map<std::string, int> subject_counts(const std::vector<nlohmann::json>& items) {
  std::map<std::string, int> counts;
  for (const auto& item : items) ++counts[item.value("subject", "")];
  return counts;
}

/// Host appointment id -> (subject, start): what must come through the move untouched.
std::map<store::AppointmentId, std::pair<std::string, Instant>> host_ids(World& world) {
  std::map<store::AppointmentId, std::pair<std::string, Instant>> ids;
  for (const auto& stored : world.host_items("jdoe"))
    ids[stored.id] = {stored.item.subject, stored.item.start};
  return ids;
}

std::string envelope(const std::string& body) {
  return fmt::format(
      R"(<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"
  xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
<soap:Header><t:RequestServerVersion Version="Exchange2016"/>
<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></soap:Header>
<soap:Body>{}</soap:Body></soap:Envelope>)",
      kMailbox, body);
}

std::string utc(Instant at) { return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", at); }

/// A daily series made in Outlook (EWS CreateItem), then its second occurrence deleted and its
/// fourth renamed there: an Outlook series with exceptions.
void outlook_series_with_exceptions(World& world, Instant start) {
  const std::string created =
      world.ews_call(kMailbox, envelope(fmt::format(
                                   R"(<m:CreateItem SendMeetingInvitations="SendToNone">
<m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar"/></m:SavedItemFolderId>
<m:Items><t:CalendarItem><t:Subject>Outlook series</t:Subject><t:Start>{}</t:Start><t:End>{}</t:End>
<t:Recurrence><t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence>
<t:NumberedRecurrence><t:StartDate>{:%Y-%m-%d}</t:StartDate><t:NumberOfOccurrences>6</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>
</t:CalendarItem></m:Items></m:CreateItem>)",
                                   utc(start), utc(start + 30min), start)));
  ASSERT_NE(created.find("NoError"), std::string::npos) << created;
  constexpr std::string_view kId = "ItemId Id=\"";
  const auto id_at = created.find(kId) + kId.size();
  const std::string master = created.substr(id_at, created.find('"', id_at) - id_at);
  const std::string deleted = world.ews_call(
      kMailbox,
      envelope(fmt::format(
          R"(<m:DeleteItem DeleteType="MoveToDeletedItems" SendMeetingCancellations="SendToNone">
<m:ItemIds><t:OccurrenceItemId RecurringMasterId="{}" InstanceIndex="2"/></m:ItemIds></m:DeleteItem>)",
          master)));
  ASSERT_NE(deleted.find("NoError"), std::string::npos) << deleted;
  const std::string renamed = world.ews_call(
      kMailbox,
      envelope(fmt::format(
          R"(<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone">
<m:ItemChanges><t:ItemChange><t:OccurrenceItemId RecurringMasterId="{}" InstanceIndex="4"/>
<t:Updates><t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:CalendarItem><t:Subject>Outlook series (special)</t:Subject></t:CalendarItem></t:SetItemField></t:Updates>
</t:ItemChange></m:ItemChanges></m:UpdateItem>)",
          master)));
  ASSERT_NE(renamed.find("NoError"), std::string::npos) << renamed;
}

Appointment series_with_exceptions() {
  Appointment series;
  series.subject = "Daily standup";
  series.start = future(0, -1);
  series.end = series.start + 15min;
  series.time_zone = "Europe/Amsterdam";
  series.owner = "jdoe";
  series.recurrence = Recurrence{};
  series.recurrence->rule.freq = Frequency::kDaily;
  series.recurrence->rule.count = 10;
  series.recurrence->exdates = {series.start + std::chrono::days{2}};
  OccurrenceOverride late;
  late.recurrence_id = series.start + std::chrono::days{4};
  late.start = late.recurrence_id + 2h;
  late.end = late.start + 15min;
  late.subject = "Daily standup (late)";
  series.recurrence->overrides = {late};
  return series;
}

TEST(HybridMove, TwoHundredItemsMoveFromEwsToGraphWithoutDuplicatesOrLoss) {
  World world(Backend::kHybrid);
  world.add_user("jdoe");  // backend "auto": Autodiscover says where the mailbox is
  // 119 made in the host and a host series with a deleted and a moved occurrence, 49 made in
  // Outlook and an Outlook series with a deleted and a renamed occurrence, 30 made on both
  // sides (matched at the first sync): 200 items.
  for (int i = 0; i < 119; ++i)
    world.add_appointment("jdoe", fmt::format("Host {:03}", i), future(i / 8, i % 8));
  outlook_series_with_exceptions(world, future(50, 2));
  for (int i = 0; i < 49; ++i)
    world.outlook_create(kMailbox, fmt::format("Outlook {:03}", i), future(20 + i / 8, i % 8));
  for (int i = 0; i < 30; ++i) {
    world.add_appointment("jdoe", fmt::format("Both {:03}", i), future(30 + i / 8, i % 8));
    world.outlook_create(kMailbox, fmt::format("Both {:03}", i), future(30 + i / 8, i % 8));
  }
  world.add_appointment(series_with_exceptions());

  const auto first = world.sync("jdoe");
  ASSERT_EQ(first.outcome, app::UserRun::Outcome::kSynced)
      << (first.report ? fmt::format("{}", fmt::join(first.report->errors, "\n")) : "");
  EXPECT_TRUE(first.report->errors.empty())
      << fmt::format("{}", fmt::join(first.report->errors, "\n"));
  EXPECT_EQ(first.report->summary.linked, 30u);
  auto exchange = world.exchange_items(kMailbox);
  ASSERT_EQ(exchange.size(), 200u);
  EXPECT_TRUE(duplicate_subjects(exchange).empty());
  // Every item carries the idempotency key, also the Outlook items and the matched ones.
  for (const auto& item : exchange) {
    EXPECT_FALSE(item["extended_properties"].empty()) << item["subject"];
  }
  ASSERT_EQ(world.host_items("jdoe").size(), 200u);
  for (const auto& stored : world.host_items("jdoe")) {
    if (stored.item.subject != "Outlook series") continue;
    ASSERT_TRUE(stored.item.recurrence);
    EXPECT_EQ(stored.item.recurrence->exdates.size(), 1u);
    EXPECT_EQ(stored.item.recurrence->overrides.size(), 1u);
  }
  const auto ids_before = host_ids(world);
  const auto quiet = world.sync("jdoe");
  ASSERT_TRUE(quiet.report);
  EXPECT_TRUE(quiet.report->plan.operations.empty()) << sync::format_plan(quiet.report->plan);

  // The migration to Exchange Online: on-premises EWS now answers ErrorNonExistentMailbox
  // and Autodiscover redirects to the target address.
  auto moved = world.admin("POST", std::string("/exsim/admin/mailboxes/") + kMailbox + "/move",
                           {{"to", "online"}});
  ASSERT_EQ(moved.value("location", ""), "online") << moved.dump();

  const auto after = world.sync("jdoe");
  ASSERT_EQ(after.outcome, app::UserRun::Outcome::kSynced)
      << (after.error ? after.error->message : "")
      << (after.report ? fmt::format("{}", fmt::join(after.report->errors, "\n")) : "");
  ASSERT_TRUE(after.report);
  EXPECT_EQ(after.report->switched_from, "ews");
  EXPECT_TRUE(after.report->full_listing);
  for (auto side : {sync::Side::kHost, sync::Side::kRemote}) {
    EXPECT_EQ(after.report->summary.sides[side].created, 0u)
        << sync::format_plan(after.report->plan);
    EXPECT_EQ(after.report->summary.sides[side].deleted, 0u)
        << sync::format_plan(after.report->plan);
  }
  exchange = world.exchange_items(kMailbox);
  EXPECT_EQ(exchange.size(), 200u);
  EXPECT_TRUE(duplicate_subjects(exchange).empty());
  EXPECT_EQ(host_ids(world), ids_before) << "host ids, subjects and times kept";
  const auto quiet_online = world.sync("jdoe");
  ASSERT_TRUE(quiet_online.report);
  EXPECT_FALSE(quiet_online.report->full_listing);
  EXPECT_TRUE(quiet_online.report->plan.operations.empty())
      << sync::format_plan(quiet_online.report->plan);

  // Later changes on both sides sync, now through Graph.
  const auto edited = ids_before.begin()->first;
  world.edit_appointment(edited, [](Appointment& item) { item.location = "Room 4"; });
  long outlook_id = -1;
  for (const auto& item : exchange)
    if (item["subject"] == "Outlook 007") outlook_id = item["id"].get<long>();
  ASSERT_GE(outlook_id, 0);
  world.outlook_update(kMailbox, outlook_id, {{"subject", "Outlook 007 (moved)"}});
  world.outlook_create(kMailbox, "Made after the move", future(60));
  const auto changes = world.sync("jdoe");
  ASSERT_EQ(changes.outcome, app::UserRun::Outcome::kSynced);
  EXPECT_TRUE(changes.report->errors.empty())
      << fmt::format("{}", fmt::join(changes.report->errors, "\n"));
  EXPECT_FALSE(changes.report->full_listing);
  EXPECT_EQ(changes.report->summary.sides[sync::Side::kRemote].updated, 1u);
  EXPECT_EQ(changes.report->summary.sides[sync::Side::kHost].updated, 1u);
  EXPECT_EQ(changes.report->summary.sides[sync::Side::kHost].created, 1u);
  exchange = world.exchange_items(kMailbox);
  EXPECT_EQ(exchange.size(), 201u);
  // The Outlook item made after the move got its key through Graph.
  for (const auto& item : exchange) {
    EXPECT_FALSE(item["extended_properties"].empty()) << item["subject"];
  }
  bool located = false;
  for (const auto& item : exchange) located |= item["location"] == "Room 4";
  EXPECT_TRUE(located);
  const auto host_counts = subject_counts([&] {
    std::vector<nlohmann::json> items;
    for (const auto& stored : world.host_items("jdoe"))
      items.push_back({{"subject", stored.item.subject}});
    return items;
  }());
  EXPECT_EQ(host_counts.size(), 201u) << "no duplicate in the host";
  EXPECT_EQ(host_counts.count("Outlook 007 (moved)"), 1u);
  EXPECT_EQ(host_counts.count("Made after the move"), 1u);
  EXPECT_EQ(world.outbox_size(), 0u) << "R39: no mail";
}

/// The app's HTTP client with Autodiscover unreachable (a firewall, a missing DNS record).
class NoAutodiscover final : public net::HttpClient {
 public:
  explicit NoAutodiscover(const std::string& ca) {
    net::ClientOptions options;
    options.tls.ca_bundle_path = ca;
    inner_ = net::make_curl_client(options);
  }
  Result<net::Response> send(const net::Request& request,
                             const net::Credentials& credentials) override {
    if (request.url.find("/autodiscover/") != std::string::npos) {
      ++refused;
      return fail(ErrorKind::kTransient, "could not connect (test: no Autodiscover)");
    }
    return inner_->send(request, credentials);
  }
  void send_async(net::Request request, net::Credentials credentials,
                  std::function<void(Result<net::Response>)> done) override {
    inner_->send_async(std::move(request), std::move(credentials), std::move(done));
  }
  int refused = 0;

 private:
  std::unique_ptr<net::HttpClient> inner_;
};

TEST(HybridMove, WithoutAutodiscoverEwsSayingNoMailboxAndGraphServingItMeanMoved) {
  World world(Backend::kHybrid);
  world.add_user("jdoe");
  world.update_user("jdoe", [](User& user) { user.backend = MailboxBackend::kEws; });
  world.add_appointment("jdoe", "Host item", future());
  world.outlook_create(kMailbox, "Outlook item", future(1));
  world.sync("jdoe");  // through EWS, by the administrator's choice
  world.update_user("jdoe", [](User& user) { user.backend = MailboxBackend::kAuto; });
  world.admin("POST", std::string("/exsim/admin/mailboxes/") + kMailbox + "/move",
              {{"to", "online"}});

  auto http = std::make_shared<NoAutodiscover>(world.exsim().ca_path());
  app::AppOptions options;
  options.http = http;
  const auto run = world.sync("jdoe", false, options);
  ASSERT_EQ(run.outcome, app::UserRun::Outcome::kSynced) << (run.error ? run.error->message : "");
  EXPECT_GT(http->refused, 0) << "Autodiscover was asked first";
  EXPECT_EQ(run.report->switched_from, "ews");
  EXPECT_EQ(world.exchange_items(kMailbox).size(), 2u);
  EXPECT_EQ(world.host_items("jdoe").size(), 2u);
}

TEST(HybridMove, AUserSetToGraphSyncsThroughGraphFromTheStart) {
  World world(Backend::kHybrid);
  world.add_user("jdoe");
  world.update_user("jdoe", [](User& user) { user.backend = MailboxBackend::kGraph; });
  // The mailbox lives in Exchange Online (EWS would refuse it); the administrator's choice
  // routes it there without asking Autodiscover.
  world.admin("POST", std::string("/exsim/admin/mailboxes/") + kMailbox + "/move",
              {{"to", "online"}});
  world.add_appointment("jdoe", "Host item", future());
  const auto run = world.sync("jdoe");
  ASSERT_EQ(run.outcome, app::UserRun::Outcome::kSynced);
  EXPECT_EQ(world.exchange_items(kMailbox).size(), 1u);
}

// Graph's MailboxNotEnabledForRESTAPI (a mailbox Exchange Online does not host) as the
// product meets it: a mailbox synced through Graph goes back on premises (exsim's move
// "onpremises": Graph answers 404 MailboxNotEnabledForRESTAPI); the next sync is not a failure
// but a switch to EWS that keeps every item once.
TEST(HybridMove, AMailboxGraphNoLongerServesIsSyncedThroughEwsWithoutDuplicates) {
  World world(Backend::kHybrid);
  world.add_user("jdoe");
  world.admin("POST", std::string("/exsim/admin/mailboxes/") + kMailbox + "/move",
              {{"to", "online"}});
  world.add_appointment("jdoe", "Host item", future());
  world.outlook_create(kMailbox, "Outlook item", future(1));
  const auto online = world.sync("jdoe");
  ASSERT_EQ(online.outcome, app::UserRun::Outcome::kSynced)
      << (online.error ? online.error->message : "");
  ASSERT_EQ(world.exchange_items(kMailbox).size(), 2u);

  world.admin("POST", std::string("/exsim/admin/mailboxes/") + kMailbox + "/move",
              {{"to", "onpremises"}});
  const auto back = world.sync("jdoe");
  ASSERT_EQ(back.outcome, app::UserRun::Outcome::kSynced)
      << (back.error ? back.error->message : "")
      << (back.report ? fmt::format("{}", fmt::join(back.report->errors, "\n")) : "");
  ASSERT_TRUE(back.report);
  EXPECT_EQ(back.report->switched_from, "graph");
  const auto exchange = world.exchange_items(kMailbox);
  EXPECT_EQ(exchange.size(), 2u);
  EXPECT_TRUE(duplicate_subjects(exchange).empty());
  EXPECT_EQ(world.host_items("jdoe").size(), 2u);
}

}  // namespace
}  // namespace agendasync::e2e
