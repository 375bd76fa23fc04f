#include "cluster/budget_holds.h"

#include <cstdlib>

namespace agendasync::cluster {

PgBudgetHolds::PgBudgetHolds(std::shared_ptr<store::pg::Pool> pool, PgListener& listener,
                             std::string scope)
    : pool_(std::move(pool)), scope_(std::move(scope)), channel_(scope_ + "_holds") {
  listener.listen(channel_, [this](const std::string& payload) {
    // "<milliseconds left>\t<key>", as the writer's statement computed it on the server.
    const auto tab = payload.find('\t');
    if (tab == std::string::npos) return;
    const long long left = std::strtoll(payload.substr(0, tab).c_str(), nullptr, 10);
    {
      std::lock_guard lock(mutex_);
      ++heard_;
    }
    if (left > 0) note(payload.substr(tab + 1), Clock::now() + std::chrono::milliseconds(left));
  });
  listener.on_reconnect([this] { (void)load(); });
  writer_ = std::thread([this] { write_loop(); });
}

PgBudgetHolds::~PgBudgetHolds() { stop(); }

void PgBudgetHolds::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (writer_.joinable()) writer_.join();
}

std::optional<std::chrono::steady_clock::time_point> PgBudgetHolds::held_until(
    std::string_view key) {
  std::lock_guard lock(mutex_);
  auto found = holds_.find(std::string(key));
  if (found == holds_.end()) return std::nullopt;
  if (found->second <= Clock::now()) {
    holds_.erase(found);  // over: the map keeps only live holds
    return std::nullopt;
  }
  return found->second;
}

void PgBudgetHolds::note(const std::string& key, Clock::time_point until) {
  std::lock_guard lock(mutex_);
  auto& held = holds_[key];
  held = std::max(held, until);
}

void PgBudgetHolds::hold(std::string_view key, std::chrono::milliseconds wait) {
  if (key.empty() || wait.count() <= 0) return;
  note(std::string(key), Clock::now() + wait);
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    to_write_.emplace_back(std::string(key), wait);
  }
  changed_.notify_one();
}

Result<void> PgBudgetHolds::load() {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto rows = (*db)->query(
      "SELECT key, (extract(epoch FROM until - now()) * 1000)::bigint FROM budget_holds "
      "WHERE until > now()");
  if (!rows) return std::unexpected(rows.error());
  const auto now = Clock::now();
  for (int row = 0; row < rows->size(); ++row) {
    note(rows->text_at(row, 0), now + std::chrono::milliseconds(rows->int_at(row, 1)));
  }
  return {};
}

void PgBudgetHolds::write_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return stopping_ || !to_write_.empty(); });
    if (to_write_.empty() && stopping_) return;
    auto [key, wait] = std::move(to_write_.front());
    to_write_.pop_front();
    lock.unlock();
    auto db = pool_->borrow();
    if (db) {
      // The longer of the two holds wins; the NOTIFY carries what is left of it, measured on
      // the server, so the nodes' clocks need not agree.
      auto written = (*db)->query(
          "WITH held AS (INSERT INTO budget_holds (key, until) "
          "VALUES ($1, now() + $2::bigint * interval '1 millisecond') ON CONFLICT (key) DO "
          "UPDATE SET until = greatest(budget_holds.until, EXCLUDED.until) "
          "RETURNING key, (extract(epoch FROM until - now()) * 1000)::bigint AS left_ms) "
          "SELECT pg_notify($3, left_ms::text || E'\\t' || key) FROM held",
          {key, static_cast<std::int64_t>(wait.count()), channel_});
      // Old rows go now and then: a key's row is reused by its next hold anyway.
      if (written)
        (void)(*db)->run("DELETE FROM budget_holds WHERE until < now() - interval '1 hour'");
      lock.lock();
      if (written) ++written_;
      continue;
    }
    lock.lock();
  }
}

std::uint64_t PgBudgetHolds::written() const {
  std::lock_guard lock(mutex_);
  return written_;
}

std::uint64_t PgBudgetHolds::heard() const {
  std::lock_guard lock(mutex_);
  return heard_;
}

}  // namespace agendasync::cluster
