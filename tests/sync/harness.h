#pragma once
/// A pair under test: two sides, a state store, an audit sink and the engine. The sides are
/// reached through ScenarioSide so the same scenarios can later run against exsim through
/// the EWS connector: a factory for that side only has to implement ScenarioSide.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sync/engine.h"
#include "sync/memory_state.h"
#include "sync/testing/memory_side.h"

namespace agendasync::sync::scenario {

/// What a test does to a calendar "by hand", and what it inspects afterwards.
class ScenarioSide {
 public:
  virtual ~ScenarioSide() = default;
  virtual CalendarSide& side() = 0;
  virtual ItemRef user_create(Appointment item) = 0;
  virtual void user_edit(const ItemRef& ref, const std::function<void(Appointment&)>& edit) = 0;
  virtual void user_delete(const ItemRef& ref) = 0;
  virtual std::vector<SideItem> items() = 0;
  /// The in-memory side for fault injection; nullptr for sides that have none.
  virtual testing::MemorySide* memory() { return nullptr; }
};

class MemoryScenarioSide final : public ScenarioSide {
 public:
  MemoryScenarioSide(std::string name, testing::ManualClock& clock, bool is_remote)
      : side_(std::move(name), clock, is_remote, /*page_size=*/7) {}
  CalendarSide& side() override { return side_; }
  ItemRef user_create(Appointment item) override { return side_.user_create(std::move(item)); }
  void user_edit(const ItemRef& ref, const std::function<void(Appointment&)>& edit) override {
    (void)side_.user_edit(ref, edit);
  }
  void user_delete(const ItemRef& ref) override { side_.user_delete(ref); }
  std::vector<SideItem> items() override { return side_.items(); }
  testing::MemorySide* memory() override { return &side_; }

 private:
  testing::MemorySide side_;
};

/// Any CalendarSide driven only through its interface: a person's edits are writes without
/// an idempotency key. This is how a side backed by exsim + the EWS connector (or Graph, or
/// CalDAV) plugs into the scenarios: give it the connector's CalendarSide.
class InterfaceScenarioSide final : public ScenarioSide {
 public:
  explicit InterfaceScenarioSide(std::unique_ptr<CalendarSide> side,
                                 testing::MemorySide* memory = nullptr)
      : side_(std::move(side)), memory_(memory) {}
  CalendarSide& side() override { return *side_; }
  ItemRef user_create(Appointment item) override;
  void user_edit(const ItemRef& ref, const std::function<void(Appointment&)>& edit) override;
  void user_delete(const ItemRef& ref) override;
  std::vector<SideItem> items() override;
  testing::MemorySide* memory() override { return memory_; }

 private:
  std::unique_ptr<CalendarSide> side_;
  testing::MemorySide* memory_;
};

/// Makes the two sides of a pair. Default: both in memory.
using SideFactory = std::function<std::unique_ptr<ScenarioSide>(Side, testing::ManualClock& clock)>;

/// In-memory sides reached only through the CalendarSide interface (the exsim shape).
inline SideFactory interface_sides() {
  return [](Side which, testing::ManualClock& clock) -> std::unique_ptr<ScenarioSide> {
    auto side =
        std::make_unique<testing::MemorySide>(to_string(which), clock, which == Side::kRemote, 7);
    testing::MemorySide* memory = side.get();
    return std::make_unique<InterfaceScenarioSide>(std::move(side), memory);
  };
}

inline SideFactory memory_sides() {
  return [](Side which, testing::ManualClock& clock) -> std::unique_ptr<ScenarioSide> {
    return std::make_unique<MemoryScenarioSide>(to_string(which), clock, which == Side::kRemote);
  };
}

struct Pair {
  testing::ManualClock clock;
  std::unique_ptr<ScenarioSide> host;
  std::unique_ptr<ScenarioSide> remote;
  MemorySyncState memory_state;
  SyncState* state = &memory_state;
  MemoryAuditSink audit;
  EngineOptions options;

  explicit Pair(const SideFactory& factory = memory_sides()) {
    clock.now = std::chrono::sys_days{std::chrono::year{2026} / 3 / 1};
    host = factory(Side::kHost, clock);
    remote = factory(Side::kRemote, clock);
    options.policy.pair_id = "JDOE";
    options.policy.host_user = "JDOE";
    options.policy.activity_types.existing_types = {"Appointment", "Personal", "Meeting"};
    options.clock = [this] { return clock.now; };
  }

  SyncEngine engine() { return SyncEngine(host->side(), remote->side(), *state, audit, options); }
  Result<RunReport> sync(bool dry_run = false) { return engine().run(dry_run); }
  testing::MemorySide& host_memory() { return *host->memory(); }
  testing::MemorySide& remote_memory() { return *remote->memory(); }
};

/// Subjects on a side, sorted: readable equality checks.
std::vector<std::string> subjects(ScenarioSide& side);
/// Both sides hold the same synced content, item for item (by link), and no duplicates.
::testing::AssertionResult sides_agree(Pair& pair);

}  // namespace agendasync::sync::scenario
