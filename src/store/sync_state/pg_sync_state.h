#pragma once
/// The engine's state (links, cursors, journal, quarantine), the audit trail and the listing
/// stage on PostgreSQL: the same tables as the SQLite state file, in the organisation's schema
/// beside its agenda (pg_schema.cpp creates them). Every commit/journal is one transaction on
/// a connection borrowed from the pool; rows carry the pair id. Same contract as
/// SqliteSyncState (the contract suite runs both).
#include <memory>
#include <optional>
#include <string>

#include "store/pg_pool.h"
#include "store/sync_state/pg_lease.h"
#include "store/sync_state/pg_listing_stage.h"
#include "sync/audit.h"
#include "sync/sync_state.h"

namespace agendasync::store {

/// A pool on organisation `target`'s schema for its sync state. Refuses a schema that is
/// missing or outside this build's compatibility window (run `agendasync migrate`).
Result<std::shared_ptr<pg::Pool>> open_pg_state_pool(const pg::Target& target);

class PgSyncState final : public sync::SyncState {
 public:
  /// The state of pair `pair_id` on an open pool (open_pg_state_pool).
  static std::unique_ptr<PgSyncState> over(std::shared_ptr<pg::Pool> pool, std::string pair_id);

  Result<std::optional<sync::LinkRecord>> find_link_by_ref(sync::Side side,
                                                           const ItemRef& ref) override;
  Result<std::optional<sync::LinkRecord>> find_link_by_key(const IdempotencyKey& key) override;
  Result<std::optional<Glance>> glance_by_ref(sync::Side side, const ItemRef& ref) override;
  Result<std::vector<sync::LinkRecord>> all_links() override;
  Result<std::size_t> link_count() override;
  Result<std::vector<sync::LinkRecord>> links_after(const IdempotencyKey& after,
                                                    std::size_t limit) override;
  sync::ListingStage& listing_stage() override { return stage_; }
  Result<Cursor> cursor(sync::Side side) override;
  Result<void> journal(std::span<const sync::JournalEntry> entries) override;
  Result<std::vector<sync::JournalEntry>> pending_journal() override;
  Result<void> commit(const sync::StateDelta& delta) override;
  Result<std::optional<sync::Quarantine>> quarantine() override;
  Result<void> set_quarantine(const std::string& reason) override;
  Result<void> approve() override;
  Result<void> clear() override;
  Result<std::string> remote_backend() override;
  Result<void> switch_remote_backend(const std::string& backend) override;

  /// From now on every write of this pair's state (journal, commit, quarantine, backend
  /// switch, clear) is made under `lease`: it commits only while the lease row still has this
  /// holder and epoch, else it fails with kConflict and writes nothing (fencing, issue 17 §3).
  /// The check holds the row (FOR SHARE) until the commit, so no take can slip in between.
  void fence(Lease lease) { fence_ = std::move(lease); }

 private:
  PgSyncState(std::shared_ptr<pg::Pool> pool, std::string pair_id)
      : pool_(pool), pair_(pair_id), stage_(std::move(pool), std::move(pair_id)) {}
  Result<std::vector<sync::LinkRecord>> query_links(std::string_view where,
                                                    std::vector<pg::Value> params);
  Result<void> upsert(pg::Connection& db, const sync::LinkRecord& link);
  /// Inside a write transaction: refuses it when the fence's lease was taken over.
  Result<void> check_fence(pg::Connection& db);

  /// The pair's one-row facts a run reads at its start (both cursors, the quarantine, the
  /// recorded backend, whether the journal holds anything), as SqliteSyncState reads them:
  /// one statement at the first ask, kept until this object writes anything. A run holds the
  /// pair's lease, so no other node writes these rows meanwhile (a node that lost its lease
  /// has its writes refused by the fence anyway). An idle run read them in seven statements.
  struct Overview {
    sync::PerSide<Cursor> cursors;
    std::optional<sync::Quarantine> quarantine;
    std::string backend;
    bool journal_empty = true;
  };
  Result<const Overview*> overview();
  void forget_overview() { overview_.reset(); }

  std::shared_ptr<pg::Pool> pool_;
  std::string pair_;
  PgListingStage stage_;
  std::optional<Lease> fence_;
  std::optional<Overview> overview_;
};

/// The audit trail (R32) in the organisation's schema: one row per applied change.
class PgAuditSink final : public sync::AuditSink {
 public:
  static std::unique_ptr<PgAuditSink> over(std::shared_ptr<pg::Pool> pool);
  Result<void> record(const std::vector<sync::AuditRecord>& records) override;
  /// The records of one item (by link key), oldest first: "why did this change?".
  Result<std::vector<sync::AuditRecord>> history(const std::string& link);

 private:
  explicit PgAuditSink(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}
  std::shared_ptr<pg::Pool> pool_;
};

}  // namespace agendasync::store
