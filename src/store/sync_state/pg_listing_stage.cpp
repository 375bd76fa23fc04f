#include "store/sync_state/pg_listing_stage.h"

#include <algorithm>
#include <set>

#include "store/appointment_document.h"
#include "store/sync_state/link_json.h"

namespace agendasync::store {

using pg::Value;
using sync::Side;
using sync::StagedItem;

namespace {

constexpr const char* kColumns =
    "ref, seq, version, carried_key, own_key, match_key, linked, partner, done, modified, item";
constexpr std::size_t kColumnsPerRow = 13;
/// Rows per INSERT: a listing page is one or a few round trips, not one per item, and the
/// parameters stay far below PostgreSQL's 65,535 per statement.
constexpr std::size_t kRowsPerInsert = 200;

}  // namespace

Result<void> PgListingStage::run(std::string_view sql, const std::vector<Value>& params) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto done = (*db)->run(sql, params);
  if (!done) return std::unexpected(done.error());
  return {};
}

Result<void> PgListingStage::clear() {
  next_seq_ = 0;
  return run("DELETE FROM sync_stage WHERE pair = $1", {pair_});
}

Result<void> PgListingStage::put(Side side, std::span<const StagedItem> items) {
  if (items.empty()) return {};
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  pg::Connection& conn = **db;
  return pg::transaction(conn, [&]() -> Result<void> {
    std::string sql;
    std::vector<Value> params;
    std::set<std::string> refs;  // of this statement: ON CONFLICT may touch a row only once
    auto flush = [&]() -> Result<void> {
      if (params.empty()) return {};
      // An item staged again replaces the earlier copy (as SQLite's INSERT OR REPLACE).
      auto stored = conn.run(
          "INSERT INTO sync_stage(pair, side, ref, seq, version, carried_key, own_key, "
          "match_key, linked, partner, done, modified, item) VALUES " +
              sql +
              " ON CONFLICT (pair, side, ref) DO UPDATE SET seq = EXCLUDED.seq, version = "
              "EXCLUDED.version, carried_key = EXCLUDED.carried_key, own_key = "
              "EXCLUDED.own_key, match_key = EXCLUDED.match_key, linked = EXCLUDED.linked, "
              "partner = EXCLUDED.partner, done = EXCLUDED.done, modified = EXCLUDED.modified, "
              "item = EXCLUDED.item",
          params);
      sql.clear();
      params.clear();
      refs.clear();
      if (!stored) return std::unexpected(stored.error());
      return {};
    };
    for (const auto& staged : items) {
      const SideItem& item = staged.item;
      if (refs.size() == kRowsPerInsert || refs.contains(item.ref.str())) {
        if (auto flushed = flush(); !flushed) return flushed;
      }
      refs.insert(item.ref.str());
      sql += params.empty() ? "(" : ", (";
      for (std::size_t column = 1; column <= kColumnsPerRow; ++column) {
        sql += (column > 1 ? ", $" : "$") + std::to_string(params.size() + column);
      }
      sql += ")";
      params.insert(
          params.end(),
          {pair_, side_code(side), item.ref.str(), ++next_seq_, item.version.str(),
           item.idempotency_key ? Value(item.idempotency_key->str()) : Value(),
           staged.own_key.str(), staged.match_key, std::int64_t{staged.linked ? 1 : 0},
           staged.partner ? Value(staged.partner->str()) : Value(),
           std::int64_t{staged.done ? 1 : 0},
           item.last_modified
               ? Value(static_cast<std::int64_t>(item.last_modified->time_since_epoch().count()))
               : Value(),
           to_document(item.item)});
    }
    return flush();
  });
}

Result<std::size_t> PgListingStage::count(Side side) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto counted = (*db)->query_int("SELECT COUNT(*) FROM sync_stage WHERE pair = $1 AND side = $2",
                                  {pair_, side_code(side)});
  if (!counted) return std::unexpected(counted.error());
  return static_cast<std::size_t>(counted->value_or(0));
}

Result<std::vector<StagedItem>> PgListingStage::query(Side side, std::string_view where,
                                                      std::vector<Value> params) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  params.insert(params.begin(), {pair_, side_code(side)});
  auto rows =
      (*db)->query(std::string("SELECT ") + kColumns +
                       " FROM sync_stage WHERE pair = $1 AND side = $2 " + std::string(where),
                   params);
  if (!rows) return std::unexpected(rows.error());
  std::vector<StagedItem> result;
  for (int row = 0; row < rows->size(); ++row) {
    StagedItem staged;
    staged.item.ref = ItemRef(rows->text_at(row, 0));
    staged.seq = rows->int_at(row, 1);
    staged.item.version = VersionTag(rows->text_at(row, 2));
    if (!rows->is_null(row, 3)) staged.item.idempotency_key = IdempotencyKey(rows->text_at(row, 3));
    staged.own_key = IdempotencyKey(rows->text_at(row, 4));
    staged.match_key = rows->text_at(row, 5);
    staged.linked = rows->bool_at(row, 6);
    if (!rows->is_null(row, 7)) staged.partner = ItemRef(rows->text_at(row, 7));
    staged.done = rows->bool_at(row, 8);
    if (!rows->is_null(row, 9)) {
      staged.item.last_modified = Instant(std::chrono::seconds(rows->int_at(row, 9)));
    }
    auto item = from_document(rows->text_at(row, 10));
    if (!item) return std::unexpected(item.error());
    staged.item.item = std::move(*item);
    result.push_back(std::move(staged));
  }
  return result;
}

Result<std::optional<StagedItem>> PgListingStage::first_of(Side side, std::string_view where,
                                                           std::vector<Value> params) {
  auto rows = query(side, std::string(where) + " ORDER BY seq LIMIT 1", std::move(params));
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::nullopt;
  return std::move(rows->front());
}

Result<std::optional<StagedItem>> PgListingStage::by_ref(Side side, const ItemRef& ref) {
  return first_of(side, "AND ref = $3", {ref.str()});
}

Result<bool> PgListingStage::listed(Side side, const ItemRef& ref) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto found =
      (*db)->query_int("SELECT 1 FROM sync_stage WHERE pair = $1 AND side = $2 AND ref = $3",
                       {pair_, side_code(side), ref.str()});
  if (!found) return std::unexpected(found.error());
  return found->has_value();
}

Result<std::optional<StagedItem>> PgListingStage::by_own_key(Side side, const IdempotencyKey& key) {
  return first_of(side, "AND own_key = $3 AND NOT linked", {key.str()});
}

Result<std::optional<StagedItem>> PgListingStage::carrying(Side side, const IdempotencyKey& key) {
  return first_of(side, "AND carried_key = $3", {key.str()});
}

Result<std::optional<StagedItem>> PgListingStage::first_free(Side side,
                                                             const std::string& match_key) {
  return first_of(side, "AND match_key = $3 AND NOT linked AND partner IS NULL AND NOT done",
                  {match_key});
}

Result<std::vector<StagedItem>> PgListingStage::next_batch(Side side, std::int64_t after,
                                                           std::size_t limit) {
  return query(side, "AND NOT done AND seq > $3 ORDER BY seq LIMIT $4",
               {after, static_cast<std::int64_t>(limit)});
}

Result<void> PgListingStage::set_partner(Side side, const ItemRef& ref, const ItemRef& partner) {
  return run("UPDATE sync_stage SET partner = $4 WHERE pair = $1 AND side = $2 AND ref = $3",
             {pair_, side_code(side), ref.str(), partner.str()});
}

Result<void> PgListingStage::mark_done(Side side, std::span<const ItemRef> refs) {
  if (refs.empty()) return {};
  // One statement for the batch: ref = ANY of the listed refs.
  std::string sql = "UPDATE sync_stage SET done = true WHERE pair = $1 AND side = $2 AND ref IN (";
  std::vector<Value> params{pair_, side_code(side)};
  for (const auto& ref : refs) {
    sql += (params.size() > 2 ? ", $" : "$") + std::to_string(params.size() + 1);
    params.emplace_back(ref.str());
  }
  return run(sql + ")", params);
}

Result<void> PgListingStage::rewind() {
  return run("UPDATE sync_stage SET done = false WHERE pair = $1", {pair_});
}

}  // namespace agendasync::store
