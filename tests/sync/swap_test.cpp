// The same scenarios with every side reached only through the CalendarSide interface, as a
// connector-backed side (exsim + EWS, Graph, CalDAV) will be: proves the scenarios do not
// depend on the in-memory side's shortcuts.
#include <gtest/gtest.h>

#include "harness.h"
#include "sync/test_items.h"

namespace agendasync::sync::scenario {
namespace {

using testing::appointment;
using testing::at;
using Strings = std::vector<std::string>;

class SwappedSides : public ::testing::TestWithParam<const char*> {
 protected:
  SideFactory factory() const {
    return std::string(GetParam()) == "interface" ? interface_sides() : memory_sides();
  }
  static Appointment host_item(std::string subject, Instant start) {
    Appointment item = appointment(std::move(subject), start);
    item.activity_type = "Appointment";
    return item;
  }
};

TEST_P(SwappedSides, R19_TwoWayCarriesEditsBothWays) {
  Pair pair(factory());
  const ItemRef h = pair.host->user_create(host_item("A", at(10, 9)));
  const ItemRef r = pair.remote->user_create(appointment("B", at(11, 9)));
  ASSERT_TRUE(pair.sync());
  pair.host->user_edit(h, [](Appointment& a) { a.location = "Room 1"; });
  pair.remote->user_edit(r, [](Appointment& a) { a.subject = "B2"; });
  ASSERT_TRUE(pair.sync());
  EXPECT_EQ(subjects(*pair.remote), (Strings{"A", "B2"}));
  EXPECT_TRUE(sides_agree(pair));
}

TEST_P(SwappedSides, R20_FirstSyncLinksExistingItems) {
  Pair pair(factory());
  pair.host->user_create(host_item("Board", at(10, 14)));
  pair.remote->user_create(appointment("BOARD", at(10, 14)));
  auto report = pair.sync();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->summary.linked, 1u);
  EXPECT_EQ(pair.remote->items().size(), 1u);
}

TEST_P(SwappedSides, R25_DeletionsFollowTheDirection) {
  Pair pair(factory());
  const ItemRef h = pair.host->user_create(host_item("Gone", at(10, 9)));
  pair.host->user_create(host_item("Stays", at(11, 9)));
  ASSERT_TRUE(pair.sync());
  pair.host->user_delete(h);
  ASSERT_TRUE(pair.sync());
  EXPECT_EQ(subjects(*pair.remote), Strings{"Stays"});
}

INSTANTIATE_TEST_SUITE_P(Factories, SwappedSides, ::testing::Values("memory", "interface"));

}  // namespace
}  // namespace agendasync::sync::scenario
