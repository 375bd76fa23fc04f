#pragma once
/// The engine's state (links, cursors, journal, quarantine) and the audit trail in SQLite:
/// one file, WAL, synchronous=FULL, every commit one transaction. Several pairs share a file,
/// each row carrying its pair id. Lookups by ref and by key are indexed (cost rule).
/// A caller syncing many pairs opens the file once (open_state_database) and hands the
/// connection to each pair's state (`over`): an idle cycle then opens no file at all.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "store/sqlite_connection.h"
#include "store/sync_state/sqlite_listing_stage.h"
#include "sync/audit.h"
#include "sync/sync_state.h"

namespace agendasync::store {

/// Opens (creating when missing) a state database: schema, WAL, synchronous=FULL. Fails
/// naming the file when it cannot be opened or is not an AgendaSync state database. Not for
/// use by two threads at once (SQLite transactions are per connection).
Result<std::shared_ptr<sqlite::Connection>> open_state_database(const std::filesystem::path& path);

/// pair -> the backend ("ews"/"graph") each pair of a state database last synced through
/// (R41); pairs that never synced are absent. One query for a whole organisation: a hybrid
/// organisation's watchers read it at every refresh.
Result<std::map<std::string, std::string>> recorded_backends(sqlite::Connection& db);

class SqliteSyncState final : public sync::SyncState {
 public:
  /// Opens (creating when missing) the state of pair `pair_id` in `path`. Fails naming the
  /// file when it cannot be opened or is not an AgendaSync state database.
  static Result<std::unique_ptr<SqliteSyncState>> open(const std::filesystem::path& path,
                                                       std::string pair_id);
  /// The state of pair `pair_id` on an open state database (open_state_database).
  static std::unique_ptr<SqliteSyncState> over(std::shared_ptr<sqlite::Connection> db,
                                               std::string pair_id);

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

 private:
  SqliteSyncState(std::shared_ptr<sqlite::Connection> db, std::string pair_id)
      : db_(db), pair_(pair_id), stage_(std::move(db), std::move(pair_id)) {}
  Result<std::vector<sync::LinkRecord>> query_links(std::string_view where,
                                                    std::vector<sqlite::Value> params);
  Result<void> upsert(const sync::LinkRecord& link);

  /// The pair's one-row facts a run reads at its start: both cursors, the quarantine, the
  /// recorded backend and whether the journal holds anything. An idle run asked for them
  /// with five queries (six with the app's backend read); one query now reads them all.
  struct Overview {
    sync::PerSide<Cursor> cursors;
    std::optional<sync::Quarantine> quarantine;
    std::string backend;
    bool journal_empty = true;
  };
  /// Read at the first ask and kept until this object writes anything (every write drops
  /// it). A state object serves one run or one command, and a run holds the pair's lock, so
  /// no other writer changes these rows meanwhile (docs/DECISIONS.md, "One query for an
  /// idle pair's state").
  Result<const Overview*> overview();
  void forget_overview() { overview_.reset(); }

  std::shared_ptr<sqlite::Connection> db_;
  std::string pair_;
  SqliteListingStage stage_;
  std::optional<Overview> overview_;
  /// link key -> the pending base the last journal() wrote and its document: the commit after
  /// the batch's writes stores the same base in most links (docs/DECISIONS.md, "A first sync's
  /// documents"). Cleared by the next journal() and by every commit.
  std::unordered_map<std::string, std::pair<Appointment, std::string>> journaled_bases_;
};

/// The audit trail (R32) in the same kind of file: one row per applied change.
class SqliteAuditSink final : public sync::AuditSink {
 public:
  static Result<std::unique_ptr<SqliteAuditSink>> open(const std::filesystem::path& path);
  /// The audit trail on an open state database (open_state_database).
  static std::unique_ptr<SqliteAuditSink> over(std::shared_ptr<sqlite::Connection> db);
  Result<void> record(const std::vector<sync::AuditRecord>& records) override;
  /// The records of one item (by link key), oldest first: "why did this change?".
  Result<std::vector<sync::AuditRecord>> history(const std::string& link);

 private:
  explicit SqliteAuditSink(std::shared_ptr<sqlite::Connection> db) : db_(std::move(db)) {}
  std::shared_ptr<sqlite::Connection> db_;
};

}  // namespace agendasync::store
