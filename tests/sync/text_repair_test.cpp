// Text a connector read as invalid UTF-8 and repaired (issue 13): the engine syncs the item
// with the repaired text, reports the repair in the run (callers log it) and audits it; a
// dry run reports but writes no audit.
#include <gtest/gtest.h>

#include "harness.h"
#include "sync/summary.h"
#include "sync/test_items.h"

namespace agendasync::sync::scenario {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

/// A remote side that behaves like the EWS / Graph connectors after a repair: every item it
/// reads whose subject holds U+FFFD is reported as repaired.
class RepairingSide final : public CalendarSide {
 public:
  explicit RepairingSide(testing::ManualClock& clock) : inner_("remote", clock, true, 7) {}
  std::string describe() const override { return "remote"; }
  Result<ChangeBatch> changes_since(const Cursor& cursor) override {
    return inner_.changes_since(cursor);
  }
  Result<std::pair<std::vector<SideItem>, Cursor>> list(const TimeWindow& window) override {
    auto listed = inner_.list(window);
    if (listed) note(listed->first);
    return listed;
  }
  Result<std::vector<SideItem>> fetch(std::span<const ItemRef> refs) override {
    auto fetched = inner_.fetch(refs);
    if (fetched) note(*fetched);
    return fetched;
  }
  Result<std::optional<SideItem>> find_by_key(const IdempotencyKey& key) override {
    return inner_.find_by_key(key);
  }
  std::vector<WriteResult> apply(std::span<const Write> writes) override {
    return inner_.apply(writes);
  }
  std::vector<TextRepair> take_text_repairs() override { return std::exchange(repairs_, {}); }
  testing::MemorySide& memory() { return inner_; }

 private:
  void note(const std::vector<SideItem>& items) {
    for (const auto& item : items) {
      if (item.item.subject.find(kFffd) != std::string::npos) {
        repairs_.push_back(TextRepair{item.ref, {"subject"}});
      }
    }
  }
  testing::MemorySide inner_;
  std::vector<TextRepair> repairs_;
};

SideFactory repairing_remote() {
  return [](Side which, testing::ManualClock& clock) -> std::unique_ptr<ScenarioSide> {
    if (which == Side::kHost) {
      return std::make_unique<MemoryScenarioSide>("host", clock, false);
    }
    auto side = std::make_unique<RepairingSide>(clock);
    testing::MemorySide* memory = &side->memory();
    return std::make_unique<InterfaceScenarioSide>(std::move(side), memory);
  };
}

TEST(TextRepair, ARepairedItemSyncsAndIsReportedAndAuditedByIdOnly) {
  Pair pair(repairing_remote());
  pair.options.policy.activity_types.default_type = "Appointment";
  const ItemRef remote =
      pair.remote->user_create(testing::appointment("Caf" + kFffd + " review", testing::at(10, 9)));

  auto dry = pair.sync(true);
  ASSERT_TRUE(dry) << dry.error().message;
  ASSERT_EQ(dry->text_repairs.size(), 1u);
  EXPECT_TRUE(pair.audit.entries().empty()) << "a dry run writes no audit";

  auto report = pair.sync();
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->outcome, RunOutcome::kSynced);
  ASSERT_EQ(report->text_repairs.size(), 1u);
  EXPECT_EQ(report->text_repairs[0].first, Side::kRemote);
  EXPECT_EQ(report->text_repairs[0].second.ref, remote);
  const std::string warning =
      format_text_repair(report->text_repairs[0].first, report->text_repairs[0].second);
  EXPECT_NE(warning.find("remote item " + remote.str() + ": subject arrived as invalid UTF-8"),
            std::string::npos)
      << warning;
  EXPECT_EQ(warning.find("review"), std::string::npos) << "never the text";

  ASSERT_EQ(pair.host->items().size(), 1u);
  EXPECT_EQ(pair.host->items()[0].item.subject, "Caf" + kFffd + " review");
  const auto repair = std::find_if(pair.audit.entries().begin(), pair.audit.entries().end(),
                                   [](const AuditRecord& r) { return r.operation == "repair"; });
  ASSERT_NE(repair, pair.audit.entries().end());
  EXPECT_EQ(repair->item, remote.str());
  EXPECT_EQ(repair->side, Side::kRemote);
  EXPECT_EQ(repair->run_id, report->run_id);
  ASSERT_EQ(repair->changes.size(), 1u);
  EXPECT_EQ(repair->changes[0].field, "subject");
  EXPECT_EQ(repair->changes[0].before, "(invalid UTF-8)");
}

}  // namespace
}  // namespace agendasync::sync::scenario
