#pragma once
/// The paged full listing of a pair (first sync, resync after an invalid cursor): memory
/// bounded by a page and a batch, not by the calendar (issue 14). README.md "Paged full
/// listing" has the algorithm; the engine (engine.cpp) decides when it runs.
#include <cstddef>
#include <map>
#include <unordered_set>
#include <vector>

#include "sync/engine.h"
#include "sync/listing_stage.h"

namespace agendasync::sync {

/// Where the cycle stands when the paged listing takes over.
struct FullListingStart {
  PerSide<Cursor> stored_cursors;  ///< the cursors the run read (empty on a first sync)
  std::size_t links_before = 0;
  bool approved = false;  ///< an admin approved a quarantined pair: no breaker, lift it
  bool first_sync_unfinished = false;  ///< no cursor stored yet: creates are the point
};

class PagedFullListing {
 public:
  PagedFullListing(SyncEngine& engine, RunReport& report, Instant now);
  /// Stages both sides' listings, then plans and executes batch by batch; the final commit
  /// stores the cursors when every write landed. Errors as SyncEngine::run.
  Result<void> run(const FullListingStart& start);

 private:
  /// One batch under construction: the items it plans, the links they belong to, and the
  /// staged items it takes.
  struct Batch {
    PlanInput input;
    std::map<IdempotencyKey, LinkRecord> links;
    PerSide<std::unordered_set<ItemRef>> present;
    PerSide<std::vector<ItemRef>> take;     ///< staged items planned here
    PerSide<std::vector<ItemRef>> missing;  ///< linked items the listing lacks: fetched
  };

  Result<void> stage_side(Side which, Cursor& next);
  Result<StagedItem> to_staged(Side which, SideItem item);
  /// Pairs a remote item being staged with a staged host item by idempotency key (R27).
  Result<void> partner_by_key(StagedItem& remote);
  /// Every staged item of `driver` not yet planned, in batches, with what it matches.
  Result<void> drive(Side driver, bool execute);
  /// Links none of whose items were listed (both outside the window, or gone).
  Result<void> unlisted_links(bool execute);
  Result<void> add_driver(Batch& batch, Side side, const StagedItem& item);
  Result<void> add_link(Batch& batch, const LinkRecord& link);
  void add_item(Batch& batch, Side side, const SideItem& item, bool staged);
  /// Fetches the missing items, plans the batch, then counts or executes it.
  Result<void> finish(Batch& batch, bool execute);
  void keep_for_report(Plan& plan);
  /// The feed position after this run's writes to `which` when the feed from `from` reports
  /// nothing the links do not already hold (engine.h cursor_past, without holding the writes).
  std::optional<Cursor> cursor_past(Side which, const Cursor& from);

  SyncEngine& engine_;
  ListingStage& stage_;
  RunReport& report_;
  Instant now_;
  PerSide<std::size_t> listed_{};
  Summary counted_;
  Summary done_;
  bool all_ok_ = true;
  /// A pair's very first sync: staging and driving skip the link lookups by ref, which
  /// cannot find anything (full_listing.cpp says why).
  bool no_links_at_start_ = false;
  PerSide<bool> wrote_{};
  /// Deletions landed this run: the feed read after the writes may report only these.
  PerSide<std::unordered_set<ItemRef>> deleted_;
};

}  // namespace agendasync::sync
