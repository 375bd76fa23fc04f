#pragma once
/// sync::ListingStage on PostgreSQL: the items a paged full listing parks until the batch that
/// plans them (issue 14), in the UNLOGGED table sync_stage of the organisation's schema (no
/// WAL, no fsync; a server crash empties it, and the listing starts again). Rows carry the
/// pair, which one node at a time syncs.
#include <cstdint>
#include <memory>
#include <string>

#include "store/pg_pool.h"
#include "sync/listing_stage.h"

namespace agendasync::store {

class PgListingStage final : public sync::ListingStage {
 public:
  PgListingStage(std::shared_ptr<pg::Pool> pool, std::string pair_id)
      : pool_(std::move(pool)), pair_(std::move(pair_id)) {}

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
  /// Rows of `side` matching `where` (SQL over the stage's columns, $3.. = `params`).
  Result<std::vector<sync::StagedItem>> query(sync::Side side, std::string_view where,
                                              std::vector<pg::Value> params);
  Result<std::optional<sync::StagedItem>> first_of(sync::Side side, std::string_view where,
                                                   std::vector<pg::Value> params);
  Result<void> run(std::string_view sql, const std::vector<pg::Value>& params);

  std::shared_ptr<pg::Pool> pool_;
  std::string pair_;
  std::int64_t next_seq_ = 0;
};

}  // namespace agendasync::store
