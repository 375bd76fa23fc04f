#include "store/sync_state/pg_sync_state.h"

#include <nlohmann/json.hpp>

#include "core/fencing.h"
#include "store/appointment_document.h"
#include "store/pg_schema.h"
#include "store/sync_state/link_json.h"

namespace agendasync::store {

using pg::Value;
using sync::JournalEntry;
using sync::LinkRecord;
using sync::Side;

namespace {

constexpr const char* kLinkColumns =
    "key, host_ref, host_version, host_hash, remote_ref, remote_version, remote_hash, base, "
    "created_on, host_held, remote_held, refind";

/// Bits of sync_link.refind: which sides' refs are to be found again by key (R41).
std::int64_t refind_bit(Side side) { return side == Side::kHost ? 1 : 2; }

Value held_document(const sync::SideState& side) {
  return side.held ? Value(to_document(*side.held)) : Value();
}

}  // namespace

Result<std::shared_ptr<pg::Pool>> open_pg_state_pool(const pg::Target& target) {
  auto pool = pg::Pool::open(target);
  if (!pool) return std::unexpected(pool.error());
  auto db = (*pool)->borrow();
  if (!db) return std::unexpected(db.error());
  auto found = pg::schema_version(**db);
  if (!found) return std::unexpected(found.error());
  if (auto fits = pg::check_compatible(*found, pg::current_schema_version(), (*db)->where());
      !fits) {
    return std::unexpected(fits.error());
  }
  return std::move(*pool);
}

std::unique_ptr<PgSyncState> PgSyncState::over(std::shared_ptr<pg::Pool> pool,
                                               std::string pair_id) {
  return std::unique_ptr<PgSyncState>(new PgSyncState(std::move(pool), std::move(pair_id)));
}

Result<void> PgSyncState::check_fence(pg::Connection& db) {
  if (!fence_) return {};
  auto current =
      db.query("SELECT holder, epoch FROM sync_lease WHERE pair = $1 FOR SHARE", {fence_->pair});
  if (!current) return std::unexpected(current.error());
  if (!current->empty() && current->text_at(0, 0) == fence_->holder &&
      current->int_at(0, 1) == fence_->epoch) {
    return {};
  }
  const std::string now =
      current->empty() ? std::string("no lease")
                       : "node " + current->text_at(0, 0) + ", epoch " + current->text_at(0, 1);
  return fail(ErrorKind::kConflict,
              "the lease on pair " + fence_->pair + " (node " + fence_->holder + ", epoch " +
                  std::to_string(fence_->epoch) + ") was lost; it is now held by " + now +
                  ". This run stalled past its lease: its batch was refused and nothing was "
                  "written; the new holder syncs the pair",
              kLeaseLostCode);
}

Result<std::vector<LinkRecord>> PgSyncState::query_links(std::string_view where,
                                                         std::vector<Value> params) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  params.insert(params.begin(), pair_);
  auto rows = (*db)->query(std::string("SELECT ") + kLinkColumns +
                               " FROM sync_link WHERE pair = $1" + std::string(where),
                           params);
  if (!rows) return std::unexpected(rows.error());
  std::vector<LinkRecord> links;
  links.reserve(static_cast<std::size_t>(rows->size()));
  for (int row = 0; row < rows->size(); ++row) {
    LinkRecord link;
    link.key = IdempotencyKey(rows->text_at(row, 0));
    link.sides[Side::kHost] = {ItemRef(rows->text_at(row, 1)), VersionTag(rows->text_at(row, 2)),
                               rows->text_at(row, 3), std::nullopt};
    link.sides[Side::kRemote] = {ItemRef(rows->text_at(row, 4)), VersionTag(rows->text_at(row, 5)),
                                 rows->text_at(row, 6), std::nullopt};
    auto base = from_document(rows->text_at(row, 7));
    if (!base) return std::unexpected(base.error());
    link.base = std::move(*base);
    if (!rows->is_null(row, 8)) link.created_on = side_from(rows->int_at(row, 8));
    for (Side side : sync::kBothSides) {
      const int column = side == Side::kHost ? 9 : 10;
      if (rows->is_null(row, column)) continue;
      auto held = from_document(rows->text_at(row, column));
      if (!held) return std::unexpected(held.error());
      link.sides[side].held = std::move(*held);
    }
    for (Side side : sync::kBothSides) {
      link.sides[side].refind = (rows->int_at(row, 11) & refind_bit(side)) != 0;
    }
    links.push_back(std::move(link));
  }
  return links;
}

Result<std::optional<LinkRecord>> PgSyncState::find_link_by_ref(Side side, const ItemRef& ref) {
  if (ref.empty()) return std::nullopt;
  auto links =
      query_links(side == Side::kHost ? " AND host_ref = $2" : " AND remote_ref = $2", {ref.str()});
  if (!links) return std::unexpected(links.error());
  if (links->empty()) return std::nullopt;
  return std::move(links->front());
}

Result<std::optional<sync::SyncState::Glance>> PgSyncState::glance_by_ref(Side side,
                                                                          const ItemRef& ref) {
  if (ref.empty()) return std::nullopt;
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto rows = (*db)->query(
      side == Side::kHost
          ? "SELECT host_version, host_held IS NOT NULL OR remote_held IS NOT NULL FROM sync_link "
            "WHERE pair = $1 AND host_ref = $2"
          : "SELECT remote_version, host_held IS NOT NULL OR remote_held IS NOT NULL FROM "
            "sync_link WHERE pair = $1 AND remote_ref = $2",
      {pair_, ref.str()});
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::nullopt;
  return Glance{VersionTag(rows->text_at(0, 0)), rows->bool_at(0, 1)};
}

Result<std::optional<LinkRecord>> PgSyncState::find_link_by_key(const IdempotencyKey& key) {
  auto links = query_links(" AND key = $2", {key.str()});
  if (!links) return std::unexpected(links.error());
  if (links->empty()) return std::nullopt;
  return std::move(links->front());
}

Result<std::vector<LinkRecord>> PgSyncState::all_links() { return query_links("", {}); }

Result<std::vector<LinkRecord>> PgSyncState::links_after(const IdempotencyKey& after,
                                                         std::size_t limit) {
  return query_links(" AND key > $2 ORDER BY key LIMIT $3",
                     {after.str(), static_cast<std::int64_t>(limit)});
}

Result<std::size_t> PgSyncState::link_count() {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto count = (*db)->query_int("SELECT COUNT(*) FROM sync_link WHERE pair = $1", {pair_});
  if (!count) return std::unexpected(count.error());
  return static_cast<std::size_t>(count->value_or(0));
}

Result<const PgSyncState::Overview*> PgSyncState::overview() {
  if (overview_) return &*overview_;
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  // Scalar subqueries, each on its table's primary key: one statement, one snapshot.
  auto rows = (*db)->query(
      "SELECT (SELECT cursor FROM sync_cursor WHERE pair = $1 AND side = $2), "
      "(SELECT cursor FROM sync_cursor WHERE pair = $1 AND side = $3), "
      "(SELECT reason FROM sync_quarantine WHERE pair = $1), "
      "(SELECT approved FROM sync_quarantine WHERE pair = $1), "
      "(SELECT backend FROM sync_backend WHERE pair = $1), "
      "EXISTS (SELECT 1 FROM sync_journal WHERE pair = $1)",
      {pair_, side_code(Side::kHost), side_code(Side::kRemote)});
  if (!rows) return std::unexpected(rows.error());
  Overview read;
  if (!rows->empty()) {
    read.cursors[Side::kHost] = Cursor(rows->is_null(0, 0) ? std::string() : rows->text_at(0, 0));
    read.cursors[Side::kRemote] = Cursor(rows->is_null(0, 1) ? std::string() : rows->text_at(0, 1));
    // reason is NOT NULL: a NULL says there is no quarantine row.
    if (!rows->is_null(0, 2))
      read.quarantine = sync::Quarantine{rows->text_at(0, 2), rows->bool_at(0, 3)};
    read.backend = rows->is_null(0, 4) ? std::string() : rows->text_at(0, 4);
    read.journal_empty = !rows->bool_at(0, 5);
  }
  overview_ = std::move(read);
  return &*overview_;
}

Result<Cursor> PgSyncState::cursor(Side side) {
  auto read = overview();
  if (!read) return std::unexpected(read.error());
  return (*read)->cursors[side];
}

Result<void> PgSyncState::journal(std::span<const JournalEntry> entries) {
  forget_overview();
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  pg::Connection& conn = **db;
  return pg::transaction(conn, [&]() -> Result<void> {
    if (auto fenced = check_fence(conn); !fenced) return fenced;
    for (const auto& entry : entries) {
      auto stored = conn.run(
          "INSERT INTO sync_journal(pair, key, target, op, target_ref, pending, run_id, "
          "previous) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
          "ON CONFLICT (pair, key, target) DO UPDATE SET op = EXCLUDED.op, "
          "target_ref = EXCLUDED.target_ref, pending = EXCLUDED.pending, "
          "run_id = EXCLUDED.run_id, previous = EXCLUDED.previous",
          {pair_, entry.key.str(), side_code(entry.target), static_cast<std::int64_t>(entry.op),
           entry.target_ref.str(), link_to_json(entry.pending_link), entry.run_id,
           entry.previous ? Value(to_document(*entry.previous)) : Value()});
      if (!stored) return std::unexpected(stored.error());
    }
    return {};
  });
}

Result<std::vector<JournalEntry>> PgSyncState::pending_journal() {
  // An idle run's journal is empty: the overview already says so.
  if (overview_ && overview_->journal_empty) return std::vector<JournalEntry>{};
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto rows = (*db)->query(
      "SELECT key, target, op, target_ref, pending, run_id, previous FROM sync_journal "
      "WHERE pair = $1 ORDER BY key, target",
      {pair_});
  if (!rows) return std::unexpected(rows.error());
  std::vector<JournalEntry> entries;
  for (int row = 0; row < rows->size(); ++row) {
    auto pending = link_from_json(rows->text_at(row, 4));
    if (!pending) return std::unexpected(pending.error());
    entries.push_back({IdempotencyKey(rows->text_at(row, 0)), side_from(rows->int_at(row, 1)),
                       static_cast<WriteOp>(rows->int_at(row, 2)), ItemRef(rows->text_at(row, 3)),
                       std::move(*pending), rows->text_at(row, 5), std::nullopt});
    if (!rows->is_null(row, 6)) {
      auto previous = from_document(rows->text_at(row, 6));
      if (!previous) return std::unexpected(previous.error());
      entries.back().previous = std::move(*previous);
    }
  }
  return entries;
}

Result<void> PgSyncState::upsert(pg::Connection& db, const LinkRecord& link) {
  const auto& host = link.sides[Side::kHost];
  const auto& remote = link.sides[Side::kRemote];
  auto stored = db.run(
      "INSERT INTO sync_link(pair, key, host_ref, host_version, host_hash, remote_ref, "
      "remote_version, remote_hash, base, created_on, host_held, remote_held, refind) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
      "ON CONFLICT (pair, key) DO UPDATE SET host_ref = EXCLUDED.host_ref, "
      "host_version = EXCLUDED.host_version, host_hash = EXCLUDED.host_hash, "
      "remote_ref = EXCLUDED.remote_ref, remote_version = EXCLUDED.remote_version, "
      "remote_hash = EXCLUDED.remote_hash, base = EXCLUDED.base, "
      "created_on = EXCLUDED.created_on, host_held = EXCLUDED.host_held, "
      "remote_held = EXCLUDED.remote_held, refind = EXCLUDED.refind",
      {pair_, link.key.str(), host.ref.str(), host.version.str(), host.hash, remote.ref.str(),
       remote.version.str(), remote.hash, to_document(link.base),
       link.created_on ? Value(side_code(*link.created_on)) : Value(), held_document(host),
       held_document(remote),
       (host.refind ? refind_bit(Side::kHost) : 0) |
           (remote.refind ? refind_bit(Side::kRemote) : 0)});
  if (!stored) return std::unexpected(stored.error());
  return {};
}

Result<void> PgSyncState::commit(const sync::StateDelta& delta) {
  if (delta.empty()) return {};
  forget_overview();
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  pg::Connection& conn = **db;
  return pg::transaction(conn, [&]() -> Result<void> {
    if (auto fenced = check_fence(conn); !fenced) return fenced;
    for (const auto& key : delta.remove) {
      auto removed =
          conn.run("DELETE FROM sync_link WHERE pair = $1 AND key = $2", {pair_, key.str()});
      if (!removed) return std::unexpected(removed.error());
    }
    for (const auto& link : delta.upsert) {
      if (auto stored = upsert(conn, link); !stored) return stored;
    }
    for (const auto& key : delta.journal_done) {
      auto done =
          conn.run("DELETE FROM sync_journal WHERE pair = $1 AND key = $2", {pair_, key.str()});
      if (!done) return std::unexpected(done.error());
    }
    for (Side side : sync::kBothSides) {
      if (!delta.cursors[side]) continue;
      auto stored = conn.run(
          "INSERT INTO sync_cursor(pair, side, cursor) VALUES ($1, $2, $3) "
          "ON CONFLICT (pair, side) DO UPDATE SET cursor = EXCLUDED.cursor",
          {pair_, side_code(side), delta.cursors[side]->str()});
      if (!stored) return std::unexpected(stored.error());
    }
    if (delta.clear_quarantine) {
      auto lifted = conn.run("DELETE FROM sync_quarantine WHERE pair = $1", {pair_});
      if (!lifted) return std::unexpected(lifted.error());
    }
    return {};
  });
}

Result<std::optional<sync::Quarantine>> PgSyncState::quarantine() {
  auto read = overview();
  if (!read) return std::unexpected(read.error());
  return (*read)->quarantine;
}

Result<void> PgSyncState::set_quarantine(const std::string& reason) {
  forget_overview();
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  pg::Connection& conn = **db;
  return pg::transaction(conn, [&]() -> Result<void> {
    if (auto fenced = check_fence(conn); !fenced) return fenced;
    auto stored = conn.run(
        "INSERT INTO sync_quarantine(pair, reason, approved) VALUES ($1, $2, false) "
        "ON CONFLICT (pair) DO UPDATE SET reason = EXCLUDED.reason, approved = false",
        {pair_, reason});
    if (!stored) return std::unexpected(stored.error());
    return {};
  });
}

Result<void> PgSyncState::approve() {
  forget_overview();
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto updated = (*db)->run("UPDATE sync_quarantine SET approved = true WHERE pair = $1", {pair_});
  if (!updated) return std::unexpected(updated.error());
  if (*updated == 0) {
    return fail(ErrorKind::kNotFound, "nothing to approve: pair " + pair_ + " is not quarantined");
  }
  return {};
}

Result<std::string> PgSyncState::remote_backend() {
  auto read = overview();
  if (!read) return std::unexpected(read.error());
  return (*read)->backend;
}

Result<void> PgSyncState::switch_remote_backend(const std::string& backend) {
  forget_overview();
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  pg::Connection& conn = **db;
  return pg::transaction(conn, [&]() -> Result<void> {
    if (auto fenced = check_fence(conn); !fenced) return fenced;
    // FOR UPDATE: two runs switching the same pair at once take turns.
    auto rows = conn.query("SELECT backend FROM sync_backend WHERE pair = $1 FOR UPDATE", {pair_});
    if (!rows) return std::unexpected(rows.error());
    const std::string recorded = rows->empty() ? std::string() : rows->text_at(0, 0);
    if (recorded == backend) return {};
    auto stored = conn.run(
        "INSERT INTO sync_backend(pair, backend) VALUES ($1, $2) "
        "ON CONFLICT (pair) DO UPDATE SET backend = EXCLUDED.backend",
        {pair_, backend});
    if (!stored) return std::unexpected(stored.error());
    if (recorded.empty()) return {};
    // The old backend's refs, versions and held contents mean nothing on the new one; the
    // hash stays (sync_state.h). R25 tombstones (empty ref, not to be found) stay as they are.
    for (const char* sql :
         {"UPDATE sync_link SET remote_ref = '', remote_version = '', remote_held = NULL, "
          "refind = refind | 2 WHERE pair = $1 AND (remote_ref <> '' OR (refind & 2) <> 0)",
          "DELETE FROM sync_cursor WHERE pair = $1 AND side = 1",
          "DELETE FROM sync_journal WHERE pair = $1 AND target = 1 AND op <> 0"}) {
      if (auto done = conn.run(sql, {pair_}); !done) return std::unexpected(done.error());
    }
    return {};
  });
}

Result<void> PgSyncState::clear() {
  forget_overview();
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  pg::Connection& conn = **db;
  return pg::transaction(conn, [&]() -> Result<void> {
    if (auto fenced = check_fence(conn); !fenced) return fenced;
    for (const char* table :
         {"sync_link", "sync_cursor", "sync_journal", "sync_quarantine", "sync_backend"}) {
      auto cleared = conn.run(std::string("DELETE FROM ") + table + " WHERE pair = $1", {pair_});
      if (!cleared) return std::unexpected(cleared.error());
    }
    return {};
  });
}

std::unique_ptr<PgAuditSink> PgAuditSink::over(std::shared_ptr<pg::Pool> pool) {
  return std::unique_ptr<PgAuditSink>(new PgAuditSink(std::move(pool)));
}

Result<void> PgAuditSink::record(const std::vector<sync::AuditRecord>& records) {
  if (records.empty()) return {};
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  pg::Connection& conn = **db;
  return pg::transaction(conn, [&]() -> Result<void> {
    for (const auto& record : records) {
      const std::string changes = audit_changes_json(record.changes);
      auto stored = conn.run(
          "INSERT INTO sync_audit(pair, run_id, at, side, item, link, operation, rule, changes) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
          {record.pair_id, record.run_id,
           static_cast<std::int64_t>(record.at.time_since_epoch().count()), side_code(record.side),
           record.item, record.link, record.operation, record.rule, changes});
      if (!stored) return std::unexpected(stored.error());
    }
    return {};
  });
}

Result<std::vector<sync::AuditRecord>> PgAuditSink::history(const std::string& link) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto rows = (*db)->query(
      "SELECT pair, run_id, at, side, item, link, operation, rule, changes FROM sync_audit "
      "WHERE link = $1 ORDER BY id",
      {link});
  if (!rows) return std::unexpected(rows.error());
  std::vector<sync::AuditRecord> records;
  for (int row = 0; row < rows->size(); ++row) {
    sync::AuditRecord record;
    record.pair_id = rows->text_at(row, 0);
    record.run_id = rows->text_at(row, 1);
    record.at = Instant(std::chrono::seconds(rows->int_at(row, 2)));
    record.side = side_from(rows->int_at(row, 3));
    record.item = rows->text_at(row, 4);
    record.link = rows->text_at(row, 5);
    record.operation = rows->text_at(row, 6);
    record.rule = rows->text_at(row, 7);
    auto changes = nlohmann::json::parse(rows->text_at(row, 8), nullptr, false);
    if (changes.is_array()) {
      for (const auto& change : changes) {
        record.changes.push_back({change[0].get<std::string>(), change[1].get<std::string>(),
                                  change[2].get<std::string>()});
      }
    }
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace agendasync::store
