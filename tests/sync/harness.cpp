#include "harness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "core/canonical.h"

namespace agendasync::sync::scenario {

ItemRef InterfaceScenarioSide::user_create(Appointment item) {
  Write write;
  write.op = WriteOp::kCreate;
  write.item = std::move(item);
  auto results = side_->apply(std::span(&write, 1));
  EXPECT_EQ(results.size(), 1u);
  if (results.empty() || !results[0].outcome) {
    ADD_FAILURE() << "create failed" << (results.empty() ? "" : results[0].outcome.error().message);
    return {};
  }
  return results[0].outcome->ref;
}

void InterfaceScenarioSide::user_edit(const ItemRef& ref,
                                      const std::function<void(Appointment&)>& edit) {
  auto current = side_->fetch(std::span(&ref, 1));
  if (!current || current->empty()) {
    ADD_FAILURE() << "cannot read " << ref.str() << " to edit it";
    return;
  }
  Write write;
  write.op = WriteOp::kUpdate;
  write.ref = ref;
  write.expected = current->front().version;
  write.previous = current->front().item;
  write.item = current->front().item;
  edit(write.item);
  auto results = side_->apply(std::span(&write, 1));
  if (results.empty() || !results[0].outcome) ADD_FAILURE() << "edit of " << ref.str() << " failed";
}

void InterfaceScenarioSide::user_delete(const ItemRef& ref) {
  Write write;
  write.op = WriteOp::kDelete;
  write.ref = ref;
  auto results = side_->apply(std::span(&write, 1));
  if (results.empty() || !results[0].outcome)
    ADD_FAILURE() << "delete of " << ref.str() << " failed";
}

std::vector<SideItem> InterfaceScenarioSide::items() {
  using namespace std::chrono;
  const TimeWindow everything{sys_days{year{2000} / 1 / 1}, sys_days{year{2100} / 1 / 1}};
  auto listed = side_->list(everything);
  if (!listed) {
    ADD_FAILURE() << listed.error().message;
    return {};
  }
  return listed->first;
}

std::vector<std::string> subjects(ScenarioSide& side) {
  std::vector<std::string> names;
  for (const auto& item : side.items()) names.push_back(item.item.subject);
  std::sort(names.begin(), names.end());
  return names;
}

::testing::AssertionResult sides_agree(Pair& pair) {
  auto links = pair.state->all_links();
  if (!links) return ::testing::AssertionFailure() << links.error().message;
  std::map<ItemRef, SideItem> host, remote;
  for (auto& item : pair.host->items()) host[item.ref] = item;
  for (auto& item : pair.remote->items()) remote[item.ref] = item;
  std::size_t live_links = 0;
  for (const auto& link : *links) {
    const ItemRef& h = link.sides[Side::kHost].ref;
    const ItemRef& r = link.sides[Side::kRemote].ref;
    if (h.empty() || r.empty()) continue;
    ++live_links;
    if (!host.contains(h) || !remote.contains(r)) {
      return ::testing::AssertionFailure()
             << "link " << link.key.str() << " points at a missing item (" << h.str() << ", "
             << r.str() << ")";
    }
    if (content_hash(host[h].item) != content_hash(remote[r].item)) {
      return ::testing::AssertionFailure() << "linked items differ: host '" << host[h].item.subject
                                           << "' vs remote '" << remote[r].item.subject << "'\n"
                                           << canonical_form(host[h].item) << "\n---\n"
                                           << canonical_form(remote[r].item);
    }
  }
  if (live_links != host.size() || live_links != remote.size()) {
    return ::testing::AssertionFailure() << "unlinked items remain: " << host.size() << " host, "
                                         << remote.size() << " remote, " << live_links << " links";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace agendasync::sync::scenario
