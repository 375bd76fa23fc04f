#include "store/sync_state/pg_lease.h"

namespace agendasync::store {

namespace {

/// The lease row as a take leaves it: this node, the next epoch, live for `ttl`.
constexpr const char* kTake =
    "UPDATE sync_lease SET holder = $2, epoch = epoch + 1, "
    "expires_at = now() + $3::bigint * interval '1 millisecond' WHERE pair = $1 "
    "RETURNING epoch";

}  // namespace

Result<std::optional<Lease>> PgLeases::acquire(const std::string& pair) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  // One statement (it was an insert of the row, then a transaction of a SELECT ... FOR UPDATE
  // SKIP LOCKED and the take: five round trips per run). A pair never leased gets its row with
  // epoch 1; a free one (expired or given back) is taken with its epoch raised; a live one is
  // left alone and nothing returns. ON CONFLICT locks the row and, under READ COMMITTED,
  // checks `expires_at` on its newest version: two nodes taking at once (also a first take of
  // a new pair) serialise on the row and the second finds it live. The wait is a statement's
  // or a fenced commit's, never a run's (no lock is held across a run).
  auto epoch = (*db)->query_int(
      "INSERT INTO sync_lease AS lease (pair, holder, epoch, expires_at) "
      "VALUES ($1, $2, 1, now() + $3::bigint * interval '1 millisecond') "
      "ON CONFLICT (pair) DO UPDATE SET holder = EXCLUDED.holder, epoch = lease.epoch + 1, "
      "expires_at = EXCLUDED.expires_at WHERE lease.expires_at <= now() RETURNING epoch",
      {pair, node_, static_cast<std::int64_t>(ttl_.count())});
  if (!epoch) return std::unexpected(epoch.error());
  if (!*epoch) return std::optional<Lease>{};  // live: another node holds it
  return std::optional<Lease>{Lease{pair, node_, **epoch}};
}

Result<std::vector<Lease>> PgLeases::acquire_due(std::size_t limit) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  pg::Connection& conn = **db;
  return pg::transaction(conn, [&]() -> Result<std::vector<Lease>> {
    auto due = conn.query(
        "SELECT pair FROM sync_lease WHERE expires_at <= now() ORDER BY expires_at, pair "
        "LIMIT $1::bigint FOR UPDATE SKIP LOCKED",
        {static_cast<std::int64_t>(limit)});
    if (!due) return std::unexpected(due.error());
    std::vector<Lease> taken;
    for (int row = 0; row < due->size(); ++row) {
      const std::string pair = due->text_at(row, 0);
      auto epoch = conn.query_int(kTake, {pair, node_, static_cast<std::int64_t>(ttl_.count())});
      if (!epoch) return std::unexpected(epoch.error());
      taken.push_back(Lease{pair, node_, epoch->value_or(0)});
    }
    return taken;
  });
}

Result<bool> PgLeases::renew(const Lease& lease) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto renewed = (*db)->run(
      "UPDATE sync_lease SET expires_at = now() + $4::bigint * interval '1 millisecond' "
      "WHERE pair = $1 AND holder = $2 AND epoch = $3",
      {lease.pair, lease.holder, lease.epoch, static_cast<std::int64_t>(ttl_.count())});
  if (!renewed) return std::unexpected(renewed.error());
  return *renewed == 1;
}

Result<void> PgLeases::release(const Lease& lease) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  // The epoch stays: the next take raises it past every batch made under this one.
  auto released = (*db)->run(
      "UPDATE sync_lease SET expires_at = '-infinity' WHERE pair = $1 AND holder = $2 "
      "AND epoch = $3",
      {lease.pair, lease.holder, lease.epoch});
  if (!released) return std::unexpected(released.error());
  return {};
}

}  // namespace agendasync::store
