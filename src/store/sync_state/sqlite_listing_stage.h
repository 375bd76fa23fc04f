#pragma once
/// sync::ListingStage in SQLite: the items a paged full listing (first sync, resync) parks
/// until the batch that plans them, indexed by ref, listing order, the keys and the R20 match
/// key (issue 14). A TEMP table of the sync-state connection: scratch that must not outlive
/// the run, so it costs no fsync and no growth of the state file, and SQLite keeps it in a
/// temporary file behind a small page cache (compiled-in temp_store = file), not in RAM.
#include <cstdint>
#include <memory>
#include <string>

#include "store/sqlite_connection.h"
#include "sync/listing_stage.h"

namespace agendasync::store {

class SqliteListingStage final : public sync::ListingStage {
 public:
  /// `db` is the sync-state connection (open_state_database); rows carry `pair_id`.
  SqliteListingStage(std::shared_ptr<sqlite::Connection> db, std::string pair_id)
      : db_(std::move(db)), pair_(std::move(pair_id)) {}

  Result<void> clear() override;
  Result<void> put(sync::Side side, std::span<const sync::StagedItem> items) override;
  Result<std::size_t> count(sync::Side side) override;
  Result<std::optional<sync::StagedItem>> by_ref(sync::Side side, const ItemRef& ref) override;
  Result<bool> listed(sync::Side side, const ItemRef& ref) override;
  Result<std::optional<sync::StagedItem>> by_own_key(sync::Side side,
                                                     const IdempotencyKey& key) override;
  Result<std::optional<sync::StagedItem>> carrying(sync::Side side,
                                                   const IdempotencyKey& key) override;
  Result<std::optional<sync::StagedItem>> first_free(sync::Side side,
                                                     const std::string& match_key) override;
  Result<std::vector<sync::StagedItem>> next_batch(sync::Side side, std::int64_t after,
                                                   std::size_t limit) override;
  Result<void> set_partner(sync::Side side, const ItemRef& ref, const ItemRef& partner) override;
  Result<void> mark_done(sync::Side side, std::span<const ItemRef> refs) override;
  Result<void> rewind() override;

 private:
  /// Creates the TEMP table on first use (a connection's temp schema starts empty).
  Result<void> ensure_table();
  /// Rows of `side` matching `where` (SQL over the stage's columns, ?3.. = `params`).
  Result<std::vector<sync::StagedItem>> query(sync::Side side, std::string_view where,
                                              std::vector<sqlite::Value> params);
  Result<std::optional<sync::StagedItem>> first_of(sync::Side side, std::string_view where,
                                                   std::vector<sqlite::Value> params);

  std::shared_ptr<sqlite::Connection> db_;
  std::string pair_;
  bool table_ready_ = false;
  std::int64_t next_seq_ = 0;
};

}  // namespace agendasync::store
