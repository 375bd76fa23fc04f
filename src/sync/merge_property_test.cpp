// RapidCheck properties of the three-way merge (R24): whatever the items, a change made on
// one side only is taken whole, equal changes never conflict, and edits of different fields
// on the two sides both survive.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "sync/fields.h"
#include "sync/merge.h"
#include "sync/test_items.h"

namespace agendasync::sync {
namespace {

rc::Gen<Appointment> arbitrary_appointment() {
  return rc::gen::apply(
      [](std::string subject, std::string location, int start_hour, int length, bool private_,
         rc::Maybe<int> reminder, std::vector<std::string> categories, bool recurring) {
        Appointment item =
            testing::appointment(subject, testing::at(2, 0) + std::chrono::hours(start_hour));
        item.location = location;
        item.end = item.start + std::chrono::minutes(15 * (1 + length));
        item.sensitivity = private_ ? Sensitivity::kPrivate : Sensitivity::kNormal;
        if (reminder) item.reminder = std::chrono::minutes(*reminder);
        item.categories = categories;
        if (recurring) {
          item.recurrence = Recurrence{};
          item.recurrence->rule.count = 5;
        }
        return item;
      },
      rc::gen::element<std::string>("Standup", "Review", "1:1", ""),
      rc::gen::element<std::string>("", "Room 1", "Room 2"), rc::gen::inRange(0, 200),
      rc::gen::inRange(0, 8), rc::gen::arbitrary<bool>(),
      rc::gen::maybe(rc::gen::element(0, 5, 15)),
      rc::gen::container<std::vector<std::string>>(rc::gen::element<std::string>("red", "blue")),
      rc::gen::arbitrary<bool>());
}

Side arbitrary_side() { return *rc::gen::element(Side::kHost, Side::kRemote); }

RC_GTEST_PROP(MergeProperty, AOneSidedChangeIsTakenWhole, ()) {
  const Appointment base = *arbitrary_appointment();
  const Appointment changed = *arbitrary_appointment();
  const Side winner = arbitrary_side();
  const MergeResult from_host = merge3(base, changed, base, winner);
  RC_ASSERT(from_host.conflicts.empty());
  RC_ASSERT(diff(from_host.merged, changed, true).empty());
  const MergeResult from_remote = merge3(base, base, changed, winner);
  RC_ASSERT(from_remote.conflicts.empty());
  RC_ASSERT(diff(from_remote.merged, changed, false).empty());
}

RC_GTEST_PROP(MergeProperty, EqualChangesNeverConflict, ()) {
  const Appointment base = *arbitrary_appointment();
  const Appointment both = *arbitrary_appointment();
  const MergeResult result = merge3(base, both, both, arbitrary_side());
  RC_ASSERT(result.conflicts.empty());
  RC_ASSERT(result.merged == both);
}

RC_GTEST_PROP(MergeProperty, EditsOfDifferentFieldsBothSurvive, ()) {
  const Appointment base = *arbitrary_appointment();
  Appointment host = base, remote = base;
  host.subject = base.subject + " (host)";
  remote.location = base.location + " (remote)";
  const MergeResult result = merge3(base, host, remote, arbitrary_side());
  RC_ASSERT(result.conflicts.empty());
  RC_ASSERT(result.merged.subject == host.subject);
  RC_ASSERT(result.merged.location == remote.location);
}

RC_GTEST_PROP(MergeProperty, AConflictFollowsTheWinner, ()) {
  const Appointment base = *arbitrary_appointment();
  Appointment host = base, remote = base;
  host.subject = base.subject + " H";
  remote.subject = base.subject + " R";
  const Side winner = arbitrary_side();
  const MergeResult result = merge3(base, host, remote, winner);
  RC_ASSERT(result.conflicts == std::vector<std::string>{"subject"});
  RC_ASSERT(result.merged.subject == (winner == Side::kHost ? host : remote).subject);
}

}  // namespace
}  // namespace agendasync::sync
