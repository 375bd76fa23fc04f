// An activity type renamed by the admin (issue 13): the store rewrites the host items with the
// new name (a feed entry each); the next run keeps the new name on every direction, also
// from-exchange, where host changes are otherwise put back: putting back a type that no
// longer exists would be refused by the agenda on every run.
#include <gtest/gtest.h>

#include "harness.h"
#include "sync/test_items.h"

namespace agendasync::sync::scenario {
namespace {

void rename_type_in_host(Pair& pair, const std::string& from, const std::string& to) {
  for (const auto& item : pair.host->items()) {
    if (item.item.activity_type == from) {
      pair.host->user_edit(item.ref, [&](Appointment& a) { a.activity_type = to; });
    }
  }
  pair.options.policy.activity_types.existing_types.erase(from);
  pair.options.policy.activity_types.existing_types.insert(to);
  if (pair.options.policy.activity_types.default_type == from) {
    pair.options.policy.activity_types.default_type = to;
  }
}

class RenamedType : public ::testing::TestWithParam<SyncDirection> {};

TEST_P(RenamedType, TheNextRunKeepsTheNewNameAndTheLink) {
  Pair pair;
  pair.options.policy.direction = GetParam();
  pair.options.policy.activity_types.default_type = "Appointment";
  const ItemRef remote =
      pair.remote->user_create(testing::appointment("Review", testing::at(10, 9)));
  auto first = pair.sync();
  ASSERT_TRUE(first) << first.error().message;
  if (GetParam() == SyncDirection::kToExchange) {
    ASSERT_TRUE(pair.host->items().empty());  // nothing comes in: nothing to rename
    return;
  }
  ASSERT_EQ(pair.host->items().size(), 1u);
  ASSERT_EQ(pair.host->items()[0].item.activity_type, "Appointment");

  rename_type_in_host(pair, "Appointment", "Meeting");
  pair.remote->user_edit(remote, [](Appointment& a) { a.location = "Room 2"; });
  auto second = pair.sync();
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(second->errors.empty()) << second->errors.front();
  ASSERT_EQ(pair.host->items().size(), 1u);
  EXPECT_EQ(pair.host->items()[0].item.activity_type, "Meeting");
  EXPECT_EQ(pair.host->items()[0].item.location, "Room 2");
  ASSERT_EQ(pair.remote->items().size(), 1u);
  EXPECT_EQ(pair.remote->items()[0].ref, remote);
  // And it stays: a third run has nothing to put back.
  auto third = pair.sync();
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_EQ(pair.host->items()[0].item.activity_type, "Meeting");
  EXPECT_EQ(third->summary.sides[Side::kHost].updated, 0u);
}

INSTANTIATE_TEST_SUITE_P(Directions, RenamedType,
                         ::testing::Values(SyncDirection::kTwoWay, SyncDirection::kFromExchange,
                                           SyncDirection::kToExchange),
                         [](const ::testing::TestParamInfo<SyncDirection>& info) {
                           switch (info.param) {
                             case SyncDirection::kTwoWay:
                               return std::string("TwoWay");
                             case SyncDirection::kFromExchange:
                               return std::string("FromExchange");
                             case SyncDirection::kToExchange:
                               break;
                           }
                           return std::string("ToExchange");
                         });

}  // namespace
}  // namespace agendasync::sync::scenario
