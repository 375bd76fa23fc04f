// Appointments over real HTTP: CRUD, ranges, ETag / If-Match (412, 428), problem+json, audit.
#include "api_test_support.h"

#include "store/sync_state/sqlite_sync_state.h"

namespace agendasync::apitest {
namespace {

class AppointmentsApi : public ApiTest {};

void expect_problem(const Reply& reply, int status) {
  EXPECT_EQ(reply.status, status) << reply.body;
  EXPECT_EQ(reply.header("Content-Type"), "application/problem+json");
  ASSERT_TRUE(reply.json_body.is_object()) << reply.body;
  for (const char* member : {"type", "title", "detail", "instance"}) {
    EXPECT_TRUE(reply.json_body.contains(member) && reply.json_body[member].is_string())
        << member << " in " << reply.body;
  }
  EXPECT_EQ(reply.json_body.value("status", 0), status);
}

TEST_F(AppointmentsApi, CreateReadUpdateDeleteWithEtags) {
  json created = create_appointment("alice", "Planning", {"bob"});
  const std::string path = "/api/v1/appointments/" + std::to_string(created["id"].get<int>());

  auto read = get(path, admin_);
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(read.json_body["subject"], "Planning");
  EXPECT_EQ(read.json_body["participants"], json({"bob"}));
  const std::string etag = read.header("ETag");
  EXPECT_EQ(etag, "\"" + std::to_string(created["revision"].get<int>()) + "\"");

  auto patched = call("PATCH", path, admin_, json{{"location", "Room 4"}}, {{"If-Match", etag}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json_body["location"], "Room 4");
  EXPECT_EQ(patched.json_body["subject"], "Planning");
  const std::string etag2 = patched.header("ETag");
  EXPECT_NE(etag2, etag);

  // The old ETag is stale now: 412, and the current ETag comes back.
  auto stale = call("PATCH", path, admin_, json{{"location", "Room 5"}}, {{"If-Match", etag}});
  expect_problem(stale, 412);
  EXPECT_EQ(stale.header("ETag"), etag2);
  auto stale_put = call("PUT", path, admin_, read.json_body, {{"If-Match", etag}});
  expect_problem(stale_put, 412);
  expect_problem(call("DELETE", path, admin_, std::nullopt, {{"If-Match", etag}}), 412);

  // PUT replaces the whole item.
  json replacement = patched.json_body;
  replacement["subject"] = "Planning (moved)";
  replacement["start"] = "2030-05-07T09:00:00Z";
  replacement["end"] = "2030-05-07T11:00:00Z";
  auto put = call("PUT", path, admin_, replacement, {{"If-Match", etag2}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.json_body["end"], "2030-05-07T11:00:00Z");

  auto removed = call("DELETE", path, admin_, std::nullopt, {{"If-Match", put.header("ETag")}});
  EXPECT_EQ(removed.status, 204);
  expect_problem(get(path, admin_), 404);
}

TEST_F(AppointmentsApi, WritesWithoutIfMatchAre428) {
  json created = create_appointment("alice", "No precondition");
  const std::string path = "/api/v1/appointments/" + std::to_string(created["id"].get<int>());
  expect_problem(call("PATCH", path, admin_, json{{"subject", "x"}}), 428);
  expect_problem(call("PUT", path, admin_, created), 428);
  expect_problem(call("DELETE", path, admin_), 428);
  // Weak and unquoted forms of the current ETag are accepted.
  auto weak = call("PATCH", path, admin_, json{{"subject", "y"}},
                   {{"If-Match", "W/\"" + std::to_string(created["revision"].get<int>()) + "\""}});
  EXPECT_EQ(weak.status, 200) << weak.body;
}

TEST_F(AppointmentsApi, RangeAndUserQueries) {
  create_appointment("alice", "May");
  auto june = call("POST", "/api/v1/appointments", admin_,
                   json{{"subject", "June"},
                        {"start", "2030-06-10T09:00:00Z"},
                        {"end", "2030-06-10T10:00:00Z"},
                        {"owner", "bob"}});
  ASSERT_EQ(june.status, 201);
  auto in_june =
      get("/api/v1/appointments?from=2030-06-01T00:00:00Z&to=2030-07-01T00:00:00Z", integration_);
  ASSERT_EQ(in_june.status, 200);
  ASSERT_EQ(in_june.json_body["appointments"].size(), 1u);
  EXPECT_EQ(in_june.json_body["appointments"][0]["subject"], "June");
  auto alices = get("/api/v1/appointments?user=alice", integration_);
  ASSERT_EQ(alices.json_body["appointments"].size(), 1u);
  EXPECT_EQ(alices.json_body["appointments"][0]["subject"], "May");
  expect_problem(get("/api/v1/appointments?from=yesterday", admin_), 400);
}

TEST_F(AppointmentsApi, InvalidItemsAreProblemsNamingTheMember) {
  auto bad_zone = call("POST", "/api/v1/appointments", admin_,
                       json{{"subject", "x"},
                            {"start", "2030-05-06T09:00:00Z"},
                            {"end", "2030-05-06T10:00:00Z"},
                            {"time_zone", "Mars/Olympus"},
                            {"owner", "alice"}});
  expect_problem(bad_zone, 422);
  auto backwards = call("POST", "/api/v1/appointments", admin_,
                        json{{"subject", "x"},
                             {"start", "2030-05-06T10:00:00Z"},
                             {"end", "2030-05-06T09:00:00Z"},
                             {"owner", "alice"}});
  expect_problem(backwards, 422);
  auto unknown_owner = call("POST", "/api/v1/appointments", admin_,
                            json{{"subject", "x"},
                                 {"start", "2030-05-06T09:00:00Z"},
                                 {"end", "2030-05-06T10:00:00Z"},
                                 {"owner", "nobody"}});
  EXPECT_GE(unknown_owner.status, 400);
  auto malformed = call("POST", "/api/v1/appointments", admin_, std::nullopt);
  expect_problem(malformed, 400);
  auto show_as = call("POST", "/api/v1/appointments", admin_, json{{"show_as", "asleep"}});
  expect_problem(show_as, 422);
  EXPECT_NE(show_as.json_body["detail"].get<std::string>().find("show_as"), std::string::npos);
  expect_problem(get("/api/v1/appointments/abc", admin_), 404);
  expect_problem(get("/api/v1/nothing-here", admin_), 404);
}

TEST_F(AppointmentsApi, RecurringAllDayItemsRoundTrip) {
  auto created = call("POST", "/api/v1/appointments", admin_,
                      json{{"subject", "Holiday"},
                           {"all_day", true},
                           {"start", "2030-12-24"},
                           {"end", "2030-12-25"},
                           {"owner", "alice"},
                           {"recurrence", {{"rrule", "FREQ=YEARLY;COUNT=3"}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json_body["start"], "2030-12-24");
  EXPECT_EQ(created.json_body["recurrence"]["rrule"], "FREQ=YEARLY;COUNT=3");
}

TEST_F(AppointmentsApi, UserTokensSeeAndWriteOnlyTheirOwnAgenda) {
  json mine = create_appointment("alice", "Alice's", {"bob"});
  json carols = create_appointment("carol", "Carol's");
  const std::string mine_path = "/api/v1/appointments/" + std::to_string(mine["id"].get<int>());
  const std::string carols_path = "/api/v1/appointments/" + std::to_string(carols["id"].get<int>());
  EXPECT_EQ(get(mine_path, alice_).status, 200);
  EXPECT_EQ(get(mine_path, bob_).status, 200);    // participant
  expect_problem(get(carols_path, alice_), 404);  // not even its existence leaks
  auto listed = get("/api/v1/appointments", alice_);
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.json_body["appointments"].size(), 1u);
  expect_problem(get("/api/v1/appointments?user=carol", alice_), 403);
  // A participant may read but not change the owner's item.
  auto etag = get(mine_path, bob_).header("ETag");
  expect_problem(
      call("PATCH", mine_path, bob_, json{{"subject", "mine now"}}, {{"If-Match", etag}}), 403);
  EXPECT_EQ(call("PATCH", mine_path, alice_, json{{"subject", "still mine"}}, {{"If-Match", etag}})
                .status,
            200);
  // Creating for someone else is refused; creating without owner makes the caller the owner.
  expect_problem(call("POST", "/api/v1/appointments", alice_,
                      json{{"subject", "for carol"},
                           {"start", "2030-05-06T09:00:00Z"},
                           {"end", "2030-05-06T10:00:00Z"},
                           {"owner", "carol"}}),
                 403);
  auto own = call(
      "POST", "/api/v1/appointments", alice_,
      json{{"subject", "own"}, {"start", "2030-05-06T09:00:00Z"}, {"end", "2030-05-06T10:00:00Z"}});
  ASSERT_EQ(own.status, 201) << own.body;
  EXPECT_EQ(own.json_body["owner"], "alice");
}

class AuditApi : public ApiTest {
 protected:
  void configure(service::ServerOptions& options) override {
    options.audit = [this](const std::filesystem::path&, const std::string&) {
      return service::sqlite_audit_lookup(dir_ / "state.db");
    };
  }
};

TEST_F(AuditApi, AnswersWhyAnAppointmentChanged) {
  json created = create_appointment("alice", "Audited");
  const std::string id = std::to_string(created["id"].get<int>());
  auto sink = store::SqliteAuditSink::open(dir_ / "state.db");
  ASSERT_TRUE(sink) << sink.error().message;
  sync::AuditRecord host_write;
  host_write.run_id = "run-1";
  host_write.at = Instant(std::chrono::seconds(1'900'000'000));
  host_write.pair_id = "alice";
  host_write.side = sync::Side::kHost;
  host_write.item = id;
  host_write.link = "link-1";
  host_write.operation = "update";
  host_write.rule = "R19 two-way: changed on remote";
  host_write.changes = {{"subject", "Old", "Audited"}};
  sync::AuditRecord remote_write = host_write;
  remote_write.run_id = "run-2";
  remote_write.at += std::chrono::hours(1);
  remote_write.side = sync::Side::kRemote;
  remote_write.item = "AAMkAD=";
  remote_write.rule = "R19 two-way: changed on host";
  sync::AuditRecord other = host_write;
  other.item = "999";
  other.link = "link-2";
  ASSERT_TRUE((*sink)->record({host_write, remote_write, other}));

  auto audit = get("/api/v1/appointments/" + id + "/audit", admin_);
  ASSERT_EQ(audit.status, 200) << audit.body;
  auto records = audit.json_body["audit"];
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["side"], "host");
  EXPECT_EQ(records[0]["rule"], "R19 two-way: changed on remote");
  EXPECT_EQ(records[0]["changes"][0]["before"], "Old");
  EXPECT_EQ(records[1]["side"], "remote");
  EXPECT_EQ(records[1]["run_id"], "run-2");
  EXPECT_EQ(get("/api/v1/appointments/" + id + "/audit", bob_).status, 404);
}

TEST_F(AppointmentsApi, AuditWithoutAStateFileIs501) {
  json created = create_appointment("alice", "x");
  auto reply =
      get("/api/v1/appointments/" + std::to_string(created["id"].get<int>()) + "/audit", admin_);
  expect_problem(reply, 501);
}

}  // namespace
}  // namespace agendasync::apitest
