// Users (R7, R10, R11), activity types (R16) and organisation settings. Part of the store
// contract: every test runs on SQLite and on PostgreSQL.
#include <gtest/gtest.h>

#include <map>

#include "store/contract_support.h"
#include "store/test_support.h"

namespace agendasync::store {
namespace {

using testing::Backend;
using testing::sample_user;

class Directory : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto created = db_.create();
    ASSERT_TRUE(created) << created.error().message;
    auto opened = db_.open(true);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }
  testing::ContractDatabase db_{GetParam()};
  std::unique_ptr<AgendaStore> store_;
};

INSTANTIATE_TEST_SUITE_P(Contract, Directory,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::backend_name);

TEST_P(Directory, UsersRoundTripWithEveryField) {
  User user = sample_user("DMARTINA");
  user.exchange_address = "d.martina@mail.example.com";
  user.blocked = true;
  user.sync_enabled = true;
  user.overrides.direction = SyncDirection::kFromExchange;
  user.overrides.conflict_policy = ConflictPolicy::kHostWins;
  user.backend = MailboxBackend::kGraph;  // R41
  ASSERT_TRUE(store_->add_user(user));
  ASSERT_TRUE(store_->add_user(sample_user("ANNA")));
  EXPECT_EQ(store_->user("ANNA").value()->backend, MailboxBackend::kAuto);

  auto loaded = store_->user("dmartina");  // user names compare case-insensitively
  ASSERT_TRUE(loaded);
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, user);

  auto all = store_->users();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].user_name, "ANNA");
  EXPECT_EQ((*all)[1], user);
}

TEST_P(Directory, AnInvalidDeviatingAddressIsRefusedNamingTheUserAndChangesNothing) {
  ASSERT_TRUE(store_->add_user(sample_user("ANNA")));
  auto head = store_->head_revision().value();
  auto users_before = store_->users().value();
  auto bytes_before = db_.image();

  for (const char* bad : {"not-an-address", "two@@example.com", "space in@example.com",
                          "nodot@localhost", "@example.com"}) {
    User user = sample_user("BOB");
    user.exchange_address = bad;
    auto added = store_->add_user(user);
    ASSERT_FALSE(added) << bad;
    EXPECT_EQ(added.error().kind, ErrorKind::kInvalidData);
    EXPECT_NE(added.error().message.find("BOB"), std::string::npos) << added.error().message;
    EXPECT_NE(added.error().message.find(bad), std::string::npos) << added.error().message;

    User anna = sample_user("ANNA");
    anna.exchange_address = bad;
    auto updated = store_->update_user(anna);
    ASSERT_FALSE(updated) << bad;
    EXPECT_NE(updated.error().message.find("ANNA"), std::string::npos);
  }
  EXPECT_EQ(store_->head_revision().value(), head);
  EXPECT_EQ(store_->users().value(), users_before);
  EXPECT_EQ(db_.image(), bytes_before);
}

TEST_P(Directory, MailboxAddressFollowsTheRule) {
  User plain = sample_user("DMARTINA");
  User deviating = sample_user("JDOE");
  deviating.exchange_address = "john.doe@other.example";
  User blocked = sample_user("OLD");
  blocked.blocked = true;
  for (const auto& user : {plain, deviating, blocked}) ASSERT_TRUE(store_->add_user(user));
  auto users = store_->users().value();
  std::map<std::string, std::optional<std::string>> mailboxes;
  for (const auto& user : users)
    mailboxes[user.user_name] = mailbox_address(user, "afas.nl").value();
  EXPECT_EQ(mailboxes["DMARTINA"], "DMARTINA@afas.nl");
  EXPECT_EQ(mailboxes["JDOE"], "john.doe@other.example");
  EXPECT_EQ(mailboxes["OLD"], std::nullopt);
}

TEST_P(Directory, DuplicateAndUnknownUsersAreClearErrors) {
  ASSERT_TRUE(store_->add_user(sample_user("ANNA")));
  auto duplicate = store_->add_user(sample_user("anna"));
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().kind, ErrorKind::kConflict);
  EXPECT_NE(duplicate.error().message.find("already exists"), std::string::npos);

  auto unknown = store_->update_user(sample_user("NOBODY"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(unknown.error().message.find("agendasync users add NOBODY"), std::string::npos);

  auto spaced = store_->add_user(sample_user("TWO WORDS"));
  ASSERT_FALSE(spaced);
  EXPECT_EQ(spaced.error().kind, ErrorKind::kInvalidData);
}

TEST_P(Directory, UserChangesThatMatterToSyncEnterTheFeed) {
  ASSERT_TRUE(store_->add_user(sample_user("ANNA")));
  auto head = store_->head_revision().value();
  EXPECT_EQ(head, 1);

  User anna = sample_user("ANNA");
  anna.display_name = "Anna van Dijk";  // cosmetic: no feed entry
  ASSERT_TRUE(store_->update_user(anna));
  EXPECT_EQ(store_->head_revision().value(), head);

  anna.blocked = true;  // R10: matters
  ASSERT_TRUE(store_->update_user(anna));
  auto changes = store_->changes_since(testing::feed_after(head)).value();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].entity, ChangeEntity::kUser);
  EXPECT_EQ(changes[0].entity_id, "ANNA");
  EXPECT_EQ(changes[0].users, std::vector<std::string>{"ANNA"});
  EXPECT_EQ(store_->user("ANNA").value()->display_name, "Anna van Dijk");

  head = store_->head_revision().value();
  anna.backend = MailboxBackend::kEws;  // R41: another connection serves the mailbox
  ASSERT_TRUE(store_->update_user(anna));
  EXPECT_EQ(store_->changes_since(testing::feed_after(head)).value().size(), 1u);
  EXPECT_EQ(store_->user("ANNA").value()->backend, MailboxBackend::kEws);
}

// The daemon keeps users, settings and activity types across runs and reads only this number
// per run (issue 14 §4): every write of any of them must move it, whoever makes it, and
// nothing else may (appointments are the change feed's business).
TEST_P(Directory, EveryUserSettingsOrActivityTypeWriteMovesTheDirectoryRevision) {
  std::int64_t seen = store_->directory_revision().value();
  auto moved = [&](const char* what) {
    const std::int64_t now = store_->directory_revision().value();
    EXPECT_GT(now, seen) << what << " did not move the directory revision";
    seen = now;
  };
  ASSERT_TRUE(store_->add_user(sample_user("ANNA")));
  moved("adding a user");
  User anna = store_->user("ANNA").value().value();
  anna.sync_enabled = !anna.sync_enabled;
  ASSERT_TRUE(store_->update_user(anna));
  moved("turning a user's sync on or off");
  anna.blocked = true;
  ASSERT_TRUE(store_->update_user(anna));
  moved("blocking a user");
  anna.display_name = "Anna B.";
  ASSERT_TRUE(store_->update_user(anna));
  moved("renaming a user (not in the feed, still the directory)");

  OrganisationSettings settings;
  settings.mail_domain = "example.com";
  ASSERT_TRUE(store_->set_settings(settings));
  moved("setting the mail domain");
  settings.sync.first_sync_days = 30;
  ASSERT_TRUE(store_->set_settings(settings));
  moved("setting first_sync_days");

  ASSERT_TRUE(store_->put_activity_type({"Meeting", true, true, false}));
  moved("adding an activity type");
  ASSERT_TRUE(store_->put_activity_type({"Meeting", false, true, false}));
  moved("turning an activity type's sync off");
  ASSERT_TRUE(store_->update_activity_type("Meeting", {"Visit", false, true, false}));
  moved("renaming an activity type");
  ASSERT_TRUE(store_->remove_activity_type("Visit"));
  moved("removing an activity type");

  // Appointments are not the directory.
  ASSERT_TRUE(store_->create_appointment(testing::sample_appointment("ANNA", "Lunch")));
  EXPECT_EQ(store_->directory_revision().value(), seen);
  // Another connection (another process or node) sees the same number.
  auto other = db_.open(false);
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_EQ((*other)->directory_revision().value(), seen);
}

TEST_P(Directory, ThereIsAtMostOneDefaultAndOnePersonalActivityType) {
  ASSERT_TRUE(store_->put_activity_type({"Appointment", true, true, false}));
  ASSERT_TRUE(store_->put_activity_type({"Personal", true, false, true}));
  ASSERT_TRUE(store_->put_activity_type({"Project task", false, false, false}));
  ASSERT_TRUE(store_->put_activity_type({"Meeting", true, true, false}));
  auto types = store_->activity_types().value();
  ASSERT_EQ(types.size(), 4u);
  int defaults = 0, personal = 0;
  for (const auto& type : types) {
    defaults += type.is_default;
    personal += type.is_personal;
    if (type.name == "Meeting") {
      EXPECT_TRUE(type.is_default);
    }
    if (type.name == "Project task") {
      EXPECT_FALSE(type.synced);
    }
  }
  EXPECT_EQ(defaults, 1);
  EXPECT_EQ(personal, 1);
  EXPECT_FALSE(store_->put_activity_type({"", true, false, false}));
}

TEST_P(Directory, OrganisationSettingsRoundTrip) {
  EXPECT_EQ(store_->settings().value(), OrganisationSettings{});
  OrganisationSettings settings;
  settings.mail_domain = "afas.nl";
  settings.sync.direction = SyncDirection::kToExchange;
  settings.sync.conflict_policy = ConflictPolicy::kExchangeWins;
  settings.sync.first_sync_days = 45;
  settings.sync.deleted_in_exchange = DeletedInExchange::kLeaveDeleted;
  settings.sync.breaker_share_percent = 35;
  settings.sync.breaker_min_items = 4;
  settings.sync.first_sync_approval = true;
  settings.sync.send_meeting_requests = false;
  ASSERT_TRUE(store_->set_settings(settings));
  EXPECT_EQ(store_->settings().value(), settings);

  // A key left unset is removed: the configuration file's value applies again (R12).
  auto cleared = settings;
  cleared.sync.direction.reset();
  cleared.sync.breaker_share_percent.reset();
  ASSERT_TRUE(store_->set_settings(cleared));
  EXPECT_EQ(store_->settings().value(), cleared);
  ASSERT_TRUE(store_->set_settings(settings));

  auto out_of_range = settings;
  out_of_range.sync.breaker_share_percent = 0;
  auto range_refused = store_->set_settings(out_of_range);
  ASSERT_FALSE(range_refused);
  EXPECT_NE(range_refused.error().message.find("breaker_share"), std::string::npos);

  auto bad = settings;
  bad.mail_domain = "@afas.nl";
  auto refused = store_->set_settings(bad);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("@afas.nl"), std::string::npos);
  EXPECT_EQ(store_->settings().value(), settings);
}

}  // namespace
}  // namespace agendasync::store
