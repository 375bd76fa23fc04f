#include "store/sync_state/sqlite_sync_state.h"

#include <nlohmann/json.hpp>

#include "store/appointment_document.h"
#include "store/sync_state/link_json.h"

namespace agendasync::store {

using sync::JournalEntry;
using sync::LinkRecord;
using sync::Side;

namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS sync_link(
  pair TEXT NOT NULL, key TEXT NOT NULL,
  host_ref TEXT NOT NULL, host_version TEXT NOT NULL, host_hash TEXT NOT NULL,
  remote_ref TEXT NOT NULL, remote_version TEXT NOT NULL, remote_hash TEXT NOT NULL,
  base TEXT NOT NULL, created_on INTEGER, host_held TEXT, remote_held TEXT,
  PRIMARY KEY(pair, key));
CREATE INDEX IF NOT EXISTS sync_link_host ON sync_link(pair, host_ref);
CREATE INDEX IF NOT EXISTS sync_link_remote ON sync_link(pair, remote_ref);
CREATE TABLE IF NOT EXISTS sync_cursor(
  pair TEXT NOT NULL, side INTEGER NOT NULL, cursor TEXT NOT NULL, PRIMARY KEY(pair, side));
CREATE TABLE IF NOT EXISTS sync_journal(
  pair TEXT NOT NULL, key TEXT NOT NULL, target INTEGER NOT NULL, op INTEGER NOT NULL,
  target_ref TEXT NOT NULL, pending TEXT NOT NULL, run_id TEXT NOT NULL, previous TEXT,
  PRIMARY KEY(pair, key, target));
CREATE TABLE IF NOT EXISTS sync_quarantine(
  pair TEXT PRIMARY KEY, reason TEXT NOT NULL, approved INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sync_audit(
  id INTEGER PRIMARY KEY, pair TEXT NOT NULL, run_id TEXT NOT NULL, at INTEGER NOT NULL,
  side INTEGER NOT NULL, item TEXT NOT NULL, link TEXT NOT NULL, operation TEXT NOT NULL,
  rule TEXT NOT NULL, changes TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sync_audit_link ON sync_audit(link);
CREATE TABLE IF NOT EXISTS sync_backend(pair TEXT PRIMARY KEY, backend TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sync_run_status(
  pair TEXT PRIMARY KEY, at INTEGER NOT NULL, outcome TEXT NOT NULL, summary TEXT NOT NULL,
  last_error TEXT NOT NULL, last_success INTEGER NOT NULL);
)sql";

constexpr const char* kLinkColumns =
    "key, host_ref, host_version, host_hash, remote_ref, remote_version, remote_hash, base, "
    "created_on, host_held, remote_held, refind";

/// Bits of sync_link.refind: which sides' refs are to be found again by key (R41).
std::int64_t refind_bit(Side side) { return side == Side::kHost ? 1 : 2; }

/// sync_link.refind came with R41; a state file from before gets the column (0: nothing to
/// find again). Another process may add it at the same moment: then it is there.
Result<void> add_refind_column(sqlite::Connection& db) {
  constexpr const char* kHas =
      "SELECT COUNT(*) FROM pragma_table_info('sync_link') WHERE name = 'refind'";
  auto has = db.query_int(kHas);
  if (!has) return std::unexpected(has.error());
  if (has->value_or(0) > 0) return {};
  auto added = db.exec("ALTER TABLE sync_link ADD COLUMN refind INTEGER NOT NULL DEFAULT 0");
  if (added) return {};
  auto again = db.query_int(kHas);
  if (again && again->value_or(0) > 0) return {};
  return added;
}

Result<sqlite::Connection> open_file(const std::filesystem::path& path) {
  auto db = sqlite::Connection::open(path, /*create=*/true);
  if (!db) return std::unexpected(db.error());
  // The busy timeout first: another worker may be opening the same new file right now.
  if (auto set = db->exec("PRAGMA busy_timeout = 5000"); !set) {
    return std::unexpected(set.error());
  }
  // WAL: readers alongside one writer; FULL: a committed journal entry survives a power cut,
  // which is the point of committing it before the remote write (R28).
  if (auto wal = sqlite::enable_wal(*db, std::chrono::seconds(5)); !wal) {
    return std::unexpected(wal.error());
  }
  if (auto set = db->exec("PRAGMA synchronous = FULL"); !set) {
    return std::unexpected(set.error());
  }
  if (auto schema = db->exec(kSchema); !schema) return std::unexpected(schema.error());
  if (auto column = add_refind_column(*db); !column) return std::unexpected(column.error());
  return db;
}

}  // namespace

Result<std::shared_ptr<sqlite::Connection>> open_state_database(const std::filesystem::path& path) {
  auto db = open_file(path);
  if (!db) return std::unexpected(db.error());
  return std::make_shared<sqlite::Connection>(std::move(*db));
}

Result<std::unique_ptr<SqliteSyncState>> SqliteSyncState::open(const std::filesystem::path& path,
                                                               std::string pair_id) {
  auto db = open_state_database(path);
  if (!db) return std::unexpected(db.error());
  return over(std::move(*db), std::move(pair_id));
}

std::unique_ptr<SqliteSyncState> SqliteSyncState::over(std::shared_ptr<sqlite::Connection> db,
                                                       std::string pair_id) {
  return std::unique_ptr<SqliteSyncState>(new SqliteSyncState(std::move(db), std::move(pair_id)));
}

Result<std::vector<LinkRecord>> SqliteSyncState::query_links(std::string_view where,
                                                             std::vector<sqlite::Value> params) {
  params.insert(params.begin(), pair_);
  auto statement = db_->prepare(std::string("SELECT ") + kLinkColumns +
                                    " FROM sync_link WHERE pair = ?1" + std::string(where),
                                params);
  if (!statement) return std::unexpected(statement.error());
  std::vector<LinkRecord> links;
  while (true) {
    auto row = statement->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    LinkRecord link;
    link.key = IdempotencyKey(statement->text_at(0));
    link.sides[Side::kHost] = {ItemRef(statement->text_at(1)), VersionTag(statement->text_at(2)),
                               statement->text_at(3), std::nullopt};
    link.sides[Side::kRemote] = {ItemRef(statement->text_at(4)), VersionTag(statement->text_at(5)),
                                 statement->text_at(6), std::nullopt};
    auto base = from_document(statement->text_at(7));
    if (!base) return std::unexpected(base.error());
    link.base = std::move(*base);
    if (!statement->is_null(8)) link.created_on = side_from(statement->int_at(8));
    for (Side side : sync::kBothSides) {
      const int column = side == Side::kHost ? 9 : 10;
      if (statement->is_null(column)) continue;
      auto held = from_document(statement->text_at(column));
      if (!held) return std::unexpected(held.error());
      link.sides[side].held = std::move(*held);
    }
    for (Side side : sync::kBothSides) {
      link.sides[side].refind = (statement->int_at(11) & refind_bit(side)) != 0;
    }
    links.push_back(std::move(link));
  }
  return links;
}

Result<std::optional<LinkRecord>> SqliteSyncState::find_link_by_ref(Side side, const ItemRef& ref) {
  auto links =
      query_links(side == Side::kHost ? " AND host_ref = ?2" : " AND remote_ref = ?2", {ref.str()});
  if (!links) return std::unexpected(links.error());
  if (links->empty() || ref.empty()) return std::nullopt;
  return std::move(links->front());
}

Result<std::optional<sync::SyncState::Glance>> SqliteSyncState::glance_by_ref(Side side,
                                                                              const ItemRef& ref) {
  if (ref.empty()) return std::nullopt;
  auto statement = db_->prepare(
      side == Side::kHost
          ? "SELECT host_version, host_held IS NOT NULL OR remote_held IS NOT NULL FROM sync_link "
            "WHERE pair = ?1 AND host_ref = ?2"
          : "SELECT remote_version, host_held IS NOT NULL OR remote_held IS NOT NULL FROM "
            "sync_link WHERE pair = ?1 AND remote_ref = ?2",
      {pair_, ref.str()});
  if (!statement) return std::unexpected(statement.error());
  auto row = statement->step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::nullopt;
  return Glance{VersionTag(statement->text_at(0)), statement->int_at(1) != 0};
}

Result<std::optional<LinkRecord>> SqliteSyncState::find_link_by_key(const IdempotencyKey& key) {
  auto links = query_links(" AND key = ?2", {key.str()});
  if (!links) return std::unexpected(links.error());
  if (links->empty()) return std::nullopt;
  return std::move(links->front());
}

Result<std::vector<LinkRecord>> SqliteSyncState::all_links() { return query_links("", {}); }

Result<std::vector<LinkRecord>> SqliteSyncState::links_after(const IdempotencyKey& after,
                                                             std::size_t limit) {
  return query_links(" AND key > ?2 ORDER BY key LIMIT ?3",
                     {after.str(), static_cast<std::int64_t>(limit)});
}

Result<std::size_t> SqliteSyncState::link_count() {
  auto count = db_->query_int("SELECT COUNT(*) FROM sync_link WHERE pair = ?1", {pair_});
  if (!count) return std::unexpected(count.error());
  return static_cast<std::size_t>(count->value_or(0));
}

Result<const SqliteSyncState::Overview*> SqliteSyncState::overview() {
  if (overview_) return &*overview_;
  // Scalar subqueries, each on its table's primary key: one statement, one read snapshot.
  auto statement = db_->prepare(
      "SELECT (SELECT cursor FROM sync_cursor WHERE pair = ?1 AND side = ?2), "
      "(SELECT cursor FROM sync_cursor WHERE pair = ?1 AND side = ?3), "
      "EXISTS(SELECT 1 FROM sync_quarantine WHERE pair = ?1), "
      "(SELECT reason FROM sync_quarantine WHERE pair = ?1), "
      "(SELECT approved FROM sync_quarantine WHERE pair = ?1), "
      "(SELECT backend FROM sync_backend WHERE pair = ?1), "
      "EXISTS(SELECT 1 FROM sync_journal WHERE pair = ?1)",
      {pair_, side_code(Side::kHost), side_code(Side::kRemote)});
  if (!statement) return std::unexpected(statement.error());
  auto row = statement->step();
  if (!row) return std::unexpected(row.error());
  Overview read;
  if (*row) {
    read.cursors[Side::kHost] = Cursor(statement->text_at(0));
    read.cursors[Side::kRemote] = Cursor(statement->text_at(1));
    if (statement->int_at(2) != 0) {
      read.quarantine = sync::Quarantine{statement->text_at(3), statement->int_at(4) != 0};
    }
    read.backend = statement->text_at(5);
    read.journal_empty = statement->int_at(6) == 0;
  }
  overview_ = std::move(read);
  return &*overview_;
}

Result<Cursor> SqliteSyncState::cursor(Side side) {
  auto read = overview();
  if (!read) return std::unexpected(read.error());
  return (*read)->cursors[side];
}

Result<void> SqliteSyncState::journal(std::span<const JournalEntry> entries) {
  forget_overview();
  journaled_bases_.clear();
  return sqlite::write_transaction(*db_, [&]() -> Result<void> {
    for (const auto& entry : entries) {
      // Kept for the commit after the writes: a create's link stores this same base.
      auto& [base, document] = journaled_bases_[entry.key.str()];
      base = entry.pending_link.base;
      document = to_document(base);
      auto stored = db_->run(
          "INSERT OR REPLACE INTO sync_journal(pair, key, target, op, target_ref, pending, "
          "run_id, previous) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
          {pair_, entry.key.str(), side_code(entry.target), static_cast<std::int64_t>(entry.op),
           entry.target_ref.str(), link_to_json(entry.pending_link, document), entry.run_id,
           entry.previous ? sqlite::Value(to_document(*entry.previous)) : sqlite::Value()});
      if (!stored) return stored;
    }
    return {};
  });
}

Result<std::vector<JournalEntry>> SqliteSyncState::pending_journal() {
  // An idle run's journal is empty: the overview already says so.
  if (overview_ && overview_->journal_empty) return std::vector<JournalEntry>{};
  auto statement = db_->prepare(
      "SELECT key, target, op, target_ref, pending, run_id, previous FROM sync_journal "
      "WHERE pair = ?1 "
      "ORDER BY key, target",
      {pair_});
  if (!statement) return std::unexpected(statement.error());
  std::vector<JournalEntry> entries;
  while (true) {
    auto row = statement->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    auto pending = link_from_json(statement->text_at(4));
    if (!pending) return std::unexpected(pending.error());
    entries.push_back({IdempotencyKey(statement->text_at(0)), side_from(statement->int_at(1)),
                       static_cast<WriteOp>(statement->int_at(2)), ItemRef(statement->text_at(3)),
                       std::move(*pending), statement->text_at(5), std::nullopt});
    if (!statement->is_null(6)) {
      auto previous = from_document(statement->text_at(6));
      if (!previous) return std::unexpected(previous.error());
      entries.back().previous = std::move(*previous);
    }
  }
  return entries;
}

Result<void> SqliteSyncState::upsert(const LinkRecord& link) {
  const auto& host = link.sides[Side::kHost];
  const auto& remote = link.sides[Side::kRemote];
  // The base as the journal wrote it, when it is still the same item (most links of a batch
  // are the creates it journaled): encoded once per link, not twice.
  std::string base;
  auto journaled = journaled_bases_.find(link.key.str());
  if (journaled != journaled_bases_.end() && journaled->second.first == link.base) {
    base = std::move(journaled->second.second);
    journaled_bases_.erase(journaled);
  } else {
    base = to_document(link.base);
  }
  return db_->run(
      "INSERT OR REPLACE INTO sync_link(pair, key, host_ref, host_version, host_hash, "
      "remote_ref, remote_version, remote_hash, base, created_on, host_held, remote_held, "
      "refind) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
      {pair_, link.key.str(), host.ref.str(), host.version.str(), host.hash, remote.ref.str(),
       remote.version.str(), remote.hash, std::move(base),
       link.created_on ? sqlite::Value(side_code(*link.created_on)) : sqlite::Value(),
       host.held ? sqlite::Value(to_document(*host.held)) : sqlite::Value(),
       remote.held ? sqlite::Value(to_document(*remote.held)) : sqlite::Value(),
       (host.refind ? refind_bit(Side::kHost) : 0) |
           (remote.refind ? refind_bit(Side::kRemote) : 0)});
}

Result<void> SqliteSyncState::commit(const sync::StateDelta& delta) {
  if (delta.empty()) return {};
  forget_overview();
  // Whatever the commit does, the journaled bases belong to this batch only.
  struct ForgetBases {
    decltype(journaled_bases_)& bases;
    ~ForgetBases() { bases.clear(); }
  } forget{journaled_bases_};
  return sqlite::write_transaction(*db_, [&]() -> Result<void> {
    for (const auto& key : delta.remove) {
      auto removed =
          db_->run("DELETE FROM sync_link WHERE pair = ?1 AND key = ?2", {pair_, key.str()});
      if (!removed) return removed;
    }
    for (const auto& link : delta.upsert) {
      if (auto stored = upsert(link); !stored) return stored;
    }
    for (const auto& key : delta.journal_done) {
      auto done =
          db_->run("DELETE FROM sync_journal WHERE pair = ?1 AND key = ?2", {pair_, key.str()});
      if (!done) return done;
    }
    for (Side side : sync::kBothSides) {
      if (!delta.cursors[side]) continue;
      auto stored =
          db_->run("INSERT OR REPLACE INTO sync_cursor(pair, side, cursor) VALUES (?1, ?2, ?3)",
                   {pair_, side_code(side), delta.cursors[side]->str()});
      if (!stored) return stored;
    }
    if (delta.clear_quarantine) {
      auto lifted = db_->run("DELETE FROM sync_quarantine WHERE pair = ?1", {pair_});
      if (!lifted) return lifted;
    }
    return {};
  });
}

Result<std::optional<sync::Quarantine>> SqliteSyncState::quarantine() {
  auto read = overview();
  if (!read) return std::unexpected(read.error());
  return (*read)->quarantine;
}

Result<void> SqliteSyncState::set_quarantine(const std::string& reason) {
  forget_overview();
  return db_->run(
      "INSERT OR REPLACE INTO sync_quarantine(pair, reason, approved) VALUES (?1, ?2, 0)",
      {pair_, reason});
}

Result<void> SqliteSyncState::approve() {
  forget_overview();
  auto updated = db_->run("UPDATE sync_quarantine SET approved = 1 WHERE pair = ?1", {pair_});
  if (!updated) return updated;
  if (db_->changes() == 0) {
    return fail(ErrorKind::kNotFound, "nothing to approve: pair " + pair_ + " is not quarantined");
  }
  return {};
}

Result<std::map<std::string, std::string>> recorded_backends(sqlite::Connection& db) {
  auto statement = db.prepare("SELECT pair, backend FROM sync_backend", {});
  if (!statement) return std::unexpected(statement.error());
  std::map<std::string, std::string> backends;
  while (true) {
    auto row = statement->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    backends[statement->text_at(0)] = statement->text_at(1);
  }
  return backends;
}

namespace {

Result<std::string> backend_of(sqlite::Connection& db, const std::string& pair) {
  auto statement = db.prepare("SELECT backend FROM sync_backend WHERE pair = ?1", {pair});
  if (!statement) return std::unexpected(statement.error());
  auto row = statement->step();
  if (!row) return std::unexpected(row.error());
  return *row ? statement->text_at(0) : std::string();
}

}  // namespace

Result<std::string> SqliteSyncState::remote_backend() {
  auto read = overview();
  if (!read) return std::unexpected(read.error());
  return (*read)->backend;
}

Result<void> SqliteSyncState::switch_remote_backend(const std::string& backend) {
  forget_overview();
  return sqlite::write_transaction(*db_, [&]() -> Result<void> {
    // Read inside the write transaction, not from the overview: the switch decides on it.
    auto recorded = backend_of(*db_, pair_);
    if (!recorded) return std::unexpected(recorded.error());
    if (*recorded == backend) return {};
    auto stored = db_->run("INSERT OR REPLACE INTO sync_backend(pair, backend) VALUES (?1, ?2)",
                           {pair_, backend});
    if (!stored) return stored;
    if (recorded->empty()) return {};
    // The old backend's refs, versions and held contents mean nothing on the new one; the
    // hash stays (sync_state.h). R25 tombstones (empty ref, not to be found) stay as they are.
    for (const char* sql :
         {"UPDATE sync_link SET remote_ref = '', remote_version = '', remote_held = NULL, "
          "refind = refind | 2 WHERE pair = ?1 AND (remote_ref <> '' OR refind & 2)",
          "DELETE FROM sync_cursor WHERE pair = ?1 AND side = 1",
          "DELETE FROM sync_journal WHERE pair = ?1 AND target = 1 AND op <> 0"}) {
      if (auto done = db_->run(sql, {pair_}); !done) return done;
    }
    return {};
  });
}

Result<void> SqliteSyncState::clear() {
  forget_overview();
  return sqlite::write_transaction(*db_, [&]() -> Result<void> {
    for (const char* table :
         {"sync_link", "sync_cursor", "sync_journal", "sync_quarantine", "sync_backend"}) {
      auto cleared = db_->run(std::string("DELETE FROM ") + table + " WHERE pair = ?1", {pair_});
      if (!cleared) return cleared;
    }
    return {};
  });
}

Result<std::unique_ptr<SqliteAuditSink>> SqliteAuditSink::open(const std::filesystem::path& path) {
  auto db = open_state_database(path);
  if (!db) return std::unexpected(db.error());
  return over(std::move(*db));
}

std::unique_ptr<SqliteAuditSink> SqliteAuditSink::over(std::shared_ptr<sqlite::Connection> db) {
  return std::unique_ptr<SqliteAuditSink>(new SqliteAuditSink(std::move(db)));
}

Result<void> SqliteAuditSink::record(const std::vector<sync::AuditRecord>& records) {
  return sqlite::write_transaction(*db_, [&]() -> Result<void> {
    for (const auto& record : records) {
      const std::string changes = audit_changes_json(record.changes);
      auto stored = db_->run(
          "INSERT INTO sync_audit(pair, run_id, at, side, item, link, operation, rule, changes) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
          {record.pair_id, record.run_id,
           static_cast<std::int64_t>(record.at.time_since_epoch().count()), side_code(record.side),
           record.item, record.link, record.operation, record.rule, changes});
      if (!stored) return stored;
    }
    return {};
  });
}

Result<std::vector<sync::AuditRecord>> SqliteAuditSink::history(const std::string& link) {
  auto statement = db_->prepare(
      "SELECT pair, run_id, at, side, item, link, operation, rule, changes FROM sync_audit "
      "WHERE link = ?1 ORDER BY id",
      {link});
  if (!statement) return std::unexpected(statement.error());
  std::vector<sync::AuditRecord> records;
  while (true) {
    auto row = statement->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    sync::AuditRecord record;
    record.pair_id = statement->text_at(0);
    record.run_id = statement->text_at(1);
    record.at = Instant(std::chrono::seconds(statement->int_at(2)));
    record.side = side_from(statement->int_at(3));
    record.item = statement->text_at(4);
    record.link = statement->text_at(5);
    record.operation = statement->text_at(6);
    record.rule = statement->text_at(7);
    auto changes = nlohmann::json::parse(statement->text_at(8), nullptr, false);
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
