#pragma once
/// One sync cycle of one pair: recover the journal, read both sides, plan, check the safety
/// rules, execute in batches, commit status and cursors. See README.md for the algorithm.
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/calendar_side.h"
#include "sync/audit.h"
#include "sync/plan.h"
#include "sync/summary.h"
#include "sync/sync_state.h"

namespace agendasync::sync {

/// Step boundaries of a cycle; the crash tests stop a cycle at each of them.
enum class CycleStep {
  kRecovered,     ///< journal resolved and committed
  kRead,          ///< both sides read, nothing written
  kJournaled,     ///< intended writes committed to the journal
  kBatchApplied,  ///< one batch of writes sent (called once per batch)
  /// A paged full listing committed one batch's links (cursors come with kCommitted).
  kBatchCommitted,
  kCommitted,  ///< status and cursors committed
};

struct EngineOptions {
  PlanPolicy policy;
  CircuitBreaker breaker;
  /// R38: the first sync of a pair stops after planning until an admin approves it.
  bool first_sync_requires_approval = false;
  /// Full listings cover [now - policy.skip_ended_after, now + horizon).
  std::chrono::days horizon{3 * 366};
  /// Writes per CalendarSide::apply. The side splits them into its protocol's requests (EWS:
  /// EwsSideOptions::write_batch_size per CreateItem/UpdateItem/DeleteItem; Graph: 20 per
  /// $batch), so this only bounds memory and progress steps; a small value here would cap the
  /// items per request (docs/DECISIONS.md).
  std::size_t write_batch = 1000;
  std::size_t fetch_batch = 100;  ///< refs per CalendarSide::fetch
  /// Items per batch of a paged full listing (first sync, resync; README "Paged full
  /// listing"): each batch is planned, journaled, written and committed before the next is
  /// read from the listing stage, so memory holds a batch, not the calendar (issue 14).
  std::size_t full_batch = 500;
  /// Operations of a paged full listing kept in RunReport::plan for display; the rest are
  /// only counted (RunReport::plan_omitted; the summary counts everything).
  std::size_t report_plan_limit = 1000;
  std::size_t max_pages = 100000;  ///< a change feed that never completes is an error
  std::function<Instant()> clock;
  /// R41: the backend the remote side talks through ("ews", "graph"; empty: not tracked).
  /// When the state recorded another one, the run first switches the pair
  /// (SyncState::switch_remote_backend) and then lists both sides in full, re-linking every
  /// item by the key it carries.
  std::string remote_backend;
  /// Test hook: called at each step boundary. Throwing from it simulates a kill.
  std::function<void(CycleStep)> on_step;
};

enum class RunOutcome {
  kSynced,       ///< every planned write done
  kPartial,      ///< some writes failed; cursors kept so the next run retries them
  kDryRun,       ///< planned only (R37)
  kQuarantined,  ///< stopped by the breaker or waiting for approval (R38)
};

struct RunReport {
  std::string run_id;
  RunOutcome outcome = RunOutcome::kSynced;
  bool full_listing = false;  ///< first sync or resync (R20, R27)
  /// The plan. A paged full listing keeps its first EngineOptions::report_plan_limit
  /// operations and skip notes here and counts the others in `plan_omitted`.
  Plan plan;
  std::size_t plan_omitted = 0;
  Summary summary;
  std::string quarantine_reason;
  std::vector<std::string> errors;  ///< failed writes, each saying what to do
  /// Changes a feed reported with the version the link already holds (our own writes coming
  /// back): skipped without fetching them.
  PerSide<std::size_t> echoes;
  /// Whether the cursor stored for a side lies past this run's own writes to it, so the next
  /// run does not read them back (false when someone else changed the side meanwhile).
  PerSide<bool> cursor_past_writes;
  /// Items whose text a side read as invalid UTF-8 and repaired to U+FFFD (issue 13): they
  /// sync with the repaired text; the caller logs them (the item id, never the text) and
  /// the audit trail has a "repair" record for each.
  std::vector<std::pair<Side, TextRepair>> text_repairs;
  /// R41: the backend the remote side was on before this run, when this run switched it.
  std::optional<std::string> switched_from;
};

/// A change feed read from a cursor to its end, the last word per item.
struct FeedRead {
  /// Changed items with the version the feed gave (empty when it gives none).
  std::vector<std::pair<ItemRef, VersionTag>> changed;
  std::vector<ItemRef> deleted;
  Cursor end;
};

/// What this run wrote to one side and saw land: a feed entry matching it is our echo.
struct OwnWrites {
  std::unordered_map<ItemRef, VersionTag> written;  ///< created or updated: the version written
  std::unordered_set<ItemRef> deleted;
  bool empty() const { return written.empty() && deleted.empty(); }
};

class PagedFullListing;

class SyncEngine {
 public:
  SyncEngine(CalendarSide& host, CalendarSide& remote, SyncState& state, AuditSink& audit,
             EngineOptions options);

  /// One cycle. Errors: a failed or partial read (nothing committed, R38), a side listed
  /// empty while links exist (R38), a quarantined pair (kPermission naming the approve
  /// command), a state store failure.
  Result<RunReport> run(bool dry_run = false);

 private:
  CalendarSide& side(Side which) { return which == Side::kHost ? host_ : remote_; }
  Result<void> recover(const std::string& run_id);
  /// The current items of interrupted updates, per side, by ref (read together).
  using RecoveredItems = std::map<Side, std::unordered_map<ItemRef, SideItem>>;
  /// The link after updates whose replies were lost: what landed is ours, not an edit.
  Result<std::optional<LinkRecord>> recover_updates(const IdempotencyKey& key,
                                                    const std::vector<const JournalEntry*>& entries,
                                                    const RecoveredItems& current);
  Result<FeedRead> read_feed(Side which, const Cursor& cursor);
  Result<SideReport> read_changes(Side which, const Cursor& cursor, Cursor& next,
                                  std::size_t& echoes);
  /// The feed's position after `own` when everything the feed reports since `from` is `own`;
  /// nullopt when someone else changed the side too or the feed cannot tell.
  std::optional<Cursor> cursor_past(Side which, const Cursor& from, const OwnWrites& own);
  Result<SideReport> read_full(Side which, Cursor& next, std::size_t& listed);
  Result<std::vector<SideItem>> fetch_all(Side which, const std::vector<ItemRef>& refs);
  Result<std::vector<LinkRecord>> links_for(PerSide<SideReport>& reports);
  /// Collects the sides' text repairs into `report` and, unless a dry run, the audit trail.
  Result<void> record_text_repairs(RunReport& report, Instant now, bool dry_run);
  /// Journals, applies and audits the writes of `plan`; `delta` receives the links and
  /// resolved journal entries to commit (not committed here), `own` what landed, `summary`
  /// the counts, report.errors the failures. Returns whether every write landed.
  Result<bool> apply_plan(const Plan& plan, RunReport& report, StateDelta& delta,
                          PerSide<OwnWrites>& own, Summary& summary);
  /// `read_cursors` are the stored cursors this run started from: an unchanged cursor is not
  /// written again, so an idle cycle commits nothing.
  Result<void> execute(const Plan& plan, RunReport& report, const PerSide<Cursor>& read_cursors,
                       PerSide<Cursor> next_cursors, bool clear_quarantine);
  void step(CycleStep which) {
    if (options_.on_step) options_.on_step(which);
  }
  friend class PagedFullListing;  // full_listing.cpp: the paged first sync / resync

  CalendarSide& host_;
  CalendarSide& remote_;
  SyncState& state_;
  AuditSink& audit_;
  EngineOptions options_;
  std::size_t runs_ = 0;
};

}  // namespace agendasync::sync

namespace agendasync::sync {

/// R10, R11: runs `engine` only for a user whose sync is on and who is not blocked; nullopt
/// (nothing read, nothing written) otherwise. Sync resumes when the user is unblocked.
inline Result<std::optional<RunReport>> sync_if_enabled(const User& user, SyncEngine& engine,
                                                        bool dry_run = false) {
  if (!user_is_synced(user)) return std::nullopt;
  auto report = engine.run(dry_run);
  if (!report) return std::unexpected(report.error());
  return std::optional<RunReport>(std::move(*report));
}

}  // namespace agendasync::sync
