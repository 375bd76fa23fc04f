// The fairness rule as a pure decision (issue 16 §6): fewest workers first, then the oldest
// start, then the longest wait; headroom kept for an organisation holding no worker.
#include "service/scheduler_fairness.h"

#include <gtest/gtest.h>

#include <vector>

namespace agendasync::service {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const Clock::time_point kT0 = Clock::time_point{} + 1h;

OrgTurn turn(std::size_t running, Clock::time_point last_start, Clock::time_point due = kT0) {
  return OrgTurn{running, last_start, due};
}

TEST(FairnessRule, TheOrganisationHoldingFewestWorkersGoesFirst) {
  std::vector<OrgTurn> waiting = {turn(3, kT0 - 10min), turn(0, kT0), turn(1, kT0 - 20min)};
  EXPECT_EQ(next_org(waiting, 1, 0, true), 1u);
}

TEST(FairnessRule, AmongEqualHoldersTheOldestStartGoesFirstAndNeverStartedBeforeAll) {
  std::vector<OrgTurn> waiting = {turn(1, kT0), turn(1, kT0 - 5s), turn(1, kT0 - 1s)};
  EXPECT_EQ(next_org(waiting, 2, 1, true), 1u);
  waiting.push_back(turn(1, Clock::time_point{}));
  EXPECT_EQ(next_org(waiting, 2, 1, true), 3u);
}

TEST(FairnessRule, ThenTheLongestWaitingPair) {
  std::vector<OrgTurn> waiting = {turn(0, kT0, kT0 + 2s), turn(0, kT0, kT0 + 1s)};
  EXPECT_EQ(next_org(waiting, 1, 0, true), 1u);
}

TEST(FairnessRule, TheLastFreeWorkerIsKeptForAnOrganisationHoldingNone) {
  std::vector<OrgTurn> busy = {turn(3, kT0), turn(2, kT0 - 1s)};
  EXPECT_EQ(next_org(busy, 1, 1, true), std::nullopt) << "headroom";
  EXPECT_EQ(next_org(busy, 2, 1, true), 1u) << "above the headroom anyone may take a worker";
  busy.push_back(turn(0, kT0));
  EXPECT_EQ(next_org(busy, 1, 1, true), 2u) << "the headroom is for this one";
}

TEST(FairnessRule, OneOrganisationKeepsEveryWorker) {
  std::vector<OrgTurn> only = {turn(3, kT0)};
  EXPECT_EQ(next_org(only, 1, 1, false), 0u);
}

TEST(FairnessRule, NothingWaitingOrNoWorkerFreeStartsNothing) {
  EXPECT_EQ(next_org({}, 4, 1, true), std::nullopt);
  std::vector<OrgTurn> waiting = {turn(0, kT0)};
  EXPECT_EQ(next_org(waiting, 0, 0, true), std::nullopt);
}

}  // namespace
}  // namespace agendasync::service
