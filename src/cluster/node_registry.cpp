#include "cluster/node_registry.h"

#include <map>

#include "store/database_locator.h"

namespace agendasync::cluster {

namespace {

std::int64_t ms(std::chrono::milliseconds value) { return value.count(); }

}  // namespace

Result<void> NodeRegistry::join() {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto joined = (*db)->run(
      "INSERT INTO nodes (name, version, started_at, heartbeat_at, stopped) "
      "VALUES ($1, $2, now(), now(), false) ON CONFLICT (name) DO UPDATE SET "
      "version = EXCLUDED.version, started_at = now(), heartbeat_at = now(), stopped = false",
      {name_, version_});
  if (!joined) return std::unexpected(joined.error());
  return {};
}

Result<void> NodeRegistry::heartbeat() {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto beat =
      (*db)->run("UPDATE nodes SET heartbeat_at = now(), stopped = false WHERE name = $1", {name_});
  if (!beat) return std::unexpected(beat.error());
  if (*beat == 0) return join();
  return {};
}

Result<void> NodeRegistry::leave() {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto left = (*db)->run("UPDATE nodes SET stopped = true WHERE name = $1", {name_});
  if (!left) return std::unexpected(left.error());
  return {};
}

Result<std::size_t> NodeRegistry::live_nodes() {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto live = (*db)->query_int(
      "SELECT count(*) FROM nodes WHERE NOT stopped AND "
      "heartbeat_at > now() - $1::bigint * interval '1 millisecond'",
      {ms(lease_)});
  if (!live) return std::unexpected(live.error());
  return static_cast<std::size_t>(live->value_or(0));
}

Result<std::vector<NodeStatus>> NodeRegistry::list(const std::vector<std::string>& orgs) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  store::pg::Connection& conn = **db;
  auto rows = conn.query(
      "SELECT name, version, extract(epoch FROM started_at)::bigint, "
      "extract(epoch FROM heartbeat_at)::bigint, "
      "extract(epoch FROM now() - heartbeat_at)::float8, stopped, "
      "(NOT stopped AND heartbeat_at > now() - $1::bigint * interval '1 millisecond') "
      "FROM nodes ORDER BY name",
      {ms(lease_)});
  if (!rows) return std::unexpected(rows.error());
  std::vector<NodeStatus> nodes;
  std::map<std::string, std::size_t> index;
  for (int row = 0; row < rows->size(); ++row) {
    NodeStatus node;
    node.name = rows->text_at(row, 0);
    node.version = rows->text_at(row, 1);
    node.started_at = rows->int_at(row, 2);
    node.heartbeat_at = rows->int_at(row, 3);
    node.heartbeat_age_seconds = std::stod(rows->text_at(row, 4));
    node.stopped = rows->bool_at(row, 5);
    node.alive = rows->bool_at(row, 6);
    index[node.name] = nodes.size();
    nodes.push_back(std::move(node));
  }
  auto owned = conn.query(
      "SELECT holder, org, epoch, extract(epoch FROM expires_at - now())::float8 FROM org_owner "
      "WHERE expires_at > now() ORDER BY org");
  if (!owned) return std::unexpected(owned.error());
  for (int row = 0; row < owned->size(); ++row) {
    auto found = index.find(owned->text_at(row, 0));
    if (found == index.end()) continue;
    nodes[found->second].organisations.push_back(HeldLease{
        owned->text_at(row, 1), "", owned->int_at(row, 2), std::stod(owned->text_at(row, 3))});
  }
  // The pairs' sync leases live in each organisation's schema: one statement over all of
  // them (a schema not created yet, e.g. an organisation whose first sync has not run, is
  // left out rather than failing the listing).
  std::string sql;
  std::vector<store::pg::Value> params;
  for (const auto& org : orgs) {
    auto schema = store::organisation_schema(org);
    if (!schema) continue;
    auto exists = conn.query_int(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND "
        "table_name = 'sync_lease'",
        {*schema});
    if (!exists) return std::unexpected(exists.error());
    if (exists->value_or(0) == 0) continue;
    if (!sql.empty()) sql += " UNION ALL ";
    params.push_back(org);
    sql += "SELECT $" + std::to_string(params.size()) +
           "::text, pair, holder, epoch, extract(epoch FROM expires_at - now())::float8 FROM " +
           store::pg::quote_identifier(*schema) + ".sync_lease WHERE expires_at > now()";
  }
  if (!sql.empty()) {
    auto pairs = conn.query(sql + " ORDER BY 1, 2", params);
    if (!pairs) return std::unexpected(pairs.error());
    for (int row = 0; row < pairs->size(); ++row) {
      auto found = index.find(pairs->text_at(row, 2));
      if (found == index.end()) continue;
      nodes[found->second].pairs.push_back(HeldLease{pairs->text_at(row, 0), pairs->text_at(row, 1),
                                                     pairs->int_at(row, 3),
                                                     std::stod(pairs->text_at(row, 4))});
    }
  }
  return nodes;
}

}  // namespace agendasync::cluster
