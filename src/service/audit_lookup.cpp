#include "service/audit_lookup.h"

#include <algorithm>
#include <memory>
#include <mutex>

#include "store/pg_pool.h"
#include "store/sqlite_connection.h"
#include "store/sync_state/pg_sync_state.h"
#include "store/sync_state/sqlite_sync_state.h"

namespace agendasync::service {

namespace {

/// The audit records of `links` from `sink` (either engine's), oldest first.
template <class Sink>
Result<std::vector<sync::AuditRecord>> records_of(Sink& sink,
                                                  const std::vector<std::string>& links) {
  std::vector<sync::AuditRecord> records;
  for (const auto& link : links) {
    auto history = sink.history(link);
    if (!history) return std::unexpected(history.error());
    records.insert(records.end(), history->begin(), history->end());
  }
  std::stable_sort(records.begin(), records.end(),
                   [](const auto& a, const auto& b) { return a.at < b.at; });
  return records;
}

}  // namespace

AuditLookup sqlite_audit_lookup(std::filesystem::path state_path) {
  struct Shared {
    std::mutex mutex;
    std::unique_ptr<store::SqliteAuditSink> sink;
    std::optional<store::sqlite::Connection> links;
  };
  auto shared = std::make_shared<Shared>();
  return [shared, state_path](store::AppointmentId id) -> Result<std::vector<sync::AuditRecord>> {
    std::lock_guard lock(shared->mutex);
    if (!shared->sink) {
      auto sink = store::SqliteAuditSink::open(state_path);
      if (!sink) return std::unexpected(sink.error());
      auto links = store::sqlite::Connection::open(state_path, /*create=*/false);
      if (!links) return std::unexpected(links.error());
      shared->sink = std::move(*sink);
      shared->links.emplace(std::move(*links));
    }
    // SqliteAuditSink looks records up by link only; the host ref -> link step reads the
    // state tables directly: current links (sync_link.host_ref) and links that are gone but
    // wrote this host item (sync_audit side 0 = host). A history_of_item() in the sync state
    // would remove this coupling (see the service README).
    auto statement = shared->links->prepare(
        "SELECT key FROM sync_link WHERE host_ref = ?1 UNION "
        "SELECT link FROM sync_audit WHERE side = 0 AND item = ?1",
        {std::to_string(id)});
    if (!statement) return std::unexpected(statement.error());
    std::vector<std::string> links;
    while (true) {
      auto row = statement->step();
      if (!row) return std::unexpected(row.error());
      if (!*row) break;
      links.push_back(statement->text_at(0));
    }
    return records_of(*shared->sink, links);
  };
}

AuditLookup pg_audit_lookup(store::pg::Target target) {
  struct Shared {
    std::mutex mutex;
    std::shared_ptr<store::pg::Pool> pool;
    std::unique_ptr<store::PgAuditSink> sink;
  };
  auto shared = std::make_shared<Shared>();
  return [shared, target](store::AppointmentId id) -> Result<std::vector<sync::AuditRecord>> {
    std::lock_guard lock(shared->mutex);
    if (!shared->pool) {
      store::pg::PoolOptions options;
      options.max_connections = 1;
      auto pool = store::pg::Pool::open(target, options);
      if (!pool) return std::unexpected(pool.error());
      shared->pool = std::move(*pool);
      shared->sink = store::PgAuditSink::over(shared->pool);
    }
    // As sqlite_audit_lookup: the links of the host item, then their records.
    std::vector<std::string> links;
    {
      auto db = shared->pool->borrow();
      if (!db) return std::unexpected(db.error());
      auto rows = (*db)->query(
          "SELECT key FROM sync_link WHERE host_ref = $1 UNION "
          "SELECT link FROM sync_audit WHERE side = 0 AND item = $1",
          {std::to_string(id)});
      if (!rows) return std::unexpected(rows.error());
      for (int i = 0; i < rows->size(); ++i) links.push_back(rows->text_at(i, 0));
    }
    return records_of(*shared->sink, links);
  };
}

}  // namespace agendasync::service
