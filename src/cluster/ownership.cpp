#include "cluster/ownership.h"

#include <algorithm>
#include <set>

namespace agendasync::cluster {

namespace {

std::int64_t ms(std::chrono::milliseconds value) { return value.count(); }

}  // namespace

std::size_t fair_share(std::size_t orgs, std::size_t live_nodes) {
  const std::size_t nodes = std::max<std::size_t>(1, live_nodes);
  return (orgs + nodes - 1) / nodes;
}

std::string text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

Result<OwnershipChanges> OrgOwnership::tick(const std::vector<std::string>& orgs,
                                            std::size_t live_nodes) {
  std::vector<std::string> serving = orgs;
  std::sort(serving.begin(), serving.end());
  serving.erase(std::unique(serving.begin(), serving.end()), serving.end());
  const std::string serving_array = text_array(serving);
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  store::pg::Connection& conn = **db;

  // A row per organisation first (outside the take's transaction: two nodes adding one at
  // once must not fail either), free since now: taken by share, not as an orphan, so nodes
  // starting together do not all grab every new organisation.
  if (serving != rows_made_) {
    auto made = conn.run(
        "INSERT INTO org_owner (org, expires_at) SELECT unnest($1::text[]), now() "
        "ON CONFLICT (org) DO NOTHING",
        {serving_array});
    if (!made) return std::unexpected(made.error());
    rows_made_ = serving;
  }

  const auto started = Clock::now();
  auto renewed = conn.query(
      "UPDATE org_owner SET expires_at = now() + $2::bigint * interval '1 millisecond' "
      "WHERE holder = $1 AND expires_at > now() RETURNING org, epoch",
      {node_, ms(lease_)});
  if (!renewed) return std::unexpected(renewed.error());
  std::map<std::string, std::int64_t, std::less<>> held;
  for (int row = 0; row < renewed->size(); ++row) {
    held[renewed->text_at(row, 0)] = renewed->int_at(row, 1);
  }

  // Give back what this node no longer serves, then what is above its share (the last by
  // name, so two nodes counting the same share give back predictable ones).
  std::vector<std::string> give_back;
  for (const auto& [org, epoch] : held) {
    if (!std::binary_search(serving.begin(), serving.end(), org)) give_back.push_back(org);
  }
  const std::size_t share = fair_share(serving.size(), live_nodes);
  std::size_t keeping = held.size() - give_back.size();
  for (auto it = held.rbegin(); it != held.rend() && keeping > share; ++it) {
    if (std::find(give_back.begin(), give_back.end(), it->first) != give_back.end()) continue;
    give_back.push_back(it->first);
    --keeping;
  }
  if (!give_back.empty()) {
    // expires_at = now(), not -infinity: "free since" starts now, so the orphan rule below
    // leaves it to a node under its share for two leases.
    auto released = conn.run(
        "UPDATE org_owner SET expires_at = now() WHERE holder = $1 AND org = ANY($2::text[])",
        {node_, text_array(give_back)});
    if (!released) return std::unexpected(released.error());
    for (const auto& org : give_back) held.erase(org);
  }

  // Take free organisations up to the share, and orphans (free for two leases) beyond it.
  const std::size_t wanted = share > held.size() ? share - held.size() : 0;
  auto taken = store::pg::transaction(
      conn, [&]() -> Result<std::vector<std::pair<std::string, std::int64_t>>> {
        auto free = conn.query(
            "SELECT org, expires_at <= now() - $3::bigint * interval '1 millisecond' "
            "FROM org_owner WHERE expires_at <= now() AND org = ANY($1::text[]) "
            "ORDER BY expires_at, org LIMIT $2::bigint FOR UPDATE SKIP LOCKED",
            {serving_array, static_cast<std::int64_t>(serving.size()), 2 * ms(lease_)});
        if (!free) return std::unexpected(free.error());
        std::vector<std::pair<std::string, std::int64_t>> out;
        for (int row = 0; row < free->size(); ++row) {
          const bool orphan = free->bool_at(row, 1);
          if (out.size() >= wanted && !orphan) continue;
          auto epoch = conn.query_int(
              "UPDATE org_owner SET holder = $2, epoch = epoch + 1, "
              "expires_at = now() + $3::bigint * interval '1 millisecond' WHERE org = $1 "
              "RETURNING epoch",
              {free->text_at(row, 0), node_, ms(lease_)});
          if (!epoch) return std::unexpected(epoch.error());
          out.emplace_back(free->text_at(row, 0), epoch->value_or(0));
        }
        return out;
      });
  if (!taken) return std::unexpected(taken.error());
  for (const auto& [org, epoch] : *taken) held[org] = epoch;

  OwnershipChanges changes;
  std::lock_guard lock(mutex_);
  // What this node held before (even in a view a lease old: its watchers still run) and
  // does not hold now under the same epoch is lost; retaken under a new epoch, it is lost
  // and gained (the watchers restart on the new lease).
  for (const auto& [org, epoch] : owned_) {
    auto now_held = held.find(org);
    if (now_held == held.end() || now_held->second != epoch) changes.lost.push_back(org);
  }
  for (const auto& [org, epoch] : held) {
    auto before = owned_.find(org);
    if (before == owned_.end() || before->second != epoch) changes.gained.push_back(org);
  }
  owned_ = std::move(held);
  deadline_ = started + lease_;
  renewals_ += static_cast<std::uint64_t>(renewed->size());
  return changes;
}

Result<std::vector<std::string>> OrgOwnership::release_all() {
  std::vector<std::string> held = owned();
  {
    std::lock_guard lock(mutex_);
    owned_.clear();
    deadline_ = {};
  }
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  // Free from now: the nodes under their share (which rose as this one left the registry)
  // take them at their next tick.
  auto released = (*db)->run(
      "UPDATE org_owner SET expires_at = now() WHERE holder = $1 AND expires_at > now()", {node_});
  if (!released) return std::unexpected(released.error());
  return held;
}

bool OrgOwnership::owns(std::string_view org) const {
  std::lock_guard lock(mutex_);
  return live(Clock::now()) && owned_.contains(org);
}

std::optional<std::int64_t> OrgOwnership::epoch(std::string_view org) const {
  std::lock_guard lock(mutex_);
  auto found = owned_.find(org);
  if (!live(Clock::now()) || found == owned_.end()) return std::nullopt;
  return found->second;
}

std::vector<std::string> OrgOwnership::owned() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  if (!live(Clock::now())) return out;
  for (const auto& [org, epoch] : owned_) out.push_back(org);
  return out;
}

std::uint64_t OrgOwnership::renewals() const {
  std::lock_guard lock(mutex_);
  return renewals_;
}

}  // namespace agendasync::cluster
