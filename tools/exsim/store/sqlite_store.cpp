#include "exsim/store/sqlite_store.h"

#include <sstream>

#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include "exsim/store/calendar_fields.h"
#include "exsim/store/xml_util.h"

namespace exsim {
namespace {

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mailbox(idx INTEGER PRIMARY KEY, address TEXT NOT NULL UNIQUE,
                                   display_name TEXT NOT NULL, seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS item(id INTEGER PRIMARY KEY, mailbox INTEGER NOT NULL,
  folder INTEGER NOT NULL, version INTEGER NOT NULL, create_seq INTEGER NOT NULL,
  change_seq INTEGER NOT NULL, start INTEGER NOT NULL, end_ INTEGER NOT NULL,
  created INTEGER NOT NULL, modified INTEGER NOT NULL, meeting_sent INTEGER NOT NULL,
  sequence_number INTEGER NOT NULL, props TEXT NOT NULL, overrides TEXT NOT NULL,
  deleted TEXT NOT NULL, field_versions TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tombstone(mailbox INTEGER NOT NULL, id INTEGER NOT NULL,
  folder INTEGER NOT NULL, create_seq INTEGER NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox(n INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT, sender TEXT,
  recipients TEXT, subject TEXT, uid TEXT, at INTEGER);
)sql";

// RAII statement with positional binding.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement& bind(int i, long long v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  bool step() { return sqlite3_step(stmt_) == SQLITE_ROW; }
  long long integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string text(int col) const {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  bool ok() const { return stmt_ != nullptr; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

long long epoch(Seconds t) { return t.time_since_epoch().count(); }
Seconds from_epoch(long long v) { return Seconds{std::chrono::seconds{v}}; }

std::string overrides_xml(const StoredItem& item) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("overrides");
  for (const auto& [original, o] : item.overrides) {
    pugi::xml_node n = root.append_child("o");
    n.append_attribute("original") = static_cast<long long>(epoch(original));
    n.append_attribute("start") = static_cast<long long>(epoch(o.start));
    n.append_attribute("end") = static_cast<long long>(epoch(o.end));
    n.append_copy(bag_root(o.props));
  }
  return to_string(doc);
}

}  // namespace

std::unique_ptr<SqlitePersistence> SqlitePersistence::open(const std::string& path,
                                                           std::string& error) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    error = "cannot open SQLite store " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  std::unique_ptr<SqlitePersistence> p(new SqlitePersistence(db));
  if (!p->exec(kSchema)) {
    error = "cannot create the exsim tables in " + path + ": " + sqlite3_errmsg(db);
    return nullptr;
  }
  return p;
}

SqlitePersistence::~SqlitePersistence() { sqlite3_close(db_); }

bool SqlitePersistence::exec(const char* sql) {
  return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
}

std::string SqlitePersistence::state_key(const std::string& fallback) {
  Statement get(db_, "SELECT value FROM meta WHERE key='state_key'");
  if (get.step()) return get.text(0);
  Statement put(db_, "INSERT INTO meta(key, value) VALUES('state_key', ?)");
  put.bind(1, fallback).step();
  return fallback;
}

void SqlitePersistence::save_mailbox(const Mailbox& mb) {
  Statement s(db_,
              "INSERT INTO mailbox(idx, address, display_name, seq) VALUES(?,?,?,?) "
              "ON CONFLICT(idx) DO UPDATE SET seq=excluded.seq");
  s.bind(1, mb.index)
      .bind(2, mb.address)
      .bind(3, mb.display_name)
      .bind(4, static_cast<long long>(mb.seq))
      .step();
}

bool SqlitePersistence::load(Store& store, std::string& error) {
  Statement mailboxes(db_, "SELECT idx, address, display_name, seq FROM mailbox ORDER BY idx");
  while (mailboxes.step()) {
    Mailbox& mb = store.add_mailbox(mailboxes.text(1), mailboxes.text(2));
    if (mb.index != static_cast<uint32_t>(mailboxes.integer(0))) {
      error = "the SQLite store's mailboxes must be listed before new ones; start from a new file";
      return false;
    }
    mb.seq = static_cast<uint64_t>(mailboxes.integer(3));
  }
  Statement items(
      db_,
      "SELECT id, mailbox, folder, version, create_seq, change_seq, start, end_, created, "
      "modified, meeting_sent, sequence_number, props, overrides, deleted, field_versions "
      "FROM item");
  while (items.step()) {
    Mailbox* mb = store.mailbox_at(static_cast<uint32_t>(items.integer(1)));
    if (!mb) continue;
    StoredItem& item = store.restore_item(*mb, static_cast<uint64_t>(items.integer(0)));
    item.folder = static_cast<FolderKind>(items.integer(2));
    item.version = static_cast<uint64_t>(items.integer(3));
    item.create_seq = static_cast<uint64_t>(items.integer(4));
    item.change_seq = static_cast<uint64_t>(items.integer(5));
    item.start = from_epoch(items.integer(6));
    item.end = from_epoch(items.integer(7));
    item.created = from_epoch(items.integer(8));
    item.modified = from_epoch(items.integer(9));
    item.meeting_request_sent = items.integer(10) != 0;
    item.sequence_number = static_cast<int>(items.integer(11));
    std::string props = items.text(12);
    item.props->load_buffer(props.data(), props.size());
    pugi::xml_node root = bag_root(item.props);
    if (pugi::xml_node rec = child(root, "Recurrence")) {
      std::string why;
      item.rule = parse_recurrence(rec, why);
    }
    pugi::xml_node tz = child(root, "StartTimeZone");
    if (!tz) tz = child(root, "MeetingTimeZone");
    item.zone = Zone::from_element(tz);
    pugi::xml_document overrides;
    std::string ov = items.text(13);
    overrides.load_buffer(ov.data(), ov.size());
    for (pugi::xml_node o : overrides.document_element().children("o")) {
      OccurrenceOverride& x = item.overrides[from_epoch(o.attribute("original").as_llong())];
      x.start = from_epoch(o.attribute("start").as_llong());
      x.end = from_epoch(o.attribute("end").as_llong());
      x.props = std::make_shared<pugi::xml_document>();
      x.props->append_copy(o.first_child());
    }
    std::istringstream deleted(items.text(14));
    for (long long s; deleted >> s;) item.deleted_occurrences.insert(from_epoch(s));
    auto versions = nlohmann::json::parse(items.text(15), nullptr, false);
    if (versions.is_object()) {
      for (auto& [k, v] : versions.items()) item.field_versions[k] = v.get<uint64_t>();
    }
  }
  Statement tombs(db_, "SELECT mailbox, id, folder, create_seq, seq FROM tombstone");
  while (tombs.step()) {
    if (Mailbox* mb = store.mailbox_at(static_cast<uint32_t>(tombs.integer(0)))) {
      store.restore_tombstone(
          *mb, {static_cast<uint64_t>(tombs.integer(1)), static_cast<FolderKind>(tombs.integer(2)),
                static_cast<uint64_t>(tombs.integer(3)), static_cast<uint64_t>(tombs.integer(4))});
    }
  }
  Statement mail(db_, "SELECT kind, sender, recipients, subject, uid, at FROM outbox ORDER BY n");
  while (mail.step()) {
    OutboxMessage m{mail.text(0), mail.text(1), {},
                    mail.text(3), mail.text(4), from_epoch(mail.integer(5))};
    std::istringstream to(mail.text(2));
    for (std::string r; to >> r;) m.to.push_back(r);
    store.outbox().push_back(std::move(m));
  }
  return true;
}

void SqlitePersistence::item_saved(const Mailbox& mb, const StoredItem& item) {
  std::string deleted;
  for (Seconds s : item.deleted_occurrences) deleted += std::to_string(epoch(s)) + " ";
  nlohmann::json versions(item.field_versions);
  Statement s(
      db_,
      "INSERT OR REPLACE INTO item(id, mailbox, folder, version, create_seq, change_seq, start, "
      "end_, created, modified, meeting_sent, sequence_number, props, overrides, deleted, "
      "field_versions) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  s.bind(1, static_cast<long long>(item.id))
      .bind(2, mb.index)
      .bind(3, static_cast<long long>(item.folder))
      .bind(4, static_cast<long long>(item.version))
      .bind(5, static_cast<long long>(item.create_seq))
      .bind(6, static_cast<long long>(item.change_seq))
      .bind(7, epoch(item.start))
      .bind(8, epoch(item.end))
      .bind(9, epoch(item.created))
      .bind(10, epoch(item.modified))
      .bind(11, item.meeting_request_sent ? 1 : 0)
      .bind(12, item.sequence_number)
      .bind(13, to_string(*item.props))
      .bind(14, overrides_xml(item))
      .bind(15, deleted)
      .bind(16, versions.dump())
      .step();
  save_mailbox(mb);
}

void SqlitePersistence::item_removed(const Mailbox& mb, const Tombstone& t) {
  Statement del(db_, "DELETE FROM item WHERE id=?");
  del.bind(1, static_cast<long long>(t.id)).step();
  Statement tomb(db_,
                 "INSERT INTO tombstone(mailbox, id, folder, create_seq, seq) VALUES(?,?,?,?,?)");
  tomb.bind(1, mb.index)
      .bind(2, static_cast<long long>(t.id))
      .bind(3, static_cast<long long>(t.folder))
      .bind(4, static_cast<long long>(t.create_seq))
      .bind(5, static_cast<long long>(t.seq))
      .step();
  save_mailbox(mb);
}

void SqlitePersistence::mail_recorded(const OutboxMessage& m) {
  std::string to;
  for (const auto& r : m.to) to += r + " ";
  Statement s(db_,
              "INSERT INTO outbox(kind, sender, recipients, subject, uid, at) VALUES(?,?,?,?,?,?)");
  s.bind(1, m.kind)
      .bind(2, m.from)
      .bind(3, to)
      .bind(4, m.subject)
      .bind(5, m.uid)
      .bind(6, epoch(m.when))
      .step();
}

}  // namespace exsim
