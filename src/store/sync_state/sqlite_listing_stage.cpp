#include "store/sync_state/sqlite_listing_stage.h"

#include "store/appointment_document.h"

namespace agendasync::store {

using sync::Side;
using sync::StagedItem;

namespace {

// Indexes: by ref (the key), listing order, each key column, and the R20 lookup over the
// items still free, each ending in seq, so every "first in listing order" lookup of a first
// sync is one index probe (without seq the planner walks the seq index instead). The carried
// key's index holds only the items that carry one (`carried_key = ?` implies that, so the
// lookup still uses it): most items carry none, and their rows then cost one index less.
constexpr std::string_view kStageSchema = R"sql(
CREATE TEMP TABLE IF NOT EXISTS sync_stage(
  pair TEXT NOT NULL, side INTEGER NOT NULL, ref TEXT NOT NULL, seq INTEGER NOT NULL,
  version TEXT NOT NULL, carried_key TEXT, own_key TEXT NOT NULL, match_key TEXT NOT NULL,
  linked INTEGER NOT NULL, partner TEXT, done INTEGER NOT NULL, modified INTEGER,
  item TEXT NOT NULL, PRIMARY KEY(pair, side, ref));
CREATE INDEX IF NOT EXISTS temp.sync_stage_seq ON sync_stage(pair, side, seq);
CREATE INDEX IF NOT EXISTS temp.sync_stage_own ON sync_stage(pair, side, own_key, seq);
CREATE INDEX IF NOT EXISTS temp.sync_stage_carried ON sync_stage(pair, side, carried_key, seq)
  WHERE carried_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS temp.sync_stage_free ON sync_stage(pair, side, match_key, seq)
  WHERE linked = 0 AND partner IS NULL AND done = 0;
)sql";

constexpr const char* kColumns =
    "ref, seq, version, carried_key, own_key, match_key, linked, partner, done, modified, item";

std::int64_t side_code(Side side) { return side == Side::kHost ? 0 : 1; }

/// A deferred transaction: the stage writes only its TEMP table, so it must not take the
/// state file's write lock (BEGIN IMMEDIATE would) that other processes' commits need.
template <class F>
Result<void> temp_transaction(sqlite::Connection& db, F&& body) {
  if (auto begun = db.exec("BEGIN"); !begun) return begun;
  auto result = body();
  if (!result) {
    (void)db.exec("ROLLBACK");
    return result;
  }
  if (auto committed = db.exec("COMMIT"); !committed) {
    (void)db.exec("ROLLBACK");
    return committed;
  }
  return {};
}

}  // namespace

Result<void> SqliteListingStage::ensure_table() {
  if (table_ready_) return {};
  // A stage lives for one run of one pair, the connection for many: asking the temp schema
  // (a cached statement) is cheaper than compiling the DDL again for every pair's first sync.
  auto exists = db_->query_int("SELECT 1 FROM temp.sqlite_master WHERE name = 'sync_stage_free'");
  if (!exists) return std::unexpected(exists.error());
  if (exists->has_value()) {
    table_ready_ = true;
    return {};
  }
  if (auto created = db_->exec(kStageSchema); !created) return created;
  table_ready_ = true;
  return {};
}

Result<void> SqliteListingStage::clear() {
  if (auto ready = ensure_table(); !ready) return ready;
  next_seq_ = 0;
  // The table is the connection's, and a connection runs one pair at a time: when it holds
  // no other pair's rows (left by a killed run), it is emptied whole, which SQLite does
  // without visiting each row and its five index entries (a fifth of the stage's cost).
  auto others = db_->query_int(
      "SELECT EXISTS(SELECT 1 FROM temp.sync_stage WHERE pair < ?1) OR "
      "EXISTS(SELECT 1 FROM temp.sync_stage WHERE pair > ?1)",
      {pair_});
  if (!others) return std::unexpected(others.error());
  if (others->value_or(0) == 0) return db_->exec("DELETE FROM temp.sync_stage");
  return db_->run("DELETE FROM temp.sync_stage WHERE pair = ?1", {pair_});
}

Result<void> SqliteListingStage::put(Side side, std::span<const StagedItem> items) {
  if (auto ready = ensure_table(); !ready) return ready;
  return temp_transaction(*db_, [&]() -> Result<void> {
    for (const auto& staged : items) {
      const SideItem& item = staged.item;
      auto stored = db_->run(
          "INSERT OR REPLACE INTO temp.sync_stage(pair, side, ref, seq, version, carried_key, "
          "own_key, match_key, linked, partner, done, modified, item) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
          {pair_, side_code(side), item.ref.str(), ++next_seq_, item.version.str(),
           item.idempotency_key ? sqlite::Value(item.idempotency_key->str()) : sqlite::Value(),
           staged.own_key.str(), staged.match_key, std::int64_t{staged.linked ? 1 : 0},
           staged.partner ? sqlite::Value(staged.partner->str()) : sqlite::Value(),
           std::int64_t{staged.done ? 1 : 0},
           item.last_modified ? sqlite::Value(static_cast<std::int64_t>(
                                    item.last_modified->time_since_epoch().count()))
                              : sqlite::Value(),
           to_document(item.item)});
      if (!stored) return stored;
    }
    return {};
  });
}

Result<std::size_t> SqliteListingStage::count(Side side) {
  if (auto ready = ensure_table(); !ready) return std::unexpected(ready.error());
  auto counted =
      db_->query_int("SELECT COUNT(*) FROM temp.sync_stage WHERE pair = ?1 AND side = ?2",
                     {pair_, side_code(side)});
  if (!counted) return std::unexpected(counted.error());
  return static_cast<std::size_t>(counted->value_or(0));
}

Result<std::vector<StagedItem>> SqliteListingStage::query(Side side, std::string_view where,
                                                          std::vector<sqlite::Value> params) {
  if (auto ready = ensure_table(); !ready) return std::unexpected(ready.error());
  params.insert(params.begin(), {pair_, side_code(side)});
  auto statement =
      db_->prepare(std::string("SELECT ") + kColumns +
                       " FROM temp.sync_stage WHERE pair = ?1 AND side = ?2 " + std::string(where),
                   params);
  if (!statement) return std::unexpected(statement.error());
  std::vector<StagedItem> rows;
  for (;;) {
    auto row = statement->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    StagedItem staged;
    staged.item.ref = ItemRef(statement->text_at(0));
    staged.seq = statement->int_at(1);
    staged.item.version = VersionTag(statement->text_at(2));
    if (!statement->is_null(3)) staged.item.idempotency_key = IdempotencyKey(statement->text_at(3));
    staged.own_key = IdempotencyKey(statement->text_at(4));
    staged.match_key = statement->text_at(5);
    staged.linked = statement->int_at(6) != 0;
    if (!statement->is_null(7)) staged.partner = ItemRef(statement->text_at(7));
    staged.done = statement->int_at(8) != 0;
    if (!statement->is_null(9))
      staged.item.last_modified = Instant(std::chrono::seconds(statement->int_at(9)));
    auto item = from_document(statement->text_at(10));
    if (!item) return std::unexpected(item.error());
    staged.item.item = std::move(*item);
    rows.push_back(std::move(staged));
  }
  return rows;
}

Result<std::optional<StagedItem>> SqliteListingStage::first_of(Side side, std::string_view where,
                                                               std::vector<sqlite::Value> params) {
  auto rows = query(side, std::string(where) + " ORDER BY seq LIMIT 1", std::move(params));
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::nullopt;
  return std::move(rows->front());
}

Result<std::optional<StagedItem>> SqliteListingStage::by_ref(Side side, const ItemRef& ref) {
  return first_of(side, "AND ref = ?3", {ref.str()});
}

Result<bool> SqliteListingStage::listed(Side side, const ItemRef& ref) {
  if (auto ready = ensure_table(); !ready) return std::unexpected(ready.error());
  auto found =
      db_->query_int("SELECT 1 FROM temp.sync_stage WHERE pair = ?1 AND side = ?2 AND ref = ?3",
                     {pair_, side_code(side), ref.str()});
  if (!found) return std::unexpected(found.error());
  return found->has_value();
}

Result<std::optional<StagedItem>> SqliteListingStage::by_own_key(Side side,
                                                                 const IdempotencyKey& key) {
  return first_of(side, "AND own_key = ?3 AND linked = 0", {key.str()});
}

Result<std::optional<StagedItem>> SqliteListingStage::carrying(Side side,
                                                               const IdempotencyKey& key) {
  return first_of(side, "AND carried_key = ?3", {key.str()});
}

Result<std::optional<StagedItem>> SqliteListingStage::first_free(Side side,
                                                                 const std::string& match_key) {
  return first_of(side, "AND match_key = ?3 AND linked = 0 AND partner IS NULL AND done = 0",
                  {match_key});
}

Result<std::vector<StagedItem>> SqliteListingStage::next_batch(Side side, std::int64_t after,
                                                               std::size_t limit) {
  return query(side, "AND done = 0 AND seq > ?3 ORDER BY seq LIMIT ?4",
               {after, static_cast<std::int64_t>(limit)});
}

Result<void> SqliteListingStage::set_partner(Side side, const ItemRef& ref,
                                             const ItemRef& partner) {
  if (auto ready = ensure_table(); !ready) return ready;
  return db_->run(
      "UPDATE temp.sync_stage SET partner = ?4 WHERE pair = ?1 AND side = ?2 AND ref = ?3",
      {pair_, side_code(side), ref.str(), partner.str()});
}

Result<void> SqliteListingStage::mark_done(Side side, std::span<const ItemRef> refs) {
  if (auto ready = ensure_table(); !ready) return ready;
  return temp_transaction(*db_, [&]() -> Result<void> {
    for (const auto& ref : refs) {
      auto marked =
          db_->run("UPDATE temp.sync_stage SET done = 1 WHERE pair = ?1 AND side = ?2 AND ref = ?3",
                   {pair_, side_code(side), ref.str()});
      if (!marked) return marked;
    }
    return {};
  });
}

Result<void> SqliteListingStage::rewind() {
  if (auto ready = ensure_table(); !ready) return ready;
  return db_->run("UPDATE temp.sync_stage SET done = 0 WHERE pair = ?1", {pair_});
}

}  // namespace agendasync::store
