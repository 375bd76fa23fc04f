// Renaming and removing activity types (R16, issue 13): appointments follow a rename with a
// feed entry each; a type in use cannot be removed; refusals change nothing. Part of the
// store contract: every test runs on SQLite and on PostgreSQL.
#include <gtest/gtest.h>

#include "store/contract_support.h"
#include "store/test_support.h"

namespace agendasync::store {
namespace {

using testing::at;
using testing::sample_appointment;
using testing::sample_user;

using testing::Backend;

class ActivityTypes : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto created = db_.create();
    ASSERT_TRUE(created) << created.error().message;
    auto opened = db_.open(true);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->add_user(sample_user("ANNA")));
    ASSERT_TRUE(store_->add_user(sample_user("BEN")));
    ASSERT_TRUE(store_->put_activity_type({"Appointment", true, true, false}));
    ASSERT_TRUE(store_->put_activity_type({"Personal", true, false, true}));
    ASSERT_TRUE(store_->put_activity_type({"Visit", false, false, false}));
    auto item = sample_appointment("ANNA", "Customer");
    item.activity_type = "Visit";
    item.participants = {"BEN"};
    visit_id_ = store_->create_appointment(item).value().id;
    other_id_ = store_->create_appointment(sample_appointment("ANNA", "Other", at(2026, 3, 3, 9)))
                    .value()
                    .id;
    head_ = store_->head_revision().value();
  }

  testing::ContractDatabase db_{GetParam()};
  std::unique_ptr<AgendaStore> store_;
  AppointmentId visit_id_ = 0, other_id_ = 0;
  Revision head_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Contract, ActivityTypes,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::backend_name);

TEST_P(ActivityTypes, RenameMovesEveryAppointmentAndRecordsEachInTheFeed) {
  auto renamed = store_->update_activity_type("Visit", {"Customer visit", false, false, false});
  ASSERT_TRUE(renamed) << renamed.error().message;
  auto types = store_->activity_types().value();
  ASSERT_EQ(types.size(), 3u);
  EXPECT_EQ(types[1], (ActivityType{"Customer visit", false, false, false}));
  auto visit = store_->appointment(visit_id_).value();
  EXPECT_EQ(visit->item.activity_type, "Customer visit");
  EXPECT_EQ(visit->revision, head_ + 1);
  auto changes = store_->changes_since(testing::feed_after(head_)).value();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].entity_id, std::to_string(visit_id_));
  EXPECT_EQ(changes[0].users, (std::vector<std::string>{"ANNA", "BEN"}));
  EXPECT_LT(store_->appointment(other_id_).value()->revision, head_ + 1);
  // The old name is gone: an appointment cannot take it any more.
  auto item = sample_appointment("ANNA");
  item.activity_type = "Visit";
  EXPECT_FALSE(store_->create_appointment(item));
}

TEST_P(ActivityTypes, RenameKeepsTheRolesAndMayChangeFlagsOrOnlyTheCase) {
  ASSERT_TRUE(store_->update_activity_type("personal", {"Private", true, false, true}));
  auto types = store_->activity_types().value();
  EXPECT_EQ(types[1], (ActivityType{"Private", true, false, true}));
  ASSERT_TRUE(store_->update_activity_type("visit", {"VISIT", true, false, false}));
  EXPECT_EQ(store_->appointment(visit_id_).value()->item.activity_type, "VISIT");
  EXPECT_TRUE(store_->activity_types().value()[2].synced);
  // Taking the default role from another type clears it there (one default, R16).
  ASSERT_TRUE(store_->update_activity_type("VISIT", {"VISIT", true, true, false}));
  EXPECT_FALSE(store_->activity_types().value()[0].is_default);
}

TEST_P(ActivityTypes, RenameRefusalsChangeNothing) {
  auto taken = store_->update_activity_type("Visit", {"appointment", true, false, false});
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().kind, ErrorKind::kConflict);
  EXPECT_NE(taken.error().message.find("\"Appointment\" already exists"), std::string::npos)
      << taken.error().message;
  auto unknown = store_->update_activity_type("Nope", {"Other", true, false, false});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, ErrorKind::kNotFound);
  auto empty = store_->update_activity_type("Visit", {"", true, false, false});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().kind, ErrorKind::kInvalidData);
  auto broken = store_->update_activity_type("Visit", {"Vis\xEDt", true, false, false});
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().kind, ErrorKind::kInvalidData);
  EXPECT_EQ(store_->head_revision().value(), head_);
  EXPECT_EQ(store_->activity_types().value()[2], (ActivityType{"Visit", false, false, false}));
}

TEST_P(ActivityTypes, RemoveIsRefusedWhileInUseAndAllowedAfterwards) {
  auto in_use = store_->remove_activity_type("visit");
  ASSERT_FALSE(in_use);
  EXPECT_EQ(in_use.error().kind, ErrorKind::kConflict);
  EXPECT_NE(in_use.error().message.find("used by 1 appointment(s)"), std::string::npos)
      << in_use.error().message;
  EXPECT_EQ(store_->activity_types().value().size(), 3u);

  ASSERT_TRUE(store_->delete_appointment(visit_id_, std::nullopt));
  ASSERT_TRUE(store_->remove_activity_type("visit"));
  EXPECT_EQ(store_->activity_types().value().size(), 2u);
  auto again = store_->remove_activity_type("Visit");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::kNotFound);
  // "Personal" may go too: private Exchange items then take the default type
  // (app/pair_settings_test.cpp pins that rule).
  ASSERT_TRUE(store_->remove_activity_type("Personal"));
  EXPECT_EQ(store_->activity_types().value().size(), 1u);
}

}  // namespace
}  // namespace agendasync::store
